package httpapi_test

import (
	"sort"
	"strings"
	"testing"

	keygen "github.com/keygen-sh/keygen-go/v3"

	"github.com/relkey/relkey/internal/testenv"
)

func linkages(ids ...string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = `{"type":"entitlements","id":"` + id + `"}`
	}
	return `{"data":[` + strings.Join(items, ",") + `]}`
}

func codes(t *testing.T, r *response) string {
	var out []string
	for _, item := range list(t, r) {
		out = append(out, item.(map[string]any)["attributes"].(map[string]any)["code"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestEntitlements(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		ent := func(code string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"`+code+`","code":"`+code+`"}}}`))
		}
		pro, support, beta := ent("PRO"), ent("SUPPORT"), ent("BETA")
		e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"x","code":"PRO"}}}`).expectError(t, 422, "CODE_TAKEN")
		if r := e.admin("GET", "/v1/accounts/acme/entitlements/PRO", ""); r.status != 200 || data(t, r)["id"] != pro {
			t.Fatalf("lookup by code: %d", r.status)
		}

		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
		attached := e.admin("POST", "/v1/accounts/acme/policies/"+policyID+"/entitlements", linkages(pro))
		if attached.status != 200 || list(t, attached)[0].(map[string]any)["type"] != "policy-entitlements" {
			t.Fatalf("attach to policy: %d %s", attached.status, attached.body)
		}
		e.admin("POST", "/v1/accounts/acme/policies/"+policyID+"/entitlements", linkages(support, pro)).expectError(t, 422, "ENTITLEMENT_TAKEN", "pointer", "/data/relationships/entitlement")
		e.admin("POST", "/v1/accounts/acme/policies/"+policyID+"/entitlements", linkages(e.acct.Account.ID)).expectError(t, 422, "ENTITLEMENT_NOT_FOUND", "pointer", "/data/relationships/entitlement")
		e.admin("POST", "/v1/accounts/acme/policies/"+policyID+"/entitlements", `{"data":[]}`).expectError(t, 400, "PARAMETERS_INVALID")
		if got := codes(t, e.admin("GET", "/v1/accounts/acme/policies/"+policyID+"/entitlements", "")); got != "PRO" {
			t.Fatalf("policy entitlements after a failed batch: %s", got)
		}

		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		licenseID, key := e.id(created), attrs(t, created)["key"].(string)
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(pro)).expectError(t, 422, "ENTITLEMENT_CONFLICT", "pointer", "/data/relationships/entitlement")
		if r := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(support)); r.status != 200 {
			t.Fatalf("attach to license: %d %s", r.status, r.body)
		}
		if got := codes(t, e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", "")); got != "PRO,SUPPORT" {
			t.Fatalf("license entitlements: %s", got)
		}
		licenseAuth := header{"Authorization", "License " + key}
		if got := codes(t, e.do("GET", "/v1/accounts/acme/entitlements", "", licenseAuth)); got != "PRO,SUPPORT" {
			t.Fatalf("a license sees %s", got)
		}
		e.do("GET", "/v1/accounts/acme/entitlements/"+beta, "", licenseAuth).expectError(t, 404, "NOT_FOUND")

		validate := func(scope string) map[string]any {
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"entitlements":`+scope+`}}}`)
			return r.doc(t)["meta"].(map[string]any)
		}
		if m := validate(`["PRO","SUPPORT"]`); m["code"] != "VALID" {
			t.Fatalf("held entitlements: %v", m)
		}
		if m := validate(`["PRO","BETA"]`); m["code"] != "ENTITLEMENTS_MISSING" {
			t.Fatalf("missing entitlement: %v", m)
		}

		// keygen-go reads entitlements out of a license file (decrypting needs no public key).
		file := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-out?encrypt=true&include=entitlements", "{}")
		ds, err := (&keygen.LicenseFile{Certificate: attrs(t, file)["certificate"].(string)}).Decrypt(key)
		if err != nil || len(ds.Entitlements) != 2 {
			t.Fatalf("license file entitlements: %+v, %v", ds, err)
		}

		e.admin("DELETE", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(beta)).expectError(t, 422, "ENTITLEMENT_NOT_FOUND")
		// An entitlement the license holds through its policy is not the license's to detach.
		e.admin("DELETE", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(support, pro)).expectError(t, 403, "ACCESS_DENIED", "pointer", "/data/1")
		if r := e.admin("DELETE", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(support)); r.status != 204 {
			t.Fatalf("detach: %d", r.status)
		}
		if r := e.admin("DELETE", "/v1/accounts/acme/entitlements/"+pro, ""); r.status != 204 {
			t.Fatalf("delete entitlement: %d", r.status)
		}
		if got := codes(t, e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID+"/entitlements", "")); got != "" {
			t.Fatalf("after deletes: %s", got)
		}
	})
}
