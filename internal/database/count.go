package database

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	if c.keep {
		c.keepStatement(st.SQL.String(), st.Vars)
	}
}

func (c *StatementCounter) record(query string, vars []any) {
	c.n.Add(1)
	if c.keep {
		c.keepStatement(query, vars)
	}
}

func (c *StatementCounter) keepStatement(query string, vars []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements = append(c.statements, Statement{SQL: query, Vars: slices.Clone(vars)})
}

type counterKey struct{}

// WithStatementCounter returns ctx carrying c.
func WithStatementCounter(ctx context.Context, c *StatementCounter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// CountStatements makes the database count statements on contexts that
// carry a StatementCounter.
func (db *DB) CountStatements() error {
	db.counting.Store(true)
	return db.aroundStatements("relkey:count", nil, func(string) func(*gorm.DB) {
		return func(g *gorm.DB) {
			if c, ok := g.Statement.Context.Value(counterKey{}).(*StatementCounter); ok {
				c.add(g.Statement)
			}
		}
	})
}

// ObserveStatements reports how long every statement takes to run and read:
// recorder is asked once per kind of statement (create, query, update,
// delete, row, raw) for the function that takes each duration.
func (db *DB) ObserveStatements(recorder func(kind string) func(time.Duration)) error {
	start := func(string) func(*gorm.DB) {
		return func(g *gorm.DB) { g.Statement.Settings.Store(startedKey{}, time.Now()) }
	}
	queries, creates, writes := recorder("query"), recorder("create"), recorder("raw")
	db.queryObserver.Store(&queries)
	db.createObserver.Store(&creates)
	db.writeObserver.Store(&writes)
	finish := func(kind string) func(*gorm.DB) {
		record := queries
		switch kind {
		case "query":
		case "create":
			record = creates
		default:
			record = recorder(kind)
		}
		return func(g *gorm.DB) {
			if started, ok := g.Statement.Settings.Load(startedKey{}); ok {
				record(time.Since(started.(time.Time)))
			}
		}
	}
	return db.aroundStatements("relkey:observe", start, finish)
}

type startedKey struct{}

// aroundStatements registers, for each kind of statement GORM sends, the
// callback before(kind) before it (unless before is nil) and after(kind)
// after it. Dry runs, which only build a subquery's SQL, are left out.
func (db *DB) aroundStatements(name string, before, after func(kind string) func(*gorm.DB)) error {
	cb := db.Gorm.Callback()
	type registrar interface {
		Register(name string, fn func(*gorm.DB)) error
	}
	kinds := []struct {
		kind          string
		before, after registrar
	}{
		{"create", cb.Create().Before("gorm:create"), cb.Create().After("gorm:create")},
		{"query", cb.Query().Before("gorm:query"), cb.Query().After("gorm:query")},
		{"update", cb.Update().Before("gorm:update"), cb.Update().After("gorm:update")},
		{"delete", cb.Delete().Before("gorm:delete"), cb.Delete().After("gorm:delete")},
		{"row", cb.Row().Before("gorm:row"), cb.Row().After("gorm:row")},
		{"raw", cb.Raw().Before("gorm:raw"), cb.Raw().After("gorm:raw")},
	}
	sent := func(fn func(*gorm.DB)) func(*gorm.DB) {
		return func(g *gorm.DB) {
			if !g.DryRun {
				fn(g)
			}
		}
	}
	for _, k := range kinds {
		if before != nil {
			if err := k.before.Register(name+":before", sent(before(k.kind))); err != nil {
				return err
			}
		}
		if err := k.after.Register(name, sent(after(k.kind))); err != nil {
			return err
		}
	}
	return nil
}
