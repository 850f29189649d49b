package pypi

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// sha256Hex is a SHA-256 checksum in hex, as keygen-cli may write it.
const sha256Hex = "5d41402abc4b2a76b9719d911017c592aaf0c5a4a6a1ed1e6f3dfd0c1ea4d7a5"

func index() *feed.Feed {
	pkg := &releasepackage.Package{Key: "relkey-demo", CreatedAt: feedtest.Date}
	newer, older := feedtest.Release("r2", "1.1.0", "stable", nil), feedtest.Release("r1", "1.0.0", "stable", nil)
	wheel := feedtest.Artifact("a2", "r2", "relkey_demo-1.1.0-py3-none-any.whl", "", "", 10, sha256Hex, "")
	wheel.Metadata = map[string]any{"requires_python": ">=3.8"}
	sdist := feedtest.Artifact("a1", "r1", "relkey-demo-1.0.0.tar.gz", "", "", 12, "", "")
	return &feed.Feed{Package: pkg, Releases: []release.Release{*newer, *older},
		Files: map[string][]artifact.Artifact{"r2": {wheel}, "r1": {sdist, feedtest.Artifact("a3", "r1", "notes.txt", "", "", 1, "", "")}}}
}

// link is the golden documents' link, with core metadata as relkey
// declares it.
func link(a *artifact.Artifact) Link {
	return Link{URL: feedtest.Link(a), CoreMetadata: HasCoreMetadata(a)}
}

func TestWireFormat(t *testing.T) {
	pkgs := []releasepackage.Package{{Key: "relkey-demo"}, {Key: "tools"}}
	for _, asJSON := range []bool{false, true} {
		ext := map[bool]string{false: ".html", true: ".json"}[asJSON]
		body, err := Index(pkgs, "https://relkey.test/v1/accounts/acct/engines/pypi/simple/", asJSON)
		if err != nil {
			t.Fatal(err)
		}
		feedtest.Golden(t, "index"+ext, body)
		body, err = Project(index(), link, asJSON)
		if err != nil {
			t.Fatal(err)
		}
		feedtest.Golden(t, "project"+ext, body)
	}
	body, _ := Project(index(), link, true)
	var doc struct {
		Files    []File
		Versions []string
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Files) != 2 || doc.Files[0].Filename != "relkey-demo-1.0.0.tar.gz" ||
		doc.Files[1].Hashes["sha256"] != sha256Hex || strings.Join(doc.Versions, ",") != "1.0.0,1.1.0" ||
		doc.Files[0].CoreMetadata != nil || doc.Files[1].CoreMetadata == nil || !*doc.Files[1].CoreMetadata {
		t.Fatalf("project: %v %s", err, body)
	}
}

// zipOf is a zip archive of the files, by name.
func zipOf(t *testing.T, files ...[2]string) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := z.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f[1]))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCoreMetadata(t *testing.T) {
	metadata := "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
	for _, c := range []struct {
		name  string
		wheel []byte
		want  string
	}{
		{"the dist-info's", zipOf(t, [2]string{"demo/__init__.py", ""}, [2]string{"demo-1.0.dist-info/METADATA", metadata}), metadata},
		{"nested METADATA is not it", zipOf(t, [2]string{"demo/x.dist-info/METADATA", metadata}), ""},
		{"no dist-info", zipOf(t, [2]string{"METADATA", metadata}), ""},
		{"not a zip", []byte("nope"), ""},
	} {
		got, err := CoreMetadata(c.wheel)
		if string(got) != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%s: %q %v, want %q", c.name, got, err, c.want)
		}
	}
	big := int64(artifact.MaxContent + 1)
	for _, c := range []struct {
		a    artifact.Artifact
		want bool
	}{
		{feedtest.Artifact("a", "r", "demo-1.0-py3-none-any.whl", "", "", 10, "", ""), true},
		{feedtest.Artifact("a", "r", "demo-1.0-py3-none-any.whl", "", "", big, "", ""), false},
		{feedtest.Artifact("a", "r", "demo-1.0.tar.gz", "", "", 10, "", ""), false},
		{artifact.Artifact{Filename: "demo-1.0-py3-none-any.whl", Status: artifact.Uploaded}, false},
	} {
		if got := HasCoreMetadata(&c.a); got != c.want {
			t.Errorf("HasCoreMetadata(%s, %v) = %v", c.a.Filename, c.a.Filesize, got)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":          false,
		"text/html": false,
		"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01": true,
		"application/vnd.pypi.simple.v1+json; q=0.2, text/html":                                              false,
		"application/vnd.pypi.simple.v1+json; q=0":                                                           false,
		"application/vnd.pypi.simple.v1+json":                                                                true,
		"*/*":                                                                                                false,
	} {
		if got := WantsJSON(accept); got != want {
			t.Errorf("WantsJSON(%q) = %v, want %v", accept, got, want)
		}
	}
}
