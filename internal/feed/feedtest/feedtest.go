// Package feedtest builds the releases and artifacts the feed formats'
// golden tests render, and compares their output with testdata files.
package feedtest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/release"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Date is when every golden release came out.
var Date = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// Release is a published release with notes and metadata.
func Release(id, version, channel string, metadata map[string]any) *release.Release {
	notes := "Fixes & <improvements>"
	if metadata == nil {
		metadata = map[string]any{}
	}
	return &release.Release{ID: id, Version: version, Channel: channel, Status: release.Published, Description: &notes,
		Metadata: metadata, CreatedAt: Date, UpdatedAt: Date}
}

// Artifact is an uploaded artifact of a release.
func Artifact(id, releaseID, filename, platform, arch string, size int64, checksum, signature string) artifact.Artifact {
	a := artifact.Artifact{ID: id, ReleaseID: releaseID, Filename: filename, Platform: &platform, Arch: &arch, Filesize: &size,
		Status: artifact.Uploaded, CreatedAt: Date}
	if checksum != "" {
		a.Checksum = &checksum
	}
	if signature != "" {
		a.Signature = &signature
	}
	return a
}

// Depending is an artifact whose metadata lists dependencies.
func Depending(a artifact.Artifact, deps ...string) artifact.Artifact {
	list := make([]any, len(deps))
	for i, d := range deps {
		list[i] = d
	}
	a.Metadata = map[string]any{"dependencies": list}
	return a
}

// Link is the download link the golden documents carry.
func Link(a *artifact.Artifact) string {
	return "https://relkey.test/v1/accounts/acct/artifacts/" + a.ID + "/" + a.Filename
}

// Golden compares got with testdata/<name> (rewritten under -update).
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
