package event

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// LogFilter narrows a listing of the event log; empty fields match all.
type LogFilter struct {
	Event         string // one event type (Keygen's event scope)
	Events        []string
	ResourceType  string
	ResourceID    string
	WhodunnitType string
	WhodunnitID   string
	RequestID     string
	Since, Until  time.Time
}

// Log reads the event log of an account.
type Log struct{ db *database.DB }

// NewLog returns the event log over db.
func NewLog(db *database.DB) *Log { return &Log{db: db} }

// List returns a page of an account's events.
func (l *Log) List(ctx context.Context, who *access.Principal, t *account.Tenant, f LogFilter, p page.Request) ([]Record, int64, error) {
	if err := who.Require("event-log.read"); err != nil {
		return nil, 0, err
	}
	q := l.db.Conn(ctx).Where("account_id = ?", t.ID)
	q = where(q, "event = ?", f.Event, f.Event != "")
	q = where(q, "event IN ?", f.Events, len(f.Events) > 0)
	q = where(q, "resource_type = ?", f.ResourceType, f.ResourceType != "")
	q = where(q, "resource_id = ?", f.ResourceID, f.ResourceID != "")
	q = where(q, "whodunnit_type = ?", f.WhodunnitType, f.WhodunnitType != "")
	q = where(q, "whodunnit_id = ?", f.WhodunnitID, f.WhodunnitID != "")
	q = where(q, "request_id = ?", f.RequestID, f.RequestID != "")
	q = where(q, "created_at >= ?", f.Since.UTC(), !f.Since.IsZero())
	q = where(q, "created_at <= ?", f.Until.UTC(), !f.Until.IsZero())
	return database.Paginate[Record](q, p)
}

func where(q *gorm.DB, clause string, arg any, when bool) *gorm.DB {
	if !when {
		return q
	}
	return q.Where(clause, arg)
}

// Find returns one event of an account.
func (l *Log) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Record, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	return access.Visible(who, "event-log.read", func() (*Record, error) {
		notFound := apperr.NotFoundResource("event log", ref)
		if uuid.Validate(ref) != nil {
			return nil, notFound
		}
		return database.Take[Record](l.db.Conn(ctx).Where("account_id = ? AND id = ?", t.ID, ref), notFound)
	})
}

// Prune deletes the events older than retention that the fan-out has
// handled, in bounded steps; replicas pruning together delete disjoint rows
// or nothing.
func (l *Log) Prune(ctx context.Context, retention time.Duration, now time.Time) (int64, error) {
	res := l.db.Conn(ctx).Where("id IN (?)",
		l.db.Conn(ctx).Model(&Record{}).Select("id").Where("created_at < ? AND fanned_out", now.Add(-retention).UTC()).Limit(1000)).
		Delete(&Record{})
	return res.RowsAffected, database.Error(res.Error)
}
