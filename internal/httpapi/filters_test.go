package httpapi_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

// unix and rfc are now plus d, as Unix seconds and RFC 3339 (escaped).
func unix(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
func rfc(d time.Duration) string {
	return url.QueryEscape(time.Now().Add(d).UTC().Format(time.RFC3339))
}

// TestLicenseFilters checks Keygen's license index filters (scenarios of
// features/api/v1/licenses/index.feature): each picks the licenses it
// names, and a value of the wrong shape is a 400 on its parameter.
func TestLicenseFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","maxMachines":5,"floating":true`)))
		create := func(attrs string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, attrs)))
		}
		soon := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
		past := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		tagged := create(`"metadata":{"externalId":"1624214616","tos":1,"deleted":false,"score":1.5}`)
		suspended := create(`"suspended":true,"metadata":{"externalId":"x","tos":0,"deleted":true}`)
		expiring := create(`"expiry":"` + soon + `"`)
		expired := create(`"expiry":"` + past + `"`)
		userID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		owned := e.id(e.admin("POST", "/v1/accounts/acme/licenses",
			`{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+userID+`"}}}}}`))
		machineID := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(tagged, `"fingerprint":"f1"`)))
		e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(tagged, `"fingerprint":"f2"`)))
		e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(owned, `"fingerprint":"f3"`)))
		all := []string{tagged, suspended, expiring, expired, owned}

		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"", all},
			{"metadata[externalId]=1624214616", []string{tagged}},
			{"metadata[external_id]=1624214616", []string{tagged}},
			{"metadata[tos]=1", []string{tagged}},
			{"metadata[tos]=0", []string{suspended}},
			{"metadata[deleted]=false", []string{tagged}},
			{"metadata[score]=1.5", []string{tagged}},
			{"metadata[externalId]=x&metadata[deleted]=true", []string{suspended}},
			{"metadata[externalId]=162421", nil},
			{"suspended=true", []string{suspended}},
			{"suspended=false", []string{tagged, expiring, expired, owned}},
			{"status=SUSPENDED", []string{suspended}},
			{"status=expired", []string{expired}},
			{"status=EXPIRING", []string{expiring}},
			{"status=ACTIVE", all},
			{"status=INACTIVE", nil},
			{"status=BOGUS", nil},
			{"expiring=true", []string{expiring}},
			{"expired=true", []string{expired}},
			{"expired=false", []string{tagged, suspended, expiring, owned}},
			{"assigned=true", []string{owned}},
			{"unassigned=true", []string{tagged, suspended, expiring, expired}},
			{"user=" + userID, []string{owned}},
			{"owner=" + userID, []string{owned}},
			{"machine=" + machineID, []string{tagged}},
			{"activated=true", []string{tagged, owned}},
			{"activated=false", []string{suspended, expiring, expired}},
			{"activations[gte]=2", []string{tagged}},
			{"activations[eq]=1", []string{owned}},
			{"activations[lt]=1", []string{suspended, expiring, expired}},
			{"product=" + productID + "&policy=" + policyID + "&suspended", []string{suspended}},
			{"expires[within]=P2D", []string{expiring}},
			{"expires[within]=2d", []string{expiring}},
			{"expires[in]=172800", []string{expiring}},
			{"expires[within]=PT1H", nil},
			{"expires[before]=" + unix(48*time.Hour), []string{expiring}},
			{"expires[before]=" + rfc(time.Hour), nil},
			{"expires[after]=" + rfc(time.Hour), []string{expiring}},
			{"expires[on]=" + time.Now().Add(24*time.Hour).UTC().Format(time.DateOnly), []string{expiring}},
			{"expired[within]=P2D", []string{expired}},
			{"expired[within]=PT1H", nil},
			{"expired[before]=" + unix(0), []string{expired}},
			{"expired[after]=" + rfc(-time.Hour), nil},
			{"expired[on]=" + time.Now().Add(-24*time.Hour).UTC().Format(time.DateOnly), []string{expired}},
			{"activity[inside]=P1D", all},
			{"activity[outside]=P1D", nil},
			{"activity[before]=" + unix(-time.Hour), nil},
			{"activity[after]=" + rfc(-time.Hour), all},
		} {
			r := e.admin("GET", "/v1/accounts/acme/licenses?limit=100&order=asc&"+tt.query, "")
			if r.status != 200 {
				t.Fatalf("?%s: %d %s", tt.query, r.status, r.body)
			}
			var got []string
			for _, item := range list(t, r) {
				got = append(got, item.(map[string]any)["id"].(string))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("?%s: %d licenses %v, want %v", tt.query, len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("?%s: %v, want %v", tt.query, got, tt.want)
				}
			}
		}

		for _, tt := range []struct{ query, parameter string }{
			{"metadata=foo", "metadata"},
			{"metadata[a%22b]=1", `metadata[a"b]`},
			{"suspended=maybe", "suspended"},
			{"status[x]=1", "status"},
			{"activations=2", "activations"},
			{"activations[gte]=two", "activations[gte]"},
			{"activations[between]=1", "activations[between]"},
			{"user=nobody", "user"},
			{"machine=x", "machine"},
			{"expires=1", "expires"},
			{"expires[within]=soon", "expires[within]"},
			{"expires[within]=P", "expires[within]"},
			{"expires[before]=tomorrow", "expires[before]"},
			{"expires[on]=2026-13-01", "expires[on]"},
			{"expires[bogus]=1", "expires[bogus]"},
			{"expired[within]=x", "expired[within]"},
			{"expired=maybe", "expired"},
			{"activity=1", "activity"},
			{"activity[inside]=x", "activity[inside]"},
			{"activity[within]=P1D", "activity[within]"},
		} {
			e.admin("GET", "/v1/accounts/acme/licenses?"+tt.query, "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", tt.parameter)
		}
	})
}

