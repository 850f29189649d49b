// Package joblease lets one replica at a time run each background pass:
// before a pass a replica claims the pass's lease row for the pass's
// interval, and skips the pass while another replica holds it. One upsert
// per pass, on both engines; SQLite serves one process, where the claim
// always succeeds, but the rule is the same.
package joblease

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
)

// Leases claims leases for one replica (its holder id is random).
type Leases struct {
	db     *database.DB
	holder string
	now    func() time.Time
}

// New returns the leases of a new replica over db.
func New(db *database.DB) *Leases { return &Leases{db: db, holder: id.New(), now: database.Now} }

// SetClock replaces the clock leases are timed on (tests).
func (l *Leases) SetClock(now func() time.Time) {
	l.now = func() time.Time { return now().UTC().Truncate(time.Millisecond) }
}

// Claim takes the lease of the pass name for d when it is free, expired
// or already this replica's, and reports whether this replica may run the
// pass now.
func (l *Leases) Claim(ctx context.Context, name string, d time.Duration) (bool, error) {
	now := l.now()
	var holders []string
	err := l.db.Conn(ctx).Raw(`INSERT INTO job_leases (name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE job_leases.until <= ? OR job_leases.holder = excluded.holder
		RETURNING holder`, name, l.holder, now.Add(d), now).Scan(&holders).Error
	if err != nil {
		return false, database.Error(err)
	}
	return len(holders) == 1, nil
}
