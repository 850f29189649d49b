package database_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

type readProbeInner struct{ Name string }

type readProbe struct {
	ID    string
	N     int64
	At    *time.Time
	Flag  bool
	Meta  map[string]any `gorm:"serializer:json"`
	Inner readProbeInner `gorm:"embedded;embeddedPrefix:p_"`
}

var readProbeByID = database.NewRead[readProbe](`SELECT read_probes.*, 7 AS dropped FROM read_probes WHERE id = ? AND n >= ? LIMIT 1`)

// TestReadScansColumnsIntoFields: a Read fills plain, nullable, JSON and
// embedded-prefixed fields on both engines, drops columns without a field,
// answers gorm.ErrRecordNotFound for no row, joins the context's
// transaction and is counted like GORM's statements.
func TestReadScansColumnsIntoFields(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			if err := db.CountStatements(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			timestamp, document := "timestamptz", "jsonb"
			if db.Engine == database.SQLite {
				timestamp, document = "datetime", "text"
			}
			if err := db.Conn(ctx).Exec(`CREATE TABLE read_probes (id text PRIMARY KEY, n bigint NOT NULL, at ` + timestamp + `, flag boolean NOT NULL, meta ` + document + `, p_name text NOT NULL)`).Error; err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
			if err := db.Conn(ctx).Exec(`INSERT INTO read_probes VALUES ('full', 3, ?, true, '{"tier":"gold"}', 'inner'), ('empty', 0, NULL, false, NULL, '')`, at).Error; err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				args []any
				want readProbe
				err  error
			}{
				{"every kind of field", []any{"full", 0}, readProbe{ID: "full", N: 3, At: &at, Flag: true, Meta: map[string]any{"tier": "gold"}, Inner: readProbeInner{Name: "inner"}}, nil},
				{"nulls", []any{"empty", 0}, readProbe{ID: "empty"}, nil},
				{"no row", []any{"full", 4}, readProbe{}, gorm.ErrRecordNotFound},
			}
			for _, tc := range tests {
				var got readProbe
				err := readProbeByID.Take(ctx, db, &got, tc.args...)
				if !errors.Is(err, tc.err) {
					t.Fatalf("%s: error %v, want %v", tc.name, err, tc.err)
				}
				if got.At != nil && tc.want.At != nil && got.At.Equal(*tc.want.At) {
					got.At = tc.want.At
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("%s: read %+v, want %+v", tc.name, got, tc.want)
				}
			}
			var listed []readProbe
			if err := database.FindRaw(ctx, db, &listed, `SELECT * FROM read_probes WHERE id IN ? AND n >= ? ORDER BY n DESC`, []string{"full", "empty", "none"}, 0); err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 || listed[0].ID != "full" || listed[1].ID != "empty" || listed[0].Meta["tier"] != "gold" {
				t.Fatalf("FindRaw read %+v", listed)
			}
			missing := errors.New("missing")
			if _, err := database.TakeRaw[readProbe](ctx, db, missing, `SELECT * FROM read_probes WHERE id IN ?`, []string{}); !errors.Is(err, missing) {
				t.Fatalf("TakeRaw of no row: %v", err)
			}
			if row, err := database.TakeRaw[readProbe](ctx, db, missing, `SELECT * FROM read_probes WHERE id = ?`, "full"); err != nil || row.N != 3 {
				t.Fatalf("TakeRaw: %+v, %v", row, err)
			}
			counter := &database.StatementCounter{}
			err := db.InTx(database.WithStatementCounter(ctx, counter), func(ctx context.Context) error {
				if err := db.Conn(ctx).Exec(`INSERT INTO read_probes VALUES ('tx', 9, NULL, true, NULL, 'in tx')`).Error; err != nil {
					return err
				}
				var got readProbe
				if err := readProbeByID.Take(ctx, db, &got, "tx", 9); err != nil {
					return err
				}
				if got.Inner.Name != "in tx" {
					t.Errorf("read in the transaction %+v", got)
				}
				return errors.New("roll back")
			})
			if err == nil {
				t.Fatal("the transaction committed")
			}
			if n := counter.Count(); n != 2 {
				t.Fatalf("%d statements counted, want 2", n)
			}
		})
	}
}
