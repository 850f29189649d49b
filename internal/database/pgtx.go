package database

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgTx is a PostgreSQL transaction on a connection of its own whose BEGIN
// waits for its first statement: a read (Read, TakeRaw, Take...) sends
// BEGIN with it, in one round trip, and any other statement begins the
// transaction first. A transaction without a statement never begins. (An
// activation's BEGIN was a round trip of its own, 8 % of its CPU.) Queued
// writes (Write.Queue) wait for the next statement, which sends them first,
// or for the commit, which goes with them: an activation's INSERT and
// COMMIT are one round trip.
//
// It is the ConnPool of the GORM handle InTx passes on, and a
// gorm.TxCommitter, so GORM nests transactions in it as savepoints.
type pgTx struct {
	db   *DB
	conn *sql.Conn
	// ctx is the transaction's own (InTx's), which ends its commit or rollback.
	ctx context.Context
	tx  pgx.Tx // nil until begun
	// failed is why a QueryRowContext could not begin (or send the
	// queued writes): its row tells only of a bad connection.
	failed error
	// queued are the writes not sent yet, in order. (A transaction is
	// used by one goroutine at a time, its context's.)
	queued []queuedWrite
}

// begin begins the transaction unless it has begun, and sends the queued
// writes. The connection's state is read and written under its lock
// (Raw's), like every use of it.
func (t *pgTx) begin(ctx context.Context) error {
	// An ended context fails here, before pgx would count the connection
	// broken, as sql.Tx's statements did.
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		if len(t.queued) > 0 {
			return t.send(ctx, pc, false)
		}
		if t.tx != nil {
			return nil
		}
		tx, err := pc.Begin(ctx)
		if err == nil {
			t.tx = tx
		}
		return err
	})
}

// send sends the queued writes in one batch: after BEGIN when the
// transaction has not begun, and before COMMIT when commit. A write's
// failure is the batch's (a unique violation its taken, when given); the
// transaction is then failed, for its Rollback.
func (t *pgTx) send(ctx context.Context, pc *pgx.Conn, commit bool) error {
	queued := t.queued
	t.queued = nil
	var b pgx.Batch
	begins := t.tx == nil
	if begins {
		b.BeginTx(pgx.TxOptions{})
	}
	for _, w := range queued {
		b.Queue(w.query, w.args...)
	}
	if commit {
		b.Queue("COMMIT")
	}
	started := time.Now()
	results := pc.SendBatch(ctx, &b)
	ran, err := t.readResults(results, begins, queued, commit)
	if closed := results.Close(); err == nil {
		err = closed
	}
	t.db.sentWrites(queued[:ran], started)
	return err
}

// readResults reads send's results in their order, up to the first
// failure, and tells how many of the queued writes ran.
func (t *pgTx) readResults(results pgx.BatchResults, begins bool, queued []queuedWrite, commit bool) (int, error) {
	if begins {
		if _, err := results.Exec(); err != nil {
			return 0, err
		}
		t.tx = results.Tx()
	}
	for i, w := range queued {
		if _, err := results.Exec(); err != nil {
			if w.taken != nil && IsUniqueViolation(err) {
				err = w.taken
			}
			return i + 1, err
		}
	}
	if !commit {
		return len(queued), nil
	}
	tag, err := results.Exec()
	if err != nil {
		return len(queued), err
	}
	if tag.String() == "ROLLBACK" {
		// PostgreSQL ends a failed transaction with a rollback.
		return len(queued), pgx.ErrTxCommitRollback
	}
	t.tx = nil
	return len(queued), nil
}

// PrepareContext implements gorm.ConnPool.
func (t *pgTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.PrepareContext(ctx, query)
}

// ExecContext implements gorm.ConnPool. Rolling back to a savepoint (GORM's
// nested transaction that failed) drops the writes queued since: the
// SAVEPOINT sent those before it.
func (t *pgTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if strings.HasPrefix(query, "ROLLBACK TO SAVEPOINT ") {
		t.queued = nil
	}
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryContext implements gorm.ConnPool.
func (t *pgTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext implements gorm.ConnPool. A row carries its error only
// from database/sql: when the transaction cannot begin, the statement is
// run with a cancelled context (it fails before it is sent, as a bad
// connection, which database/sql then drops) and the transaction keeps
// the reason, which its commit returns.
func (t *pgTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := t.begin(ctx); err != nil {
		t.failed = err
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cancelled
	}
	return t.conn.QueryRowContext(ctx, query, args...)
}

// read runs query through pgx as readPgxRows does, on the transaction's
// connection; not yet begun, it sends BEGIN and query as one batch.
func (t *pgTx) read(ctx context.Context, db *DB, query string, args []any, typ reflect.Type, next func() (reflect.Value, bool)) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := t.conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		if len(t.queued) > 0 {
			if err := t.send(ctx, pc, false); err != nil {
				return err
			}
		}
		if t.tx != nil {
			rows, err := pc.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err = db.scanPgx(pc, rows, query, typ, next)
			return err
		}
		var b pgx.Batch
		b.BeginTx(pgx.TxOptions{})
		b.Queue(query, args...)
		results := pc.SendBatch(ctx, &b)
		if _, err := results.Exec(); err != nil {
			return joinClose(err, results)
		}
		t.tx = results.Tx()
		rows, err := results.Query()
		if err != nil {
			return joinClose(err, results)
		}
		if n, err = db.scanPgx(pc, rows, query, typ, next); err != nil {
			return joinClose(err, results)
		}
		return results.Close()
	})
	return n, err
}

// joinClose closes a batch's results after err, which it returns.
func joinClose(err error, results pgx.BatchResults) error {
	results.Close()
	return err
}

// Commit implements gorm.TxCommitter: it commits what began (a commit that
// PostgreSQL turned into a rollback, the transaction having failed, is an
// error).
func (t *pgTx) Commit() error {
	if t.failed != nil {
		t.Rollback()
		return t.failed
	}
	if len(t.queued) > 0 {
		err := t.conn.Raw(func(driverConn any) error { return t.send(t.ctx, driverConn.(*stdlib.Conn).Conn(), true) })
		if err != nil {
			t.Rollback()
		}
		return err
	}
	return t.end(func(tx pgx.Tx) error { return tx.Commit(t.ctx) })
}

// Rollback implements gorm.TxCommitter: the queued writes are never sent.
func (t *pgTx) Rollback() error {
	t.queued = nil
	return t.end(func(tx pgx.Tx) error { return tx.Rollback(t.ctx) })
}

// end commits or rolls back the transaction, if it began, on its
// connection. (pgx closes a connection it leaves inside a transaction, and
// the pool never hands out such a connection again.)
func (t *pgTx) end(finish func(pgx.Tx) error) error {
	return t.conn.Raw(func(any) error {
		if t.tx == nil {
			return nil
		}
		tx := t.tx
		t.tx = nil
		return finish(tx)
	})
}
