package license

import (
	"context"
	"fmt"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
)

// Once records a scheduled event once per occurrence.
type Once interface {
	EmitOnce(ctx context.Context, occ event.Occurrence, occurrence string) (bool, error)
}

// Reminders emits the time-based license events as Keygen's expirations
// worker does: license.expiring-soon on each of the last three days before
// the expiry, and license.expired once within 12 hours after it. Every
// replica may run the pass: each event is written once per license and
// occurrence, whichever pass gets there first.
type Reminders struct {
	db     *database.DB
	events Once
}

// NewReminders returns the reminders pass over db.
func NewReminders(db *database.DB, events Once) *Reminders {
	return &Reminders{db: db, events: events}
}

const (
	expiringSoon = 3 * 24 * time.Hour
	expiredFor   = 12 * time.Hour
)

// Pass emits what is due at now and returns how many events it wrote.
func (r *Reminders) Pass(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
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
