package database

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// StatementCounter counts the statements run with a context that carries
// it: how benchmarks and tests prove a request's query budget. One made by
// NewStatementRecorder also keeps them, for tests that read their plans.
type StatementCounter struct {
	n          atomic.Int64
	keep       bool
	mu         sync.Mutex
	statements []Statement
}

// Statement is one statement as sent: SQL with the engine's placeholders,
// and its arguments.
type Statement struct {
	SQL  string
	Vars []any
}

// NewStatementRecorder returns a counter that keeps every statement.
func NewStatementRecorder() *StatementCounter { return &StatementCounter{keep: true} }

// Count is the number of statements counted so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Statements returns the statements kept so far, oldest first.
func (c *StatementCounter) Statements() []Statement {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.statements)
}

func (c *StatementCounter) add(st *gorm.Statement) {
	c.n.Add(1)
	if !c.keep {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements = append(c.statements, Statement{SQL: st.SQL.String(), Vars: slices.Clone(st.Vars)})
}

type counterKey struct{}

// WithStatementCounter returns ctx carrying c.
func WithStatementCounter(ctx context.Context, c *StatementCounter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// CountStatements makes the database count statements on contexts that
// carry a StatementCounter.
func (db *DB) CountStatements() error {
	count := func(g *gorm.DB) {
		// A dry run only builds a subquery's SQL; nothing reaches the database.
		if g.DryRun {
			return
		}
		if c, ok := g.Statement.Context.Value(counterKey{}).(*StatementCounter); ok {
			c.add(g.Statement)
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
