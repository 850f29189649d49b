package oci

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

func TestTagsWireFormat(t *testing.T) {
	tag := func(r *release.Release, tag string) release.Release { r.Tag = &tag; return *r }
	f := &feed.Feed{Package: &releasepackage.Package{Key: "relkey-demo"}, Releases: []release.Release{
		tag(feedtest.Release("r3", "2.0.0", "stable", nil), "latest"), *feedtest.Release("r2", "1.1.0", "stable", nil),
		tag(feedtest.Release("r1", "1.0.0", "stable", nil), "1.0")}}
	body, _ := json.Marshal(Tags(f, "", 0))
	feedtest.Golden(t, "tags.json", append(body, '\n'))
	for _, c := range []struct {
		last string
		n    int
		want string
	}{{"", 1, `["1.0"]`}, {"1.0", 0, `["latest"]`}, {"latest", 5, `[]`}} {
		if got, _ := json.Marshal(Tags(f, c.last, c.n).Tags); string(got) != c.want {
			t.Errorf("last %q n %d: %s, want %s", c.last, c.n, got, c.want)
		}
	}
}

func TestChoose(t *testing.T) {
	digest := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	file := func(c, mediaType string) artifact.Artifact {
		return artifact.Artifact{Filename: digest(c), Metadata: map[string]any{ociimage.MetadataKey: mediaType}}
	}
	files := []artifact.Artifact{file("a", "application/vnd.oci.image.layer.v1.tar+gzip"), file("b", ociimage.Manifest),
		file("c", ociimage.Index), file("d", ociimage.DockerManifest), {Filename: "notes.txt", Metadata: map[string]any{ociimage.MetadataKey: ociimage.Index}}}
	for _, c := range []struct {
		name    string
		accepts []string
		want    string
	}{
		{"any: the index first", nil, digest("c")},
		{"image manifests only", []string{ociimage.Manifest, ociimage.DockerManifest}, digest("b")},
		{"docker's only", []string{ociimage.DockerManifest}, digest("d")},
		{"none accepted", []string{"application/json"}, ""},
	} {
		got := Choose(files, c.accepts)
		if name := ""; got != nil {
			name = got.Filename
			if name != c.want {
				t.Errorf("%s: %s, want %s", c.name, name, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%s: none, want %s", c.name, c.want)
		}
	}
}

func TestAccepted(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{ociimage.Manifest + ", " + ociimage.Index + ";q=0.9"}, `["` + ociimage.Manifest + `","` + ociimage.Index + `"]`},
		{[]string{ociimage.Manifest, "*/*"}, "[]"},
		{[]string{"application/json"}, "[]"},
	} {
		got := accepted(c.in)
		if enc, _ := json.Marshal(got); string(enc) != c.want && !(got == nil && c.want == "[]") {
			t.Errorf("%v: %s, want %s", c.in, enc, c.want)
		}
	}
}
