package database

import (
	"context"
	"database/sql"
	"reflect"
	"time"

	"gorm.io/gorm"
)

// sharedPool is the connection pool GORM sees on SQLite. GORM's cache of
// prepared statements binds a statement first prepared in a transaction to
// that transaction, so every later transaction parsed it again (a tenth of
// an activation's CPU); database/sql shares across connections only the
// statements prepared on the pool, which sharedPool's transactions do.
type sharedPool struct{ *sql.DB }

// BeginTx implements gorm.ConnPoolBeginner.
func (p sharedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sharedTx{Tx: tx, pool: p.DB}, nil
}

// GetDBConn implements gorm.GetDBConnector.
func (p sharedPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// sharedTx is a transaction of a sharedPool.
type sharedTx struct {
	*sql.Tx
	pool *sql.DB
}

// poolPrepareWait is how long a transaction waits for a free connection to
// prepare a statement on the pool before it prepares it on its own.
const poolPrepareWait = time.Millisecond

// PrepareContext prepares query on the pool when a connection is free at
// once (the transaction's Stmt then uses it), else on the transaction:
// waiting longer could deadlock a pool whose connections all wait so.
func (t *sharedTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	short, cancel := context.WithTimeout(ctx, poolPrepareWait)
	defer cancel()
	if st, err := t.pool.PrepareContext(short, query); err == nil {
		return st, nil
	}
	return t.Tx.PrepareContext(ctx, query)
}

// unpreparedBulk is the plugin that runs multi-row inserts unprepared
// unless their row count is a power of two. Their text varies with their
// row count, so each count was a statement of its own in GORM's cache,
// prepared on every connection that ran it: SQLite kept each compiled
// (hundreds of KiB for a few hundred rows, tens of MiB in all), and most
// were seldom run again. Batch writers chunk by a power of two: their full
// chunks, always the same text, stay cached, and so do at most a few
// shorter ones per table.
type unpreparedBulk struct{}

func (unpreparedBulk) Name() string { return "relkey:unprepared-bulk" }

func (unpreparedBulk) Initialize(g *gorm.DB) error {
	return g.Callback().Create().Before("gorm:create").Register("relkey:unprepared_bulk", func(q *gorm.DB) {
		if v := q.Statement.ReflectValue; v.Kind() == reflect.Slice && v.Len()&(v.Len()-1) != 0 {
			q.Statement.ConnPool = unprepared(q.Statement.ConnPool)
		}
	})
}

// Unprepared is q running its statements without GORM's cache of prepared
// statements: for a statement whose text varies with its arguments (a
// long IN list), which the cache would keep compiled for nothing.
func Unprepared(q *gorm.DB) *gorm.DB {
	q = q.Session(&gorm.Session{})
	q.Statement.ConnPool = unprepared(q.Statement.ConnPool)
	return q
}

func unprepared(p gorm.ConnPool) gorm.ConnPool {
	switch c := p.(type) {
	case *gorm.PreparedStmtTX:
		return c.Tx
	case *gorm.PreparedStmtDB:
		return c.ConnPool
	}
	return p
}
