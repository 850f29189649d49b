package database_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// sqliteWithTable opens a fresh SQLite database with one table, t (x int).
func sqliteWithTable(t *testing.T) (*database.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relkey.db")
	db, err := database.Open(context.Background(), database.Options{SQLitePath: path, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Gorm.Exec("CREATE TABLE t (x int)").Error; err != nil {
		t.Fatal(err)
	}
	return db, path
}

// TestSQLiteTransactionsTakeTheWriteLockAtBegin guards against deferred
// transactions, which fail at once (SQLITE_BUSY) when they upgrade from
// reading to writing while another connection writes.
func TestSQLiteTransactionsTakeTheWriteLockAtBegin(t *testing.T) {
	db, path := sqliteWithTable(t)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = db.InTx(context.Background(), func(ctx context.Context) error {
		var n int
		db.Conn(ctx).Raw("SELECT COUNT(*) FROM t").Scan(&n) // only a read so far
		_, err := other.Exec("INSERT INTO t VALUES (1)")
		if err == nil || !strings.Contains(err.Error(), "locked") {
			t.Errorf("another writer got in while a transaction was open: %v", err)
		}
		return db.Conn(ctx).Exec("INSERT INTO t VALUES (2)").Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteInterruptedWorkIsUnavailable: a request whose deadline passes
// inside a statement or a transaction gets a 503 (Unavailable), never a 500,
// and leaves nothing written.
func TestSQLiteInterruptedWorkIsUnavailable(t *testing.T) {
	db, _ := sqliteWithTable(t)
	// Inserts without end: only the interrupt stops it. The cancel comes a
	// moment later, mostly mid-statement; either way the answer is the same.
	endless := "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n"
	soon := func(cancel func()) { time.AfterFunc(20*time.Millisecond, cancel) }
	tests := []struct {
		name string
		run  func(ctx context.Context, cancel func()) error
	}{
		{"statement interrupted", func(ctx context.Context, cancel func()) error {
			soon(cancel)
			return database.Error(db.Gorm.WithContext(ctx).Exec(endless).Error)
		}},
		{"transaction interrupted after a write", func(ctx context.Context, cancel func()) error {
			return db.InTx(ctx, func(ctx context.Context) error {
				if err := db.Conn(ctx).Exec("INSERT INTO t VALUES (1)").Error; err != nil {
					return err
				}
				soon(cancel)
				return db.Conn(ctx).Exec(endless).Error
			})
		}},
		{"transaction whose context ended before its next statement", func(ctx context.Context, cancel func()) error {
			return db.InTx(ctx, func(ctx context.Context) error {
				if err := db.Conn(ctx).Exec("INSERT INTO t VALUES (1)").Error; err != nil {
					return err
				}
				cancel()
				return db.Conn(ctx).Exec("INSERT INTO t VALUES (2)").Error
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := tt.run(ctx, cancel)
			if e := apperr.As(err); e.Kind != apperr.Unavailable {
				t.Fatalf("error %v is kind %v, want Unavailable (503)", err, e.Kind)
			}
			var n int64
			if err := db.Gorm.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != 0 {
				t.Fatalf("%d rows written (%v), want none", n, err)
			}
		})
	}
}

// tRow is a row of sqliteWithTable's table.
type tRow struct{ X int }

func (tRow) TableName() string { return "t" }

// TestSQLiteBulkInsertsAreNotCached: a multi-row insert, in a transaction
// or not, leaves no statement in GORM's cache (each row count would be one
// of its own) unless its row count is a power of two (a batch writer's
// full chunk).
func TestSQLiteBulkInsertsAreNotCached(t *testing.T) {
	db, _ := sqliteWithTable(t)
	ctx := context.Background()
	if err := db.Gorm.Create(&tRow{X: 1}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Create([]tRow{{2}, {3}, {4}}).Error; err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		return db.Conn(ctx).CreateInBatches([]tRow{{5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}}, 4).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.Gorm.Table("t").Count(&n).Error; err != nil || n != 15 {
		t.Fatalf("%d rows, %v; want 15", n, err)
	}
	var inserts []string
	for _, k := range db.Gorm.ConnPool.(*gorm.PreparedStmtDB).Stmts.Keys() {
		if strings.HasPrefix(k, "INSERT") {
			inserts = append(inserts, k)
		}
	}
	slices.Sort(inserts)
	want := []string{"INSERT INTO `t` (`x`) VALUES (?)", "INSERT INTO `t` (`x`) VALUES (?),(?),(?),(?)"}
	if !slices.Equal(inserts, want) {
		t.Errorf("cached inserts = %q, want %q", inserts, want)
	}
}
