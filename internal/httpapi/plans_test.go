package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// TestUpgradeStaysAnIndexWalk reads the plan of every statement an upgrade
// runs, on both engines, as the releases of one product grow: on PostgreSQL
// the buffers each statement touches stay bounded (with the plan chosen for
// the values and with the generic plan a prepared statement falls back to),
// and on SQLite no statement scans the releases table whole.
func TestUpgradeStaysAnIndexWalk(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		sizes := []int{10, 10_000}
		if be.Postgres {
			sizes = []int{10_000, 100_000}
		}
		for _, n := range sizes {
			// Seeding 100 000 rows on a loaded machine needs more than a
			// request's statement timeout.
			e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
			productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
			policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
			key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
			e.publish(productID, "stable", "1.0.0")
			seedReleasesOf(t, e, productID, n)
			c, recorder := countedBy(t, e, database.NewStatementRecorder())
			r := c.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "", header{"Authorization", "License " + key})
			if want := fmt.Sprintf("1.%d.0", n); r.status != 200 || attrs(t, r)["version"] != want {
				t.Fatalf("%d releases: upgrade %d %s, want %s", n, r.status, r.body, want)
			}
			for _, st := range recorder.Statements() {
				if !strings.HasPrefix(st.SQL, "SELECT") || !strings.Contains(st.SQL, "releases") {
					continue
				}
				if be.Postgres {
					for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
						buffers := postgresBuffers(t, e, mode, st)
						t.Logf("%d releases, %s: %d buffers for %.60s…", n, mode, buffers, st.SQL)
						if buffers > 64 {
							t.Errorf("%d releases, %s: %d buffers for %s", n, mode, buffers, st.SQL)
						}
					}
				} else if scan := sqliteFullScan(t, e, st); scan != "" {
					t.Errorf("%d releases: %q in the plan of %s", n, scan, st.SQL)
				}
			}
		}
	})
}

// seedReleasesOf adds n published stable releases 1.<i>.0 to the product in
// one statement and refreshes the planner's statistics.
func seedReleasesOf(t *testing.T, e *env, productID string, n int) {
	t.Helper()
	if e.app.DB.Engine == database.SQLite {
		seedReleases(t, e, productID, n, 1)
		return
	}
	now := database.Now()
	err := e.app.DB.Gorm.Exec(`INSERT INTO releases (id, account_id, product_id, channel, status, version, semver_major, semver_minor, semver_patch, metadata, created_at, updated_at)
		SELECT gen_random_uuid(), ?, ?, 'stable', 'PUBLISHED', '1.' || n || '.0', 1, n, 0, '{}', ?, ? FROM generate_series(1, ?) n`,
		e.acct.Account.ID, productID, now, now, n).Error
	if err == nil {
		err = e.app.DB.Gorm.Exec("ANALYZE releases").Error
	}
	if err != nil {
		t.Fatal(err)
	}
}

// postgresBuffers runs the statement under EXPLAIN (ANALYZE, BUFFERS) in the
// given plan_cache_mode and returns the shared buffers it touched.
func postgresBuffers(t *testing.T, e *env, mode string, st database.Statement) int {
	t.Helper()
	ctx := context.Background()
	conn, err := e.app.DB.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET plan_cache_mode")
	var out string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+st.SQL, st.Vars...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", st.SQL, err)
	}
	var plans []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("explain output %s: %v", out, err)
	}
	return plans[0].Plan.Hit + plans[0].Plan.Read
}

// sqliteFullScan returns the plan step that reads the releases table whole,
// or "" when every step searches an index.
func sqliteFullScan(t *testing.T, e *env, st database.Statement) string {
	t.Helper()
	rows, err := e.app.DB.SQL.Query("EXPLAIN QUERY PLAN "+st.SQL, st.Vars...)
	if err != nil {
		t.Fatalf("explain %s: %v", st.SQL, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(detail, "SCAN releases") {
			return detail
		}
	}
	return ""
}
