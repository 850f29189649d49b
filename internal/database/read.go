package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
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
	text map[Engine]string
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
	return db.readRow(ctx, db.pool(ctx), dst, r.text[db.Engine], args)
}

// Take returns the one row q selects, or notFound. GORM builds the
// statement; the row is read as a Read reads it.
func Take[T any](q *gorm.DB, notFound error) (*T, error) {
	var row T
	return found(&row, take(q, &row), notFound)
}

// found is row after a read that ended with err: notFound when there was
// no row.
func found[T any](row *T, err, notFound error) (*T, error) {
	if IsNotFound(err) {
		return nil, notFound
	}
	if err != nil {
		return nil, Error(err)
	}
	return row, nil
}

func take[T any](q *gorm.DB, row *T) error {
	db, st, err := built(q, func(g *gorm.DB) *gorm.DB { return g.Take(row) })
	if db == nil || err != nil {
		return err
	}
	return db.readRow(st.Context, st.ConnPool, row, st.SQL.String(), st.Vars)
}

// built is the statement GORM's run of q would send, and the DB that
// sends it; without a DB (a handle opened elsewhere) it runs q through
// GORM and returns its error.
func built(q *gorm.DB, run func(*gorm.DB) *gorm.DB) (*DB, *gorm.Statement, error) {
	db := owner(q)
	if db == nil {
		return nil, nil, run(q).Error
	}
	dry := run(q.Session(&gorm.Session{DryRun: true}))
	return db, dry.Statement, dry.Error
}

type planKey struct {
	typ    reflect.Type
	engine Engine
	query  string
}

type readPlan struct {
	columns []readColumn
	// pgx are pgx's plans to scan each column into its field (nil: not
	// made yet), made at the first read through pgx: pgx makes them anew
	// for every query, and for a wide row that was most of the read.
	pgx atomic.Pointer[[]pgtype.ScanPlan]
}

type readColumn struct {
	index []int // the field's path in the struct; nil: dropped
	json  bool  // stored as JSON (GORM's serializer:json)
}

var (
	plans       sync.Map // planKey → *readPlan
	plansStored atomic.Int64
	schemaCache sync.Map
)

// maxPlans bounds the plans kept, and maxPlannedQuery the statements
// planned once: longer ones (long IN lists, whose text varies with their
// arguments) resolve their columns at each read.
const (
	maxPlans        = 4096
	maxPlannedQuery = 4096
)

// readRow reads the first row of query into dst, a pointer to a struct;
// gorm.ErrRecordNotFound when there is none.
func (db *DB) readRow(ctx context.Context, conn gorm.ConnPool, dst any, query string, args []any) error {
	v := reflect.ValueOf(dst).Elem()
	done := false
	n, err := db.readRows(ctx, conn, query, args, v.Type(), func() (reflect.Value, bool) {
		if done {
			return reflect.Value{}, false
		}
		done = true
		return v, true
	})
	if err == nil && n == 0 {
		return gorm.ErrRecordNotFound
	}
	return err
}

// TakeRaw returns the one row query (written with ? placeholders) selects
// with args, or notFound; FindRaw reads all its rows into dst. They read
// as Read does, and take their arguments as GORM's Raw does (a slice
// becomes a parenthesized list, an empty one "(NULL)") without GORM
// building the statement: for statements a hot path composes per request.
func TakeRaw[T any](ctx context.Context, db *DB, notFound error, query string, args ...any) (*T, error) {
	query, args = expandArgs(db.Engine, query, args)
	var row T
	return found(&row, db.readRow(ctx, db.pool(ctx), &row, query, args), notFound)
}

// FindRaw reads every row of query into dst; see TakeRaw.
func FindRaw[T any](ctx context.Context, db *DB, dst *[]T, query string, args ...any) error {
	query, args = expandArgs(db.Engine, query, args)
	return readAll(ctx, db, db.pool(ctx), query, args, dst)
}

// expandArgs writes query's ? placeholders for the engine ($n on
// PostgreSQL), each slice argument (but bytes) as a list of its elements.
func expandArgs(engine Engine, query string, args []any) (string, []any) {
	var b strings.Builder
	b.Grow(len(query) + 2*len(args))
	flat := make([]any, 0, len(args))
	placeholder := func(v any) {
		flat = append(flat, v)
		if engine == Postgres {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(len(flat)))
		} else {
			b.WriteByte('?')
		}
	}
	rest := query
	for next := 0; next < len(args); next++ {
		at := strings.IndexByte(rest, '?')
		if at < 0 {
			break
		}
		b.WriteString(rest[:at])
		rest = rest[at+1:]
		arg := args[next]
		if !isList(arg) {
			placeholder(arg)
			continue
		}
		v := reflect.ValueOf(arg)
		if v.Len() == 0 {
			b.WriteString("(NULL)")
			continue
		}
		b.WriteByte('(')
		for j := range v.Len() {
			if j > 0 {
				b.WriteByte(',')
			}
			placeholder(v.Index(j).Interface())
		}
		b.WriteByte(')')
	}
	b.WriteString(rest)
	return b.String(), flat
}

