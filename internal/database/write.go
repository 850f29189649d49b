package database

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
	"time"
)

// A Write is a fixed statement that changes rows, written once per engine
// (with ? placeholders), whose failure fails the whole transaction it is
// part of, so that it can wait to be sent with what follows it (Queue).
type Write struct {
	text map[Engine]string
}

// NewWrite prepares query, written with ? placeholders.
func NewWrite(query string) *Write {
	return &Write{text: map[Engine]string{SQLite: query, Postgres: numbered(query)}}
}

// Queue runs the write with args, taken in place of a unique violation
// when given. In a PostgreSQL transaction InTx opened it is not sent at
// once: the transaction's next statement sends it first, or its COMMIT
// goes with it in one round trip, and its failure is that statement's or
// the commit's (the whole transaction's, a nested one's too), so nothing
// in between may depend on its having succeeded. Its arguments are read
// when it is queued. Elsewhere it runs at once and returns its error.
func (w *Write) Queue(ctx context.Context, db *DB, taken error, args ...any) error {
	if err := ctx.Err(); err != nil {
		return Error(err)
	}
	if t, ok := db.pool(ctx).(*pgTx); ok {
		t.queue(ctx, w.text[Postgres], args, taken, &db.writeObserver)
		return nil
	}
	err := db.Conn(ctx).Exec(w.text[db.Engine], args...).Error
	if taken != nil && IsUniqueViolation(err) {
		return taken
	}
	return Error(err)
}

// queuedWrite is a Write waiting in a pgTx for the next statement or the
// commit.
type queuedWrite struct {
	ctx   context.Context // the caller's: it counts and times the write
	query string
	args  []any
	taken error
	// observer times it as its kind of statement.
	observer *atomic.Pointer[func(time.Duration)]
}

// queue holds a write for the next statement or the commit, with what its
// arguments are now (snapshot).
func (t *pgTx) queue(ctx context.Context, query string, args []any, taken error, observer *atomic.Pointer[func(time.Duration)]) {
	t.queued = append(t.queued, queuedWrite{ctx: ctx, query: query, args: snapshot(args), taken: taken, observer: observer})
}

// sentWrites counts writes sent in one batch and times each as the batch.
func (db *DB) sentWrites(writes []queuedWrite, started time.Time) {
	for _, w := range writes {
		db.sent(w.ctx, w.observer, w.query, w.args, started)
	}
}

// snapshot reads args as a statement would when it is sent (a Valuer's
// value, a pointer's target), so that a queued write holds what its
// caller passed even if that changes before the write is sent; a value
// database/sql cannot convert is kept for pgx.
func snapshot(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			v = a
		}
		out[i] = v
	}
	return out
}
