package database

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm/schema"
)

// insertPiece is the most rows one statement of InsertAll writes.
const insertPiece = 256

// InsertAll writes rows (structs, or pointers to them) in multi-row INSERTs of
// a power of two rows each, in ctx's transaction when there is one. It is
// GORM's Create for the batch writers (events, request logs) without its
// work per call: each statement's text is built once per type and row
// count, and only the values are read per row, by the same field accessors
// (serializers included). A zero auto-create or auto-update time gets Now,
// as GORM gives it; a type with a column default is refused, since GORM
// would leave a zero value to the database and InsertAll does not.
func InsertAll[T any](ctx context.Context, db *DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	plan, err := insertPlanOf(reflect.TypeFor[T](), db.Engine)
	if err != nil {
		return err
	}
	conn := db.pool(ctx)
	now := Now()
	for piece := range PowerOfTwoPieces(rows, insertPiece) {
		args := plan.args(ctx, piece, now)
		query := plan.statement(len(piece))
		started := time.Now()
		_, err := conn.ExecContext(ctx, query, args...)
		db.sent(ctx, &db.createObserver, query, args, started)
		if err != nil {
			return Error(err)
		}
	}
	return nil
}

// QueueInsert writes one row as InsertAll does, queued as Write.Queue
// queues a write: in a PostgreSQL transaction InTx opened, the
// transaction's next statement sends it first, or its COMMIT goes with it
// (its failure theirs); the row's values are read when it is queued.
func QueueInsert[T any](ctx context.Context, db *DB, row T) error {
	t, ok := db.pool(ctx).(*pgTx)
	if !ok {
		return InsertAll(ctx, db, []T{row})
	}
	if err := ctx.Err(); err != nil {
		return Error(err)
	}
	plan, err := insertPlanOf(reflect.TypeFor[T](), Postgres)
	if err != nil {
		return err
	}
	t.queue(ctx, plan.statement(1), plan.args(ctx, []T{row}, Now()), nil, &db.createObserver)
	return nil
}

// args are the values of rows' columns in the plan's order; a zero auto
// time is now.
func (p *insertPlan) args(ctx context.Context, rows any, now time.Time) []any {
	v := reflect.ValueOf(rows)
	args := make([]any, 0, v.Len()*len(p.fields))
	for i := range v.Len() {
		row := reflect.Indirect(v.Index(i))
		for _, f := range p.fields {
			value, zero := f.ValueOf(ctx, row)
			if zero && (f.AutoCreateTime > 0 || f.AutoUpdateTime > 0) {
				value = now
			}
			args = append(args, value)
		}
	}
	return args
}

type insertPlan struct {
	engine Engine
	head   string // INSERT INTO table (columns) VALUES
	fields []*schema.Field
	texts  sync.Map // row count → statement
}

var insertPlans sync.Map // insertKey → *insertPlan

type insertKey struct {
	typ    reflect.Type
	engine Engine
}

func insertPlanOf(typ reflect.Type, engine Engine) (*insertPlan, error) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	key := insertKey{typ, engine}
	if p, ok := insertPlans.Load(key); ok {
		return p.(*insertPlan), nil
	}
	sch, err := schema.Parse(reflect.New(typ).Interface(), &schemaCache, schema.NamingStrategy{})
	if err != nil {
		return nil, err
	}
	p := &insertPlan{engine: engine}
	var columns []string
	for _, f := range sch.Fields {
		if f.DBName == "" || !f.Creatable {
			continue
		}
		if f.HasDefaultValue && f.AutoCreateTime == 0 && f.AutoUpdateTime == 0 {
			return nil, fmt.Errorf("database: InsertAll of %s: column %s has a default", typ, f.DBName)
		}
		columns = append(columns, `"`+f.DBName+`"`)
		p.fields = append(p.fields, f)
	}
	p.head = `INSERT INTO "` + sch.Table + `" (` + strings.Join(columns, ",") + `) VALUES `
	actual, _ := insertPlans.LoadOrStore(key, p)
	return actual.(*insertPlan), nil
}

// statement is the INSERT of n rows, with the engine's placeholders.
func (p *insertPlan) statement(n int) string {
	if s, ok := p.texts.Load(n); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(p.head)
	arg := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range p.fields {
			if j > 0 {
				b.WriteByte(',')
			}
			arg++
			if p.engine == Postgres {
				fmt.Fprintf(&b, "$%d", arg)
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	s := b.String()
	p.texts.Store(n, s)
	return s
}
