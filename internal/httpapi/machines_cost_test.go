package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// seedMachines adds n machines (seed-0…) to the license in one statement,
// inside the database, each with 1 core.
func seedMachines(t *testing.T, e *env, licenseID string, n int) {
	t.Helper()
	ids := "printf('00000000-0000-4000-b000-%012d', n)"
	seq := "(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ? - 1) SELECT n FROM seq) s"
	if e.app.DB.Engine == database.Postgres {
		ids, seq = "gen_random_uuid()", "generate_series(0, ? - 1) AS s(n)"
	}
	now := database.Now()
	err := e.app.DB.Gorm.Exec(`INSERT INTO machines (id, account_id, license_id, policy_id, product_id, fingerprint, cores, metadata, created_at, updated_at)
		SELECT `+ids+`, l.account_id, l.id, l.policy_id, l.product_id, 'seed-' || n, 1, '{}', ?, ? FROM licenses l, `+seq+` WHERE l.id = ?`,
		now, now, n, licenseID).Error
	if err != nil {
		t.Fatal(err)
	}
}

// TestActivationCostDoesNotGrowWithMachines activates on a license that
// already has 10 and 5 000 machines, on both engines: the same statements
// run, none of them walks the license's machines (PostgreSQL: the buffers
// each read touches stay bounded; SQLite: every read of machines is a
// probe of the license and fingerprint), and the limits count the machines
// already there.
func TestActivationCostDoesNotGrowWithMachines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		shapes := map[int][]string{}
		for _, n := range []int{10, 5_000} {
			e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = time.Minute })
			licenseID, key := e.licensed(fmt.Sprintf(`"name":"Full","floating":true,"maxMachines":%d,"maxCores":%d,"authenticationStrategy":"LICENSE"`, n+1, n+3))
			seedMachines(t, e, licenseID, n)
			c, recorder := countedBy(t, e, database.NewStatementRecorder())
			auth := header{"Authorization", "License " + key}
			c.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"seed-1"`), auth).expectError(t, 422, "FINGERPRINT_TAKEN")
			c.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"big","cores":4`), auth).expectError(t, 422, "MACHINE_CORE_LIMIT_EXCEEDED")
			before := len(recorder.Statements())
			if r := c.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"last","cores":2`), auth); r.status != 201 {
				t.Fatalf("%d machines: activation within the limits: %d %s", n, r.status, r.body)
			}
			activation := recorder.Statements()[before:]
			c.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"over"`), auth).expectError(t, 422, "MACHINE_LIMIT_EXCEEDED")
			for _, st := range activation {
				shapes[n] = append(shapes[n], st.SQL)
				if !strings.HasPrefix(st.SQL, "SELECT") {
					continue
				}
				if be.Postgres {
					for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
						if buffers := postgresBuffers(t, e, mode, st); buffers > 64 {
							t.Errorf("%d machines, %s: %d buffers for %s", n, mode, buffers, st.SQL)
						}
					}
				} else if step := machinesWalk(t, e, st); step != "" {
					t.Errorf("%d machines: %q in the plan of %s", n, step, st.SQL)
				}
			}
		}
		if strings.Join(shapes[10], "\n") != strings.Join(shapes[5_000], "\n") {
			t.Fatalf("the statements differ with the machines:\n%v\n%v", shapes[10], shapes[5_000])
		}
	})
}

// machinesWalk returns the SQLite plan step that reads machines other than
// by license and fingerprint together, or "".
func machinesWalk(t *testing.T, e *env, st database.Statement) string {
	t.Helper()
	for _, detail := range sqlitePlan(t, e, st) {
		if strings.Contains(detail, " machines") && !strings.HasSuffix(detail, "(license_id=? AND fingerprint=?)") {
			return detail
		}
	}
	return ""
}

