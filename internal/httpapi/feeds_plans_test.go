package httpapi_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// feedPaths are a request to every feed route that reads releases, under
// /v1/accounts/acme/engines/, against a line seeded by seedPackageReleases
// ({n}: its newest minor version; a file is looked up newest release first,
// so one of an old release is a longer walk).
var feedPaths = map[string][]string{
	"tauri": {"tauri/app?platform=linux&arch=x86_64&version=1.1.0", "tauri/app/latest.json"},
	"electron": {"electron/app/latest-linux.yml", "electron/app/latest-mac.yml", "electron/app/beta-linux.yml",
		"electron/app/app-1.{n}.0.AppImage"},
	"squirrel": {"squirrel/app/darwin/x64/1.1.0", "squirrel/app/darwin/x64/RELEASES.json",
		"squirrel/app/win32/x64/RELEASES", "squirrel/app/win32/x64/app-1.{n}.0-full.nupkg"},
	"velopack":  {"velopack/app/releases.win.json", "velopack/app/app-1.{n}.0-full.nupkg"},
	"sparkle":   {"sparkle/app/appcast.xml"},
	"faynosync": {"faynosync/checkVersion?app_name=app&version=1.1.0&platform=linux&arch=amd64", "faynosync/apps/latest?app_name=app"},
	"raw":       {"raw/desk/@app/latest/app-1.{n}.0.AppImage", "raw/desk/@app/1.5.0/app-1.5.0.AppImage"},
}

// feedBuffers bounds the buffers of one feed statement: a feed reads at
// most 50 releases (an appcast's items, a Velopack feed's; 25 candidates
// otherwise), up to ten buffers each with its artifact probe and files (the
// newest seeded releases carry four artifacts, two of them Windows packages
// stored apart from the others), where a walk of the line touches tens of
// thousands.
const feedBuffers = 500

// TestFeedsStayIndexWalks reads the plan of every statement each feed runs
// against a package of 10 000 releases (SQLite; 10 000 and 100 000 on
// PostgreSQL, with and without statistics): no step reads the releases or
// artifacts table whole or sorts them (SQLite), and each statement touches a
// bounded number of buffers, with the custom and the generic plan
// (PostgreSQL).
func TestFeedsStayIndexWalks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		type state struct {
			releases int
			analyzed bool
		}
		states := []state{{10_000, false}}
		if be.Postgres {
			states = []state{{10_000, false}, {100_000, false}, {100_000, true}}
		}
		for _, seeded := range states {
			n := seeded.releases
			e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
			productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Desk","code":"desk"`)))
			pkg := e.id(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"App","key":"app","engine":"tauri"`)))
			policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
			key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
			seedPackageReleases(t, e, productID, pkg, n, seeded.analyzed)
			seedWindowsPackages(t, e, productID, n)
			c, recorder := countedBy(t, e, database.NewStatementRecorder())
			auth := header{"Authorization", "License " + key}
			for engine, paths := range feedPaths {
				if engine != "raw" {
					e.admin("PATCH", "/v1/accounts/acme/packages/"+pkg, `{"data":{"type":"packages","attributes":{"engine":"`+engine+`"}}}`)
				}
				for _, path := range paths {
					full := "/v1/accounts/acme/engines/" + strings.ReplaceAll(path, "{n}", strconv.Itoa(n))
					before := len(recorder.Statements())
					started := time.Now()
					if r := c.do("GET", full, "", auth); r.status != 200 && r.status != 303 {
						t.Fatalf("%d releases: %s: %d %s", n, full, r.status, r.body)
					}
					t.Logf("%d releases (analyzed %t): %s in %v", n, seeded.analyzed, path, time.Since(started))
					for _, st := range recorder.Statements()[before:] {
						if !strings.HasPrefix(st.SQL, "SELECT") || !strings.Contains(st.SQL, "releases") && !strings.Contains(st.SQL, "artifacts") {
							continue
						}
						if be.Postgres {
							for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
								if buffers := postgresBuffers(t, e, mode, st); buffers > feedBuffers {
									t.Errorf("%d releases (analyzed %t), %s, %s: %d buffers for %s", n, seeded.analyzed, path, mode, buffers, st.SQL)
								}
							}
						} else if step := sqliteFeedWideRead(t, e, st); step != "" {
							t.Errorf("%s: %q in the plan of %s", path, step, st.SQL)
						}
					}
				}
			}
		}
	})
}

// sqliteFeedWideRead returns the plan step that reads the releases or
// artifacts table whole, or every release of the account or package (a list
// built before the walk), or sorts rows (a walk that cannot stop early: only
// the few candidates of a version or tag lookup may be sorted); "" when
// every step searches an index.
func sqliteFeedWideRead(t *testing.T, e *env, st database.Statement) string {
	t.Helper()
	plan := sqlitePlan(t, e, st)
	t.Logf("plan %v for %.200s", plan, st.SQL)
	for _, detail := range plan {
		if strings.HasPrefix(detail, "SCAN releases") || strings.HasPrefix(detail, "SCAN artifacts") ||
			strings.HasPrefix(detail, "USE TEMP B-TREE") && plan[0] != "MERGE (UNION ALL)" ||
			strings.HasPrefix(detail, "SEARCH releases") && (strings.HasSuffix(detail, "(account_id=?)") || strings.HasSuffix(detail, "(package_id=?)")) {
			return detail
		}
	}
	return ""
}
