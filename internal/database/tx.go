package database

import (
	"context"
	"database/sql"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/page"
)

type txKey struct{}

// InTx runs fn in one transaction. Stores called with the ctx fn receives
// take part in it; nested calls join the outer transaction.
//
// Every statement inside runs under ctx, but the transaction itself (its
// commit or rollback) gets one more database budget past ctx's deadline:
// once fn has succeeded the commit is let finish even if ctx ends meanwhile,
// so that a request is never told 503 about a change that was committed.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	if err := ctx.Err(); err != nil {
		return Error(err)
	}
	var (
		txCtx  context.Context
		cancel context.CancelFunc
	)
	if deadline, ok := ctx.Deadline(); ok {
		txCtx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(db.budget))
	} else {
		txCtx, cancel = context.WithCancel(context.WithoutCancel(ctx))
	}
	defer cancel()
	h := db.handle(ctx)
	if pool, ok := h.Statement.ConnPool.(*sql.DB); ok && db.Engine == Postgres {
		return Error(db.inPgTx(ctx, txCtx, h, pool, fn))
	}
	err := h.WithContext(txCtx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
	return Error(err)
}

// inPgTx runs fn in a pgTx on a connection of pool, h's: committed when
// fn succeeds, else rolled back, as GORM's Transaction does (a panic
// rolls back too).
func (db *DB) inPgTx(ctx, txCtx context.Context, h *gorm.DB, pool *sql.DB, fn func(ctx context.Context) error) error {
	conn, err := pool.Conn(txCtx)
	if err != nil {
		return err
	}
	defer conn.Close()
	t := &pgTx{db: db, conn: conn, ctx: txCtx}
	tx := h.Session(&gorm.Session{NewDB: true, Context: txCtx})
	tx.Statement.ConnPool = t
	committed := false
	defer func() {
		if !committed {
			t.Rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		if t.failed != nil {
			// What a row could tell only as a bad connection.
			return t.failed
		}
		return err
	}
	committed = true
	return t.Commit()
}

// Conn returns the GORM handle for ctx: the transaction InTx opened, or
// the pool (the background pool for a context marked Background).
func (db *DB) Conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return db.handle(ctx).WithContext(ctx)
}

// pool is what Conn's statements run on, without the GORM session Conn
// builds around it: for the readers and writers that send their own text.
func (db *DB) pool(ctx context.Context) gorm.ConnPool {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.Statement.ConnPool
	}
	return db.handle(ctx).Statement.ConnPool
}

// Paginate applies a page request to a query of one table ordered by creation.
// It returns the total when the request asks for it.
func Paginate[T any](q *gorm.DB, p page.Request) (rows []T, total int64, err error) {
	return PaginateIn[T](q, "", p, nil)
}

// PaginateIn is Paginate for a query whose columns must be qualified with
// table; rows, when given, decorates the row query (joins, selects) but not
// the count.
func PaginateIn[T any](q *gorm.DB, table string, p page.Request, rows func(*gorm.DB) *gorm.DB) (items []T, total int64, err error) {
	if p.Only != "" {
		column := "id"
		if table != "" {
			column = table + ".id"
		}
		q = q.Where(column+" = ?", p.Only)
	}
	if p.Count {
		if err := q.Session(&gorm.Session{}).Model(new(T)).Count(&total).Error; err != nil {
			return nil, 0, Error(err)
		}
	}
	prefix := ""
	if table != "" {
		prefix = table + "."
	}
	direction := " DESC"
	if p.Ascending {
		direction = " ASC"
	}
	if p.Keyset {
		return keysetPage[T](q, table, p, rows)
	}
	q = q.Order(prefix + "created_at" + direction + ", " + prefix + "id" + direction)
	if rows != nil {
		q = rows(q)
	}
	err = q.Limit(p.Limit).Offset(p.Offset).Find(&items).Error
	return items, total, Error(err)
}

// keysetPage is Keygen's keyset pagination: the rows after the cursor's
// (created_at, id) in the order asked for, one more read than asked to
// tell whether more follow (total 1) or not (0). An unknown cursor is an
// empty page, as in Keygen.
func keysetPage[T any](q *gorm.DB, table string, p page.Request, rows func(*gorm.DB) *gorm.DB) ([]T, int64, error) {
	if table == "" {
		stmt := &gorm.Statement{DB: q}
		if err := stmt.Parse(new(T)); err != nil {
			return nil, 0, err
		}
		table = stmt.Table
	}
	direction, comparator := " DESC", "<"
	if p.Ascending {
		direction, comparator = " ASC", ">"
	}
	if p.Cursor != "" {
		at, found, err := cursorPosition(q, table, p.Cursor)
		if err != nil || !found {
			return nil, 0, err
		}
		q = q.Where("("+table+".created_at, "+table+".id) "+comparator+" (?, ?)", at, p.Cursor)
	}
	q = q.Order(table + ".created_at" + direction + ", " + table + ".id" + direction)
	if rows != nil {
		q = rows(q)
	}
	var items []T
	if err := q.Limit(p.Limit + 1).Find(&items).Error; err != nil {
		return nil, 0, Error(err)
	}
	if len(items) > p.Limit {
		return items[:p.Limit], 1, nil
	}
	return items, 0, nil
}

// cursorPosition is the creation time of the cursor's row, read first so
// that the page's condition compares with values: SQLite seeks an index on
// (created_at, id) by both columns only then. SQLite's times are read as
// the text they are stored as, to compare equal to themselves.
func cursorPosition(q *gorm.DB, table, cursor string) (any, bool, error) {
	column := "created_at"
	if q.Dialector.Name() == "sqlite" {
		column = "CAST(created_at AS TEXT)"
	}
	var at []any
	err := q.Session(&gorm.Session{NewDB: true}).Table(table).Where("id = ?", cursor).Limit(1).Pluck(column, &at).Error
	if err != nil || len(at) == 0 {
		return nil, false, Error(err)
	}
	return at[0], true, nil
}

// Insert creates row; a unique-index violation becomes taken when given.
func Insert(q *gorm.DB, row any, taken error) error {
	err := q.Create(row).Error
	if taken != nil && IsUniqueViolation(err) {
		return taken
	}
	return Error(err)
}

// Save writes a changed row of the account; a unique violation is taken.
func Save(q *gorm.DB, accountID string, row any, taken error) error {
	err := q.Where("account_id = ?", accountID).Save(row).Error
	if IsUniqueViolation(err) {
		return taken
	}
	return Error(err)
}
