package group

import (
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
)

func TestApply(t *testing.T) {
	n := func(v int64) optional.Value[*int64] { return optional.Value[*int64]{Set: true, V: &v} }
	null := optional.Value[*int64]{Set: true}
	for _, c := range []struct {
		name string
		p    Params
		code string
		want func(g *Group) bool
	}{
		{"blank name", Params{Name: optional.Value[string]{Set: true, V: "  "}}, "NAME_MISSING", nil},
		{"long name", Params{Name: optional.Value[string]{Set: true, V: string(make([]byte, 256))}}, "NAME_TOO_LONG", nil},
		{"zero limit", Params{MaxUsers: n(0)}, "MAX_USERS_INVALID", nil},
		{"huge limit", Params{MaxMachines: n(1 << 31)}, "MAX_MACHINES_INVALID", nil},
		{"limits set", Params{MaxLicenses: n(3)}, "", func(g *Group) bool { return *g.MaxLicenses == 3 && *g.MaxUsers == 9 }},
		{"null clears", Params{MaxUsers: null}, "", func(g *Group) bool { return g.MaxUsers == nil }},
		{"null metadata", Params{Metadata: optional.Value[map[string]any]{Set: true}}, "", func(g *Group) bool { return g.Metadata != nil && len(g.Metadata) == 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			nine := int64(9)
			g := &Group{Name: "Team", MaxUsers: &nine, Metadata: map[string]any{"a": 1}}
			err := apply(g, c.p)
			if c.code != "" {
				if err == nil || apperr.As(err).Code != c.code {
					t.Fatalf("got %v, want %s", err, c.code)
				}
				return
			}
			if err != nil || !c.want(g) {
				t.Fatalf("got %v, group %+v", err, g)
			}
		})
	}
}

func TestLimitOfEachMember(t *testing.T) {
	u, l, m := int64(1), int64(2), int64(3)
	g := &Group{MaxUsers: &u, MaxLicenses: &l, MaxMachines: &m}
	for member, want := range map[string]int64{Users.Table: 1, Licenses.Table: 2, Machines.Table: 3} {
		mem := map[string]Member{Users.Table: Users, Licenses.Table: Licenses, Machines.Table: Machines}[member]
		if got := *g.limit(mem); got != want {
			t.Errorf("%s: limit %d, want %d", member, got, want)
		}
	}
}
