package releasepackage

import (
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
)

func TestApply(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name        string
		in          Params
		key, engine string // wanted on success
		code, attr  string // wanted on failure
	}{
		{name: "plain", in: Params{Name: optional.Of("CLI"), Key: optional.Of(" cli ")}, key: "cli"},
		{name: "engine lower-cased", in: Params{Name: optional.Of("CLI"), Key: optional.Of("cli"), Engine: optional.Of(str("RAW"))}, key: "cli", engine: "raw"},
		{name: "blank engine is none", in: Params{Name: optional.Of("CLI"), Key: optional.Of("cli"), Engine: optional.Of(str(" "))}, key: "cli"},
		{name: "pypi keys normalized", in: Params{Name: optional.Of("Py"), Key: optional.Of("My__Pkg.Name"), Engine: optional.Of(str("pypi"))}, key: "my-pkg-name", engine: "pypi"},
		{name: "other keys kept", in: Params{Name: optional.Of("Npm"), Key: optional.Of("My__Pkg.Name"), Engine: optional.Of(str("npm"))}, key: "My__Pkg.Name", engine: "npm"},
		{name: "unknown engine", in: Params{Name: optional.Of("X"), Key: optional.Of("x"), Engine: optional.Of(str("apt"))}, code: "ENGINE_NOT_ALLOWED", attr: "engine"},
		{name: "no name", in: Params{Key: optional.Of("x")}, code: "NAME_MISSING", attr: "name"},
		{name: "no key", in: Params{Name: optional.Of("X")}, code: "KEY_MISSING", attr: "key"},
		{name: "uuid key", in: Params{Name: optional.Of("X"), Key: optional.Of("7e0b1f4e-1c1d-4b7a-9a8e-000000000000")}, code: "KEY_INVALID", attr: "key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Package{Metadata: map[string]any{}}
			err := apply(p, c.in)
			if c.code != "" {
				e := apperr.As(err)
				if e.Code != c.code || e.Source == nil || e.Source.Field == nil || *e.Source.Field != apperr.Attr(c.attr) {
					t.Fatalf("err = %v, want %s at %s", err, c.code, c.attr)
				}
				return
			}
			if err != nil || p.Key != c.key || (p.Engine == nil) != (c.engine == "") || p.Engine != nil && *p.Engine != c.engine {
				t.Fatalf("apply: err %v, key %q, engine %v; want key %q engine %q", err, p.Key, p.Engine, c.key, c.engine)
			}
		})
	}
}
