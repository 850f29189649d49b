package analytics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/testenv"
)

// TestNucleusDailyInAnOffset: Nucleus's daily document buckets days in the
// utcOffset asked (minutes east of UTC), from the per-hour rows; days older
// than the per-hour rows stay UTC days.
func TestNucleusDailyInAnOffset(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			buf := f.buffer(t, f.store)
			for _, s := range []struct {
				at                              time.Duration // from Monday 00:00 UTC
				device, version, platform, code string
			}{
				{22*time.Hour + 30*time.Minute, "a", "1.0.0", "linux", "VALID"},
				{25 * time.Hour, "b", "1.1.0", "darwin", "EXPIRED"},
				{36 * time.Hour, "c", "1.1.0", "linux", "VALID"},
				{44 * time.Hour, "a", "1.1.0", "linux", "VALID"},
			} {
				f.clock.Set(start.Add(s.at))
				buf.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", Device: s.device,
					Version: s.version, Platform: s.platform, Result: s.code})
				flush(t, buf)
			}
			daily := func(offset time.Duration) string {
				t.Helper()
				// Monday and Tuesday of the offset.
				from := start.Add(-offset)
				doc, err := f.svc.NucleusDaily(context.Background(), f.admin, f.tenant, "p", from, from.Add(48*time.Hour-time.Second), offset)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(doc["activeUsers"], doc["versions"], doc["platforms"], doc["totalEvents"], doc["errors"])
			}
			f.clock.Set(start.AddDate(0, 0, 3))
			for _, c := range []struct {
				offset time.Duration
				want   string
			}{
				{0, "map[2026-11-02:1 2026-11-03:3] map[2026-11-02:map[1.0.0:1] 2026-11-03:map[1.1.0:3]] " +
					"map[2026-11-02:map[linux:1] 2026-11-03:map[darwin:1 linux:2]] map[2026-11-02:1 2026-11-03:3] map[2026-11-03:1]"},
				{2 * time.Hour, "map[2026-11-03:3] map[2026-11-03:map[1.0.0:1 1.1.0:3]] map[2026-11-03:map[darwin:1 linux:2]] map[2026-11-03:4] map[2026-11-03:1]"},
				{-5 * time.Hour, "map[2026-11-02:2 2026-11-03:2] map[2026-11-02:map[1.0.0:1 1.1.0:1] 2026-11-03:map[1.1.0:2]] " +
					"map[2026-11-02:map[darwin:1 linux:1] 2026-11-03:map[linux:2]] map[2026-11-02:2 2026-11-03:2] map[2026-11-02:1]"},
				// Tuesday 20:00 UTC is Wednesday there.
				{5*time.Hour + 30*time.Minute, "map[2026-11-03:3] map[2026-11-03:map[1.0.0:1 1.1.0:2]] map[2026-11-03:map[darwin:1 linux:2]] map[2026-11-03:3] map[2026-11-03:1]"},
			} {
				if got := daily(c.offset); got != c.want {
					t.Errorf("utcOffset %v:\n got %s\nwant %s", c.offset, got, c.want)
				}
			}
			// Past the per-hour rows' keep, the days are UTC's.
			f.clock.Set(start.Add(analytics.HourlyKeep + 72*time.Hour))
			if _, err := f.store.Prune(context.Background(), analytics.DefaultRetention, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if got, want := daily(2*time.Hour), "map[2026-11-02:1 2026-11-03:3]"; got[:len(want)] != want {
				t.Errorf("past the hours' keep: %s, want UTC days %s", got, want)
			}
		})
	}
}
