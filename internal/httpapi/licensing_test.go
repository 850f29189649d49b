package httpapi_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/relkey/relkey/internal/testenv"
)

func TestPolicies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		created := e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Default"`))
		a := attrs(t, created)
		defaults := map[string]any{
			"maxMachines": 1.0, "floating": false, "strict": false, "duration": nil, "expirationStrategy": "RESTRICT_ACCESS",
			"expirationBasis": "FROM_CREATION", "authenticationStrategy": "TOKEN", "heartbeatBasis": "FROM_FIRST_PING",
			"machineUniquenessStrategy": "UNIQUE_PER_LICENSE", "componentUniquenessStrategy": "UNIQUE_PER_MACHINE",
			"overageStrategy": "NO_OVERAGE", "renewalBasis": "FROM_EXPIRY", "transferStrategy": "KEEP_EXPIRY",
			"processLeasingStrategy": "PER_MACHINE", "machineLeasingStrategy": "PER_LICENSE", "heartbeatCullStrategy": "DEACTIVATE_DEAD",
			"heartbeatResurrectionStrategy": "NO_REVIVE", "machineMatchingStrategy": "MATCH_ANY", "protected": false,
		}
		for k, v := range defaults {
			if a[k] != v {
				t.Errorf("default %s = %v, want %v", k, a[k], v)
			}
		}
		hb := attrs(t, e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"HB","requireHeartbeat":true,"floating":true,"maxMachines":5`)))
		if hb["heartbeatBasis"] != "FROM_CREATION" || hb["maxMachines"] != 5.0 {
			t.Errorf("heartbeat policy: %v", hb)
		}
		for _, tt := range []struct{ attrs, code, pointer string }{
			{`"name":"X","duration":3600`, "DURATION_INVALID", "/data/attributes/duration"},
			{`"name":"X","expirationStrategy":"SOMETIMES"`, "EXPIRATION_STRATEGY_NOT_ALLOWED", "/data/attributes/expirationStrategy"},
			{`"name":"X","maxMachines":2`, "MAX_MACHINES_INVALID", "/data/attributes/maxMachines"},
			{`"name":"X","floating":true,"maxMachines":0`, "MAX_MACHINES_INVALID", "/data/attributes/maxMachines"},
			{`"name":"X","overageStrategy":"ALLOW_1_25X_OVERAGE"`, "OVERAGE_STRATEGY_NOT_ALLOWED", "/data/attributes/overageStrategy"},
			{`"name":"X","floating":true,"maxMachines":6,"overageStrategy":"ALLOW_1_25X_OVERAGE"`, "OVERAGE_STRATEGY_NOT_ALLOWED", "/data/attributes/overageStrategy"},
			{`"name":"X","heartbeatResurrectionStrategy":"ALWAYS_REVIVE"`, "HEARTBEAT_CULL_STRATEGY_NOT_ALLOWED", "/data/attributes/heartbeatCullStrategy"},
			{`"name":"X","requireCheckIn":true`, "CHECK_IN_INTERVAL_MISSING", "/data/attributes/checkInInterval"},
			{`"name":"X","scheme":"LEGACY_ENCRYPT"`, "SCHEME_NOT_ALLOWED", "/data/attributes/scheme"},
		} {
			e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, tt.attrs)).expectError(t, 422, tt.code, "pointer", tt.pointer)
		}
		e.admin("POST", "/v1/accounts/acme/policies", `{"data":{"type":"policies","attributes":{"name":"X"}}}`).expectError(t, 422, "PRODUCT_NOT_FOUND", "pointer", "/data/relationships/product")
		e.admin("POST", "/v1/accounts/acme/policies", policyBody(e.acct.Account.ID, `"name":"X"`)).expectError(t, 422, "PRODUCT_NOT_FOUND")
		e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"X","maxMachinez":1`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/maxMachinez")

		other := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		e.admin("POST", "/v1/accounts/acme/policies", policyBody(other, `"name":"Elsewhere"`))
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/policies?product="+productID, ""))); n != 2 {
			t.Fatalf("?product= lists %d policies, want 2", n)
		}
		policyID := data(t, created)["id"].(string)
		updated := e.admin("PATCH", "/v1/accounts/acme/policies/"+policyID, `{"data":{"type":"policies","attributes":{"duration":86400,"strict":true}}}`)
		if u := attrs(t, updated); u["duration"] != 86400.0 || u["strict"] != true || u["name"] != "Default" {
			t.Fatalf("update: %s", updated.body)
		}
		e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		e.admin("DELETE", "/v1/accounts/acme/policies/"+policyID, "").expectError(t, 422, "POLICY_IN_USE")
		if r := e.admin("DELETE", "/v1/accounts/acme/policies/"+data(t, created)["id"].(string)+"x", ""); r.status != 404 {
			t.Fatalf("unknown policy: %d", r.status)
		}
	})
}

