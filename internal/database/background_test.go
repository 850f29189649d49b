package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// TestBackgroundWritersDoNotWaitForTheRequestPool: with every connection of
// the request pool taken, a statement of a Background context, alone or in
// its transaction, runs at once on the background pool, with the request
// pool's callbacks (counted like any other); a request's statement waits.
func TestBackgroundWritersDoNotWaitForTheRequestPool(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			if err := db.CountStatements(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for range db.SQL.Stats().MaxOpenConnections {
				conn, err := db.SQL.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
			}

			waiting, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			var n int64
			if err := db.Conn(waiting).Table("accounts").Count(&n).Error; !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a request's statement with the pool taken: %v, want it to wait until its deadline", err)
			}

			bg, cancel := context.WithTimeout(database.Background(ctx), 5*time.Second)
			defer cancel()
			counter := database.NewStatementRecorder()
			bg = database.WithStatementCounter(bg, counter)
			if err := db.Conn(bg).Exec(`DELETE FROM rate_limits WHERE hits < 0`).Error; err != nil {
				t.Fatalf("background statement: %v", err)
			}
			err := db.InTx(bg, func(ctx context.Context) error {
				return db.Conn(ctx).Table("accounts").Count(&n).Error
			})
			if err != nil {
				t.Fatalf("background transaction: %v", err)
			}
			if got := counter.Count(); got != 2 {
				t.Fatalf("background statements counted %d times, want 2", got)
			}
			stats := db.BackgroundPool().Stats()
			if stats.MaxOpenConnections != 2 || stats.OpenConnections < 1 {
				t.Fatalf("background pool %+v, want at most 2 connections, one opened", stats)
			}
		})
	}
}
