package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// counted serves e's relkey again through a handler that counts the
// statements of each request.
func counted(t testing.TB, e *env) (*env, *database.StatementCounter) {
	return countedBy(t, e, &database.StatementCounter{})
}

// countedBy is counted with a given counter (a recorder, to read plans).
func countedBy(t testing.TB, e *env, counter *database.StatementCounter) (*env, *database.StatementCounter) {
	if err := e.app.DB.CountStatements(); err != nil {
		t.Fatal(err)
	}
	h := e.app.Server().Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(database.WithStatementCounter(r.Context(), counter)))
	}))
	t.Cleanup(srv.Close)
	c := *e
	c.srv = srv
	return &c, counter
}

// seedLicenses adds n licenses to the policy in one statement, inside the
// database (fast even under the race detector).
func seedLicenses(t testing.TB, e *env, productID, policyID string, n int) {
	t.Helper()
	if e.app.DB.Engine != database.SQLite {
		t.Fatal("seedLicenses writes SQLite SQL")
	}
	now := database.Now()
	err := e.app.DB.Gorm.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO licenses (id, account_id, product_id, policy_id, key_digest, key_sealed, metadata, created_at, updated_at)
		SELECT printf('00000000-0000-4000-8000-%012d', n), ?, ?, ?, 'seed-' || n, 'v1:unused', '{}', ?, ? FROM seq`,
		n-1, e.acct.Account.ID, productID, policyID, now, now).Error
	if err != nil {
		t.Fatal(err)
	}
}

type hotPath struct {
	e              *env
	counter        *database.StatementCounter
	licenseID, key string
}

func newHotPath(t testing.TB, e *env, licenses int) *hotPath {
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID,
		`"name":"Hot","strict":true,"floating":true,"maxMachines":100000,"authenticationStrategy":"LICENSE","requireFingerprintScope":true`)))
	if licenses > 0 {
		seedLicenses(t, e, productID, policyID, licenses)
	}
	created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
	c, counter := counted(t, e)
	return &hotPath{e: c, counter: counter, licenseID: data(t, created)["id"].(string), key: attrs(t, created)["key"].(string)}
}

// statements runs one request and returns how many statements it ran.
func (h *hotPath) statements(t testing.TB, method, path, body string, headers ...header) int64 {
	before := h.counter.Count()
	r := h.e.do(method, path, body, headers...)
	if r.status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	return h.counter.Count() - before
}

func (h *hotPath) activate(t testing.TB, fingerprint string) int64 {
	return h.statements(t, "POST", "/v1/accounts/acme/machines", machineBody(h.licenseID, `"fingerprint":"`+fingerprint+`"`),
		header{"Authorization", "License " + h.key})
}

func (h *hotPath) validate(t testing.TB, fingerprint string) int64 {
	return h.statements(t, "POST", "/v1/accounts/acme/licenses/actions/validate-key",
		`{"meta":{"key":"`+h.key+`","scope":{"fingerprint":"`+fingerprint+`"}}}`)
}

// TestHotPathsRunAFixedNumberOfQueries: validate-key and machine activation
// run the same number of statements with 10 and with 10 000 licenses. (The
// benchmarks go to 100 000; seeding that many under the race detector takes
// most of a minute and proves nothing more about statement counts.)
func TestHotPathsRunAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	counts := map[int][2]int64{}
	for _, n := range []int{10, 10_000} {
		e := newEnv(t, testenv.Backend{Name: "embedded"})
		h := newHotPath(t, e, n)
		// The least of two runs each: the account cache (30 s, not renewed
		// on a hit) can lapse during one of them on a loaded machine and
		// add its lookup.
		activation := min(h.activate(t, "fp-0"), h.activate(t, "fp-1"))
		validation := min(h.validate(t, "fp-1"), h.validate(t, "fp-1"))
		counts[n] = [2]int64{activation, validation}
		t.Logf("%7d licenses: activation %d statements, validate-key %d statements", n, activation, validation)
	}
	if counts[10] != counts[10_000] {
		t.Fatalf("statement counts grow with the data: %v", counts)
	}
	if a, v := counts[10][0], counts[10][1]; a > 3 || v > 2 {
		t.Fatalf("activation %d / validate-key %d statements: over budget (3 / 2)", a, v)
	}
}

// TestHotPathStatementsAreAlikeOnBothEngines: an activation and a
// fingerprint-scoped validation count the same statements on PostgreSQL,
// where the activation's INSERT waits to go with its COMMIT, as on SQLite.
func TestHotPathStatementsAreAlikeOnBothEngines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		h := newHotPath(t, newEnv(t, be), 0)
		h.activate(t, "warm")
		activation := min(h.activate(t, "fp-0"), h.activate(t, "fp-1"))
		validation := min(h.validate(t, "fp-1"), h.validate(t, "fp-1"))
		if activation != 3 || validation != 2 {
			t.Fatalf("activation %d / validate-key %d statements, want 3 / 2", activation, validation)
		}
	})
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op b.N times and reports its statements and the CPU time
// per request (server and client together: steadier than wall time on a
// busy machine).
func measure(b *testing.B, op func(i int) int64) { measureSettled(b, op, nil) }

// measureSettled is measure waiting for settle (when not nil) after the
// last request, so work the requests left to background loops counts too.
func measureSettled(b *testing.B, op func(i int) int64, settle func()) {
	b.ResetTimer()
	start := cpuTime(b)
	var statements int64
	for i := range b.N {
		statements += op(i)
	}
	if settle != nil {
		settle()
	}
	b.ReportMetric(float64(statements)/float64(b.N), "queries/op")
	b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func benchmarkHotPath(b *testing.B, licenses int, op func(h *hotPath, i int) int64) {
	e := newEnv(b, testenv.Backend{Name: "embedded"})
	h := newHotPath(b, e, licenses)
	h.activate(b, "base")
	measure(b, func(i int) int64 { return op(h, i) })
}

func BenchmarkValidateKey(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("licenses=%d", n), func(b *testing.B) {
			benchmarkHotPath(b, n, func(h *hotPath, _ int) int64 { return h.validate(b, "base") })
		})
	}
}

func BenchmarkActivateMachine(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("licenses=%d", n), func(b *testing.B) {
			benchmarkHotPath(b, n, func(h *hotPath, i int) int64 { return h.activate(b, fmt.Sprintf("bench-%d", i)) })
		})
	}
}

// seedReleases adds n published stable releases 1.<i>.0 to the product, with
// perRelease uploaded artifacts app-<k>.bin each, in two statements.
func seedReleases(t testing.TB, e *env, productID string, n, perRelease int) {
	t.Helper()
	now := database.Now()
	acct := e.acct.Account.ID
	stmts := []struct {
		sql  string
		args []any
	}{
		{`WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
			INSERT INTO releases (id, account_id, product_id, channel, status, version, semver_major, semver_minor, semver_patch, metadata, created_at, updated_at)
			SELECT printf('00000000-0000-4000-9000-%012d', n), ?, ?, 'stable', 'PUBLISHED', '1.' || n || '.0', 1, n, 0, '{}', ?, ? FROM seq`,
			[]any{n, acct, productID, now, now}},
		{`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
			INSERT INTO artifacts (id, account_id, release_id, product_id, filename, status, storage_key, metadata, created_at, updated_at)
			SELECT printf('00000000-0000-4000-a000-%012d', n), ?, printf('00000000-0000-4000-9000-%012d', n / ? + 1), ?, 'app-' || (n % ?) || '.bin',
				'UPLOADED', 'seed/' || n, '{}', ?, ? FROM seq`,
			[]any{n*perRelease - 1, acct, perRelease, productID, perRelease, now, now}},
	}
	for _, st := range stmts {
		if err := e.app.DB.Gorm.Exec(st.sql, st.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestDistributionRunsAFixedNumberOfQueries: upgrade and filename lookups
// run the same statements with 10 releases and with 5 000 releases and
// 10 000 artifacts in one product (the benchmarks use 10 000 and 50 000).
func TestDistributionRunsAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	counts := map[int][2]int64{}
	for _, n := range []int{10, 5_000} {
		e := newEnv(t, testenv.Backend{Name: "embedded"})
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
		key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
		e.publish(productID, "stable", "1.0.0")
		seedReleases(t, e, productID, n, 2)
		c, counter := counted(t, e)
		h := &hotPath{e: c, counter: counter}
		auth := header{"Authorization", "License " + key}
		// The least of two back-to-back runs: the account cache (30 s, not
		// renewed on a hit) can lapse during one of them, most of all under
		// the race detector's slow seeding, and add its lookup.
		steady := func(path string, headers ...header) int64 {
			return min(h.statements(t, "GET", path, "", headers...), h.statements(t, "GET", path, "", headers...))
		}
		upgrade := steady("/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, auth)
		lookup := steady("/v1/accounts/acme/artifacts/app-1.bin?product="+productID, auth, header{"Prefer", "no-download"})
		r := c.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "", auth)
		if want := fmt.Sprintf("1.%d.0", n); attrs(t, r)["version"] != want {
			t.Fatalf("upgrade picked %v, want %s", attrs(t, r)["version"], want)
		}
		counts[n] = [2]int64{upgrade, lookup}
		t.Logf("%6d releases, %6d artifacts: upgrade %d statements, filename lookup %d statements", n, n*2, upgrade, lookup)
	}
	if counts[10] != counts[5_000] {
		t.Fatalf("statement counts grow with the data: %v", counts)
	}
}

func benchmarkDistribution(b *testing.B, op func(h *hotPath, productID string, auth header) int64) {
	e := newEnv(b, testenv.Backend{Name: "embedded"})
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
	key := attrs(b, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
	e.publish(productID, "stable", "1.0.0")
	seedReleases(b, e, productID, 10_000, 5)
	c, counter := counted(b, e)
	h := &hotPath{e: c, counter: counter}
	auth := header{"Authorization", "License " + key}
	measure(b, func(int) int64 { return op(h, productID, auth) })
}

// BenchmarkUpgrade: 10 000 releases, 50 000 artifacts in one product.
func BenchmarkUpgrade(b *testing.B) {
	benchmarkDistribution(b, func(h *hotPath, productID string, auth header) int64 {
		return h.statements(b, "GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "", auth)
	})
}

// BenchmarkArtifactByFilename: the newest app-3.bin among 50 000 artifacts.
func BenchmarkArtifactByFilename(b *testing.B) {
	benchmarkDistribution(b, func(h *hotPath, productID string, auth header) int64 {
		return h.statements(b, "GET", "/v1/accounts/acme/artifacts/app-3.bin?product="+productID, "", auth, header{"Prefer", "no-download"})
	})
}
