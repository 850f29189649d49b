package license

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/batch"
	"github.com/relkey/relkey/internal/database"
)

// Toucher records when licenses were last validated without putting a
// write on the validation path: Touch never blocks (a full buffer drops the
// touch), and a background loop coalesces touches per license and writes
// only the latest, never moving the time backwards.
type Toucher struct {
	db     *database.DB
	logger *slog.Logger
	queue  *batch.Queue[touch]
}

type touch struct {
	accountID, licenseID string
	at                   time.Time
	version              string // a validated release version, if any
}

// flushEvery is how often touches reach the database.
const flushEvery = 250 * time.Millisecond

// NewToucher starts a toucher with a bounded buffer.
func NewToucher(db *database.DB, capacity int, logger *slog.Logger) *Toucher {
	t := &Toucher{db: db, logger: logger}
	t.queue = batch.Start(capacity, touchChunk, flushEvery, t.flush)
	return t
}

// Touch records a validation at at (and the release version it matched,
// if any); it drops the touch when the buffer is full.
func (t *Toucher) Touch(accountID, licenseID string, at time.Time, version string) {
	t.queue.Offer(touch{accountID, licenseID, at, version})
}

// Dropped is how many touches a full buffer dropped.
func (t *Toucher) Dropped() int64 { return t.queue.Dropped() }

// Depth is how many touches wait to be written.
func (t *Toucher) Depth() int { return t.queue.Depth() }

// Close writes the pending touches and stops the loop.
func (t *Toucher) Close() { t.queue.Close() }

// coalesce adds tc to the pending touches: a license keeps its latest
// time and the version of its latest touch that named one.
func coalesce(pending map[string]touch, tc touch) {
	key := tc.accountID + "/" + tc.licenseID
	prev, ok := pending[key]
	switch {
	case !ok:
	case tc.at.After(prev.at):
		if tc.version == "" {
			tc.version = prev.version
		}
	default:
		if prev.version == "" {
			prev.version = tc.version
		}
		tc = prev
	}
	pending[key] = tc
}

// touchChunk is the most licenses one UPDATE records.
const touchChunk = 256

// flush records the latest of the pending touches of each license in
// UPDATEs of a power of two licenses each, so that flushes of any size
// share a few prepared statements.
func (t *Toucher) flush(touches []touch, _ int64) {
	if len(touches) == 0 {
		return
	}
	pending := make(map[string]touch, len(touches))
	for _, tc := range touches {
		coalesce(pending, tc)
	}
	for piece := range database.PowerOfTwoPieces(slices.Collect(maps.Values(pending)), touchChunk) {
		statement, args := touchStatement(t.db.Engine, piece)
		ctx, cancel := database.BackgroundWrite()
		err := t.db.Conn(ctx).Exec(statement, args...).Error
		cancel()
		if err != nil {
			t.logger.Warn("recording license validations", "licenses", len(piece), "error", err)
		}
	}
}

// touchStatement is one UPDATE of the touched licenses: the validation time
// only moves forward, a validated version replaces the last one.
func touchStatement(engine database.Engine, touches []touch) (string, []any) {
	row := "(?, ?, ?, ?)"
	if engine == database.Postgres {
		row = "(?::uuid, ?::uuid, ?::timestamptz, ?::text)"
	}
	var b strings.Builder
	args := make([]any, 0, 4*len(touches))
	b.WriteString(`UPDATE licenses SET
		last_validated_at = CASE WHEN licenses.last_validated_at IS NULL OR licenses.last_validated_at < v.column3
			THEN v.column3 ELSE licenses.last_validated_at END,
		last_validated_version = COALESCE(v.column4, licenses.last_validated_version)
		FROM (VALUES `)
	for i, tc := range touches {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		var version *string
		if tc.version != "" {
			version = &tc.version
		}
		args = append(args, tc.licenseID, tc.accountID, tc.at, version)
	}
	b.WriteString(`) AS v
		WHERE licenses.id = v.column1 AND licenses.account_id = v.column2
		AND (licenses.last_validated_at IS NULL OR licenses.last_validated_at < v.column3 OR v.column4 IS NOT NULL)`)
	return b.String(), args
}
