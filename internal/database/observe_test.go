package database_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/testenv"
)

// TestObserveStatementsTimesEachKind: every statement sent reaches its
// kind's recorder; SQL only built in a dry run does not.
func TestObserveStatementsTimesEachKind(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			var mu sync.Mutex
			seen := map[string][]time.Duration{}
			err := db.ObserveStatements(func(kind string) func(time.Duration) {
				return func(took time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					seen[kind] = append(seen[kind], took)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var n int64
			if err := db.Conn(ctx).Table("accounts").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Conn(ctx).Exec(`DELETE FROM rate_limits WHERE hits < 0`).Error; err != nil {
				t.Fatal(err)
			}
			var one int
			if err := db.Conn(ctx).Raw(`SELECT 1`).Row().Scan(&one); err != nil {
				t.Fatal(err)
			}
			db.Conn(ctx).Session(&gorm.Session{DryRun: true}).Table("accounts").Find(&[]map[string]any{})
			mu.Lock()
			defer mu.Unlock()
			for kind, want := range map[string]int{"query": 1, "raw": 1, "row": 1} {
				if got := len(seen[kind]); got != want {
					t.Errorf("%s statements observed %d times, want %d (all: %v)", kind, got, want, seen)
				}
				for _, took := range seen[kind] {
					if took <= 0 || took > 10*time.Second {
						t.Errorf("%s statement took %v", kind, took)
					}
				}
			}
		})
	}
}
