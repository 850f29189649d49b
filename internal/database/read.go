package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// A Read is a fixed one-row SELECT whose columns scan straight into the
// fields of a T (matched by GORM column name, embedded prefixes included):
// its SQL is written once per engine and the columns' fields are resolved on
// the first read, so a hot path skips GORM's statement building and per-row
// reflection. Columns without a field are read and dropped. It runs in the
// context's transaction when there is one, and is counted and observed like
// every other statement.
type Read[T any] struct {
	text  map[Engine]string
	plans sync.Map // Engine → *readPlan
}

type readPlan struct{ columns []readColumn }

type readColumn struct {
	index []int // the field's path in T; nil: dropped
	json  bool  // stored as JSON (GORM's serializer:json)
}

// NewRead prepares query, written with ? placeholders.
func NewRead[T any](query string) *Read[T] {
	return &Read[T]{text: map[Engine]string{SQLite: query, Postgres: numbered(query)}}
}

// numbered writes PostgreSQL's $1, $2... for the ? placeholders of query
// (which holds no ? in a literal).
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Take reads the first row into dst; gorm.ErrRecordNotFound when there is none.
func (r *Read[T]) Take(ctx context.Context, db *DB, dst *T, args ...any) error {
	query := r.text[db.Engine]
	conn := db.Conn(ctx).Statement.ConnPool
	started := time.Now()
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	defer db.sent(ctx, query, args, started)
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return gorm.ErrRecordNotFound
	}
	plan, err := r.plan(db.Engine, rows)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	targets := make([]any, len(plan.columns))
	var raw []sql.RawBytes
	var sink sql.RawBytes
	for i, c := range plan.columns {
		switch {
		case c.index == nil:
			targets[i] = &sink
		case c.json:
			if raw == nil {
				raw = make([]sql.RawBytes, len(plan.columns))
			}
			targets[i] = &raw[i]
		default:
			targets[i] = v.FieldByIndex(c.index).Addr().Interface()
		}
	}
	if err := rows.Scan(targets...); err != nil {
		return err
	}
	for i, c := range plan.columns {
		if c.json && len(raw[i]) > 0 {
			if err := json.Unmarshal(raw[i], v.FieldByIndex(c.index).Addr().Interface()); err != nil {
				return fmt.Errorf("database: column %d: %w", i, err)
			}
		}
	}
	return rows.Close()
}

// plan maps the columns of rows to T's fields, once per engine.
func (r *Read[T]) plan(engine Engine, rows *sql.Rows) (*readPlan, error) {
	if p, ok := r.plans.Load(engine); ok {
		return p.(*readPlan), nil
	}
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	sch, err := schema.Parse(new(T), &schemaCache, schema.NamingStrategy{})
	if err != nil {
		return nil, err
	}
	p := &readPlan{columns: make([]readColumn, len(names))}
	for i, name := range names {
		f, ok := sch.FieldsByDBName[name]
		if !ok || !f.Readable {
			continue
		}
		for _, step := range f.StructField.Index {
			if step < 0 {
				return nil, fmt.Errorf("database: %T.%s is behind a pointer", *new(T), f.Name)
			}
		}
		serializer := f.TagSettings["SERIALIZER"]
		if serializer != "" && serializer != "json" {
			return nil, fmt.Errorf("database: %T.%s: serializer %s", *new(T), f.Name, serializer)
		}
		p.columns[i] = readColumn{index: f.StructField.Index, json: serializer == "json"}
	}
	actual, _ := r.plans.LoadOrStore(engine, p)
	return actual.(*readPlan), nil
}

var schemaCache sync.Map

// sent counts and observes a statement run outside GORM, as its callbacks
// do for the others.
func (db *DB) sent(ctx context.Context, query string, args []any, started time.Time) {
	if c, ok := ctx.Value(counterKey{}).(*StatementCounter); ok && db.counting.Load() {
		c.record(query, args)
	}
	if observe := db.queryObserver.Load(); observe != nil {
		(*observe)(time.Since(started))
	}
}