// isList tells whether an argument is written as a list: a slice (but
// bytes) that is no driver.Valuer. The scalars statements bind most are
// told without reflection.
func isList(arg any) bool {
	switch arg.(type) {
	case nil, string, *string, int, int64, bool, time.Time, *time.Time, []byte, driver.Valuer:
		return false
	}
	v := reflect.ValueOf(arg)
	return v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8
}

// Find reads every row q selects into dst, as Take reads one: GORM builds
// the statement, the rows scan into their fields directly.
func Find[T any](q *gorm.DB, dst *[]T) error {
	db, st, err := built(q, func(g *gorm.DB) *gorm.DB { return g.Find(dst) })
	if db == nil || err != nil {
		return Error(err)
	}
	return readAll(st.Context, db, st.ConnPool, st.SQL.String(), st.Vars, dst)
}

// readAll reads every row of query into dst, replacing what it held.
func readAll[T any](ctx context.Context, db *DB, conn gorm.ConnPool, query string, args []any, dst *[]T) error {
	*dst = (*dst)[:0]
	_, err := db.readRows(ctx, conn, query, args, reflect.TypeFor[T](), func() (reflect.Value, bool) {
		*dst = append(*dst, *new(T))
		return reflect.ValueOf(&(*dst)[len(*dst)-1]).Elem(), true
	})
	return Error(err)
}

// readRows reads the rows of query, each into the struct of typ next
// gives, until next gives none; it returns how many it read.
func (db *DB) readRows(ctx context.Context, conn gorm.ConnPool, query string, args []any, typ reflect.Type, next func() (reflect.Value, bool)) (int, error) {
	switch c := conn.(type) {
	case *pgTx:
		defer db.sent(ctx, &db.queryObserver, query, args, time.Now())
		return c.read(ctx, db, query, args, typ, next)
	case *sql.DB:
		if db.Engine == Postgres {
			return db.readPgxRows(ctx, c, query, args, typ, next)
		}
	}
	started := time.Now()
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	defer db.sent(ctx, &db.queryObserver, query, args, started)
	var sink sql.RawBytes
	scan := func(_ *readPlan, targets []any) error { return rows.Scan(targets...) }
	n, err := scanRows(planKey{typ, db.Engine, query}, rows.Next, rows.Columns, scan, next, &sink)
	if err != nil {
		return n, err
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, rows.Close()
}

// readPgxRows is readRows through pgx itself, on a connection of pool:
// database/sql's path converted every column of every row to a
// driver.Value and back (a fifth of a validation's CPU went to reading
// its one license row). Transactions read through pgx too (pgTx's read).
func (db *DB) readPgxRows(ctx context.Context, pool *sql.DB, query string, args []any, typ reflect.Type, next func() (reflect.Value, bool)) (int, error) {
	for attempt := 1; ; attempt++ {
		n, err := db.readPgxRowsOnce(ctx, pool, query, args, typ, next)
		// As database/sql does: a query never sent (a connection found
		// broken) is tried again on another connection.
		if err == nil || n > 0 || attempt == 3 || !pgconn.SafeToRetry(err) {
			return n, err
		}
	}
}

func (db *DB) readPgxRowsOnce(ctx context.Context, pool *sql.DB, query string, args []any, typ reflect.Type, next func() (reflect.Value, bool)) (int, error) {
	started := time.Now()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	defer db.sent(ctx, &db.queryObserver, query, args, started)
	n := 0
	err = conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		rows, err := pc.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = db.scanPgx(pc, rows, query, typ, next)
		return err
	})
	return n, err
}

