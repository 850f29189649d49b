package npm

import (
	"encoding/json"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

func TestWireFormat(t *testing.T) {
	// sha512 in base64 (relkey's uploads), sha1 in hex, none.
	sha512 := "mZSW4WY8l/9EEOvcVGNcbX9tkEMGBZPi63QVJbCczfqjKoR5QcKXU3VkCQWEUeXfAfwEafoRd6B4EfVijLShGg=="
	files := map[string][]artifact.Artifact{
		"r3": {feedtest.Artifact("a3", "r3", "relkey-demo-2.0.0-beta.1.tgz", "", "", 9, sha512, "")},
		"r2": {feedtest.Artifact("a2", "r2", "relkey-demo-1.1.0.tgz", "", "", 9, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "")},
		"r1": {feedtest.Artifact("a1", "r1", "relkey-demo-1.0.0.tgz", "", "", 9, "", ""), feedtest.Artifact("a0", "r1", "README.md", "", "", 9, "", "")},
	}
	files["r2"][0] = feedtest.Depending(files["r2"][0], "left-pad@^1.3.0", "@scope/util@~2.0.0", "anything")
	f := &feed.Feed{Package: &releasepackage.Package{Key: "relkey-demo", CreatedAt: feedtest.Date}, Modified: feedtest.Date, Files: files,
		Releases: []release.Release{*feedtest.Release("r3", "2.0.0-beta.1", "beta", nil), *feedtest.Release("r2", "1.1.0", "stable", nil),
			*feedtest.Release("r1", "1.0.0", "stable", nil)}}
	body, _ := json.MarshalIndent(Build(f, feedtest.Link), "", "  ")
	feedtest.Golden(t, "packument.json", append(body, '\n'))
	p := Build(f, feedtest.Link)
	if p.DistTags["latest"] != "1.1.0" || p.DistTags["beta"] != "2.0.0-beta.1" || p.Versions["1.1.0"].Dist.Shasum == "" ||
		p.Versions["2.0.0-beta.1"].Dist.Integrity != "sha512-"+sha512 || p.Versions["1.1.0"].Dependencies["@scope/util"] != "~2.0.0" ||
		p.Versions["1.1.0"].Dependencies["anything"] != "*" || p.Versions["1.0.0"].Dependencies != nil {
		t.Fatalf("packument: %s", body)
	}
	// Only prereleases: latest is the newest, so npm can install one.
	f.Releases = f.Releases[:1]
	if got := Build(f, feedtest.Link).DistTags["latest"]; got != "2.0.0-beta.1" {
		t.Fatalf("latest without a stable version: %q", got)
	}
}
