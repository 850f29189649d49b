package rubygems

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

func index() *feed.Feed {
	sha256 := "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
	return &feed.Feed{Package: &releasepackage.Package{Key: "relkey-demo"}, Modified: feedtest.Date,
		Releases: []release.Release{*feedtest.Release("r3", "1.2.0-beta.1", "beta", nil), *feedtest.Release("r2", "1.1.0", "stable", nil),
			*feedtest.Release("r1", "1.0.0", "stable", nil)},
		Files: map[string][]artifact.Artifact{
			"r3": {feedtest.Artifact("a3", "r3", "relkey-demo-1.2.0.pre.beta.1.gem", "", "", 9, "", "")},
			"r2": {feedtest.Depending(feedtest.Artifact("a2", "r2", "relkey-demo-1.1.0.gem", "", "", 9, sha256, ""), "rack:>= 2.0&< 4", "json"),
				feedtest.Artifact("a4", "r2", "relkey-demo-1.1.0-x86_64-linux.gem", "", "", 9, "", "")},
			"r1": {feedtest.Artifact("a1", "r1", "relkey-demo-1.0.0.gem", "", "", 9, "", ""), feedtest.Artifact("a0", "r1", "other-1.0.0.gem", "", "", 9, "", "")},
		}}
}

func inflate(t *testing.T, r io.Reader, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWireFormat writes every index of one package: the compact index as
// text, the full index and quick gemspec as the Marshal data RubyGems
// loads (golden, decompressed).
func TestWireFormat(t *testing.T) {
	gems := Gems(index())
	if len(gems) != 4 || gems[0].Version != "1.0.0" || gems[2].Platform != "x86_64-linux" || !gems[3].Prerelease() || gems[1].Prerelease() {
		t.Fatalf("gems: %+v", gems)
	}
	feedtest.Golden(t, "names", Names([]string{"relkey-demo", "another"}))
	feedtest.Golden(t, "info", Info(gems))
	feedtest.Golden(t, "versions", Versions(gems, feedtest.Date))
	for name, list := range map[string][]Gem{"specs.4.8": gems[:3], "latest_specs.4.8": Latest(gems[:3]), "prerelease_specs.4.8": gems[3:]} {
		body, err := Specs(list)
		if err != nil {
			t.Fatal(err)
		}
		z, err := gzip.NewReader(bytes.NewReader(body))
		feedtest.Golden(t, name, inflate(t, z, err))
	}
	body, err := Quick(gems[1])
	if err != nil {
		t.Fatal(err)
	}
	z, err := zlib.NewReader(bytes.NewReader(body))
	feedtest.Golden(t, "relkey-demo-1.1.0.gemspec", inflate(t, z, err))
}

func TestMarshalIntegers(t *testing.T) {
	for n, want := range map[int]string{0: "\x00", 1: "\x06", 122: "\x7f", 123: "\x01\x7b", 256: "\x02\x00\x01", -1: "\xfa", -124: "\xff\x84", -257: "\xfe\xff\xfe"} {
		var m marshal
		m.long(n)
		if m.String() != want {
			t.Errorf("long(%d) = %q, want %q", n, m.String(), want)
		}
	}
}