func TestLicenses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Yearly","duration":31536000,"maxUses":5`)))

		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"name":"Customer A","metadata":{"orderId":"42"}`))
		a := attrs(t, created)
		key := a["key"].(string)
		if !regexp.MustCompile(`^[0-9A-F]{6}(-[0-9A-F]{6}){4}-V3$`).MatchString(key) {
			t.Fatalf("default key %q", key)
		}
		expiry, _ := time.Parse(time.RFC3339, a["expiry"].(string))
		if d := time.Until(expiry); d < 364*24*time.Hour || d > 366*24*time.Hour || a["status"] != "ACTIVE" || a["maxUses"] != 5.0 {
			t.Fatalf("created license: %s", created.body)
		}
		id := data(t, created)["id"].(string)
		if r := e.admin("GET", "/v1/accounts/acme/licenses/"+key, ""); r.status != 200 || data(t, r)["id"] != id {
			t.Fatalf("lookup by key: %d", r.status)
		}
		custom := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"MY-CUSTOM-KEY"`))
		if attrs(t, custom)["key"] != "MY-CUSTOM-KEY" {
			t.Fatalf("custom key: %s", custom.body)
		}
		e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"MY-CUSTOM-KEY"`)).expectError(t, 422, "KEY_TAKEN", "pointer", "/data/attributes/key")
		e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"abc"`)).expectError(t, 422, "KEY_TOO_SHORT")
		e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses"}}`).expectError(t, 422, "POLICY_NOT_FOUND", "pointer", "/data/relationships/policy")

		// Actions.
		base := "/v1/accounts/acme/licenses/" + id + "/actions/"
		if r := e.admin("POST", base+"suspend", ""); attrs(t, r)["status"] != "SUSPENDED" {
			t.Fatalf("suspend: %s", r.body)
		}
		e.admin("POST", base+"suspend", "").expectError(t, 422, "SUSPENDED_INVALID", "pointer", "/data/attributes/suspended")
		e.admin("POST", base+"reinstate", "")
		e.admin("POST", base+"reinstate", "").expectError(t, 422, "SUSPENDED_INVALID")
		renewed := attrs(t, e.admin("POST", base+"renew", ""))
		newExpiry, _ := time.Parse(time.RFC3339, renewed["expiry"].(string))
		if d := newExpiry.Sub(expiry); d != 365*24*time.Hour {
			t.Fatalf("renew moved expiry by %v", d)
		}
		e.admin("POST", base+"check-in", "").expectError(t, 422, "LICENSE_NOT_CHECK_IN_REQUIRED")
		if r := e.admin("POST", base+"increment-usage", `{"meta":{"increment":3}}`); attrs(t, r)["uses"] != 3.0 {
			t.Fatalf("increment: %s", r.body)
		}
		e.admin("POST", base+"increment-usage", `{"meta":{"increment":3}}`).expectError(t, 422, "USES_LIMIT_EXCEEDED")
		e.admin("POST", base+"decrement-usage", `{"meta":{"decrement":4}}`).expectError(t, 422, "USES_INVALID")
		e.admin("POST", base+"increment-usage", `{"meta":{"increment":0}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/increment")
		if r := e.admin("POST", base+"reset-usage", ""); attrs(t, r)["uses"] != 0.0 {
			t.Fatalf("reset: %s", r.body)
		}
		// Usage limits hold under concurrency: 20 increments, maxUses 5.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 20 {
			wg.Go(func() {
				if r := e.admin("POST", base+"increment-usage", ""); r.status == 200 {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if r := e.admin("GET", "/v1/accounts/acme/licenses/"+id, ""); ok != 5 || attrs(t, r)["uses"] != 5.0 {
			t.Fatalf("%d concurrent increments succeeded, uses %v; want 5", ok, attrs(t, r)["uses"])
		}
		// An expiry counted from the first use starts at the first increment, once.
		usePolicy := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Use","duration":86400,"expirationBasis":"FROM_FIRST_USE"`)))
		useLicense := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(usePolicy, "")))
		first := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses/"+useLicense+"/actions/increment-usage", ""))["expiry"]
		second := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses/"+useLicense+"/actions/increment-usage", ""))["expiry"]
		if first == nil || first != second {
			t.Fatalf("FROM_FIRST_USE expiry: %v then %v", first, second)
		}
		if r := e.admin("DELETE", base+"revoke", ""); r.status != 204 {
			t.Fatalf("revoke: %d", r.status)
		}
		e.admin("GET", "/v1/accounts/acme/licenses/"+id, "").expectError(t, 404, "NOT_FOUND")
	})
}

