// Package ratelimit counts attempts per key in fixed windows, in the
// database, so every relkey replica enforces the same limit.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// Limiter counts hits in the rate_limits table.
type Limiter struct {
	db  *database.DB
	now func() time.Time
}

// New returns a limiter over db.
func New(db *database.DB) *Limiter { return &Limiter{db: db, now: database.Now} }

// SetClock replaces the clock windows are counted on (tests).
func (l *Limiter) SetClock(now func() time.Time) {
	l.now = func() time.Time { return now().UTC().Truncate(time.Millisecond) }
}

// Result is the state of a key's window after a hit.
type Result struct {
	Allowed   bool
	Limit     int
	Count     int
	Remaining int
	Reset     time.Time
	Window    time.Duration
}

// Key derives a storage key from its parts without storing them: emails and
// addresses never reach the table.
func Key(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Hit records one attempt under key and reports whether it is within limit
// hits per window. One upsert, atomic on both engines.
func (l *Limiter) Hit(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	return l.HitN(ctx, key, 1, limit, window)
}

// HitN records n attempts under key at once.
func (l *Limiter) HitN(ctx context.Context, key string, n, limit int, window time.Duration) (Result, error) {
	now := l.now()
	expired := now.Add(-window)
	var row struct {
		Hits        int
		WindowStart time.Time
	}
	err := l.db.Conn(ctx).Raw(`INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start <= ? THEN excluded.hits ELSE rate_limits.hits + excluded.hits END,
			window_start = CASE WHEN rate_limits.window_start <= ? THEN excluded.window_start ELSE rate_limits.window_start END
		RETURNING hits, window_start`, key, now, n, expired, expired).Scan(&row).Error
	if err != nil {
		return Result{}, database.Error(err)
	}
	if rand.IntN(100) == 0 {
		// Forget long-expired windows now and then; the table stays small.
		l.db.Conn(ctx).Exec(`DELETE FROM rate_limits WHERE window_start < ?`, now.Add(-24*time.Hour))
	}
	return Result{
		Allowed:   row.Hits <= limit,
		Limit:     limit,
		Count:     row.Hits,
		Remaining: max(0, limit-row.Hits),
		Reset:     row.WindowStart.Add(window),
		Window:    window,
	}, nil
}
