package joblease

import (
	"context"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

var yes, no = ptr(true), ptr(false)

func ptr(b bool) *bool { return &b }

// TestOneReplicaRunsEachPass: two replicas on one database claim a pass's
// lease at the same moments; exactly one may run it in each interval, the
// holder keeps it, and the other takes over once the holder stops.
func TestOneReplicaRunsEachPass(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			replicas := []*Leases{New(db), New(db)}
			for _, r := range replicas {
				r.SetClock(clock)
			}
			ctx := context.Background()
			claim := func(r *Leases, name string) bool {
				t.Helper()
				ok, err := r.Claim(ctx, name, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			// At each moment (from the start) the replicas that ask, and what they are told.
			steps := []struct {
				at   time.Duration
				a, b *bool
			}{
				{at: 0, a: yes, b: no},
				{at: time.Second, a: yes, b: no},     // the holder renews within its lease
				{at: 2900 * time.Millisecond, b: no}, // renewed: until 3 s
				{at: 3 * time.Second, a: yes, b: no}, // and at its end; then it stops
				{at: 4900 * time.Millisecond, b: no}, // still its lease
				{at: 5 * time.Second, b: yes},        // expired: taken over
				{at: 6 * time.Second, a: no, b: yes}, // the old holder is back: not its turn
			}
			start := now
			for i, s := range steps {
				now = start.Add(s.at)
				for r, want := range []*bool{s.a, s.b} {
					if want != nil {
						if got := claim(replicas[r], "settle_uploads"); got != *want {
							t.Fatalf("step %d: replica %d claimed %v, want %v", i, r, got, *want)
						}
					}
				}
			}
			// Passes have leases of their own.
			if !claim(replicas[0], "cull_machines") {
				t.Fatal("another pass's lease was held")
			}
			var n int64
			db.Gorm.Raw("SELECT COUNT(*) FROM job_leases").Scan(&n)
			if n != 2 {
				t.Fatalf("%d lease rows, want one per pass", n)
			}
		})
	}
}
