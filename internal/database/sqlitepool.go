package database

import (
	"context"
	"database/sql"
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