// TestMachineFilters checks Keygen's machine index filters and the user's
// machines and products (users/:id/machines, users/:id/products).
func TestMachineFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Unused"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","maxMachines":5,"floating":true`)))
		userID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		owned := e.id(e.admin("POST", "/v1/accounts/acme/licenses",
			`{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+userID+`"}}}}}`))
		other := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		tagged := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(owned, `"fingerprint":"f1","hostname":"box","ip":"10.0.0.1","metadata":{"rack":"a1","slot":3}`)))
		plain := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(other, `"fingerprint":"f2"`)))
		for _, tt := range []struct {
			path string
			want []string
		}{
			{"/machines?metadata[rack]=a1", []string{tagged}},
			{"/machines?metadata[slot]=3", []string{tagged}},
			{"/machines?metadata[slot]=4", nil},
			{"/machines?hostname=box", []string{tagged}},
			{"/machines?ip=10.0.0.1", []string{tagged}},
			{"/machines?user=" + userID, []string{tagged}},
			{"/machines?policy=" + policyID, []string{tagged, plain}},
			{"/machines?fingerprint=f2", []string{plain}},
			{"/users/" + userID + "/machines", []string{tagged}},
			{"/users/" + userID + "/products", []string{productID}},
		} {
			r := e.admin("GET", "/v1/accounts/acme"+tt.path+sep(tt.path)+"order=asc", "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", tt.path, r.status, r.body)
			}
			var got []string
			for _, item := range list(t, r) {
				got = append(got, item.(map[string]any)["id"].(string))
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Fatalf("%s: %v, want %v", tt.path, got, tt.want)
			}
		}
		e.admin("GET", "/v1/accounts/acme/machines?metadata=x", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "metadata")
		e.admin("GET", "/v1/accounts/acme/machines?hostname[a]=x", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "hostname")
		e.admin("GET", "/v1/accounts/acme/users/nobody@acme.test/machines", "").expectError(t, 404, "NOT_FOUND")
	})
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// TestCursorPagination is Keygen's keyset pagination (page[cursor] and
// page[size], features/api/v1/licenses/index.feature): the records after
// the cursor, a next link while more follow, 400 on a cursor that is no id.
func TestCursorPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		var created []string
		for range 7 {
			created = append(created, e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`))))
		}
		base := "/v1/accounts/acme/products"
		var seen []string
		next := base + "?page[cursor]=&page[size]=3"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatalf("more pages than 7 products need: %v", seen)
			}
			r := e.admin("GET", next, "")
			if r.status != 200 {
				t.Fatalf("GET %s: %d %s", next, r.status, r.body)
			}
			for _, item := range list(t, r) {
				seen = append(seen, item.(map[string]any)["id"].(string))
			}
			links := r.doc(t)["links"].(map[string]any)
			if self, _ := links["self"].(string); !strings.Contains(self, "page%5Bsize%5D=3") {
				t.Fatalf("self link %v", links["self"])
			}
			next, _ = links["next"].(string)
		}
		if len(seen) != 7 || seen[0] != created[6] || seen[6] != created[0] {
			t.Fatalf("keyset pages: %v, want newest first %v", seen, created)
		}
		r := e.admin("GET", base+"?page[cursor]="+created[3]+"&page[size]=10&order=asc", "")
		if items := list(t, r); len(items) != 3 || items[0].(map[string]any)["id"] != created[4] || r.doc(t)["links"].(map[string]any)["next"] != nil {
			t.Fatalf("after a cursor, ascending: %s", r.body)
		}
		e.admin("GET", base+"?page[size]=5&page[cursor]=foo", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "page[cursor]")
	})
}

// TestUserFilters checks Keygen's users index filters.
func TestUserFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P"`)))
		owner := e.id(e.admin("POST", "/v1/accounts/acme/users", `{"data":{"type":"users","attributes":{"email":"owner@acme.test","metadata":{"crmId":"42"}}}}`))
		licensee := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("licensee@acme.test", "user")))
		idle := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("idle@acme.test", "user")))
		licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses",
			`{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+owner+`"}}}}}`))
		if r := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/users", `{"data":[{"type":"users","id":"`+licensee+`"}]}`); r.status != 200 {
			t.Fatalf("attach licensee: %d %s", r.status, r.body)
		}
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"", []string{owner, licensee, idle}},
			{"metadata[crmId]=42", []string{owner}},
			{"metadata[crm_id]=42", []string{owner}},
			{"product=" + productID, []string{owner, licensee}},
			{"license=" + licenseID, []string{owner, licensee}},
			{"assigned=true", []string{owner}},
			{"assigned=false", []string{licensee, idle}},
		} {
			r := e.admin("GET", "/v1/accounts/acme/users?order=asc&"+tt.query, "")
			var got []string
			for _, item := range list(t, r) {
				got = append(got, item.(map[string]any)["id"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("?%s: %v, want %v", tt.query, got, tt.want)
			}
		}
		e.admin("GET", "/v1/accounts/acme/users?metadata=x", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "metadata")
		e.admin("GET", "/v1/accounts/acme/users?assigned=perhaps", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "assigned")
	})
}

