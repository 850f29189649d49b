package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestAccountUpdate follows Keygen's accounts/update.feature: admins and
// developers change name, slug, protected and the default API version.
func TestAccountUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		e.onboard("globex")
		path := "/v1/accounts/acme"

		shown := e.admin("GET", path, "")
		a, rels := attrs(t, shown), data(t, shown)["relationships"].(map[string]any)
		if a["apiVersion"] != "1.8" || a["status"] != nil || rels["products"] == nil || rels["webhookEndpoints"] == nil {
			t.Fatalf("account: %s", shown.body)
		}

		e.do("PATCH", path, `{"data":{"type":"accounts","attributes":{"name":"X"}}}`, bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		e.do("PATCH", path, `{"data":{"type":"accounts","attributes":{"name":"X"}}}`, bearer(b.readOnly)).expectError(t, 403, "ACCESS_DENIED")
		e.do("PATCH", path, `{"data":{"type":"accounts","attributes":{"name":"X"}}}`).expectError(t, 401, "TOKEN_MISSING")
		e.admin("PATCH", path, `{"data":{"type":"accounts","attributes":{"slug":"globex"}}}`).expectError(t, 422, "SLUG_TAKEN", "pointer", "/data/attributes/slug")
		e.admin("PATCH", path, `{"data":{"type":"accounts","attributes":{"slug":"Not A Slug"}}}`).expectError(t, 422, "SLUG_INVALID")
		e.admin("PATCH", path, `{"data":{"type":"accounts","attributes":{"apiVersion":"2.0"}}}`).expectError(t, 422, "API_VERSION_NOT_ALLOWED", "pointer", "/data/attributes/apiVersion")
		e.admin("PATCH", path, `{"data":{"type":"accounts","attributes":{"plan":"x"}}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/plan")

		r := e.admin("PATCH", path, `{"data":{"type":"accounts","attributes":{"name":"Acme Inc","slug":"acme-inc","protected":true,"apiVersion":"1.1"}}}`)
		if a := attrs(t, r); r.status != 200 || a["name"] != "Acme Inc" || a["slug"] != "acme-inc" || a["protected"] != true || a["apiVersion"] != "1.1" {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		// The new slug serves at once, the old one is gone; requests that
		// pin no version speak the account's.
		e.admin("GET", path, "").expectError(t, 404, "NOT_FOUND")
		r = e.admin("GET", "/v1/accounts/acme-inc/me", "")
		if r.status != 200 || r.header.Get("Keygen-Version") != "1.1" {
			t.Fatalf("after the update: %d %v", r.status, r.header)
		}
		if r := e.admin("GET", "/v1/accounts/acme-inc/me", "", header{"Keygen-Version", "1.8"}); r.header.Get("Keygen-Version") != "1.8" {
			t.Fatalf("a pinned version: %v", r.header)
		}
		// Protected: anonymous sign-up is refused now.
		e.do("POST", "/v1/accounts/acme-inc/users", userBody("signup@acme.test", "user")).expectError(t, 401, "TOKEN_MISSING")
		if r := e.admin("PUT", "/v1/accounts/acme-inc", `{"data":{"type":"account","attributes":{"apiVersion":null,"protected":false,"slug":"acme"}}}`); r.status != 200 ||
			attrs(t, r)["apiVersion"] != "1.8" || attrs(t, r)["protected"] != false {
			t.Fatalf("PUT: %d %s", r.status, r.body)
		}
		if got := e.eventsOf("account."); len(got) != 2 || !strings.HasPrefix(got[0], "account.updated accounts/"+e.acct.Account.ID) {
			t.Fatalf("events: %v", got)
		}
	})
}
