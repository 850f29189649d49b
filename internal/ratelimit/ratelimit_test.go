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
