package tauri

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed/feedtest"
)

func TestWireFormat(t *testing.T) {
	r := feedtest.Release("r1", "1.2.0", "stable", nil)
	files := []artifact.Artifact{
		feedtest.Artifact("a1", "r1", "app.AppImage", "linux", "x86_64", 10, "", "sig-appimage"),
		feedtest.Artifact("a2", "r1", "app.AppImage.sig", "linux", "x86_64", 1, "", "sig-of-sig"),
		feedtest.Artifact("a3", "r1", "app.msi", "windows", "x86_64", 10, "", "sig-msi"),
		feedtest.Artifact("a4", "r1", "app-setup.exe", "windows", "x86_64", 10, "", "sig-exe"),
		feedtest.Artifact("a5", "r1", "app.app.tar.gz", "darwin", "aarch64", 10, "", "sig-targz"),
		feedtest.Artifact("a6", "r1", "app.dmg", "macos", "arm64", 10, "", "sig-dmg"),
	}
	pick := Preferred(files[2:4])
	dynamic, _ := json.MarshalIndent(update(r, pick, feedtest.Link(pick)), "", "  ")
	feedtest.Golden(t, "update.json", append(dynamic, '\n'))
	manifest, _ := json.MarshalIndent(NewManifest(r, files, feedtest.Link), "", "  ")
	feedtest.Golden(t, "latest.json", append(manifest, '\n'))

	// What the Tauri updater requires of the answer.
	var m map[string]any
	json.Unmarshal(dynamic, &m)
	for _, key := range []string{"url", "signature", "version", "pub_date"} {
		if s, _ := m[key].(string); s == "" {
			t.Fatalf("Tauri requires %s: %s", key, dynamic)
		}
	}
	if _, err := time.Parse(time.RFC3339, m["pub_date"].(string)); err != nil {
		t.Fatalf("pub_date is not RFC 3339: %v", err)
	}
}

func TestPreferred(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{[]string{"a.msi", "a-setup.exe"}, "a-setup.exe"},
		{[]string{"a.msi.zip", "a.nsis.zip", "a-setup.exe"}, "a.nsis.zip"},
		{[]string{"a.AppImage", "a.AppImage.tar.gz"}, "a.AppImage.tar.gz"},
		{[]string{"a.exe.sig"}, ""},
	} {
		var files []artifact.Artifact
		for _, n := range tt.names {
			files = append(files, feedtest.Artifact(n, "r", n, "windows", "x86_64", 1, "", "s"))
		}
		got := ""
		if a := Preferred(files); a != nil {
			got = a.Filename
		}
		if got != tt.want {
			t.Errorf("Preferred(%v) = %q, want %q", tt.names, got, tt.want)
		}
	}
}
