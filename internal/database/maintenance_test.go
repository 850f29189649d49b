package database_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dbfiles "github.com/relkey/relkey/db"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/testenv"
)

// TestSnapshotHoldsEveryCommittedWrite snapshots a database while writers
// commit to it: the snapshot holds every row committed before it began,
// and a row it holds is whole (both inserts of its transaction or neither).
func TestSnapshotHoldsEveryCommittedWrite(t *testing.T) {
	db, _ := sqliteWithTable(t)
	var committed atomic.Int64
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				x := w*1_000_000 + i
				err := db.InTx(context.Background(), func(ctx context.Context) error {
					if err := db.Conn(ctx).Exec("INSERT INTO t VALUES (?)", x).Error; err != nil {
						return err
					}
					return db.Conn(ctx).Exec("INSERT INTO t VALUES (?)", -x-1).Error
				})
				if err != nil {
					t.Error(err)
					return
				}
				committed.Add(1)
			}
		})
	}
	for committed.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	before := committed.Load()
	snapshot := filepath.Join(t.TempDir(), "snapshot.db")
	err := db.SnapshotTo(context.Background(), snapshot)
	close(stop)
	writers.Wait()
	if err != nil {
		t.Fatal(err)
	}
	copied, err := database.Open(context.Background(), database.Options{SQLitePath: snapshot})
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	var positives, negatives int64
	copied.Gorm.Raw("SELECT COUNT(*) FROM t WHERE x >= 0").Scan(&positives)
	copied.Gorm.Raw("SELECT COUNT(*) FROM t WHERE x < 0").Scan(&negatives)
	if positives < before || positives != negatives {
		t.Fatalf("snapshot holds %d/%d halves of transactions, want at least the %d committed before it, each whole", positives, negatives, before)
	}
	if err := db.SnapshotTo(context.Background(), snapshot); err == nil {
		t.Fatal("a snapshot overwrote an existing file")
	}
}

func TestSnapshotRefusesPostgres(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		if !b.Postgres {
			continue
		}
		err := b.OpenDB(t).SnapshotTo(context.Background(), filepath.Join(t.TempDir(), "x.db"))
		if err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("snapshot of PostgreSQL: %v", err)
		}
	}
}

// TestResealRewritesEveryValueInBatches: every non-null value, across more
// than one batch, is rewritten in place inside the caller's transaction, on
// both engines; a failure rolls all of it back.
func TestResealRewritesEveryValueInBatches(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			ctx := context.Background()
			account := id.New()
			db.Gorm.Exec(`INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at)
				VALUES (?, 'acme', 'Acme', 'pub', 'sealed', 'sealed', ?, ?)`, account, time.Now(), time.Now())
			const rows = 1234
			values, args := make([]string, rows), []any{}
			for i := range rows {
				values[i] = "(?, ?, ?, ?, 'user', '{}', ?, ?)"
				args = append(args, id.New(), account, fmt.Sprintf("u%d@acme.test", i), "v"+strconv.Itoa(i), time.Now(), time.Now())
			}
			err := db.Gorm.Exec(`INSERT INTO users (id, account_id, email, password_digest, role, metadata, created_at, updated_at) VALUES `+
				strings.Join(values, ", "), args...).Error
			if err != nil {
				t.Fatal(err)
			}
			db.Gorm.Exec(`UPDATE users SET password_digest = NULL WHERE email = 'u7@acme.test'`)
			err = db.InTx(ctx, func(ctx context.Context) error {
				n, err := db.Reseal(ctx, "users", "password_digest", func(v string) (string, error) { return "re-" + v, nil })
				if n != rows-1 {
					t.Errorf("resealed %d values, want %d", n, rows-1)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var resealed, null int64
			db.Gorm.Raw(`SELECT COUNT(*) FROM users WHERE password_digest LIKE 're-v%'`).Scan(&resealed)
			db.Gorm.Raw(`SELECT COUNT(*) FROM users WHERE password_digest IS NULL`).Scan(&null)
			if resealed != rows-1 || null != 1 {
				t.Fatalf("%d values resealed and %d null, want %d and 1", resealed, null, rows-1)
			}
			failure := errors.New("cannot open")
			err = db.InTx(ctx, func(ctx context.Context) error {
				_, err := db.Reseal(ctx, "users", "password_digest", func(v string) (string, error) {
					if v == "re-v900" {
						return "", failure
					}
					return "again-" + v, nil
				})
				return err
			})
			db.Gorm.Raw(`SELECT COUNT(*) FROM users WHERE password_digest LIKE 'again-%'`).Scan(&resealed)
			if !errors.Is(err, failure) || resealed != 0 {
				t.Fatalf("a failed reseal: %v, %d values changed", err, resealed)
			}
		})
	}
}

func TestLatestMigrationIsTheNewestFile(t *testing.T) {
	for _, engine := range []database.Engine{database.SQLite, database.Postgres} {
		files, _ := fs.Glob(dbfiles.Migrations, "migrations/"+string(engine)+"/*.up.sql")
		newest, _, _ := strings.Cut(path.Base(files[len(files)-1]), "_")
		want, _ := strconv.Atoi(newest)
		if got, err := database.LatestMigration(engine); err != nil || got != uint(want) || want < 18 {
			t.Fatalf("%s: LatestMigration = %d, %v; want %d", engine, got, err, want)
		}
	}
}