// scanPgx scans the rows of query, sent on pc, each into the struct of typ
// next gives, and closes them.
func (db *DB) scanPgx(pc *pgx.Conn, rows pgx.Rows, query string, typ reflect.Type, next func() (reflect.Value, bool)) (int, error) {
	defer rows.Close()
	columns := func() ([]string, error) {
		fields := rows.FieldDescriptions()
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		return names, nil
	}
	scan := func(plan *readPlan, targets []any) error {
		fields, values := rows.FieldDescriptions(), rows.RawValues()
		if len(fields) != len(targets) {
			return fmt.Errorf("database: %d columns for %d fields", len(fields), len(targets))
		}
		scans := plan.pgx.Load()
		if scans == nil {
			made := make([]pgtype.ScanPlan, len(targets))
			for i, t := range targets {
				if t != nil {
					made[i] = pc.TypeMap().PlanScan(fields[i].DataTypeOID, fields[i].Format, t)
				}
			}
			plan.pgx.Store(&made)
			scans = &made
		}
		for i, t := range targets {
			if t == nil {
				continue
			}
			if err := (*scans)[i].Scan(values[i], t); err != nil {
				return fmt.Errorf("database: column %s: %w", fields[i].Name, err)
			}
		}
		return nil
	}
	// A nil target skips its column.
	n, err := scanRows(planKey{typ, db.Engine, query}, rows.Next, columns, scan, next, nil)
	if err != nil {
		return n, err
	}
	rows.Close()
	return n, rows.Err()
}

// scanRows scans each row more gives into the struct next gives, through
// the plan of key (made from the columns' names at the first row), until
// either ends; sink takes the columns without a field. JSON columns are
// read as bytes and decoded into their fields.
func scanRows(key planKey, more func() bool, columns func() ([]string, error), scan func(*readPlan, []any) error, next func() (reflect.Value, bool), sink any) (int, error) {
	var (
		plan    *readPlan
		targets []any
		raw     [][]byte // JSON columns, decoded right after their scan
		n       int
		err     error
	)
	for more() {
		v, ok := next()
		if !ok {
			break
		}
		if plan == nil {
			if plan, err = planOf(key, columns); err != nil {
				return n, err
			}
			targets = make([]any, len(plan.columns))
			raw = make([][]byte, len(plan.columns))
		}
		for i, c := range plan.columns {
			switch {
			case c.index == nil:
				targets[i] = sink
			case c.json:
				targets[i] = &raw[i] // a plain []byte: pgx decodes JSON into anything else
			default:
				targets[i] = v.FieldByIndex(c.index).Addr().Interface()
			}
		}
		if err := scan(plan, targets); err != nil {
			return n, err
		}
		for i, c := range plan.columns {
			if c.json && len(raw[i]) > 0 {
				if err := json.Unmarshal(raw[i], v.FieldByIndex(c.index).Addr().Interface()); err != nil {
					return n, fmt.Errorf("database: column %d: %w", i, err)
				}
			}
		}
		n++
	}
	return n, nil
}

// planOf maps the columns (named by columns) to the fields of the key's
// type, once per statement.
func planOf(key planKey, columns func() ([]string, error)) (*readPlan, error) {
	if p, ok := plans.Load(key); ok {
		return p.(*readPlan), nil
	}
	names, err := columns()
	if err != nil {
		return nil, err
	}
	sch, err := schema.Parse(reflect.New(key.typ).Interface(), &schemaCache, schema.NamingStrategy{})
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
				return nil, fmt.Errorf("database: %s.%s is behind a pointer", key.typ, f.Name)
			}
		}
		serializer := f.TagSettings["SERIALIZER"]
		if serializer != "" && serializer != "json" {
			return nil, fmt.Errorf("database: %s.%s: serializer %s", key.typ, f.Name, serializer)
		}
		p.columns[i] = readColumn{index: f.StructField.Index, json: serializer == "json"}
	}
	if plansStored.Load() < maxPlans && len(key.query) <= maxPlannedQuery {
		if _, loaded := plans.LoadOrStore(key, p); !loaded {
			plansStored.Add(1)
		}
	}
	return p, nil
}

// sent counts and observes a statement run outside GORM, as its callbacks
// do for the others: observer holds the recorder of its kind.
func (db *DB) sent(ctx context.Context, observer *atomic.Pointer[func(time.Duration)], query string, args []any, started time.Time) {
	if c, ok := ctx.Value(counterKey{}).(*StatementCounter); ok && db.counting.Load() {
		c.record(query, args)
	}
	if observe := observer.Load(); observe != nil {
		(*observe)(time.Since(started))
	}
}

// owner is the DB a GORM handle was opened by (nil for one opened
// elsewhere), found through the plugin Open installs.
func owner(q *gorm.DB) *DB {
	if p, ok := q.Config.Plugins[ownerPlugin{}.Name()].(ownerPlugin); ok {
		return p.db
	}
	return nil
}

// ownerPlugin ties a GORM handle, and every session of it, to its DB.
type ownerPlugin struct{ db *DB }

func (ownerPlugin) Name() string              { return "relkey:owner" }
func (ownerPlugin) Initialize(*gorm.DB) error { return nil }
