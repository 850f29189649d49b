// Package requestlog keeps the request log (Keygen Enterprise's request
// logs): one row per API request of an account, with what was asked and
// how it ended, never bodies, keys, tokens or query strings. Rows are
// written off the request path in batches; under overload they are shed.
package requestlog

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/batch"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Entry is one request.
type Entry struct {
	ID        string
	AccountID string
	Method    string
	// Path is the route's pattern (/v1/accounts/:account/licenses/:id), not the URL.
	Path         string
	Status       int
	IP           string
	UserAgent    string
	RequestID    string
	BearerType   *string
	BearerID     *string
	ResourceType *string
	ResourceID   *string
	DurationMS   float64
	CreatedAt    time.Time
}

// TableName implements gorm's tabler.
func (Entry) TableName() string { return "request_logs" }

// Log records and reads the request log.
type Log struct {
	db     *database.DB
	logger *slog.Logger
	queue  *batch.Queue[Entry]
}

// flushEvery is how often recorded requests reach the database, and
// flushBatch the most one flush writes: a power of two, so that full
// statements stay prepared.
const (
	flushEvery = 250 * time.Millisecond
	flushBatch = 256
)

// New starts a request log with room for capacity unwritten entries.
func New(db *database.DB, capacity int, logger *slog.Logger) *Log {
	l := &Log{db: db, logger: logger}
	l.queue = batch.Start(capacity, flushBatch, flushEvery, l.flush)
	return l
}

// Record queues an entry without blocking; a full queue sheds it.
func (l *Log) Record(e Entry) { l.queue.Offer(e) }

// Dropped is how many entries a full queue shed.
func (l *Log) Dropped() int64 { return l.queue.Dropped() }

// Depth is how many entries wait to be written.
func (l *Log) Depth() int { return l.queue.Depth() }

func (l *Log) flush(pending []Entry, _ int64) {
	if len(pending) == 0 {
		return
	}
	ctx, cancel := database.BackgroundWrite()
	defer cancel()
	if err := database.InsertAll(ctx, l.db, pending); err != nil {
		l.logger.Warn("writing the request log", "count", len(pending), "error", err)
	}
}

// Close writes what is pending and stops the loop.
func (l *Log) Close() { l.queue.Close() }

// Filter narrows a listing; empty fields match all.
type Filter struct {
	Status       int
	Method       string
	IP           string
	ResourceType string
	ResourceID   string
	// RequestorType is the bearer's type (users, products, licenses) and
	// RequestorID its id, or a part of one (Keygen's requestor[…]); URL a
	// part of the route's pattern (relkey keeps no URLs).
	RequestorType, RequestorID, URL string
	Since, Until                    time.Time
}

// List returns a page of an account's requests.
func (l *Log) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]Entry, int64, error) {
	if err := who.Require("request-log.read"); err != nil {
		return nil, 0, err
	}
	q := l.db.Conn(ctx).Where("account_id = ?", t.ID)
	for _, c := range []struct {
		clause string
		arg    any
		when   bool
	}{
		{"status = ?", f.Status, f.Status != 0},
		{"method = ?", f.Method, f.Method != ""},
		{"ip = ?", f.IP, f.IP != ""},
		{"resource_type = ?", f.ResourceType, f.ResourceType != ""},
		{"resource_id = ?", f.ResourceID, f.ResourceID != ""},
		{"created_at >= ?", f.Since.UTC(), !f.Since.IsZero()},
		{"created_at <= ?", f.Until.UTC(), !f.Until.IsZero()},
	} {
		if c.when {
			q = q.Where(c.clause, c.arg)
		}
	}
	if f.RequestorType != "" {
		q = q.Where("bearer_type = ?", f.RequestorType)
	}
	switch {
	case f.RequestorID == "":
	case uuid.Validate(f.RequestorID) == nil:
		q = q.Where("bearer_id = ?", strings.ToLower(f.RequestorID))
	default:
		cond, args := l.db.Contains("bearer_id", f.RequestorID)
		q = q.Where(cond, args...)
	}
	if f.URL != "" {
		cond, args := l.db.Contains("path", f.URL)
		q = q.Where(cond, args...)
	}
	return database.Paginate[Entry](q, p)
}

// Find returns one request of an account.
func (l *Log) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Entry, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	return access.Visible(who, "request-log.read", func() (*Entry, error) {
		notFound := apperr.NotFoundResource("request log", ref)
		if uuid.Validate(ref) != nil {
			return nil, notFound
		}
		return database.Take[Entry](l.db.Conn(ctx).Where("account_id = ? AND id = ?", t.ID, ref), notFound)
	})
}

// Prune deletes up to 1000 entries older than retention.
func (l *Log) Prune(ctx context.Context, retention time.Duration, now time.Time) (int64, error) {
	res := l.db.Conn(ctx).Where("id IN (?)",
		l.db.Conn(ctx).Model(&Entry{}).Select("id").Where("created_at < ?", now.Add(-retention).UTC()).Limit(1000)).Delete(&Entry{})
	return res.RowsAffected, database.Error(res.Error)
}

// DayStatus is how many of an account's requests answered with a status on
// a UTC day (2006-01-02).
type DayStatus struct {
	Day    string
	Status int
	Count  int64
}

// StatusesByDay counts an account's requests of [since, until) by UTC day
// and status.
func (l *Log) StatusesByDay(ctx context.Context, accountID string, since, until time.Time) ([]DayStatus, error) {
	var out []DayStatus
	day := l.db.UTCDate("created_at")
	err := l.db.Conn(ctx).Model(&Entry{}).Select(day+" AS day, status, COUNT(*) AS count").
		Where("account_id = ? AND created_at >= ? AND created_at < ?", accountID, since.UTC(), until.UTC()).
		Group(day + ", status").Order("day, status").Scan(&out).Error
	return out, database.Error(err)
}

// Field is what requests are ranked by.
type Field string

// The fields requests are ranked by: the client's address, the method and
// route pattern ("POST /v1/accounts/:account/licenses/actions/validate-key"),
// the User-Agent.
const (
	ByIP        Field = "ip"
	ByRoute     Field = "route"
	ByUserAgent Field = "user-agent"
)

// fieldColumns are each field's SQL expression and the condition that it
// has a value.
var fieldColumns = map[Field]struct{ expr, present string }{
	ByIP:        {"ip", "ip <> ''"},
	ByRoute:     {"method || ' ' || path", "method <> '' AND path <> ''"},
	ByUserAgent: {"user_agent", "user_agent <> ''"},
}

// Tally is how many requests shared a value.
type Tally struct {
	Value string
	Count int64
}

// Top ranks an account's requests of [since, until) by a field, most
// first (ties by value), skipping empty values; at most limit.
func (l *Log) Top(ctx context.Context, accountID string, by Field, since, until time.Time, limit int) ([]Tally, error) {
	column := fieldColumns[by]
	var out []Tally
	err := l.db.Conn(ctx).Model(&Entry{}).Select(column.expr+" AS value, COUNT(*) AS count").
		Where("account_id = ? AND created_at >= ? AND created_at < ?", accountID, since.UTC(), until.UTC()).
		Where(column.present).Group(column.expr).Order("count DESC, value").Limit(limit).Scan(&out).Error
	return out, database.Error(err)
}