func TestSignedKeysVerifyWithTheAccountKey(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Signed","scheme":"ED25519_SIGN"`)))
	pub, _ := hex.DecodeString(e.acct.PublicKey)
	for _, tt := range []struct{ attrs, dataset string }{
		{`"key":"{\"entitlements\":[\"PRO\"]}"`, `{"entitlements":["PRO"]}`},
		{"", ""},
	} {
		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, tt.attrs))
		key := attrs(t, created)["key"].(string)
		signing, sig, found := strings.Cut(key, ".")
		if !found || !strings.HasPrefix(signing, "key/") || attrs(t, created)["scheme"] != "ED25519_SIGN" {
			t.Fatalf("signed key %q", key)
		}
		rawSig, err := base64.URLEncoding.DecodeString(sig)
		if err != nil || !ed25519.Verify(pub, []byte(signing), rawSig) {
			t.Fatalf("signature does not verify with the account key: %v", err)
		}
		dataset, _ := base64.URLEncoding.DecodeString(strings.TrimPrefix(signing, "key/"))
		if tt.dataset != "" && string(dataset) != tt.dataset {
			t.Fatalf("dataset %s", dataset)
		}
		if tt.dataset == "" {
			var d map[string]map[string]any
			if err := json.Unmarshal(dataset, &d); err != nil || d["license"]["id"] != data(t, created)["id"] || d["policy"]["id"] != policyID {
				t.Fatalf("default dataset %s", dataset)
			}
		}
		tampered := "key/" + base64.URLEncoding.EncodeToString([]byte(`{"entitlements":["ENTERPRISE"]}`)) + "." + sig
		if ed25519.Verify(pub, []byte(strings.Split(tampered, ".")[0]), rawSig) {
			t.Fatal("a tampered dataset verified")
		}
		// Keys with slashes are looked up escaped.
		if r := e.admin("GET", "/v1/accounts/acme/licenses/"+url.PathEscape(key), ""); r.status != 200 {
			t.Fatalf("lookup of a signed key: %d %s", r.status, r.body)
		}
	}
}

func TestLicenseAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policy := func(attrs string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, attrs)))
		}
		newLicense := func(policyID, attrs string) (string, string) {
			r := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, attrs))
			return data(t, r)["id"].(string), attrs2key(t, r)
		}
		licenseAuth := func(key string) header { return header{"Authorization", "License " + key} }
		mixed := policy(`"name":"Mixed","authenticationStrategy":"MIXED"`)
		licenseOnly := policy(`"name":"License","authenticationStrategy":"LICENSE"`)
		tokenOnly := policy(`"name":"Token"`)
		revoke := policy(`"name":"Revoke","authenticationStrategy":"LICENSE","expirationStrategy":"REVOKE_ACCESS"`)
		restrict := policy(`"name":"Restrict","authenticationStrategy":"LICENSE"`)

		id, key := newLicense(mixed, "")
		me := e.do("GET", "/v1/accounts/acme/me", "", licenseAuth(key))
		if me.status != 200 || data(t, me)["type"] != "licenses" || data(t, me)["id"] != id {
			t.Fatalf("/me with a license key: %d %s", me.status, me.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/me?auth=license:"+url.QueryEscape(key), ""); r.status != 200 {
			t.Fatalf("?auth=license: %d", r.status)
		}
		// A license sees its product but may not read it by default.
		e.do("GET", "/v1/accounts/acme/products/"+productID, "", licenseAuth(key)).expectError(t, 403, "ACCESS_DENIED")

		// A read authenticates by the license's narrow read, a write by its
		// whole one: both refuse alike.
		refused := func(id, key string, status int, code string) {
			t.Helper()
			e.do("GET", "/v1/accounts/acme/me", "", licenseAuth(key)).expectError(t, status, code)
			e.do("POST", "/v1/accounts/acme/machines", machineBody(id, `"fingerprint":"refused"`), licenseAuth(key)).expectError(t, status, code)
		}
		refused(id, "NOPE-NOPE", 401, "LICENSE_INVALID")
		tokenID, tokenKey := newLicense(tokenOnly, "")
		refused(tokenID, tokenKey, 403, "LICENSE_NOT_ALLOWED")
		suspendedID, suspendedKey := newLicense(licenseOnly, "")
		e.admin("POST", "/v1/accounts/acme/licenses/"+suspendedID+"/actions/suspend", "")
		refused(suspendedID, suspendedKey, 403, "LICENSE_SUSPENDED")
		past := `"expiry":"2020-01-01T00:00:00Z"`
		revokedID, revokedKey := newLicense(revoke, past)
		refused(revokedID, revokedKey, 403, "LICENSE_EXPIRED")
		_, restrictedKey := newLicense(restrict, past)
		if r := e.do("GET", "/v1/accounts/acme/me", "", licenseAuth(restrictedKey)); r.status != 200 || attrs(t, r)["status"] != "EXPIRED" {
			t.Fatalf("an expired RESTRICT_ACCESS license still authenticates: %d", r.status)
		}
		ownerID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		r := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+licenseOnly+`"}},"owner":{"data":{"type":"users","id":"`+ownerID+`"}}}}}`)
		ownedKey := attrs2key(t, r)
		ownedID := data(t, r)["id"].(string)
		if o := e.admin("GET", "/v1/accounts/acme/licenses/"+ownedID+"/owner", ""); o.status != 200 || data(t, o)["id"] != ownerID {
			t.Fatalf("owner: %d %s", o.status, o.body)
		}
		if o := e.admin("GET", "/v1/accounts/acme/licenses/"+id+"/owner", ""); o.status != 200 || o.doc(t)["data"] != nil {
			t.Fatalf("no owner: %s", o.body)
		}
		e.admin("POST", "/v1/accounts/acme/users/"+ownerID+"/actions/ban", "")
		refused(ownedID, ownedKey, 403, "LICENSE_BANNED")
		if got := attrs(t, e.admin("GET", "/v1/accounts/acme/licenses/"+data(t, r)["id"].(string), ""))["status"]; got != "BANNED" {
			t.Fatalf("status of a banned owner's license: %v", got)
		}

		// Activation tokens follow the policy's authentication strategy.
		activation := e.admin("POST", "/v1/accounts/acme/licenses/"+id+"/tokens", `{"data":{"type":"tokens","attributes":{"maxActivations":3}}}`)
		raw := attrs(t, activation)["token"].(string)
		if attrs(t, activation)["kind"] != "activation-token" || !regexp.MustCompile(`^activ-[0-9a-f]{32}v3$`).MatchString(raw) {
			t.Fatalf("activation token: %s", activation.body)
		}
		// Its limits and counters are in its document, as Keygen's serializer renders them.
		if a := attrs(t, activation); a["maxActivations"] != 3.0 || a["activations"] != 0.0 || a["maxDeactivations"] != nil || a["deactivations"] != 0.0 {
			t.Fatalf("activation token counters: %s", activation.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/me", "", bearer(raw)); r.status != 200 || data(t, r)["id"] != id {
			t.Fatalf("activation token on a MIXED policy: %d", r.status)
		}
		licenseOnlyID, _ := newLicense(licenseOnly, "")
		denied := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses/"+licenseOnlyID+"/tokens", ""))["token"].(string)
		e.do("GET", "/v1/accounts/acme/me", "", bearer(denied)).expectError(t, 403, "TOKEN_NOT_ALLOWED")
		// A license may not mint its own tokens.
		e.do("POST", "/v1/accounts/acme/licenses/"+id+"/tokens", "", licenseAuth(key)).expectError(t, 403, "ACCESS_DENIED")
	})
}

