package license

import (
	"context"
	"fmt"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/policy"
)

// Reminders emits the time-based license events as Keygen's expirations
// worker does: license.expiring-soon on each of the last three days before
// the expiry, and license.expired once within 12 hours after it. Every
// replica may run the pass: each event is written once per license and
// occurrence, whichever pass gets there first.
type Reminders struct {
	db     *database.DB
	events event.Once
}

// NewReminders returns the reminders pass over db.
func NewReminders(db *database.DB, events event.Once) *Reminders {
	return &Reminders{db: db, events: events}
}

const (
	expiringSoon = 3 * 24 * time.Hour
	expiredFor   = 12 * time.Hour
)

// Pass emits what is due at now and returns how many events it wrote.
func (r *Reminders) Pass(ctx context.Context, now time.Time) (int, error) {
	written, err := r.expiries(ctx, now.UTC())
	if err != nil {
		return written, err
	}
	n, err := r.checkIns(ctx, now.UTC())
	return written + n, err
}

// expiries emits license.expiring-soon and license.expired.
func (r *Reminders) expiries(ctx context.Context, now time.Time) (int, error) {
	written, after, afterID := 0, now.Add(-expiredFor), "00000000-0000-0000-0000-000000000000"
	for {
		var licenses []License
		err := r.db.Conn(ctx).Where("expiry IS NOT NULL AND (expiry > ? OR (expiry = ? AND id > ?)) AND expiry < ?", after, after, afterID, now.Add(expiringSoon)).
			Order("expiry, id").Limit(500).Find(&licenses).Error
		if err != nil {
			return written, database.Error(err)
		}
		n, err := r.remind(ctx, licenses, now)
		written += n
		if err != nil || len(licenses) < 500 {
			return written, err
		}
		last := licenses[len(licenses)-1]
		after, afterID = *last.Expiry, last.ID
	}
}

func (r *Reminders) remind(ctx context.Context, licenses []License, now time.Time) (int, error) {
	written := 0
	for i := range licenses {
		l := &licenses[i]
		name, occurrence := event.LicenseExpired, l.Expiry.UTC().Format(time.RFC3339Nano)
		if l.Expiry.After(now) {
			// One reminder per day left: 2, 1 and 0 whole days before.
			name, occurrence = event.LicenseExpiringSoon, fmt.Sprintf("%s/%d", occurrence, int(l.Expiry.Sub(now)/(24*time.Hour)))
		}
		wrote, err := r.events.EmitOnce(ctx, event.Occurrence{Event: name, AccountID: l.AccountID, Resource: l}, occurrence)
		if err != nil {
			return written, err
		}
		if wrote {
			written++
		}
	}
	return written, nil
}

// checkIns emits the check-in reminders as Keygen's overdue check-ins
// worker does: license.check-in-required-soon on each of the last three
// days before the next check-in is due, and license.check-in-overdue once
// within 12 hours after it; none for expired licenses. A check-in moves
// the next one, which is a new occurrence.
func (r *Reminders) checkIns(ctx context.Context, now time.Time) (int, error) {
	var policies []policy.Policy
	err := r.db.Conn(ctx).Where("require_check_in AND check_in_interval IS NOT NULL AND check_in_interval_count IS NOT NULL").Find(&policies).Error
	if err != nil {
		return 0, database.Error(err)
	}
	written := 0
	for i := range policies {
		pol := &policies[i]
		// The last check-ins whose next one falls in the window, give or
		// take a calendar month's slack; NextCheckIn decides exactly.
		probe := &License{LastCheckInAt: &now}
		interval := NextCheckIn(probe, pol).Sub(now)
		from, to := now.Add(-expiredFor-interval-3*24*time.Hour), now.Add(expiringSoon-interval+3*24*time.Hour)
		afterID := "00000000-0000-0000-0000-000000000000"
		for {
			var licenses []License
			err := r.db.Conn(ctx).Where("policy_id = ? AND last_check_in_at > ? AND last_check_in_at < ? AND id > ?", pol.ID, from, to, afterID).
				Order("id").Limit(500).Find(&licenses).Error
			if err != nil {
				return written, database.Error(err)
			}
			for j := range licenses {
				n, err := r.checkIn(ctx, &licenses[j], pol, now)
				written += n
				if err != nil {
					return written, err
				}
			}
			if len(licenses) < 500 {
				break
			}
			afterID = licenses[len(licenses)-1].ID
		}
	}
	return written, nil
}

// checkIn emits the check-in reminder of one license due at now, if any.
func (r *Reminders) checkIn(ctx context.Context, l *License, pol *policy.Policy, now time.Time) (int, error) {
	next := NextCheckIn(l, pol)
	if next == nil || l.Expired(now) || next.Before(now.Add(-expiredFor)) || !next.Before(now.Add(expiringSoon)) {
		return 0, nil
	}
	name, occurrence := event.LicenseCheckInOverdue, next.UTC().Format(time.RFC3339Nano)
	if next.After(now) {
		name, occurrence = event.LicenseCheckInRequiredSoon, fmt.Sprintf("%s/%d", occurrence, int(next.Sub(now)/(24*time.Hour)))
	}
	wrote, err := r.events.EmitOnce(ctx, event.Occurrence{Event: name, AccountID: l.AccountID, Resource: &Shown{License: l, Policy: pol}}, occurrence)
	if wrote {
		return 1, err
	}
	return 0, err
}
