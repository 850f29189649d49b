package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

type txProbe struct{ ID string }

var (
	txProbeLocked = database.NewRead[txProbe](`SELECT id FROM tx_probes WHERE id = ? FOR UPDATE`)
	txProbeInsert = database.NewWrite(`INSERT INTO tx_probes (id) VALUES (?)`)
)

// TestInTx: a transaction commits what it wrote when fn succeeds and
// nothing otherwise, whichever kind of statement comes first (on
// PostgreSQL a first read carries its BEGIN), nests GORM's transactions as
// savepoints, rolls back on a panic, goes on past a statement whose
// context ended, and leaves its connection fit for the next transaction
// even after a failed statement. A queued write is part of the
// transaction on both engines, seen by what follows it; its unique
// violation is its own error, at commit or at the next statement of any
// kind; a nested transaction rolled back drops the writes it queued.
func TestInTx(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			ctx := context.Background()
			if err := db.Conn(ctx).Exec(`CREATE TABLE tx_probes (id text PRIMARY KEY)`).Error; err != nil {
				t.Fatal(err)
			}
			insert := func(ctx context.Context, id string) error {
				return db.Conn(ctx).Exec(`INSERT INTO tx_probes (id) VALUES (?)`, id).Error
			}
			read := func(ctx context.Context, id string) error {
				var p txProbe
				err := database.NewRead[txProbe](`SELECT id FROM tx_probes WHERE id = ?`).Take(ctx, db, &p, id)
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return nil
				}
				return err
			}
			if err := insert(ctx, "seed"); err != nil {
				t.Fatal(err)
			}
			failure := errors.New("fn failed")
			taken := errors.New("taken")
			queue := func(ctx context.Context, id string) error {
				return txProbeInsert.Queue(ctx, db, taken, id)
			}
			found := func(ctx context.Context, id string) error {
				var p txProbe
				return database.NewRead[txProbe](`SELECT id FROM tx_probes WHERE id = ?`).Take(ctx, db, &p, id)
			}
			// A step of a transaction, on one id; steps runs them in order,
			// up to the first error.
			type step = func(ctx context.Context) error
			on := func(f func(context.Context, string) error, id string) step {
				return func(ctx context.Context) error { return f(ctx, id) }
			}
			fail := func(context.Context) error { return failure }
			steps := func(all ...step) step {
				return func(ctx context.Context) error {
					for _, s := range all {
						if err := s(ctx); err != nil {
							return err
						}
					}
					return nil
				}
			}
			// A statement that fails aborts a PostgreSQL transaction, whose
			// commit is then refused; SQLite undoes the statement alone.
			abortedCommits := db.Engine == database.Postgres
			tests := []struct {
				name    string
				fn      func(ctx context.Context) error
				wantErr bool
				want    []string // the rows besides "seed" afterwards
			}{
				{"read first, committed", steps(on(read, "a"), on(insert, "a")), false, []string{"a"}},
				{"read first, failed", steps(on(read, "b"), on(insert, "b"), fail), true, nil},
				{"write first, failed", steps(on(insert, "c"), fail), true, nil},
				{"no statement", func(ctx context.Context) error { return nil }, false, nil},
				{"first read refused", func(ctx context.Context) error {
					var p txProbe
					return database.NewRead[txProbe](`SELECT nothing FROM tx_probes`).Take(ctx, db, &p)
				}, true, nil},
				{"a failed statement swallowed", func(ctx context.Context) error {
					if err := insert(ctx, "d"); err != nil {
						return err
					}
					if err := insert(ctx, "seed"); err == nil {
						t.Error("a duplicate key was inserted")
					}
					return nil
				}, abortedCommits, map[bool][]string{true: nil, false: {"d"}}[abortedCommits]},
				{"nested transaction rolled back", func(ctx context.Context) error {
					if err := read(ctx, "e"); err != nil {
						return err
					}
					if err := insert(ctx, "e"); err != nil {
						return err
					}
					err := db.Conn(ctx).Transaction(func(tx *gorm.DB) error {
						if err := tx.Exec(`INSERT INTO tx_probes (id) VALUES ('f')`).Error; err != nil {
							return err
						}
						return failure
					})
					if !errors.Is(err, failure) {
						t.Errorf("nested transaction: %v", err)
					}
					return nil
				}, false, []string{"e"}},
				{"a statement's context ended", func(ctx context.Context) error {
					if err := read(ctx, "h"); err != nil {
						return err
					}
					ended, cancel := context.WithCancel(ctx)
					cancel()
					if err := insert(ended, "h"); !errors.Is(err, context.Canceled) {
						t.Errorf("insert with an ended context: %v", err)
					}
					return insert(ctx, "i")
				}, false, []string{"i"}},
				{"queued write alone", on(queue, "j"), false, []string{"j"}},
				{"queued write after a read", steps(on(read, "k"), on(queue, "k")), false, []string{"k"}},
				{"queued writes seen by the next read", func(ctx context.Context) error {
					if err := queue(ctx, "l"); err != nil {
						return err
					}
					if err := queue(ctx, "m"); err != nil {
						return err
					}
					if err := found(ctx, "m"); err != nil {
						t.Errorf("a queued row is not seen by the next read: %v", err)
					}
					return insert(ctx, "n")
				}, false, []string{"l", "m", "n"}},
				{"queued write taken at commit", steps(on(queue, "o"), on(queue, "seed")), true, nil},
				{"queued write taken at the next statement", steps(on(queue, "seed"), on(insert, "p")), true, nil},
				{"queued write taken at the next read", steps(on(queue, "seed"), on(found, "seed")), true, nil},
				{"queued write taken at commit, begun before", steps(on(read, "r"), on(queue, "seed")), true, nil},
				{"queued write taken at a row's statement", steps(on(queue, "seed"), func(ctx context.Context) error {
					var n int
					return db.Conn(ctx).Raw(`SELECT 1`).Row().Scan(&n)
				}), true, nil},
				{"queued write in a nested transaction rolled back", func(ctx context.Context) error {
					if err := read(ctx, "s"); err != nil {
						return err
					}
					// On PostgreSQL the duplicate is dropped unsent with its
					// savepoint; SQLite refuses it at once.
					err := db.Conn(ctx).Transaction(func(*gorm.DB) error {
						if err := queue(ctx, "t"); err != nil {
							return err
						}
						if err := queue(ctx, "seed"); err != nil {
							return err
						}
						return failure
					})
					if !errors.Is(err, failure) && !errors.Is(err, taken) {
						t.Errorf("nested transaction: %v", err)
					}
					return queue(ctx, "u")
				}, false, []string{"u"}},
				{"queued write holds its arguments' values", func(ctx context.Context) error {
					id := "v"
					if err := txProbeInsert.Queue(ctx, db, taken, &id); err != nil {
						return err
					}
					id = "w"
					return nil
				}, false, []string{"v"}},
				{"queued write, then failed", steps(on(queue, "q"), fail), true, nil},
				{"panic", steps(on(read, "g"), on(insert, "g"), func(context.Context) error { panic(failure) }), true, nil},
			}
			for _, tc := range tests {
				if _, err := db.SQL.ExecContext(ctx, `DELETE FROM tx_probes WHERE id <> 'seed'`); err != nil {
					t.Fatal(err)
				}
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("panic: %v", r)
						}
					}()
					return db.InTx(ctx, tc.fn)
				}()
				if (err != nil) != tc.wantErr {
					t.Fatalf("%s: error %v, want one: %v", tc.name, err, tc.wantErr)
				}
				if strings.Contains(tc.name, "taken") && !errors.Is(err, taken) {
					t.Fatalf("%s: error %v, want the write's own", tc.name, err)
				}
				var ids []string
				if err := db.Conn(ctx).Raw(`SELECT id FROM tx_probes WHERE id <> 'seed' ORDER BY id`).Scan(&ids).Error; err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids, tc.want) {
					t.Fatalf("%s: rows %v, want %v", tc.name, ids, tc.want)
				}
			}
		})
	}
}

// TestInTxFirstReadIsInTheTransaction: on PostgreSQL the lock a first
// read takes lasts until the transaction ends, so the read ran inside it.
func TestInTxFirstReadIsInTheTransaction(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		if !b.Postgres {
			continue // SQLite's write transactions are serial: no row locks
		}
		db := b.OpenDB(t)
		ctx := context.Background()
		if err := db.Conn(ctx).Exec(`CREATE TABLE tx_probes (id text PRIMARY KEY); INSERT INTO tx_probes VALUES ('row')`).Error; err != nil {
			t.Fatal(err)
		}
		const elsewhere = `SELECT id FROM tx_probes WHERE id = 'row' FOR UPDATE NOWAIT`
		err := db.InTx(ctx, func(ctx context.Context) error {
			var p txProbe
			if err := txProbeLocked.Take(ctx, db, &p, "row"); err != nil {
				return err
			}
			var pgErr *pgconn.PgError
			if _, err := db.SQL.ExecContext(context.Background(), elsewhere); !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
				t.Errorf("another connection locked the row read first: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.ExecContext(ctx, elsewhere); err != nil {
			t.Fatalf("the lock outlived the transaction: %v", err)
		}
	}
}
