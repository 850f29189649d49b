package httpapi_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

// fixture is one license to validate and what a case can do to it.
type fixture struct {
	e                              *env
	productID, policyID, licenseID string
	key, ownerID                   string
}

func (f *fixture) activate(attrs string) string {
	return f.e.id(f.e.admin("POST", "/v1/accounts/acme/machines", machineBody(f.licenseID, attrs)))
}

func (f *fixture) exec(sql string, args ...any) {
	if err := f.e.app.DB.Gorm.WithContext(context.Background()).Exec(sql, args...).Error; err != nil {
		f.e.t.Fatal(err)
	}
}

// machineScope names the license's only machine.
func machineScope(f *fixture) string {
	var id string
	f.e.app.DB.Gorm.Raw("SELECT id FROM machines WHERE license_id = ?", f.licenseID).Scan(&id)
	return `{"machine":"` + id + `"}`
}

func TestValidationWalksTheOrderedChecks(t *testing.T) {
	// Cases share one env, so a case that advances its clock advances it
	// for the cases after it too.
	const long = 48 * time.Hour
	cases := []struct {
		name    string
		policy  string // policy attributes
		license string // license attributes
		setup   func(f *fixture)
		scope   func(f *fixture) string
		valid   bool
		code    string
	}{
		{name: "valid", policy: `"name":"P"`, valid: true, code: "VALID"},
		{name: "banned owner", policy: `"name":"P"`, setup: func(f *fixture) {
			f.exec("UPDATE users SET banned_at = ? WHERE id IN (SELECT owner_id FROM licenses WHERE id = ?)", time.Now(), f.licenseID)
		}, code: "BANNED"},
		{name: "suspended", policy: `"name":"P"`, license: `"suspended":true`, code: "SUSPENDED"},
		{name: "expired, revoke", policy: `"name":"P","expirationStrategy":"REVOKE_ACCESS"`, license: `"expiry":"2020-01-01T00:00:00Z"`, code: "EXPIRED"},
		{name: "expired, restrict", policy: `"name":"P"`, license: `"expiry":"2020-01-01T00:00:00Z"`, code: "EXPIRED"},
		{name: "expired, maintain", policy: `"name":"P","expirationStrategy":"MAINTAIN_ACCESS"`, license: `"expiry":"2020-01-01T00:00:00Z"`, valid: true, code: "EXPIRED"},
		{name: "expired, allow", policy: `"name":"P","expirationStrategy":"ALLOW_ACCESS"`, license: `"expiry":"2020-01-01T00:00:00Z"`, valid: true, code: "EXPIRED"},
		{name: "overdue check-in", policy: `"name":"P","requireCheckIn":true,"checkInInterval":"day","checkInIntervalCount":1`, setup: func(f *fixture) {
			f.e.advance(long)
		}, code: "OVERDUE"},
		{name: "product mismatch", policy: `"name":"P"`, scope: func(*fixture) string { return `{"product":"00000000-0000-0000-0000-000000000000"}` }, code: "PRODUCT_SCOPE_MISMATCH"},
		{name: "product match", policy: `"name":"P","requireProductScope":true`, scope: func(f *fixture) string { return `{"product":"` + f.productID + `"}` }, valid: true, code: "VALID"},
		{name: "product required", policy: `"name":"P","requireProductScope":true`, code: "PRODUCT_SCOPE_REQUIRED"},
		{name: "policy mismatch", policy: `"name":"P"`, scope: func(f *fixture) string { return `{"policy":"` + f.productID + `"}` }, code: "POLICY_SCOPE_MISMATCH"},
		{name: "policy required", policy: `"name":"P","requirePolicyScope":true`, code: "POLICY_SCOPE_REQUIRED"},
		{name: "user by email", policy: `"name":"P","requireUserScope":true`, scope: func(*fixture) string { return `{"user":"OWNER@acme.test"}` }, valid: true, code: "VALID"},
		{name: "user mismatch", policy: `"name":"P"`, scope: func(*fixture) string { return `{"user":"someone@acme.test"}` }, code: "USER_SCOPE_MISMATCH"},
		{name: "user required", policy: `"name":"P","requireUserScope":true`, code: "USER_SCOPE_REQUIRED"},
		{name: "entitlements empty", policy: `"name":"P"`, scope: func(*fixture) string { return `{"entitlements":[]}` }, code: "ENTITLEMENTS_SCOPE_EMPTY"},
		{name: "entitlements missing", policy: `"name":"P"`, scope: func(*fixture) string { return `{"entitlements":["PRO"]}` }, code: "ENTITLEMENTS_MISSING"},
		{name: "machine on none", policy: `"name":"P"`, scope: func(*fixture) string { return `{"machine":"00000000-0000-0000-0000-000000000000"}` }, code: "NO_MACHINE"},
		{name: "machine mismatch", policy: `"name":"P","floating":true,"maxMachines":5`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"machine":"00000000-0000-0000-0000-000000000000"}` }, code: "MACHINE_SCOPE_MISMATCH"},
		{name: "machine match", policy: `"name":"P","requireMachineScope":true`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: machineScope, valid: true, code: "VALID"},
		{name: "machine heartbeat not started", policy: `"name":"P","requireHeartbeat":true,"heartbeatBasis":"FROM_FIRST_PING"`,
			setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) }, scope: machineScope, code: "HEARTBEAT_NOT_STARTED"},
		{name: "machine heartbeat dead", policy: `"name":"P","requireHeartbeat":true,"heartbeatBasis":"FROM_FIRST_PING"`, setup: func(f *fixture) {
			f.activate(`"fingerprint":"m1"`)
			f.e.advance(long)
		}, scope: machineScope, code: "HEARTBEAT_DEAD"},
		{name: "machine required", policy: `"name":"P","requireMachineScope":true`, code: "MACHINE_SCOPE_REQUIRED"},
		{name: "fingerprint empty", policy: `"name":"P"`, scope: func(*fixture) string { return `{"fingerprint":""}` }, code: "FINGERPRINT_SCOPE_EMPTY"},
		{name: "fingerprint on none, floating", policy: `"name":"P","floating":true,"maxMachines":2`, scope: func(*fixture) string { return `{"fingerprint":"x"}` }, code: "NO_MACHINES"},
		{name: "fingerprint mismatch", policy: `"name":"P"`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"fingerprint":"other"}` }, code: "FINGERPRINT_SCOPE_MISMATCH"},
		{name: "fingerprint match", policy: `"name":"P","requireFingerprintScope":true`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"fingerprint":"m1"}` }, valid: true, code: "VALID"},
		{name: "fingerprints, match all", policy: `"name":"P","floating":true,"maxMachines":3,"machineMatchingStrategy":"MATCH_ALL"`,
			setup: func(f *fixture) { f.activate(`"fingerprint":"a"`); f.activate(`"fingerprint":"b"`) },
			scope: func(*fixture) string { return `{"fingerprints":["a","c"]}` }, code: "FINGERPRINT_SCOPE_MISMATCH"},
		{name: "fingerprints, match most", policy: `"name":"P","floating":true,"maxMachines":3,"machineMatchingStrategy":"MATCH_MOST"`,
			setup: func(f *fixture) { f.activate(`"fingerprint":"a"`); f.activate(`"fingerprint":"b"`) },
			scope: func(*fixture) string { return `{"fingerprints":["a","b","c"]}` }, valid: true, code: "VALID"},
		{name: "fingerprint heartbeat not started", policy: `"name":"P","requireHeartbeat":true,"heartbeatBasis":"FROM_FIRST_PING"`,
			setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"fingerprint":"m1"}` }, code: "HEARTBEAT_NOT_STARTED"},
		{name: "fingerprint dead", policy: `"name":"P","requireHeartbeat":true`, setup: func(f *fixture) {
			f.activate(`"fingerprint":"m1"`)
			f.e.advance(long)
		}, scope: func(*fixture) string { return `{"fingerprint":"m1"}` }, code: "HEARTBEAT_DEAD"},
		{name: "fingerprint required", policy: `"name":"P","requireFingerprintScope":true`, code: "FINGERPRINT_SCOPE_REQUIRED"},
		{name: "components need a fingerprint", policy: `"name":"P"`, scope: func(*fixture) string { return `{"components":["c"]}` }, code: "FINGERPRINT_SCOPE_REQUIRED"},
		{name: "components empty", policy: `"name":"P"`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"fingerprint":"m1","components":[]}` }, code: "COMPONENTS_SCOPE_EMPTY"},
		{name: "components mismatch", policy: `"name":"P"`, setup: func(f *fixture) { f.activate(`"fingerprint":"m1"`) },
			scope: func(*fixture) string { return `{"fingerprint":"m1","components":["gpu"]}` }, code: "COMPONENTS_SCOPE_MISMATCH"},
		{name: "components required", policy: `"name":"P","requireComponentsScope":true`, code: "COMPONENTS_SCOPE_REQUIRED"},
		{name: "checksum mismatch", policy: `"name":"P"`, scope: func(*fixture) string { return `{"checksum":"abc"}` }, code: "CHECKSUM_SCOPE_MISMATCH"},
		{name: "checksum required", policy: `"name":"P","requireChecksumScope":true`, code: "CHECKSUM_SCOPE_REQUIRED"},
		{name: "version mismatch", policy: `"name":"P"`, scope: func(*fixture) string { return `{"version":"1.0.0"}` }, code: "VERSION_SCOPE_MISMATCH"},
		{name: "version match", policy: `"name":"P","requireVersionScope":true`, setup: func(f *fixture) { f.e.publish(f.productID, "stable", "1.0.0") },
			scope: func(*fixture) string { return `{"version":"1.0.0"}` }, valid: true, code: "VALID"},
		{name: "version of a draft", policy: `"name":"P"`, setup: func(f *fixture) {
			f.e.admin("POST", "/v1/accounts/acme/releases", releaseBody(f.productID, `"channel":"stable","version":"1.0.0"`))
		}, scope: func(*fixture) string { return `{"version":"1.0.0"}` }, code: "VERSION_SCOPE_MISMATCH"},
		{name: "version required", policy: `"name":"P","requireVersionScope":true`, code: "VERSION_SCOPE_REQUIRED"},
		{name: "strict node-locked without machine", policy: `"name":"P","strict":true`, code: "NO_MACHINE"},
		{name: "strict floating without machines", policy: `"name":"P","strict":true,"floating":true,"maxMachines":2`, code: "NO_MACHINES"},
		{name: "strict too many machines", policy: `"name":"P","strict":true,"floating":true,"maxMachines":3`, setup: func(f *fixture) {
			for _, fp := range []string{"a", "b", "c"} {
				f.activate(`"fingerprint":"` + fp + `"`)
			}
			f.exec("UPDATE licenses SET max_machines = 2 WHERE id = ?", f.licenseID)
		}, code: "TOO_MANY_MACHINES"},
		{name: "strict too many machines within overage", policy: `"name":"P","strict":true,"floating":true,"maxMachines":4,"overageStrategy":"ALLOW_2X_OVERAGE"`, setup: func(f *fixture) {
			for _, fp := range []string{"a", "b", "c"} {
				f.activate(`"fingerprint":"` + fp + `"`)
			}
			f.exec("UPDATE licenses SET max_machines = 2 WHERE id = ?", f.licenseID)
		}, valid: true, code: "TOO_MANY_MACHINES"},
		{name: "strict too many cores", policy: `"name":"P","strict":true,"floating":true,"maxMachines":3,"maxCores":8`, setup: func(f *fixture) {
			f.activate(`"fingerprint":"a","cores":8`)
			f.exec("UPDATE licenses SET max_cores = 4 WHERE id = ?", f.licenseID)
		}, code: "TOO_MANY_CORES"},
		{name: "strict valid", policy: `"name":"P","strict":true`, setup: func(f *fixture) { f.activate(`"fingerprint":"a"`) }, valid: true, code: "VALID"},
		{name: "strict expired", policy: `"name":"P","strict":true`, license: `"expiry":"2020-01-01T00:00:00Z"`, setup: func(f *fixture) { f.activate(`"fingerprint":"a"`) }, code: "EXPIRED"},
		// A user scope by email counts the machines and processes of that user.
		{name: "per-user machines, user by email", policy: `"name":"P","strict":true,"machineLeasingStrategy":"PER_USER"`,
			setup: func(f *fixture) {
				f.exec("UPDATE machines SET owner_id = ? WHERE id = ?", f.ownerID, f.activate(`"fingerprint":"a"`))
			},
			scope: func(*fixture) string { return `{"user":"OWNER@acme.test"}` }, valid: true, code: "VALID"},
		{name: "per-user processes, user by email", policy: `"name":"P","maxProcesses":1,"processLeasingStrategy":"PER_USER"`,
			scope: func(*fixture) string { return `{"user":"owner@acme.test"}` }, valid: true, code: "VALID"},
	}
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		owner := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				f := &fixture{e: e, ownerID: owner}
				f.productID = e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
				f.policyID = e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(f.productID, tt.policy)))
				created := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","attributes":{`+tt.license+`},"relationships":{"policy":{"data":{"type":"policies","id":"`+f.policyID+`"}},"owner":{"data":{"type":"users","id":"`+owner+`"}}}}}`)
				f.licenseID, f.key = e.id(created), attrs(t, created)["key"].(string)
				if tt.setup != nil {
					tt.setup(f)
				}
				defer f.exec("UPDATE users SET banned_at = NULL WHERE id = ?", owner)
				scope := ""
				if tt.scope != nil {
					scope = `,"scope":` + tt.scope(f)
				}
				r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+f.key+`","nonce":42`+scope+`}}`)
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				meta := r.doc(t)["meta"].(map[string]any)
				if meta["valid"] != tt.valid || meta["code"] != tt.code || meta["nonce"] != 42.0 || meta["ts"] == nil || meta["detail"] == "" {
					t.Fatalf("meta = %v, want valid=%v code=%s", meta, tt.valid, tt.code)
				}
				if tt.scope != nil && meta["scope"] == nil {
					t.Fatal("scope not echoed")
				}
				if data(t, r)["id"] != f.licenseID || attrs(t, r)["lastValidated"] == nil {
					t.Fatalf("data: %s", r.body)
				}
			})
		}
	})
}

func TestValidationEndpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID,
			`"name":"P","requireProductScope":true,"authenticationStrategy":"LICENSE","duration":86400,"expirationBasis":"FROM_FIRST_VALIDATION"`)))
		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		id, key := e.id(created), attrs(t, created)["key"].(string)
		if attrs(t, created)["expiry"] != nil {
			t.Fatal("a FROM_FIRST_VALIDATION license starts with an expiry")
		}
		licenseAuth := header{"Authorization", "License " + key}

		unknown := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"NOPE"}}`)
		if unknown.status != 200 || unknown.doc(t)["data"] != nil || unknown.doc(t)["meta"].(map[string]any)["code"] != "NOT_FOUND" {
			t.Fatalf("unknown key: %d %s", unknown.status, unknown.body)
		}
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/key")

		// Keygen-Version 1.0 through 1.8 are accepted and echoed; 1.0 names
		// the validation code "constant", as the older example clients read it.
		for version, key := range map[string]string{"1.0": "constant", "1.1": "code", "1.5": "code", "1.7": "code", "1.8": "code", "": "code"} {
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"NOPE"}}`, header{"Keygen-Version", version})
			meta := r.doc(t)["meta"].(map[string]any)
			want := version
			if want == "" {
				want = "1.8"
			}
			if r.status != 200 || meta[key] != "NOT_FOUND" || len(meta) != 4 || r.header.Get("Keygen-Version") != want {
				t.Errorf("Keygen-Version %q: %d %s (echoed %q)", version, r.status, r.body, r.header.Get("Keygen-Version"))
			}
		}
		for _, version := range []string{"2.0", "1.9", "one"} {
			e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"NOPE"}}`, header{"Keygen-Version", version}).
				expectError(t, 400, "INVALID_API_VERSION", "header", "Keygen-Version")
		}
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"colour":"red"}}}`).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/scope/colour")

		// Quick validation skips scope requirements; full validation does not.
		quick := e.do("GET", "/v1/accounts/acme/licenses/"+id+"/actions/validate", "", licenseAuth)
		if m := quick.doc(t)["meta"].(map[string]any); m["code"] != "VALID" || m["nonce"] != nil {
			t.Fatalf("quick: %s", quick.body)
		}
		if attrs(t, quick)["expiry"] != nil {
			t.Fatal("quick validation started the expiry")
		}
		full := e.do("POST", "/v1/accounts/acme/licenses/"+id+"/actions/validate", `{"meta":{"nonce":1}}`, licenseAuth)
		if m := full.doc(t)["meta"].(map[string]any); m["code"] != "PRODUCT_SCOPE_REQUIRED" || m["valid"] != false {
			t.Fatalf("full: %s", full.body)
		}
		first := attrs(t, full)["expiry"]
		if first == nil {
			t.Fatal("the first validation did not start the expiry")
		}
		again := e.do("POST", "/v1/accounts/acme/licenses/"+id+"/actions/validate", `{"meta":{"scope":{"product":"`+productID+`"}}}`, licenseAuth)
		if attrs(t, again)["expiry"] != first || again.doc(t)["meta"].(map[string]any)["code"] != "VALID" {
			t.Fatalf("second validation: %s", again.body)
		}
		// By key in the path, escaped.
		if r := e.admin("GET", "/v1/accounts/acme/licenses/"+url.PathEscape(key)+"/actions/validate", ""); r.status != 200 {
			t.Fatalf("validate by key: %d", r.status)
		}

		// Who may validate what.
		e.do("GET", "/v1/accounts/acme/licenses/"+id+"/actions/validate", "").expectError(t, 401, "TOKEN_MISSING")
		_, otherKey := func() (string, string) {
			r := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
			return e.id(r), attrs(t, r)["key"].(string)
		}()
		e.do("GET", "/v1/accounts/acme/licenses/"+id+"/actions/validate", "", header{"Authorization", "License " + otherKey}).expectError(t, 404, "NOT_FOUND")
		cross := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`"}}`, header{"Authorization", "License " + otherKey})
		if cross.doc(t)["data"] != nil || cross.doc(t)["meta"].(map[string]any)["code"] != "NOT_FOUND" {
			t.Fatalf("a license validated another's key: %s", cross.body)
		}

		// A matched version is shown at once and recorded with lastValidated,
		// off the request path.
		e.publish(productID, "stable", "1.4.2")
		matched := e.do("POST", "/v1/accounts/acme/licenses/"+id+"/actions/validate", `{"meta":{"scope":{"product":"`+productID+`","version":"1.4.2"}}}`, licenseAuth)
		if attrs(t, matched)["version"] != "1.4.2" {
			t.Fatalf("version after a match: %s", matched.body)
		}
		eventually(t, "lastValidated and version to be stored", func() bool {
			a := attrs(t, e.admin("GET", "/v1/accounts/acme/licenses/"+id, ""))
			return a["lastValidated"] != nil && a["version"] == "1.4.2"
		})
	})
}