func attrs2key(t *testing.T, r *response) string {
	t.Helper()
	if r.status != 201 {
		t.Fatalf("license create: %d %s", r.status, r.body)
	}
	return attrs(t, r)["key"].(string)
}

func TestLicenseTransfer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policy := func(attrs string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, attrs)))
		}
		from := policy(`"name":"Monthly","duration":2592000,"floating":true,"maxMachines":3`)
		reset := policy(`"name":"Yearly","duration":31536000,"transferStrategy":"RESET_EXPIRY","floating":true,"maxMachines":3`)
		stricter := policy(`"name":"Strict","machineUniquenessStrategy":"UNIQUE_PER_ACCOUNT"`)
		signed := policy(`"name":"Signed","scheme":"ED25519_SIGN"`)
		otherProduct := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		elsewhere := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(otherProduct, `"name":"Elsewhere"`)))

		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(from, ""))
		id := e.id(created)
		e.admin("POST", "/v1/accounts/acme/machines", machineBody(id, `"fingerprint":"m1"`))
		move := func(policyID string) *response {
			return e.admin("PUT", "/v1/accounts/acme/licenses/"+id+"/policy", `{"data":{"type":"policies","id":"`+policyID+`"}}`)
		}
		for _, p := range []string{stricter, signed, elsewhere} {
			move(p).expectError(t, 422, "POLICY_NOT_COMPATIBLE", "pointer", "/data/id")
		}
		move(e.acct.Account.ID).expectError(t, 422, "POLICY_NOT_FOUND")
		moved := move(reset)
		if moved.status != 200 || data(t, moved)["type"] != "licenses" {
			t.Fatalf("transfer: %d %s", moved.status, moved.body)
		}
		rel := data(t, moved)["relationships"].(map[string]any)["policy"].(map[string]any)["data"].(map[string]any)
		expiry, _ := time.Parse(time.RFC3339, attrs(t, moved)["expiry"].(string))
		if rel["id"] != reset || time.Until(expiry) < 364*24*time.Hour {
			t.Fatalf("after transfer: policy %v, expiry %v", rel["id"], expiry)
		}
		if r := e.admin("GET", "/v1/accounts/acme/licenses/"+id+"/policy", ""); data(t, r)["id"] != reset {
			t.Fatalf("license policy: %s", r.body)
		}
		machines := list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+id, ""))
		if len(machines) != 1 {
			t.Fatalf("machines after transfer: %d", len(machines))
		}
		var machinePolicy string
		e.app.DB.Gorm.Raw("SELECT policy_id FROM machines WHERE license_id = ?", id).Scan(&machinePolicy)
		if machinePolicy != reset {
			t.Fatalf("the machine stayed on policy %s", machinePolicy)
		}
	})
}

func userLinkages(ids ...string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = `{"type":"users","id":"` + id + `"}`
	}
	return `{"data":[` + strings.Join(items, ",") + `]}`
}

