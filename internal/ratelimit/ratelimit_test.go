package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

func TestFixedWindowOnBothEngines(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			l := &Limiter{db: db, now: func() time.Time { return now }}
			ctx := context.Background()
			key := Key("acct", "127.0.0.1", "a@b.co")
			for i := 1; i <= 7; i++ {
				r, err := l.Hit(ctx, key, 5, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if r.Count != i || r.Allowed != (i <= 5) || r.Remaining != max(0, 5-i) || !r.Reset.Equal(now.Add(time.Minute)) {
					t.Fatalf("hit %d: %+v", i, r)
				}
			}
			if r, _ := l.Hit(ctx, Key("acct", "127.0.0.1", "other@b.co"), 5, time.Minute); !r.Allowed || r.Count != 1 {
				t.Fatalf("another key shares the window: %+v", r)
			}
			now = now.Add(61 * time.Second)
			if r, _ := l.Hit(ctx, key, 5, time.Minute); !r.Allowed || r.Count != 1 || !r.Reset.Equal(now.Add(time.Minute)) {
				t.Fatalf("a new window did not start: %+v", r)
			}

			// Concurrent hits are counted exactly: 20 callers, 5 allowed.
			concurrent := Key("burst")
			var wg sync.WaitGroup
			var mu sync.Mutex
			allowed := 0
			for range 20 {
				wg.Go(func() {
					r, err := l.Hit(ctx, concurrent, 5, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if r.Allowed {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if allowed != 5 {
				t.Fatalf("%d of 20 concurrent hits allowed, want 5", allowed)
			}
		})
	}
}

// TestGuardSharesFailuresAcrossReplicas: two guards on one database (two
// replicas) count failures in memory and learn each other's on Sync.
func TestGuardSharesFailuresAcrossReplicas(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			a := NewGuard(&Limiter{db: db, now: clock}, 10, time.Minute)
			other := NewGuard(&Limiter{db: db, now: clock}, 10, time.Minute)
			ctx := context.Background()
			key := Key("ip", "198.51.100.7")
			for i := 1; i <= 6; i++ {
				if r := a.Failed(key); r.Count != i || !r.Allowed {
					t.Fatalf("failure %d: %+v", i, r)
				}
			}
			var rows int64
			db.Conn(ctx).Raw(`SELECT count(*) FROM rate_limits`).Scan(&rows)
			if rows != 0 {
				t.Fatalf("failures wrote %d rows before Sync", rows)
			}
			for range 4 {
				other.Failed(key)
			}
			if err := a.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if err := other.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r := other.Check(key); r.Allowed || r.Count != 10 {
				t.Fatalf("after both synced, the other replica: %+v", r)
			}
			if err := a.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r := a.Check(key); r.Allowed || r.Count != 10 {
				t.Fatalf("the first replica did not learn the refusal: %+v", r)
			}
			if r := a.Check(Key("ip", "203.0.113.1")); !r.Allowed {
				t.Fatalf("another key is refused: %+v", r)
			}
			now = now.Add(time.Minute)
			if r := a.Check(key); !r.Allowed {
				t.Fatalf("a new window still refuses: %+v", r)
			}
		})
	}
}
