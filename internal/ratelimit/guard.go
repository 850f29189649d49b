package ratelimit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// Guard counts failed guesses (wrong license keys and tokens) per key in
// memory, so that the hot paths it watches never wait on a database write:
// Sync adds each key's new failures to the shared rate_limits rows in one
// batch and learns every replica's totals back.
type Guard struct {
	limiter *Limiter
	limit   int
	window  time.Duration
	mu      sync.Mutex
	counts  map[string]*guardCount
}

type guardCount struct {
	start   time.Time // the window's start
	shared  int       // every replica's failures as of the last Sync
	pending int       // this replica's failures since
}

// NewGuard refuses a key once it has failed limit times in a window.
func NewGuard(l *Limiter, limit int, window time.Duration) *Guard {
	return &Guard{limiter: l, limit: limit, window: window, counts: map[string]*guardCount{}}
}

// entry is key's count in the current window (caller holds mu).
func (g *Guard) entry(key string, now time.Time) *guardCount {
	c := g.counts[key]
	if c == nil || !now.Before(c.start.Add(g.window)) {
		c = &guardCount{start: now}
		g.counts[key] = c
	}
	return c
}

// Check reports key's state without counting: Allowed is false once its
// failures reached the limit.
func (g *Guard) Check(key string) Result {
	now := g.limiter.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.counts[key]
	if c == nil || !now.Before(c.start.Add(g.window)) {
		return Result{Allowed: true, Limit: g.limit, Remaining: g.limit, Reset: now.Add(g.window), Window: g.window}
	}
	return g.result(c)
}

// Failed counts one failure under key and returns its new state.
func (g *Guard) Failed(key string) Result {
	now := g.limiter.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.entry(key, now)
	c.pending++
	return g.result(c)
}

func (g *Guard) result(c *guardCount) Result {
	n := c.shared + c.pending
	return Result{Allowed: n < g.limit, Limit: g.limit, Count: n, Remaining: max(0, g.limit-n),
		Reset: c.start.Add(g.window), Window: g.window}
}

// guardPrefix marks the guard's rows in rate_limits, so that Sync can learn
// the keys other replicas refuse.
const guardPrefix = "guard-"

// Sync shares this replica's pending failures (one upsert a key that
// failed since the last Sync), learns the keys any replica refuses, and
// forgets expired windows.
func (g *Guard) Sync(ctx context.Context) error {
	now := g.limiter.now()
	g.mu.Lock()
	batch := map[string]int{}
	for key, c := range g.counts {
		switch {
		case !now.Before(c.start.Add(g.window)):
			delete(g.counts, key)
		case c.pending > 0:
			batch[key] = c.pending
		}
	}
	g.mu.Unlock()
	for key, n := range batch {
		r, err := g.limiter.HitN(ctx, guardPrefix+key, n, g.limit, g.window)
		if err != nil {
			return err
		}
		g.mu.Lock()
		c := g.entry(key, now)
		c.pending -= min(n, c.pending)
		c.shared, c.start = r.Count, r.Reset.Add(-g.window)
		g.mu.Unlock()
	}
	var refused []struct {
		Key         string
		Hits        int
		WindowStart time.Time
	}
	err := g.limiter.db.Conn(ctx).Raw(`SELECT key, hits, window_start FROM rate_limits
		WHERE key LIKE ? AND window_start > ? AND hits >= ?`, guardPrefix+"%", now.Add(-g.window), g.limit).Scan(&refused).Error
	if err != nil {
		return database.Error(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, row := range refused {
		key := strings.TrimPrefix(row.Key, guardPrefix)
		c := g.counts[key]
		if c == nil || c.start.Before(row.WindowStart) || c.shared < row.Hits {
			pending := 0
			if c != nil && !c.start.Before(row.WindowStart) {
				pending = c.pending
			}
			g.counts[key] = &guardCount{start: row.WindowStart, shared: row.Hits, pending: pending}
		}
	}
	return nil
}

// Guesses watches failed key and token guesses per client address and per
// account.
type Guesses struct {
	Address, Account *Guard
}

// Guess limits: a client address may fail 100 times in 5 minutes, an
// account's keys and tokens 1000 times from all addresses together.
const (
	AddressGuesses = 100
	AccountGuesses = 1000
	GuessWindow    = 5 * time.Minute
)

// NewGuesses returns the guess guards over l at the default limits.
func NewGuesses(l *Limiter) *Guesses {
	return &Guesses{Address: NewGuard(l, AddressGuesses, GuessWindow), Account: NewGuard(l, AccountGuesses, GuessWindow)}
}

// Sync shares both guards' counts.
func (g *Guesses) Sync(ctx context.Context) error {
	if err := g.Address.Sync(ctx); err != nil {
		return err
	}
	return g.Account.Sync(ctx)
}
