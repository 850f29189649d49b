package electron

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed/feedtest"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestWireFormat(t *testing.T) {
	r := feedtest.Release("r1", "1.2.0", "stable", nil)
	files := []artifact.Artifact{
		feedtest.Artifact("a1", "r1", "Desk-1.2.0.dmg", "darwin", "x64", 30, sum, ""),
		feedtest.Artifact("a2", "r1", "Desk-1.2.0-mac.zip", "darwin", "x64", 20, sum, ""),
		feedtest.Artifact("a3", "r1", "Desk-1.2.0-mac.zip.blockmap", "darwin", "x64", 5, "", ""),
		feedtest.Artifact("a4", "r1", "Desk Setup 1.2.0.exe", "win32", "x64", 40, sum, ""),
		feedtest.Artifact("a5", "r1", "Desk-1.2.0.AppImage", "linux", "x86_64", 50, sum, ""),
		feedtest.Artifact("a6", "r1", "Desk-1.2.0-arm64.AppImage", "linux", "arm64", 50, sum, ""),
	}
	staged := 25
	for _, tt := range []struct {
		name    string
		staging *int
	}{{"latest-mac.yml", nil}, {"latest.yml", &staged}, {"latest-linux.yml", nil}, {"beta-linux-arm64.yml", nil}} {
		_, target, ok := Parse(tt.name)
		if !ok {
			t.Fatalf("%s is not an update info file", tt.name)
		}
		out, err := yaml.Marshal(NewInfo(r, files, target, tt.staging))
		if err != nil {
			t.Fatal(err)
		}
		feedtest.Golden(t, tt.name, out)
	}
}

func TestParse(t *testing.T) {
	for name, channel := range map[string]string{"latest.yml": "stable", "beta-mac.yml": "beta", "rc.yml": "rc", "alpha-linux-armv7l.yml": "alpha"} {
		if got, _, ok := Parse(name); !ok || got != channel {
			t.Errorf("Parse(%s) = %q %v, want %s", name, got, ok, channel)
		}
	}
	for _, name := range []string{"Desk-1.2.0.dmg", "nightly.yml", "latest.yaml", "latest-win.yml"} {
		if _, _, ok := Parse(name); ok {
			t.Errorf("Parse(%s) is an update info file", name)
		}
	}
}
