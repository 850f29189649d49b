package velopack

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
)

func TestWireFormat(t *testing.T) {
	newer, older := feedtest.Release("r2", "1.2.0", "stable", nil), feedtest.Release("r1", "1.1.0", "stable", nil)
	delta := feedtest.Artifact("a3", "r2", "Desk-1.2.0-delta.nupkg", "win32", "x64", 20, "", "")
	delta.Metadata = map[string]any{"sha1": "3a2eadd15dd984e4559f2b4d790ec8badaeb6a39",
		"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	files := map[string][]artifact.Artifact{
		"r2": {
			feedtest.Artifact("a2", "r2", "Desk-1.2.0-full.nupkg", "win32", "x64", 40, "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", ""),
			delta,
			feedtest.Artifact("a4", "r2", "Desk-1.2.0-osx-full.nupkg", "darwin", "arm64", 50, "", ""),
			feedtest.Artifact("a5", "r2", "Desk-win-Setup.exe", "win32", "x64", 60, "", ""),
		},
		"r1": {feedtest.Artifact("a1", "r1", "Desk-1.1.0-full.nupkg", "win32", "x64", 30, "94689fede03fed7ab59c24337673a27837f0c3ec", "")},
	}
	channel, platforms := Channel("win", "")
	if channel != "stable" || !slices.Contains(platforms, "win32") {
		t.Fatalf("Channel(win) = %s %v", channel, platforms)
	}
	out, _ := json.MarshalIndent(NewFeed("desk", []release.Release{*newer, *older}, files, platforms), "", "  ")
	feedtest.Golden(t, "releases.win.json", append(out, '\n'))
	empty, _ := json.Marshal(NewFeed("desk", nil, files, platforms))
	if string(empty) != `{"Assets":[]}` {
		t.Fatalf("empty feed = %s", empty)
	}
}

func TestChannel(t *testing.T) {
	for _, tt := range []struct{ channel, os, want, platform string }{
		{"win", "", "stable", "win32"}, {"osx", "win", "stable", "darwin"}, {"linux", "", "stable", "linux"},
		{"beta", "osx", "beta", "darwin"}, {"stable", "", "stable", ""},
	} {
		got, platforms := Channel(tt.channel, tt.os)
		if got != tt.want || tt.platform == "" && platforms != nil || tt.platform != "" && !slices.Contains(platforms, tt.platform) {
			t.Errorf("Channel(%s, %s) = %s %v", tt.channel, tt.os, got, platforms)
		}
	}
}
