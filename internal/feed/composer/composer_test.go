package composer

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
	root, _ := json.MarshalIndent(Root([]releasepackage.Package{{Key: "acme/sdk"}}, "https://relkey.test/v1/accounts/acct/engines/composer"), "", "  ")
	feedtest.Golden(t, "packages.json", append(root, '\n'))
	f := &feed.Feed{Package: &releasepackage.Package{Key: "acme/sdk"},
		Releases: []release.Release{*feedtest.Release("r2", "1.1.0", "stable", nil), *feedtest.Release("r1", "1.0.0", "stable", nil)},
		Files: map[string][]artifact.Artifact{
			"r2": {feedtest.Depending(feedtest.Artifact("a2", "r2", "sdk-1.1.0.zip", "", "", 9, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", ""),
				"php:>=8.1", "psr/log:^3.0")},
			"r1": {feedtest.Artifact("a1", "r1", "sdk-1.0.0.zip", "", "", 9, "", ""), feedtest.Artifact("a0", "r1", "sdk-1.0.0.tar.gz", "", "", 9, "", "")},
		}}
	body, _ := json.MarshalIndent(Build(f, feedtest.Link), "", "  ")
	feedtest.Golden(t, "p2.json", append(body, '\n'))
	m := Build(f, feedtest.Link)
	if v := m.Packages["acme/sdk"]; len(v) != 2 || v[0].Version != "1.1.0" || v[0].Dist.Shasum == "" || v[1].Dist.Shasum != "" || v[0].Require["psr/log"] != "^3.0" || v[1].Require != nil {
		t.Fatalf("p2: %s", body)
	}
}
