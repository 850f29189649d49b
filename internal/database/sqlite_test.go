package database_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// TestSQLiteTransactionsTakeTheWriteLockAtBegin guards against deferred
// transactions, which fail at once (SQLITE_BUSY) when they upgrade from
// reading to writing while another connection writes.
func TestSQLiteTransactionsTakeTheWriteLockAtBegin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relkey.db")
	db, err := database.Open(context.Background(), database.Options{SQLitePath: path, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Gorm.Exec("CREATE TABLE t (x int)").Error; err != nil {
		t.Fatal(err)
	}
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
