package database_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"

	dbfiles "github.com/relkey/relkey/db"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

func tables(t *testing.T, db *database.DB) []string {
	t.Helper()
	var names []string
	var err error
	if db.Engine == database.Postgres {
		err = db.Gorm.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY 1`).Scan(&names).Error
	} else {
		// Ordinary tables: not search's FTS5 tables (virtual) nor their shadow tables.
		err = db.Gorm.Raw(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY 1`).Scan(&names).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// schemaTables are the tables the migrations make, in name order.
var schemaTables = []string{"account_settings", "accounts", "analytics_day_devices", "analytics_days", "analytics_hour_devices", "analytics_hours", "analytics_minute_devices", "analytics_minutes", "artifacts", "catalog_entries", "components", "console_sessions", "entitlements", "events", "group_owners", "groups", "job_leases", "keys", "license_entitlements", "license_machine_totals", "license_users", "licenses", "machines", "mail_outbox", "packages", "policies", "policy_entitlements", "processes", "products", "rate_limits", "release_entitlement_constraints", "releases", "request_logs", "second_factors", "tokens", "users", "webhook_endpoints", "webhook_events", "webhook_payloads"}

func TestMigrationsUpDownUp(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, err := database.Open(context.Background(), b.EmptyOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := schemaTables
			for round := range 2 {
				if err := db.MigrateUp(); err != nil {
					t.Fatalf("round %d up: %v", round, err)
				}
				if got := tables(t, db); !slices.Equal(got, want) {
					t.Fatalf("round %d after up: tables %v, want %v", round, got, want)
				}
				v, dirty, err := db.MigrationVersion()
				if err != nil || v == 0 || dirty {
					t.Fatalf("round %d version = %d dirty=%v err=%v", round, v, dirty, err)
				}
				if round == 0 {
					if err := db.MigrateDown(0); err != nil {
						t.Fatalf("down: %v", err)
					}
					if got := tables(t, db); len(got) != 0 {
						t.Fatalf("after down: tables %v remain", got)
					}
					if v, _, _ := db.MigrationVersion(); v != 0 {
						t.Fatalf("after down: version %d", v)
					}
				}
			}
			// Re-running up is a no-op, and the pool GORM uses still works.
			if err := db.MigrateUp(); err != nil {
				t.Fatal(err)
			}
			if err := db.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConcurrentMigrationsAgree(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			opts := b.EmptyOptions(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					db, err := database.Open(context.Background(), opts)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					errs[i] = db.MigrateUp()
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("migrator %d: %v", i, err)
				}
			}
			// Whoever ran which migration, the result is the whole schema once.
			db, err := database.Open(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			v, dirty, err := db.MigrationVersion()
			if err != nil || dirty || fmt.Sprint(v) != newestMigration(t, db.Engine) {
				t.Fatalf("after concurrent migrators: version %d dirty=%v err=%v, want %s clean", v, dirty, err, newestMigration(t, db.Engine))
			}
			if got := tables(t, db); !slices.Equal(got, schemaTables) {
				t.Fatalf("after concurrent migrators: tables %v, want %v", got, schemaTables)
			}
		})
	}
}

// newestMigration is the version of the engine's newest embedded migration.
func newestMigration(t *testing.T, engine database.Engine) string {
	t.Helper()
	names := migrationFiles(t, engine)
	version, _, _ := strings.Cut(names[len(names)-1], "_")
	return strings.TrimLeft(version, "0")
}

func migrationFiles(t *testing.T, engine database.Engine) []string {
	t.Helper()
	entries, err := fs.ReadDir(dbfiles.Migrations, "migrations/"+string(engine))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// TestMigrationTreesAreParallel: both engines have the same migrations, by
// version and name, each with its up and its down.
func TestMigrationTreesAreParallel(t *testing.T) {
	postgres, sqlite := migrationFiles(t, database.Postgres), migrationFiles(t, database.SQLite)
	if !slices.Equal(postgres, sqlite) {
		t.Fatalf("migration trees differ:\n  postgres: %v\n  sqlite:   %v", postgres, sqlite)
	}
	for _, name := range postgres {
		base, up := strings.CutSuffix(name, ".up.sql")
		if !up {
			if _, down := strings.CutSuffix(name, ".down.sql"); !down {
				t.Errorf("%s is neither an up nor a down migration", name)
			}
			continue
		}
		if !slices.Contains(postgres, base+".down.sql") {
			t.Errorf("%s has no down migration", name)
		}
	}
}