// TestReleaseFilters checks Keygen's yanked and engine release filters.
func TestReleaseFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		packageID := e.id(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"Raw","key":"raw-pkg","engine":"raw"`)))
		kept := e.publish(productID, "stable", "1.0.0")
		yanked := e.publish(productID, "stable", "1.1.0")
		if r := e.admin("POST", "/v1/accounts/acme/releases/"+yanked+"/actions/yank", ""); r.status != 200 {
			t.Fatalf("yank: %d %s", r.status, r.body)
		}
		packaged := e.id(e.admin("POST", "/v1/accounts/acme/releases",
			`{"data":{"type":"releases","attributes":{"channel":"stable","version":"1.0.0","status":"PUBLISHED"},"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}},"package":{"data":{"type":"packages","id":"`+packageID+`"}}}}}`))
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"yanked=true", []string{yanked}},
			{"yanked=false", []string{kept, packaged}},
			{"engine=raw", []string{packaged}},
			{"engine=", []string{kept, yanked}},
			{"engine=pypi", nil},
		} {
			r := e.admin("GET", "/v1/accounts/acme/releases?order=asc&"+tt.query, "")
			var got []string
			for _, item := range list(t, r) {
				got = append(got, item.(map[string]any)["id"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("?%s: %d %v, want %v", tt.query, r.status, got, tt.want)
			}
		}
		e.admin("GET", "/v1/accounts/acme/releases?yanked=sometimes", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "yanked")
	})
}

