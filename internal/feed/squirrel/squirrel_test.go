package squirrel

import (
	"encoding/json"
	"testing"

	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
)

func TestWireFormat(t *testing.T) {
	newer, older := feedtest.Release("r2", "1.2.0", "stable", nil), feedtest.Release("r1", "1.1.0", "stable", nil)
	link := func(r *release.Release) string {
		return "https://relkey.test/v1/accounts/acct/artifacts/" + r.ID + "/Desk-" + r.Version + "-mac.zip"
	}
	update, _ := json.MarshalIndent(NewUpdate(newer, link(newer)), "", "  ")
	feedtest.Golden(t, "update.json", append(update, '\n'))
	releases, _ := json.MarshalIndent(NewReleases(newer, []release.Release{*newer, *older}, link), "", "  ")
	feedtest.Golden(t, "RELEASES.json", append(releases, '\n'))
}
