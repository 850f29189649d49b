package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// constraintsBody is the embedded-constraints document keygen-cli sends.
func constraintsBody(entitlementIDs ...string) string {
	items := make([]string, len(entitlementIDs))
	for i, id := range entitlementIDs {
		items[i] = `{"type":"constraints","relationships":{"entitlement":{"data":{"type":"entitlements","id":"` + id + `"}}}}`
	}
	return `{"data":[` + strings.Join(items, ",") + `]}`
}

func TestReleaseConstraints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		entitlement := func(code string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"`+code+`","code":"`+code+`"}}}`))
		}
		pro, beta := entitlement("PRO"), entitlement("BETA")
		licensed := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Licensed"`)))
		open := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Open","distributionStrategy":"OPEN"`)))

		// keygen-cli `new --entitlements PRO`: constraints embedded on create.
		inline := e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"2.0.0","channel":"stable","tag":null,"status":"PUBLISHED"},`+
			`"relationships":{"constraints":`+constraintsBody(pro)+`,"product":{"data":{"type":"products","id":"`+licensed+`"}}}}}`)
		proRelease := e.id(inline)
		rel := data(t, inline)["relationships"].(map[string]any)
		if rel["constraints"].(map[string]any)["links"].(map[string]any)["related"] != "/v1/accounts/"+e.acct.Account.ID+"/releases/"+proRelease+"/constraints" {
			t.Fatalf("constraints relationship: %v", rel["constraints"])
		}
		// A bad constraint fails the whole create: no release is left behind.
		e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"2.1.0","channel":"stable"},`+
			`"relationships":{"constraints":`+constraintsBody("")+`,"product":{"data":{"type":"products","id":"`+licensed+`"}}}}}`).
			expectError(t, 422, "CONSTRAINTS_ENTITLEMENT_NOT_FOUND", "pointer", "/data/relationships/constraints/data/0")
		e.admin("GET", "/v1/accounts/acme/releases/2.1.0?product="+licensed, "").expectError(t, 404, "NOT_FOUND")
		e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"2.1.0","channel":"stable"},`+
			`"relationships":{"constraints":{"data":[{"type":"entitlements","id":"`+pro+`"}]},"product":{"data":{"type":"products","id":"`+licensed+`"}}}}}`).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/relationships/constraints/0/type")

		both := e.publish(licensed, "stable", "3.0.0")
		path := "/v1/accounts/acme/releases/" + both + "/constraints"
		attached := e.admin("POST", path, constraintsBody(pro, beta))
		if attached.status != 200 || len(list(t, attached)) != 2 || list(t, attached)[0].(map[string]any)["type"] != "constraints" {
			t.Fatalf("attach: %d %s", attached.status, attached.body)
		}
		betaConstraint := list(t, attached)[1].(map[string]any)["id"].(string)
		e.admin("POST", path, constraintsBody(pro)).expectError(t, 422, "ENTITLEMENT_TAKEN", "pointer", "/data/relationships/entitlement")
		e.admin("POST", path, constraintsBody("7e0b1f4e-1c1d-4b7a-9a8e-000000000000")).expectError(t, 422, "ENTITLEMENT_NOT_FOUND", "pointer", "/data/relationships/entitlement")
		e.admin("POST", path, `{"data":{}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data")
		if r := e.admin("GET", path, ""); len(list(t, r)) != 2 {
			t.Fatalf("list constraints: %s", r.body)
		}
		if r := e.admin("GET", "/v1/accounts/acme/releases/"+both+"/entitlements", ""); codes(t, r) != "BETA,PRO" {
			t.Fatalf("release entitlements: %s", codes(t, r))
		}

		openConstrained := e.id(e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"1.0.0","channel":"stable","status":"PUBLISHED"},`+
			`"relationships":{"constraints":`+constraintsBody(pro)+`,"product":{"data":{"type":"products","id":"`+open+`"}}}}}`))
		openFree := e.publish(open, "stable", "1.1.0")
		plain := e.publish(licensed, "stable", "1.0.0")

		// entitlements[] keeps the releases constrained within the codes
		// (strict: every constraint among them), unconstrained ones too.
		ids := func(r *response) map[string]bool {
			out := map[string]bool{}
			for _, item := range list(t, r) {
				out[item.(map[string]any)["id"].(string)] = true
			}
			return out
		}
		for query, want := range map[string][]string{
			"entitlements[]=PRO":                     {proRelease, openConstrained, plain, openFree},
			"entitlements[]=PRO&entitlements[]=BETA": {proRelease, both, openConstrained, plain, openFree},
			"constraints[]=BETA":                     {plain, openFree},
			"entitlements[]=":                        {plain, openFree},
			"entitlements[]=NOPE":                    {plain, openFree},
		} {
			got := ids(e.admin("GET", "/v1/accounts/acme/releases?"+query, ""))
			if len(got) != len(want) {
				t.Errorf("releases?%s: %d releases, want %d", query, len(got), len(want))
			}
			for _, id := range want {
				if !got[id] {
					t.Errorf("releases?%s lacks %s", query, id)
				}
			}
		}

		// PRO comes from the policy, BETA from the license itself.
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(licensed, `"name":"P","authenticationStrategy":"LICENSE"`)))
		if r := e.admin("POST", "/v1/accounts/acme/policies/"+policyID+"/entitlements", linkages(pro)); r.status != 200 {
			t.Fatalf("attach pro: %d %s", r.status, r.body)
		}
		customer := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("buyer@acme.test", "user")))
		created := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+customer+`"}}}}}`)
		licenseID, key := e.id(created), attrs(t, created)["key"].(string)
		userToken := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("buyer@acme.test", "password-123")))

		seen := func(h ...header) map[string]int {
			out := map[string]int{}
			for _, id := range []string{proRelease, both, plain, openConstrained, openFree} {
				out[id] = e.do("GET", "/v1/accounts/acme/releases/"+id, "", h...).status
			}
			return out
		}
		for _, step := range []struct {
			name string
			h    []header
			want map[string]int
		}{
			{"license with PRO", []header{{"Authorization", "License " + key}}, map[string]int{proRelease: 200, both: 404, plain: 200, openConstrained: 404, openFree: 200}},
			{"user with PRO", []header{bearer(userToken)}, map[string]int{proRelease: 200, both: 404, plain: 200, openConstrained: 404, openFree: 200}},
			{"anonymous", nil, map[string]int{proRelease: 404, both: 404, plain: 404, openConstrained: 404, openFree: 200}},
			{"admin", []header{bearer(e.token)}, map[string]int{proRelease: 200, both: 200, plain: 200, openConstrained: 200, openFree: 200}},
		} {
			if got := seen(step.h...); !equalStatuses(got, step.want) {
				t.Fatalf("%s sees %v, want %v", step.name, got, step.want)
			}
		}
		licenseAuth := header{"Authorization", "License " + key}
		if r := e.do("GET", "/v1/accounts/acme/releases/2.0.0/upgrade?product="+licensed, "", licenseAuth); r.status != 404 {
			t.Fatalf("upgrade to a release the license lacks entitlements for: %d %s", r.status, r.body)
		}
		e.do("POST", path, constraintsBody(pro), licenseAuth).expectError(t, 404, "NOT_FOUND")
		e.do("POST", "/v1/accounts/acme/releases/"+proRelease+"/constraints", constraintsBody(beta), licenseAuth).expectError(t, 403, "ACCESS_DENIED")

		// With BETA on the license too, every constraint is held.
		if r := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(beta)); r.status != 200 {
			t.Fatalf("attach beta: %d %s", r.status, r.body)
		}
		if got := seen(licenseAuth); got[both] != 200 {
			t.Fatalf("a license holding PRO (policy) and BETA (own) sees %v", got)
		}
		if r := e.do("GET", "/v1/accounts/acme/releases/2.0.0/upgrade?product="+licensed, "", licenseAuth); r.status != 200 || attrs(t, r)["version"] != "3.0.0" {
			t.Fatalf("upgrade once entitled: %d %s", r.status, r.body)
		}

		// Detach by constraint id (Keygen's form) and by entitlement id.
		if r := e.admin("DELETE", path, `{"data":[{"type":"constraints","id":"`+betaConstraint+`"}]}`); r.status != 204 {
			t.Fatalf("detach: %d %s", r.status, r.body)
		}
		e.admin("DELETE", path, `{"data":[{"type":"constraints","id":"`+betaConstraint+`"}]}`).expectError(t, 422, "ENTITLEMENT_NOT_FOUND", "pointer", "/data/0")
		e.admin("DELETE", path, `{"data":[{"type":"constraints","id":"not-a-uuid"}]}`).expectError(t, 422, "ENTITLEMENT_NOT_FOUND", "pointer", "/data/0")
		if r := e.admin("DELETE", path, `{"data":[{"type":"constraints","id":"`+pro+`"}]}`); r.status != 204 {
			t.Fatalf("detach: %d %s", r.status, r.body)
		}
		if got := seen(); got[both] != 404 || got[openFree] != 200 {
			t.Fatalf("anonymous after detaching: %v", got)
		}
		if r := e.admin("GET", path, ""); len(list(t, r)) != 0 {
			t.Fatalf("constraints left: %s", r.body)
		}

		// Deleting an entitlement lifts the constraints it made.
		if r := e.admin("DELETE", "/v1/accounts/acme/entitlements/"+pro, ""); r.status != 204 {
			t.Fatalf("delete entitlement: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", "/v1/accounts/acme/releases/"+proRelease+"/constraints", ""); len(list(t, r)) != 0 {
			t.Fatalf("a deleted entitlement still constrains: %s", r.body)
		}
		if got := seen(); got[proRelease] != 404 || got[openConstrained] != 200 {
			t.Fatalf("anonymous once the only constraint is gone: %v", got)
		}
	})
}