func TestLicensees(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Team","maxUsers":3`)))
		owner := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		var team []string
		for _, name := range []string{"ann", "bob", "cid"} {
			team = append(team, e.id(e.admin("POST", "/v1/accounts/acme/users", userBody(name+"@acme.test", "user"))))
		}
		created := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+owner+`"}}}}}`)
		id, key := e.id(created), attrs(t, created)["key"].(string)
		users := "/v1/accounts/acme/licenses/" + id + "/users"

		if r := e.admin("POST", users, userLinkages(team[0], team[1])); r.status != 200 || len(list(t, r)) != 3 {
			t.Fatalf("attach: %d %s", r.status, r.body)
		}
		e.admin("POST", users, userLinkages(team[2])).expectError(t, 422, "USER_LIMIT_EXCEEDED", "pointer", "/data")
		e.admin("POST", users, userLinkages(team[0])).expectError(t, 422, "USER_TAKEN", "pointer", "/data/0")
		e.admin("POST", users, userLinkages(owner)).expectError(t, 422, "USER_CONFLICT")
		e.admin("POST", users, userLinkages(e.acct.Account.ID)).expectError(t, 422, "USER_NOT_FOUND")
		if n := len(list(t, e.admin("GET", users, ""))); n != 3 {
			t.Fatalf("users after refused attaches: %d", n)
		}

		// A licensee sees the license and validates with its email.
		annToken := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("ann@acme.test", "password-123")))
		if r := e.do("GET", "/v1/accounts/acme/licenses/"+id, "", bearer(annToken)); r.status != 200 {
			t.Fatalf("a licensee reads the license: %d", r.status)
		}
		cidToken := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("cid@acme.test", "password-123")))
		e.do("GET", "/v1/accounts/acme/licenses/"+id, "", bearer(cidToken)).expectError(t, 404, "NOT_FOUND")
		validate := func(scope string) map[string]any {
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":`+scope+`}}`)
			return r.doc(t)["meta"].(map[string]any)
		}
		if m := validate(`{"user":"bob@acme.test"}`); m["code"] != "VALID" {
			t.Fatalf("licensee by email: %v", m)
		}
		if m := validate(`{"user":"cid@acme.test"}`); m["code"] != "USER_SCOPE_MISMATCH" {
			t.Fatalf("a stranger: %v", m)
		}
		e.app.DB.Gorm.Exec("UPDATE licenses SET max_users = 2 WHERE id = ?", id)
		if m := validate(`{}`); m["code"] != "TOO_MANY_USERS" || m["valid"] != false {
			t.Fatalf("too many users: %v", m)
		}

		e.admin("DELETE", users, userLinkages(team[2])).expectError(t, 422, "USER_NOT_FOUND")
		if r := e.admin("DELETE", users, userLinkages(team[0])); r.status != 204 {
			t.Fatalf("detach: %d", r.status)
		}
		e.do("GET", "/v1/accounts/acme/licenses/"+id, "", bearer(annToken)).expectError(t, 404, "NOT_FOUND")
	})
}

func TestJWTLicenseKeysVerifyWithTheAccountRSAKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		if e.acct.Account.RSAPublicKey != nil {
			t.Fatal("an account has an RSA key before it needs one")
		}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"JWT","scheme":"RSA_2048_JWT_RS256","duration":86400`)))
		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		key := attrs(t, created)["key"].(string)

		keys := data(t, e.admin("GET", "/v1/accounts/acme", ""))["meta"].(map[string]any)["keys"].(map[string]any)
		pemText, _ := base64.StdEncoding.DecodeString(keys["rsa2048"].(string))
		block, _ := pem.Decode(pemText)
		if block == nil {
			t.Fatalf("meta.keys.rsa2048 is not a PEM: %v", keys["rsa2048"])
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		claims := jwt.MapClaims{}
		token, err := jwt.ParseWithClaims(key, claims, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil || !token.Valid {
			t.Fatalf("the JWT key does not verify: %v", err)
		}
		if claims["sub"] != data(t, created)["id"] || claims["aud"] != e.acct.Account.ID || claims["iss"] != "https://keygen.sh" || claims["exp"] == nil {
			t.Fatalf("claims: %v", claims)
		}
		custom := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"{\"tier\":\"pro\"}"`))
		c := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(attrs(t, custom)["key"].(string), c, func(*jwt.Token) (any, error) { return pub, nil }); err != nil || c["tier"] != "pro" {
			t.Fatalf("custom claims: %v %v", c, err)
		}
		e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"not json"`)).expectError(t, 422, "KEY_JWT_CLAIMS_INVALID")
		// The same RSA key signs every later license.
		again := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		if _, err := jwt.Parse(attrs(t, again)["key"].(string), func(*jwt.Token) (any, error) { return pub, nil }); err != nil {
			t.Fatalf("a later key: %v", err)
		}
	})
}
