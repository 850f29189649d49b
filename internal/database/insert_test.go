package database_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

type insertProbe struct {
	ID        string
	N         int64
	Note      *string
	Meta      database.JSON[map[string]any]
	Tags      []string `gorm:"serializer:json"`
	CreatedAt time.Time
}

type defaultedProbe struct {
	ID     string
	Status string `gorm:"default:NEW"`
}

// TestInsertAllWritesEveryRow: rows of any count (pieces of a power of two
// rows), as values or pointers, with NULLs, JSON and serialized columns and
// a zero CreatedAt given now, land as GORM's Create would write them, in
// the context's transaction, observed as create statements; a type whose
// column has a default is refused.
func TestInsertAllWritesEveryRow(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			observed := observeKinds(t, db)
			ctx := context.Background()
			timestamp := "timestamptz"
			if db.Engine == database.SQLite {
				timestamp = "datetime"
			}
			if err := db.Conn(ctx).Exec(`CREATE TABLE insert_probes (id text PRIMARY KEY, n bigint NOT NULL, note text, meta text, tags text, created_at ` + timestamp + ` NOT NULL)`).Error; err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
			note := "a note"
			before := database.Now()
			for _, n := range []int{0, 1, 3, 300} {
				rows := make([]*insertProbe, n)
				for i := range rows {
					rows[i] = &insertProbe{ID: fmt.Sprintf("%d-%d", n, i), N: int64(i)}
					if i%2 == 0 {
						rows[i].Note, rows[i].Meta.V, rows[i].Tags, rows[i].CreatedAt = &note, map[string]any{"i": float64(i)}, []string{"x", "y"}, at
					}
				}
				if err := database.InsertAll(ctx, db, rows); err != nil {
					t.Fatalf("%d rows: %v", n, err)
				}
				var got []insertProbe
				if err := db.Conn(ctx).Where("id LIKE ?", fmt.Sprintf("%d-%%", n)).Order("n").Find(&got).Error; err != nil {
					t.Fatal(err)
				}
				if len(got) != n {
					t.Fatalf("%d rows inserted, %d read back", n, len(got))
				}
				for i, r := range got {
					switch {
					case r.N != int64(i):
						t.Fatalf("row %d: %+v", i, r)
					case i%2 == 0 && (r.Note == nil || *r.Note != note || r.Meta.V["i"] != float64(i) || strings.Join(r.Tags, ",") != "x,y" || !r.CreatedAt.Equal(at)):
						t.Fatalf("row %d lost a value: %+v", i, r)
					case i%2 == 1 && (r.Note != nil || r.Meta.V != nil || r.Tags != nil || r.CreatedAt.Before(before)):
						t.Fatalf("row %d: NULLs and the creation time %+v", i, r)
					}
				}
			}
			plain := []insertProbe{{ID: "plain", N: 9}}
			err := db.InTx(ctx, func(ctx context.Context) error {
				if err := database.InsertAll(ctx, db, plain); err != nil {
					return err
				}
				return fmt.Errorf("roll back")
			})
			if err == nil {
				t.Fatal("the transaction committed")
			}
			var left int64
			if err := db.Conn(ctx).Table("insert_probes").Where("id = 'plain'").Count(&left).Error; err != nil || left != 0 {
				t.Fatalf("a rolled-back insert left %d rows (%v)", left, err)
			}
			// 1 + 3 (2 and 1) + 300 (256, 32, 8 and 4) + the rolled back one.
			if n := observed("create"); n != 8 {
				t.Errorf("create statements observed %d times, want 8", n)
			}
			if err := database.InsertAll(ctx, db, []defaultedProbe{{ID: "d"}}); err == nil {
				t.Fatal("a type with a column default was inserted")
			}
		})
	}
}

// TestQueueInsertWritesItsRow: a queued row lands as InsertAll writes it,
// at once outside a transaction, and inside one with the commit (or
// before the next statement, which sees it); a transaction rolled back
// leaves none, and each is observed as a create statement.
func TestQueueInsertWritesItsRow(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			observed := observeKinds(t, db)
			ctx := context.Background()
			if err := db.Conn(ctx).Exec(`CREATE TABLE insert_probes (id text PRIMARY KEY, n bigint NOT NULL, note text, meta text, tags text, created_at text NOT NULL)`).Error; err != nil {
				t.Fatal(err)
			}
			note := "queued"
			count := func(id string) int64 {
				var n int64
				if err := db.Conn(ctx).Table("insert_probes").Where("id = ? AND note = ?", id, note).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			row := func(id string) *insertProbe {
				return &insertProbe{ID: id, N: 1, Note: &note, Meta: database.JSON[map[string]any]{V: map[string]any{"k": "v"}}, Tags: []string{"t"}}
			}
			if err := database.QueueInsert(ctx, db, row("alone")); err != nil {
				t.Fatal(err)
			}
			err := db.InTx(ctx, func(ctx context.Context) error {
				if err := database.QueueInsert(ctx, db, row("seen")); err != nil {
					return err
				}
				var n int64
				if err := db.Conn(ctx).Table("insert_probes").Where("id = 'seen'").Count(&n).Error; err != nil || n != 1 {
					t.Errorf("the next statement saw %d queued rows (%v)", n, err)
				}
				return database.QueueInsert(ctx, db, row("committed"))
			})
			if err != nil {
				t.Fatal(err)
			}
			err = db.InTx(ctx, func(ctx context.Context) error {
				if err := database.QueueInsert(ctx, db, row("rolled-back")); err != nil {
					return err
				}
				return fmt.Errorf("roll back")
			})
			if err == nil {
				t.Fatal("the transaction committed")
			}
			for id, want := range map[string]int64{"alone": 1, "seen": 1, "committed": 1, "rolled-back": 0} {
				if n := count(id); n != want {
					t.Errorf("%s: %d rows, want %d", id, n, want)
				}
			}
			// The rolled-back row is never sent on PostgreSQL; SQLite runs it.
			want := map[database.Engine]int{database.Postgres: 3, database.SQLite: 4}[db.Engine]
			if n := observed("create"); n != want {
				t.Errorf("create statements observed %d times, want %d", n, want)
			}
		})
	}
}

// observeKinds counts the statements db observes by kind; the function it
// returns reads a kind's count.
func observeKinds(t *testing.T, db *database.DB) func(kind string) int {
	var mu sync.Mutex
	observed := map[string]int{}
	if err := db.ObserveStatements(func(kind string) func(time.Duration) {
		return func(time.Duration) { mu.Lock(); observed[kind]++; mu.Unlock() }
	}); err != nil {
		t.Fatal(err)
	}
	return func(kind string) int {
		mu.Lock()
		defer mu.Unlock()
		return observed[kind]
	}
}
