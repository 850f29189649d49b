package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// TestMigrateCheck walks a schema through empty, behind, current and newer
// than the binary: --check applies nothing, lists what is pending, and
// exits 1 (as serve and migrate then refuse to start) only when the schema
// has a migration this binary does not know.
func TestMigrateCheck(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := backendEnv(t, b, testenv.EmptyPostgresURL)
			known, err := database.Migrations(database.SQLite)
			if err != nil || len(known) < 3 {
				t.Fatalf("embedded migrations: %v %v", known, err)
			}
			newest := known[len(known)-1]
			check := func(wantCode int, wantPending int) string {
				t.Helper()
				code, stdout, stderr := run(t, env, "migrate", "--check")
				if code != wantCode {
					t.Fatalf("migrate --check exited %d, want %d: %s%s", code, wantCode, stdout, stderr)
				}
				if wantCode == 0 && !strings.Contains(stdout, fmt.Sprintf("knows up to %d (%s)", newest.Version, newest.Name)) &&
					!strings.Contains(stdout, fmt.Sprintf("migration %d (%s), the newest", newest.Version, newest.Name)) {
					t.Fatalf("migrate --check does not name the newest migration: %q", stdout)
				}
				listed := strings.Count(stdout, "\n  ")
				if listed != wantPending || (wantPending > 0 && !strings.Contains(stdout, fmt.Sprintf("%d pending", wantPending))) {
					t.Fatalf("migrate --check lists %d pending, want %d: %q", listed, wantPending, stdout)
				}
				return stdout + stderr
			}

			// Empty: everything is pending, twice over (the check applied nothing).
			check(0, len(known))
			out := check(0, len(known))
			if !strings.Contains(out, "empty") || !strings.Contains(out, fmt.Sprintf("  %04d %s\n", known[0].Version, known[0].Name)) {
				t.Fatalf("empty schema report: %q", out)
			}
			if code, _, stderr := run(t, env, "migrate"); code != 0 {
				t.Fatalf("migrate: %s", stderr)
			}
			if out := check(0, 0); !strings.Contains(out, "up to date") {
				t.Fatalf("current schema report: %q", out)
			}
			// Behind: the two newest are pending, by version and name.
			if code, _, stderr := run(t, env, "migrate", "down", "2"); code != 0 {
				t.Fatalf("migrate down 2: %s", stderr)
			}
			out = check(0, 2)
			for _, m := range known[len(known)-2:] {
				if !strings.Contains(out, fmt.Sprintf("  %04d %s\n", m.Version, m.Name)) {
					t.Fatalf("pending report lacks %v: %q", m, out)
				}
			}
			if !strings.Contains(out, fmt.Sprintf("at migration %d;", known[len(known)-3].Version)) {
				t.Fatalf("pending report does not name the applied migration: %q", out)
			}

			// Newer: a later relkey applied a migration this one does not know.
			if code, _, stderr := run(t, env, "migrate"); code != 0 {
				t.Fatalf("migrate: %s", stderr)
			}
			cfg, err := config.FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			db, err := app.OpenDatabase(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			future := strconv.Itoa(int(newest.Version) + 1)
			if err := db.Gorm.Exec(`UPDATE schema_migrations SET version = ` + future).Error; err != nil {
				t.Fatal(err)
			}
			db.Close()
			refusal := "the database schema is at migration " + future + ", which this relkey does not know"
			if out := check(1, 0); !strings.Contains(out, refusal) {
				t.Fatalf("newer schema: %q", out)
			}
			for _, args := range [][]string{{"migrate"}, {"serve"}, {"account", "create", "--slug", "acme", "--name", "Acme", "--email", "a@acme.test", "--password", "secret123"}} {
				code, stdout, stderr := run(t, env, args...)
				if code != 1 || !strings.Contains(stderr, refusal) {
					t.Fatalf("%v on a newer schema: exit %d, %q %q", args, code, stdout, stderr)
				}
			}
		})
	}
}