// TestMoreIndexFilters covers the rest of Keygen's has_scope filters relkey
// reads: tokens bearer[type|id|role], machines key, users status and active,
// artifacts status, filetype and engine, event-logs event; a value of the wrong shape is a 400 on its parameter.
func TestMoreIndexFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme"
		ids := func(path string) []string {
			t.Helper()
			r := e.admin("GET", base+path, "")
			if r.status != 200 {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
			var out []string
			for _, it := range list(t, r) {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			return out
		}
		expect := func(path string, want ...string) {
			t.Helper()
			got := ids(path)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("GET %s: %v, want %v", path, got, want)
			}
		}

		productTokens := ids("/tokens?bearer[type]=product&bearer[id]=" + b.productID)
		if len(productTokens) != 1 {
			t.Fatalf("product tokens: %v", productTokens)
		}
		expect("/tokens?bearer[type]=Products&bearer[id]="+b.productID, productTokens...)
		expect("/tokens?bearer[type]=license")
		if n := len(ids("/tokens?bearer[type]=user")); n < 2 {
			t.Fatalf("user tokens: %d", n)
		}
		expect("/tokens?bearer[role]=product", productTokens...)
		expect("/tokens?bearer[role]=license")
		expect("/tokens?bearer[role]=bogus")
		for role, n := range map[string]int{"read_only": 1, "read-only": 1, "user": 1, "User": 1} {
			if got := len(ids("/tokens?bearer[role]=" + role)); got != n {
				t.Fatalf("bearer[role]=%s: %d tokens, want %d", role, got, n)
			}
		}
		if n := len(ids("/tokens?bearer[role]=admin&bearer[type]=user")); n < 1 {
			t.Fatalf("admin tokens: %d", n)
		}
		e.admin("GET", base+"/tokens?bearer[roles]=admin", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "bearer[roles]")

		other := e.admin("POST", base+"/licenses", licenseBody(b.policyID, ""))
		mine := e.id(e.admin("POST", base+"/machines", machineBody(b.licenseID, `"fingerprint":"k1"`)))
		e.id(e.admin("POST", base+"/machines", machineBody(data(t, other)["id"].(string), `"fingerprint":"k2"`)))
		expect("/machines?key="+b.license, mine)
		expect("/machines?key=nope")

		banned := e.id(e.admin("POST", base+"/users", userBody("banned@acme.test", "user")))
		e.admin("POST", base+"/users/"+banned+"/actions/ban", "")
		expect("/users?status=BANNED", banned)
		expect("/users?status=inactive")
		if n := len(ids("/users?status=ACTIVE")); n != 1 {
			t.Fatalf("active users: %d", n)
		}
		expect("/users?status=BOGUS")
		e.id(e.admin("PUT", base+"/licenses/"+b.licenseID+"/owner", `{"data":{"type":"users","id":"`+b.userID+`"}}`))
		expect("/users?active=true", b.userID)

		releaseID := e.publish(b.productID, "stable", "1.0.0")
		pkg := e.id(e.admin("POST", base+"/packages", packageBody(b.productID, `"name":"Py","key":"py","engine":"pypi"`)))
		pyRelease := e.id(e.admin("POST", base+"/releases", `{"data":{"type":"releases","attributes":{"channel":"stable","version":"2.0.0","status":"PUBLISHED"},`+
			`"relationships":{"product":{"data":{"type":"products","id":"`+b.productID+`"}},"package":{"data":{"type":"packages","id":"`+pkg+`"}}}}}`))
		zip := data(t, e.admin("POST", base+"/artifacts", artifactBody(releaseID, `"filename":"app.zip","filetype":"zip"`)))["id"].(string)
		whl := data(t, e.admin("POST", base+"/artifacts", artifactBody(pyRelease, `"filename":"app.whl","filetype":"whl"`)))["id"].(string)
		expect("/artifacts?filetype=.ZIP", zip)
		expect("/artifacts?engine=pypi", whl)
		expect("/artifacts?engine=", zip)
		expect("/artifacts?status=waiting", whl, zip)
		expect("/artifacts?status=UPLOADED")

		if n := len(ids("/event-logs?event=user.banned")); n != 1 {
			t.Fatalf("user.banned events: %d", n)
		}

		for _, tt := range []struct{ query, parameter string }{
			{"/tokens?bearer=x", "bearer"},
			{"/tokens?bearer[kind]=x", "bearer[kind]"},
			{"/tokens?bearer[id]=nope", "bearer[id]"},
			{"/machines?key[a]=b", "key"},
			{"/users?status[a]=b", "status"},
			{"/users?active=maybe", "active"},
		} {
			e.admin("GET", base+tt.query, "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", tt.parameter)
		}
	})
}
