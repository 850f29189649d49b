package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

// batteryTables are counted before and after the bad-input battery.
var batteryTables = []string{"accounts", "artifacts", "components", "entitlements", "group_owners", "groups", "license_entitlements",
	"license_users", "licenses", "machines", "packages", "policies", "policy_entitlements", "processes", "products",
	"release_entitlement_constraints", "releases", "tokens", "users", "webhook_endpoints"}

// updatedTables are checked for rows touched during the battery.
var updatedTables = []string{"accounts", "artifacts", "entitlements", "groups", "licenses", "machines", "packages", "policies", "products", "releases", "tokens", "users", "webhook_endpoints"}

func (e *env) tableState(t *testing.T, since time.Time) map[string]int64 {
	state := map[string]int64{}
	db := e.app.DB.Conn(context.Background())
	for _, table := range batteryTables {
		var n int64
		if err := db.Raw("SELECT count(*) FROM " + table).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		state[table] = n
	}
	for _, table := range updatedTables {
		var n int64
		if err := db.Raw("SELECT count(*) FROM "+table+" WHERE updated_at >= ?", since).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		state[table+" updated"] = n
	}
	return state
}

// badRequest is one generated request of the battery.
type badRequest struct {
	method, path, body string
	headers            []header
}

// badInputs generates the battery: every collection and member route with
// malformed ids, filters, bodies (types, encodings, sizes, nesting) and
// headers. Every write is one that must be refused.
func badInputs(admin string) []badRequest {
	resources := []string{"products", "policies", "licenses", "machines", "users", "releases", "artifacts", "entitlements",
		"webhook-endpoints", "groups", "packages", "processes", "components"}
	ids := []string{"00000000-0000-0000-0000-000000000000", "%FF", "%00", "a%00b", "%C3%28", strings.Repeat("x", 4000),
		"..%2F..%2Fetc%2Fpasswd", "'%20OR%201=1--", "%F0%9F%94%91", "-1", "null", "%E2%80%AE"}
	filters := []string{"page[size]=-1&page[number]=1", "page[number]=abc&page[size]=2", "page[size]=100000&page[number]=1", "limit=-5", "limit=1e9",
		"product=%FF", "policy=%00", "user=not-an-id", "metadata[a][b][c]=d", "status=%FF%FE", "fingerprint=" + strings.Repeat("f", 5000),
		"page[cursor]=%00", "date[start]=yesterday", "&&&==", "a=%zz", "owner=%E2%80%AE", "machine=%00", "key=%FF"}
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	bodies := func(kind string) []string {
		return []string{"{", "[]", "null", `"text"`, "1e309", `{"data":null}`, `{"data":[]}`, `{"data":"x"}`, `{"data":{}}`,
			`{"data":{"type":"wrong-type","attributes":{}}}`,
			`{"data":{"type":"` + kind + `","attributes":{"name":123,"metadata":"x"}}}`,
			`{"data":{"type":"` + kind + `","attributes":{"name":"nul\u0000"}}}`,
			"{\"data\":{\"type\":\"" + kind + "\",\"attributes\":{\"name\":\"\xff\xfe\"},\"relationships\":{\"x\":{\"data\":{\"type\":\"y\",\"id\":\"\x00\"}}}}}",
			`{"data":{"type":"` + kind + `","attributes":{"metadata":` + deep + `}}}`,
			`{"data":{"type":"` + kind + `","attributes":{"name":"` + strings.Repeat("n", 2<<20) + `"}}}`,
			`{"data":{"type":"` + kind + `","id":"%00","attributes":{"maxMachines":-1,"duration":1e300}}}`,
			`{"data":{"type":"` + kind + `","relationships":{"product":{"data":{"type":"products","id":"00000000-0000-0000-0000-000000000000"}}}}}`,
			`{"meta":{"key":{"nested":[1,2,3]}}}`,
		}
	}
	auth := bearer(admin)
	var out []badRequest
	for _, base := range []string{"/v1/accounts/acme", "/v1"} {
		for _, r := range resources {
			collection := base + "/" + r
			for _, f := range filters {
				out = append(out, badRequest{"GET", collection + "?" + f, "", []header{auth}})
			}
			for _, b := range bodies(r) {
				out = append(out, badRequest{"POST", collection, b, []header{auth}})
			}
			for _, id := range ids {
				member := collection + "/" + id
				out = append(out, badRequest{"GET", member, "", []header{auth}}, badRequest{"DELETE", member, "", []header{auth}},
					badRequest{"GET", member, "", nil}, badRequest{"PATCH", member, bodies(r)[10], []header{auth}})
			}
		}
	}
	for _, h := range []header{{"Accept", "text/html"}, {"Accept", "\xff"}, {"Content-Type", "application/xml"}, {"Keygen-Version", "9.9"},
		{"Keygen-Version", "\xfe"}, {"Authorization", "Bearer"}, {"Authorization", "Basic %%%"}, {"Authorization", "License \xff"},
		{"Authorization", "Bearer " + strings.Repeat("t", 8000)}, {"Authorization", "Token x"}, {"Host", "evil.example"},
		{"X-Forwarded-For", "not-an-ip"}, {"Keygen-Environment", "\u00e9t\xe9"}} {
		for _, r := range resources {
			out = append(out, badRequest{"POST", "/v1/accounts/acme/" + r, "{", []header{auth, h}},
				badRequest{"GET", "/v1/accounts/acme/" + r + "/%FF", "", []header{h}})
		}
	}
	for _, key := range []string{"", "\u0000", "%FF", strings.Repeat("k", 10000), "' OR 1=1"} {
		out = append(out, badRequest{"POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":` + fmt.Sprintf("%q", key) + `}}`, nil})
	}
	return out
}

// TestBadInputBattery sends over a thousand generated malformed requests:
// none is a 5xx, every write is refused, and no row changes.
func TestBadInputBattery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.seedBearers()
		mark := time.Now()
		before := e.tableState(t, mark)
		requests := badInputs(e.token)
		if len(requests) < 1000 {
			t.Fatalf("the battery has %d requests, want at least 1000", len(requests))
		}
		fives := 0
		for _, r := range requests {
			resp := e.do(r.method, r.path, r.body, r.headers...)
			if resp.status >= 500 {
				fives++
				t.Errorf("%s %.80s: %d %.200s", r.method, r.path, resp.status, resp.body)
			}
			// validate-key is a lookup: an unknown key is 200 valid:false, as Keygen.
			if r.method != "GET" && resp.status < 400 && !strings.HasSuffix(r.path, "/validate-key") {
				t.Errorf("%s %.80s (%.60s): accepted with %d", r.method, r.path, r.body, resp.status)
			}
		}
		after := e.tableState(t, mark)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: %d rows before the battery, %d after", table, n, after[table])
			}
		}
		t.Logf("%d requests, %d × 5xx", len(requests), fives)
		if lines := e.errorLines(); len(lines) > 0 {
			t.Errorf("%d ERROR lines, first: %s", len(lines), lines[0])
		}
	})
}
