package faynosync

import (
	"encoding/json"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedtest"
)

func TestWireFormat(t *testing.T) {
	r := feedtest.Release("r1", "0.0.3", "stable", map[string]any{"critical": true, "required_intermediate": true})
	files := []artifact.Artifact{
		feedtest.Artifact("a1", "r1", "secondapp-0.0.3.deb", "linux", "amd64", 10, "", ""),
		feedtest.Artifact("a2", "r1", "secondapp-0.0.3.rpm", "linux", "amd64", 10, "", ""),
		feedtest.Artifact("a3", "r1", "secondapp-0.0.3.tar.gz", "linux", "amd64", 10, "", ""),
		feedtest.Artifact("a4", "r1", "secondapp-0.0.3.deb.sig", "linux", "amd64", 10, "", ""),
		feedtest.Artifact("a5", "r1", "secondapp-0.0.3.dmg", "darwin", "arm64", 10, "", ""),
	}
	pick := artifact.Pick{Platforms: feed.Platforms("linux"), Arches: feed.Arches("amd64"), Excluded: []string{".sig"}}
	check, _ := json.MarshalIndent(NewCheck(r, files, pick, feedtest.Link), "", "  ")
	feedtest.Golden(t, "checkVersion.json", append(check, '\n'))
	none, _ := json.Marshal(NewCheck(nil, nil, pick, feedtest.Link))
	if string(none) != `{"update_available":false}` {
		t.Fatalf("no update: %s", none)
	}
	latest, _ := json.MarshalIndent(NewLatest(r, files, artifact.Pick{Excluded: []string{".sig"}}, feedtest.Link), "", "  ")
	feedtest.Golden(t, "apps-latest.json", append(latest, '\n'))
}
