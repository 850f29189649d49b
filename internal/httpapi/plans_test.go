package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// TestUpgradeAndDownloadStayIndexWalks reads the plan of every statement an upgrade
// (to a newer release, and from the newest) and a download (by filename and
// by id) run, on both engines, as the releases of one product grow: on
// PostgreSQL the buffers each statement touches stay bounded and as many at
// 100 000 releases as at 10 000 (with the plan chosen for the values and
// with the generic plan a prepared statement falls back to), and on SQLite
// every read of the releases table is an index search narrowed past the
// account.
func TestUpgradeAndDownloadStayIndexWalks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		type state struct {
			releases int
			analyzed bool // PostgreSQL's statistics refreshed after the seeding
		}
		states := []state{{10, false}, {10_000, false}}
		if be.Postgres {
			states = []state{{10_000, false}, {100_000, false}, {100_000, true}}
		}
		fewest := map[string]int{} // the buffers of each statement and plan mode at the fewest releases
		for _, seeded := range states {
			n := seeded.releases
			// Seeding 100 000 rows on a loaded machine needs more than a
			// request's statement timeout.
			e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
			productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
			policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
			key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
			e.publish(productID, "stable", "1.0.0")
			seedReleasesOf(t, e, productID, n, seeded.analyzed)
			newest := e.publish(productID, "stable", "2.0.0")
			created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(newest, `"filename":"app.zip","filesize":3`))
			if status, _ := rawRequest(t, "PUT", created.header.Get("Location"), []byte("zip")); status != 200 {
				t.Fatalf("upload: %d", status)
			}
			artifactID := data(t, created)["id"].(string)
			eventually(t, "the artifact to be uploaded", func() bool {
				return attrs(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, "", header{"Prefer", "no-download"}))["status"] == "UPLOADED"
			})
			c, recorder := countedBy(t, e, database.NewStatementRecorder())
			license := header{"Authorization", "License " + key}
			r := c.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "", license)
			if r.status != 200 || attrs(t, r)["version"] != "2.0.0" {
				t.Fatalf("%d releases: upgrade %d %s, want 2.0.0", n, r.status, r.body)
			}
			// Nothing newer: the walk down from the newest release stops at
			// the current version instead of reading the product's releases.
			c.do("GET", "/v1/accounts/acme/releases/2.0.0/upgrade?product="+productID, "", license).expectError(t, 404, "NOT_FOUND")
			for _, ref := range []string{"app.zip", artifactID} {
				if r := c.do("GET", "/v1/accounts/acme/artifacts/"+ref, "", license); r.status != 303 {
					t.Fatalf("%d releases: download %s: %d %s", n, ref, r.status, r.body)
				}
			}
			for _, st := range recorder.Statements() {
				if !strings.HasPrefix(st.SQL, "SELECT") && !strings.HasPrefix(st.SQL, "WITH") || !strings.Contains(st.SQL, "releases") {
					continue
				}
				if be.Postgres {
					for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
						buffers := postgresBuffers(t, e, mode, st)
						t.Logf("%d releases (analyzed %t), %s: %d buffers for %.60s…", n, seeded.analyzed, mode, buffers, st.SQL)
						if buffers > 64 {
							t.Errorf("%d releases, %s: %d buffers for %s", n, mode, buffers, st.SQL)
						}
						// Ten times the releases may deepen an index by a level,
						// no more.
						at := mode + " " + st.SQL
						if first, ok := fewest[at]; ok && buffers > first+3 {
							t.Errorf("%d releases, %s: %d buffers, %d at %d releases, for %s", n, mode, buffers, first, states[0].releases, st.SQL)
						} else if !ok && n == states[0].releases {
							fewest[at] = buffers
						}
					}
				} else if step := sqliteWideRead(t, e, st, true); step != "" {
					t.Errorf("%d releases: %q in the plan of %s", n, step, st.SQL)
				}
			}
		}
	})
}

// seedReleasesOf adds n published stable releases 1.<i>.0 to the product in
// one statement, and on PostgreSQL refreshes the planner's statistics when
// analyze is set (without, plans are made as right after a bulk load).
func seedReleasesOf(t *testing.T, e *env, productID string, n int, analyze bool) {
	t.Helper()
	if e.app.DB.Engine == database.SQLite {
		seedReleases(t, e, productID, n, 1)
		return
	}
	now := database.Now()
	err := e.app.DB.Gorm.Exec(`INSERT INTO releases (id, account_id, product_id, channel, status, version, semver_major, semver_minor, semver_patch, metadata, created_at, updated_at)
		SELECT gen_random_uuid(), ?, ?, 'stable', 'PUBLISHED', '1.' || n || '.0', 1, n, 0, '{}', ?, ? FROM generate_series(1, ?) n`,
		e.acct.Account.ID, productID, now, now, n).Error
	if err == nil && analyze {
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

// sqliteWideRead returns the plan step that reads the releases table whole,
// or with narrow also by the account alone (every release of the account),
// or "" when each step searches an index (past the account: by id, product
// or version). Downloads are held narrow; the version lookup of an upgrade
// still walks the account's releases in creation order on SQLite.
func sqliteWideRead(t *testing.T, e *env, st database.Statement, narrow bool) string {
	t.Helper()
	for _, detail := range sqlitePlan(t, e, st) {
		if strings.HasPrefix(detail, "SCAN releases") || narrow && strings.HasPrefix(detail, "SEARCH releases") && strings.HasSuffix(detail, "(account_id=?)") {
			return detail
		}
	}
	return ""
}
