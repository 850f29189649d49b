package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// bearers holds one credential per role in account acme.
type bearers struct {
	readOnly, product, user, license string
	productID, userID, licenseID     string
	policyID                         string
}

func userBody(email, role string) string {
	return fmt.Sprintf(`{"data":{"type":"users","attributes":{"email":%q,"password":"password-123","role":%q}}}`, email, role)
}

func (e *env) id(r *response) string {
	e.t.Helper()
	if r.status >= 300 {
		e.t.Fatalf("setup request failed: %d %s\nserver log:\n%s", r.status, r.body, lastLines(e.logs.String(), 5))
	}
	return data(e.t, r)["id"].(string)
}

func (e *env) rawToken(r *response) string {
	e.t.Helper()
	if r.status != http.StatusCreated {
		e.t.Fatalf("token request failed: %d %s", r.status, r.body)
	}
	return attrs(e.t, r)["token"].(string)
}

func (e *env) seedBearers() bearers {
	e.t.Helper()
	var b bearers
	readOnlyID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("ro@acme.test", "read-only")))
	b.readOnly = e.rawToken(e.admin("POST", "/v1/accounts/acme/users/"+readOnlyID+"/tokens", ""))
	b.productID = e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Own","code":"own"`)))
	b.product = e.rawToken(e.admin("POST", "/v1/accounts/acme/products/"+b.productID+"/tokens", ""))
	b.userID = e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("customer@acme.test", "user")))
	b.user = e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-123")))
	b.policyID = e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(b.productID, `"name":"Key auth","authenticationStrategy":"MIXED"`)))
	created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, ""))
	b.licenseID = e.id(created)
	b.license = attrs(e.t, created)["key"].(string)
	return b
}

func policyBody(productID, attrs string) string {
	return `{"data":{"type":"policies","attributes":{` + attrs + `},"relationships":{"product":{"data":{"type":"products","id":"` + productID + `"}}}}}`
}

func licenseBody(policyID, attrs string) string {
	return `{"data":{"type":"licenses","attributes":{` + attrs + `},"relationships":{"policy":{"data":{"type":"policies","id":"` + policyID + `"}}}}}`
}

func TestRoleActionMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		roles := map[string][]header{
			"admin":     {bearer(e.token)},
			"read-only": {bearer(b.readOnly)},
			"product":   {bearer(b.product)},
			"user":      {bearer(b.user)},
			"license":   {{"Authorization", "License " + b.license}},
			"anonymous": nil,
		}
		n := 0
		unique := func() string { n++; return fmt.Sprintf("%d", n) }
		// Each action runs on a fresh record that is not the bearer's own.
		targets := map[string]func() string{
			"products": func() string {
				return e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Target `+unique()+`"`)))
			},
			"users": func() string {
				return e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("target"+unique()+"@acme.test", "user")))
			},
			"tokens": func() string {
				return e.id(e.admin("POST", "/v1/accounts/acme/tokens", ""))
			},
		}
		bodies := map[string]func() string{
			"products": func() string { return productBody(`"name":"New ` + unique() + `"`) },
			"users":    func() string { return userBody("new"+unique()+"@acme.test", "user") },
			"tokens":   func() string { return "" },
		}
		updates := map[string]struct{ method, body string }{
			"products": {"PATCH", productBody(`"name":"Changed"`)},
			"users":    {"PATCH", `{"data":{"type":"users","attributes":{"firstName":"Changed"}}}`},
			"tokens":   {"PUT", ""}, // regenerate
		}
		// Expected status per role: list, show, create, update, delete.
		want := map[string]map[string][5]int{
			"products": {
				"admin":     {200, 200, 201, 200, 204},
				"read-only": {200, 200, 403, 403, 403},
				"product":   {200, 404, 403, 404, 404},
				"user":      {403, 404, 403, 404, 404},
				"license":   {403, 404, 403, 404, 404},
				"anonymous": {401, 401, 401, 401, 401},
			},
			"users": {
				"admin":     {200, 200, 201, 200, 204},
				"read-only": {200, 200, 403, 403, 403},
				"product":   {200, 404, 201, 404, 404},
				"user":      {403, 404, 403, 404, 404},
				"license":   {403, 404, 403, 404, 404},
				"anonymous": {401, 401, 201, 401, 401}, // sign-up while the account is not protected
			},
			"tokens": {
				"admin":     {200, 200, 201, 200, 204},
				"read-only": {200, 200, 201, 403, 403},
				"product":   {200, 404, 201, 404, 404},
				"user":      {200, 404, 201, 404, 404},
				"license":   {200, 404, 403, 404, 404},
				"anonymous": {401, 401, 401, 401, 401},
			},
		}
		for resource, byRole := range want {
			base := "/v1/accounts/acme/" + resource
			for role, statuses := range byRole {
				h := roles[role]
				t.Run(resource+"/"+role, func(t *testing.T) {
					got := [5]int{
						e.do("GET", base, "", h...).status,
						e.do("GET", base+"/"+targets[resource](), "", h...).status,
						e.do("POST", base, bodies[resource](), h...).status,
						e.do(updates[resource].method, base+"/"+targets[resource](), updates[resource].body, h...).status,
						e.do("DELETE", base+"/"+targets[resource](), "", h...).status,
					}
					if got != statuses {
						t.Fatalf("list, show, create, update, delete = %v, want %v", got, statuses)
					}
				})
			}
		}

		// What each bearer sees of its own.
		if ids := listIDs(t, e.do("GET", "/v1/accounts/acme/products", "", bearer(b.product))); ids != b.productID {
			t.Fatalf("a product lists %s, want only itself", ids)
		}
		if r := e.do("PATCH", "/v1/accounts/acme/products/own", productBody(`"name":"Renamed by itself"`), bearer(b.product)); r.status != 200 {
			t.Fatalf("a product updates itself: %d", r.status)
		}
		e.do("DELETE", "/v1/accounts/acme/products/own", "", bearer(b.product)).expectError(t, 403, "ACCESS_DENIED")
		if r := e.do("GET", "/v1/accounts/acme/users/"+b.userID, "", bearer(b.user)); r.status != 200 {
			t.Fatalf("a user reads itself: %d", r.status)
		}
		e.do("DELETE", "/v1/accounts/acme/users/"+b.userID, "", bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		for _, raw := range []string{b.user, b.product} {
			r := e.do("GET", "/v1/accounts/acme/tokens", "", bearer(raw))
			for _, item := range list(t, r) {
				bearerID := item.(map[string]any)["relationships"].(map[string]any)["bearer"].(map[string]any)["data"].(map[string]any)["id"]
				if bearerID != b.userID && bearerID != b.productID {
					t.Fatalf("a bearer lists another bearer's token: %v", bearerID)
				}
			}
		}
	})
}

func listIDs(t *testing.T, r *response) string {
	t.Helper()
	var ids []string
	for _, item := range list(t, r) {
		ids = append(ids, item.(map[string]any)["id"].(string))
	}
	return strings.Join(ids, ",")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
