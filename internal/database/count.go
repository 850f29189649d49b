package database

import (
	"context"
	"sync/atomic"

	"gorm.io/gorm"
)

// StatementCounter counts the statements run with a context that carries
// it: how benchmarks and tests prove a request's query budget.
type StatementCounter struct{ n atomic.Int64 }

// Count is the number of statements counted so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

type counterKey struct{}

// WithStatementCounter returns ctx carrying c.
func WithStatementCounter(ctx context.Context, c *StatementCounter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// CountStatements makes the database count statements on contexts that
// carry a StatementCounter.
func (db *DB) CountStatements() error {
	count := func(g *gorm.DB) {
		if c, ok := g.Statement.Context.Value(counterKey{}).(*StatementCounter); ok {
			c.n.Add(1)
		}
	}
	cb := db.Gorm.Callback()
	for _, register := range []func() error{
		func() error { return cb.Create().After("gorm:create").Register("relkey:count", count) },
		func() error { return cb.Query().After("gorm:query").Register("relkey:count", count) },
		func() error { return cb.Update().After("gorm:update").Register("relkey:count", count) },
		func() error { return cb.Delete().After("gorm:delete").Register("relkey:count", count) },
		func() error { return cb.Row().After("gorm:row").Register("relkey:count", count) },
		func() error { return cb.Raw().After("gorm:raw").Register("relkey:count", count) },
	} {
		if err := register(); err != nil {
			return err
		}
	}
	return nil
}