// sqlitePlan is the detail of each step of the statement's SQLite plan.
func sqlitePlan(t *testing.T, e *env, st database.Statement) []string {
	t.Helper()
	rows, err := e.app.DB.SQL.Query("EXPLAIN QUERY PLAN "+st.SQL, st.Vars...)
	if err != nil {
		t.Fatalf("explain %s: %v", st.SQL, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return steps
}

// TestMachineTotalsFollowTheMachines: a license's machine totals (one row
// kept by triggers) follow activations, changes of cores and
// deactivations, and the limits apply to them.
func TestMachineTotalsFollowTheMachines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, _ := e.licensed(`"name":"Totals","floating":true,"maxMachines":2,"maxCores":10`)
		totals := func(want string) {
			t.Helper()
			meta := data(t, e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID, ""))["relationships"].(map[string]any)["machines"].(map[string]any)["meta"].(map[string]any)
			if got := fmt.Sprintf("count %v cores %v", meta["count"], meta["cores"]); got != want {
				t.Fatalf("totals %s, want %s", got, want)
			}
		}
		totals("count 0 cores 0")
		first := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"a","cores":2`)))
		e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"b","cores":3`))
		totals("count 2 cores 5")
		e.admin("PATCH", "/v1/accounts/acme/machines/"+first, `{"data":{"type":"machines","attributes":{"cores":7,"name":"renamed"}}}`)
		totals("count 2 cores 10")
		if r := e.admin("DELETE", "/v1/accounts/acme/machines/b", ""); r.status != 204 {
			t.Fatalf("deactivate: %d %s", r.status, r.body)
		}
		totals("count 1 cores 7")
		e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"c","cores":4`)).expectError(t, 422, "MACHINE_CORE_LIMIT_EXCEEDED")
		if r := e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"c","cores":3`)); r.status != 201 {
			t.Fatalf("activation within the limits after a deactivation: %d %s", r.status, r.body)
		}
		totals("count 2 cores 10")
	})
}

// TestConcurrentActivationsOfOneFingerprintInTheAccount: under
// UNIQUE_PER_ACCOUNT, activating one fingerprint on 12 licenses at once
// makes one machine; the others are taken.
func TestConcurrentActivationsOfOneFingerprintInTheAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"U"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Account-unique","machineUniquenessStrategy":"UNIQUE_PER_ACCOUNT"`)))
		licenses := make([]string, 12)
		for i := range licenses {
			licenses[i] = e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		}
		var wg sync.WaitGroup
		statuses := make([]int, len(licenses))
		for i, licenseID := range licenses {
			wg.Go(func() {
				statuses[i] = e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"shared"`)).status
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		if counts[201] != 1 || counts[422] != len(licenses)-1 {
			t.Fatalf("statuses %v, want 1×201 and %d×422", counts, len(licenses)-1)
		}
	})
}

// TestConcurrentActivationsOfOneFingerprintOnALicense: activating one
// fingerprint 12 times at once on one license makes one machine; the
// others are refused as taken (by the claim, or by the unique index when
// the first committed while they waited for the license: on PostgreSQL the
// insert goes with the commit, which reports it), never with a 500.
func TestConcurrentActivationsOfOneFingerprintOnALicense(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
		licenseID, _ := e.licensed(`"name":"Floating","floating":true,"maxMachines":100`)
		var wg sync.WaitGroup
		responses := make([]*response, 12)
		for i := range responses {
			wg.Go(func() {
				responses[i] = e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"same"`))
			})
		}
		wg.Wait()
		created := 0
		for _, r := range responses {
			switch {
			case r.status == 201:
				created++
			case r.status != 422 || !strings.Contains(string(r.body), `"code":"FINGERPRINT_TAKEN"`) || !strings.Contains(string(r.body), `"pointer":"/data/attributes/fingerprint"`):
				t.Fatalf("activation: %d %s", r.status, r.body)
			}
		}
		if created != 1 {
			t.Fatalf("%d activations succeeded, want 1", created)
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+licenseID, ""))); n != 1 {
			t.Fatalf("%d machines exist, want 1", n)
		}
	})
}
