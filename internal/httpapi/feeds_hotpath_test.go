package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// seedPackageReleases adds n published stable releases 1.<i>.0 to a
// package, each with a Linux x86_64 app-1.<i>.0.AppImage and a macOS
// app-1.<i>.0.zip, in two statements; on PostgreSQL it refreshes the
// planner's statistics when analyze is set (without, plans are made as
// right after a bulk load).
func seedPackageReleases(t testing.TB, e *env, productID, packageID string, n int, analyze bool) {
	t.Helper()
	now := database.Now()
	acct := e.acct.Account.ID
	// Ids 00000000-0000-4000-9000-<n> (releases) and -a000-<n> (artifacts).
	seq, id, cast := "WITH RECURSIVE seq(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM seq WHERE n < ?) ", "substr('00000000000' || (%s), -12)", ""
	if e.app.DB.Engine == database.Postgres {
		seq, id, cast = "WITH seq(n) AS (SELECT generate_series(%d, ?)) ", "lpad((%s)::text, 12, '0')", "::uuid"
	}
	releaseID := func(prefix, n string) string {
		return "('00000000-0000-4000-" + prefix + "-' || " + fmt.Sprintf(id, n) + ")" + cast
	}
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{fmt.Sprintf(seq, 1) + `INSERT INTO releases (id, account_id, product_id, package_id, channel, status, version, semver_major, semver_minor, semver_patch, metadata, created_at, updated_at)
			SELECT ` + releaseID("9000", "n") + `, ?, ?, ?, 'stable', 'PUBLISHED', '1.' || n || '.0', 1, n, 0, '{}', ?, ? FROM seq`,
			[]any{n, acct, productID, packageID, now, now}},
		{fmt.Sprintf(seq, 0) + `INSERT INTO artifacts (id, account_id, release_id, product_id, filename, filesize, platform, arch, signature, status, storage_key, metadata, created_at, updated_at)
			SELECT ` + releaseID("a000", "n") + `, ?, ` + releaseID("9000", "n / 2 + 1") + `, ?,
				CASE n % 2 WHEN 0 THEN 'app-1.' || (n / 2 + 1) || '.0.AppImage' ELSE 'app-1.' || (n / 2 + 1) || '.0.zip' END, 100,
				CASE n % 2 WHEN 0 THEN 'linux' ELSE 'darwin' END, CASE n % 2 WHEN 0 THEN 'x86_64' ELSE 'x64' END, 'sig',
				'UPLOADED', 'seed/' || n, '{}', ?, ? FROM seq`,
			[]any{2*n - 1, acct, productID, now, now}},
	} {
		if err := e.app.DB.Gorm.Exec(st.sql, st.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	if analyze {
		if err := e.app.DB.Gorm.Exec("ANALYZE releases").Error; err != nil {
			t.Fatal(err)
		}
		if err := e.app.DB.Gorm.Exec("ANALYZE artifacts").Error; err != nil {
			t.Fatal(err)
		}
	}
}

// windowsReleases is how many of the newest seeded releases carry Windows
// packages: more than a Velopack feed lists (50), so its walk stops early.
const windowsReleases = 60

// seedWindowsPackages gives the newest windowsReleases of the n releases
// seedPackageReleases made a Windows x64 app-1.<i>.0-full.nupkg and a
// RELEASES file naming it; the newest RELEASES is stored (the feed reads
// that one).
func seedWindowsPackages(t *testing.T, e *env, productID string, n int) {
	t.Helper()
	now := database.Now()
	base, _ := url.Parse(e.srv.URL)
	for i := max(1, n-windowsReleases+1); i <= n; i++ {
		releaseID := fmt.Sprintf("00000000-0000-4000-9000-%012d", i)
		nupkg, index := fmt.Sprintf("app-1.%d.0-full.nupkg", i), []byte(fmt.Sprintf("%040d app-1.%d.0-full.nupkg 100\n", i, i))
		for j, file := range []struct {
			name string
			size int
		}{{nupkg, 100}, {"RELEASES", len(index)}} {
			key := fmt.Sprintf("seed/windows/%d/%s", i, file.name)
			if err := e.app.DB.Gorm.Exec(`INSERT INTO artifacts (id, account_id, release_id, product_id, filename, filesize, platform, arch, status, storage_key, metadata, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 'win32', 'x64', 'UPLOADED', ?, '{}', ?, ?)`,
				fmt.Sprintf("00000000-0000-4000-b00%d-%012d", j, i), e.acct.Account.ID, releaseID, productID, file.name, file.size, key, now, now).Error; err != nil {
				t.Fatal(err)
			}
			if i == n && file.name == "RELEASES" && e.app.Local != nil {
				// Written in place: an uploaded artifact's URL takes no PUT.
				if err := e.app.Local.Write(key, bytes.NewReader(index), int64(len(index))); err != nil {
					t.Fatal(err)
				}
			} else if i == n && file.name == "RELEASES" {
				put, err := e.app.Storage.PresignPut(context.Background(), key, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if status, _ := rawRequest(t, "PUT", base.ResolveReference(put).String(), index); status != 200 {
					t.Fatalf("store RELEASES: %d", status)
				}
			}
		}
	}
}

// TestFeedsRunAFixedNumberOfQueries: every feed runs the same statements
// with 10 and with 2 000 releases (4 000 artifacts) in its package (the
// benchmarks time them at scale).
func TestFeedsRunAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	feeds := map[string]string{
		"tauri":     "tauri/app?platform=linux&arch=x86_64&version=1.1.0",
		"electron":  "electron/app/latest-linux.yml",
		"squirrel":  "squirrel/app/darwin/x64/1.1.0",
		"sparkle":   "sparkle/app/appcast.xml",
		"faynosync": "faynosync/checkVersion?app_name=app&version=1.1.0&platform=linux&arch=amd64",
		"raw":       "raw/desk/@app/latest/app-1.5.0.AppImage",
		// Squirrel.Windows' RELEASES reads the stored file too.
		"squirrel-windows": "squirrel/app/win32/x64/RELEASES",
		"velopack":         "velopack/app/releases.win.json",
	}
	// The engine a feed's package has, where the name is not one.
	engineOf := map[string]string{"raw": "tauri", "squirrel-windows": "squirrel"}
	counts := map[int]map[string]int64{}
	for _, n := range []int{10, 2_000} {
		counts[n] = map[string]int64{}
		for engine, path := range feeds {
			// Counting, not timing: the race detector on a loaded machine takes
			// these walks past the default request timeout.
			e := newEnv(t, testenv.Backend{Name: "embedded"}, func(c *config.Config) { c.RequestTimeout = time.Minute })
			productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Desk","code":"desk"`)))
			packageEngine := engine
			if other, ok := engineOf[engine]; ok {
				packageEngine = other
			}
			pkg := e.id(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"App","key":"app","engine":"`+packageEngine+`"`)))
			policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
			key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
			seedPackageReleases(t, e, productID, pkg, n, false)
			seedWindowsPackages(t, e, productID, n)
			c, counter := counted(t, e)
			auth := header{"Authorization", "License " + key}
			full := "/v1/accounts/acme/engines/" + path
			statements := func() int64 {
				before, started := counter.Count(), time.Now()
				if r := c.do("GET", full, "", auth); r.status != 200 && r.status != 303 {
					t.Fatalf("%s: %d %s", full, r.status, r.body)
				}
				t.Logf("%s at %d releases: %v", engine, n, time.Since(started))
				return counter.Count() - before
			}
			// The least of two runs: the account cache may lapse during one.
			counts[n][engine] = min(statements(), statements())
			if engine == "tauri" {
				if v := c.do("GET", full, "", auth).doc(t)["version"]; v != fmt.Sprintf("1.%d.0", n) {
					t.Fatalf("tauri at %d releases offered %v", n, v)
				}
			}
		}
		t.Logf("%6d releases: %v statements", n, counts[n])
	}
	for engine := range feeds {
		if counts[10][engine] != counts[2_000][engine] {
			t.Errorf("%s: statement counts grow with the releases: %d → %d", engine, counts[10][engine], counts[2_000][engine])
		}
		if counts[10][engine] > 10 {
			t.Errorf("%s: %d statements, over budget (10)", engine, counts[10][engine])
		}
	}
}
