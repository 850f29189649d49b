package httpapi_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/testenv"
)

func machineBody(licenseID, attrs string) string {
	return `{"data":{"type":"machines","attributes":{` + attrs + `},"relationships":{"license":{"data":{"type":"licenses","id":"` + licenseID + `"}}}}}`
}

// licensed creates a product, a policy with the attributes and a license.
func (e *env) licensed(policyAttrs string) (licenseID, key string) {
	e.t.Helper()
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, policyAttrs)))
	r := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
	return e.id(r), attrs(e.t, r)["key"].(string)
}

func TestMachineActivation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"Node-locked","authenticationStrategy":"LICENSE"`)
		licenseAuth := header{"Authorization", "License " + key}
		created := e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-1","hostname":"box","platform":"linux/amd64","cores":8`), licenseAuth)
		a := attrs(t, created)
		if created.status != 201 || a["fingerprint"] != "fp-1" || a["heartbeatStatus"] != "NOT_STARTED" || a["heartbeatDuration"] != 600.0 || a["cores"] != 8.0 {
			t.Fatalf("activation: %d %s", created.status, created.body)
		}
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-1"`), licenseAuth).
			expectError(t, 422, "FINGERPRINT_TAKEN", "pointer", "/data/attributes/fingerprint")
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-2"`), licenseAuth).
			expectError(t, 422, "MACHINE_LIMIT_EXCEEDED", "pointer", "/data")
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"name":"x"`), licenseAuth).expectError(t, 422, "FINGERPRINT_MISSING")
		e.do("POST", "/v1/accounts/acme/machines", `{"data":{"type":"machines","attributes":{"fingerprint":"x"}}}`, licenseAuth).expectError(t, 422, "LICENSE_NOT_FOUND")
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-3","cores":0`), licenseAuth).expectError(t, 422, "CORES_INVALID")
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"nul\u0000"`), licenseAuth).expectError(t, 400, "ENCODING_INVALID")

		if r := e.do("GET", "/v1/accounts/acme/machines/fp-1", "", licenseAuth); r.status != 200 || data(t, r)["id"] != data(t, created)["id"] {
			t.Fatalf("show by fingerprint: %d", r.status)
		}
		if n := len(list(t, e.do("GET", "/v1/accounts/acme/licenses/"+licenseID+"/machines", "", licenseAuth))); n != 1 {
			t.Fatalf("license machines: %d", n)
		}
		lic := e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID, "")
		meta := data(t, lic)["relationships"].(map[string]any)["machines"].(map[string]any)["meta"].(map[string]any)
		if meta["count"] != 1.0 || meta["cores"] != 8.0 {
			t.Fatalf("license machines meta: %v", meta)
		}
		listed := list(t, e.admin("GET", "/v1/accounts/acme/licenses?limit=100", ""))
		for _, item := range listed {
			if item.(map[string]any)["id"] == licenseID {
				if m := item.(map[string]any)["relationships"].(map[string]any)["machines"].(map[string]any)["meta"].(map[string]any); m["count"] != 1.0 {
					t.Fatalf("listed meta: %v", m)
				}
			}
		}
		_, otherKey := e.licensed(`"name":"Other","authenticationStrategy":"LICENSE"`)
		e.do("GET", "/v1/accounts/acme/machines/fp-1", "", header{"Authorization", "License " + otherKey}).expectError(t, 404, "NOT_FOUND")
		e.do("DELETE", "/v1/accounts/acme/machines/fp-1", "", header{"Authorization", "License " + otherKey}).expectError(t, 404, "NOT_FOUND")
		if r := e.do("DELETE", "/v1/accounts/acme/machines/"+url.PathEscape("fp-1"), "", licenseAuth); r.status != 204 {
			t.Fatalf("deactivate by fingerprint: %d %s", r.status, r.body)
		}
		e.do("DELETE", "/v1/accounts/acme/machines/fp-1", "", licenseAuth).expectError(t, 404, "NOT_FOUND")
		if r := e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-2"`), licenseAuth); r.status != 201 {
			t.Fatalf("activation after deactivation: %d", r.status)
		}
	})
}

func TestMachineLimitsAndStrategies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		activate := func(licenseID, attrs string) *response {
			return e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, attrs))
		}
		floating, _ := e.licensed(`"name":"Floating","floating":true,"maxMachines":2,"overageStrategy":"ALLOW_2X_OVERAGE","maxCores":16`)
		for i := 1; i <= 4; i++ {
			if r := activate(floating, fmt.Sprintf(`"fingerprint":"f%d","cores":2`, i)); r.status != 201 {
				t.Fatalf("activation %d within 2x overage: %d %s", i, r.status, r.body)
			}
		}
		activate(floating, `"fingerprint":"f5","cores":2`).expectError(t, 422, "MACHINE_LIMIT_EXCEEDED")

		cores, _ := e.licensed(`"name":"Cores","floating":true,"maxMachines":10,"maxCores":8`)
		activate(cores, `"fingerprint":"c1","cores":6`)
		activate(cores, `"fingerprint":"c2","cores":4`).expectError(t, 422, "MACHINE_CORE_LIMIT_EXCEEDED")
		if r := activate(cores, `"fingerprint":"c3","cores":2`); r.status != 201 {
			t.Fatalf("cores within the limit: %d", r.status)
		}

		// Uniqueness per account: the same fingerprint on another license is taken.
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"U"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Account-unique","machineUniquenessStrategy":"UNIQUE_PER_ACCOUNT"`)))
		first := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		second := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		activate(first, `"fingerprint":"shared"`)
		r := activate(second, `"fingerprint":"shared"`)
		r.expectError(t, 422, "FINGERPRINT_TAKEN")
		if r.firstError(t)["detail"] != "has already been taken for this account" {
			t.Fatalf("detail: %v", r.firstError(t)["detail"])
		}
		// Per license (the default), the same fingerprint on two licenses is fine.
		a, _ := e.licensed(`"name":"A"`)
		b, _ := e.licensed(`"name":"B"`)
		if activate(a, `"fingerprint":"same"`).status != 201 || activate(b, `"fingerprint":"same"`).status != 201 {
			t.Fatal("per-license uniqueness refused the same fingerprint on two licenses")
		}

		// Activation tokens count activations.
		tokenLicense, _ := e.licensed(`"name":"Tokens","floating":true,"maxMachines":10`)
		raw := e.rawToken(e.admin("POST", "/v1/accounts/acme/licenses/"+tokenLicense+"/tokens", `{"data":{"type":"tokens","attributes":{"maxActivations":1,"maxDeactivations":0}}}`))
		first1 := e.do("POST", "/v1/accounts/acme/machines", machineBody(tokenLicense, `"fingerprint":"t1"`), bearer(raw))
		if first1.status != 201 {
			t.Fatalf("first activation with the token: %d %s", first1.status, first1.body)
		}
		e.do("POST", "/v1/accounts/acme/machines", machineBody(tokenLicense, `"fingerprint":"t2"`), bearer(raw)).
			expectError(t, 422, "ACTIVATIONS_LIMIT_EXCEEDED", "pointer", "/data/attributes/activations")
		e.do("DELETE", "/v1/accounts/acme/machines/"+data(t, first1)["id"].(string), "", bearer(raw)).expectError(t, 422, "DEACTIVATIONS_LIMIT_EXCEEDED")
	})
}

// TestConcurrentActivationsRespectTheLimit fires 50 activations at once
// against a limit of 5: exactly 5 machines exist afterwards. The requests
// queue for one lock, so they get a budget that holds under the race
// detector on two busy cores.
func TestConcurrentActivationsRespectTheLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, func(c *config.Config) { c.RequestTimeout = 2 * time.Minute })
		licenseID, key := e.licensed(`"name":"Five","floating":true,"maxMachines":5,"authenticationStrategy":"LICENSE"`)
		counts := activateAtOnce(e, licenseID, key, 50)
		if counts[201] != 5 || counts[422] != 45 {
			t.Fatalf("statuses %v, want 5×201 and 45×422", counts)
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+licenseID+"&limit=100", ""))); n != 5 {
			t.Fatalf("%d machines exist, want 5", n)
		}
	})
}

// TestContendedActivationsNeverAnswer500 fires activations at once with a
// deadline too short for all of them: those that time out waiting for the
// database, or are interrupted inside it, get 503 + Retry-After and leave
// nothing behind; none gets a 500.
func TestContendedActivationsNeverAnswer500(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"Five","floating":true,"maxMachines":5,"authenticationStrategy":"LICENSE"`)
		cfg := e.cfg
		cfg.RequestTimeout = 300 * time.Millisecond
		counts := activateAtOnce(serveEnvShared(t, e, cfg), licenseID, key, 60)
		t.Logf("statuses %v", counts)
		if counts[201]+counts[422]+counts[503] != 60 || counts[201] > 5 {
			t.Fatalf("statuses %v, want only 201 (at most 5), 422 and 503; failures logged:\n%s", counts, failuresLogged(e))
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+licenseID+"&limit=100", ""))); n != counts[201] {
			t.Fatalf("%d machines exist after %d activations succeeded", n, counts[201])
		}
	})
}

// failuresLogged are the log lines of requests that failed with a 500.
func failuresLogged(e *env) string {
	var lines []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "request failed") && strings.Contains(line, "INTERNAL_SERVER_ERROR") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// activateAtOnce sends n activations of the license at the same time and
// counts their statuses; every 503 must carry Retry-After.
func activateAtOnce(e *env, licenseID, key string, n int) map[int]int {
	var wg sync.WaitGroup
	statuses := make([]*response, n)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, fmt.Sprintf(`"fingerprint":"par-%d"`, i)),
				header{"Authorization", "License " + key})
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, r := range statuses {
		counts[r.status]++
		if r.status == 503 && r.header.Get("Retry-After") == "" {
			e.t.Fatalf("503 without Retry-After: %s", r.body)
		}
	}
	return counts
}

func TestHeartbeats(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	licenseID, _ := e.licensed(`"name":"HB","requireHeartbeat":true,"heartbeatDuration":60,"heartbeatBasis":"FROM_FIRST_PING"`)
	m := e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"hb"`))
	id := data(t, m)["id"].(string)
	if attrs(t, m)["heartbeatStatus"] != "NOT_STARTED" || attrs(t, m)["lastHeartbeat"] != nil {
		t.Fatalf("new machine: %s", m.body)
	}
	pinged := e.admin("POST", "/v1/accounts/acme/machines/"+id+"/actions/ping", "")
	if attrs(t, pinged)["heartbeatStatus"] != "ALIVE" || attrs(t, pinged)["nextHeartbeat"] == nil {
		t.Fatalf("ping: %s", pinged.body)
	}
	reset := e.admin("POST", "/v1/accounts/acme/machines/"+id+"/actions/reset", "")
	if attrs(t, reset)["heartbeatStatus"] != "NOT_STARTED" || attrs(t, reset)["lastHeartbeat"] != nil {
		t.Fatalf("reset: %s", reset.body)
	}
	// Within the revival window a dead machine comes back RESURRECTED, then ALIVE.
	revive, _ := e.licensed(`"name":"Revive","requireHeartbeat":true,"heartbeatDuration":60,"heartbeatResurrectionStrategy":"5_MINUTE_REVIVE","heartbeatCullStrategy":"KEEP_DEAD"`)
	rid := data(t, e.admin("POST", "/v1/accounts/acme/machines", machineBody(revive, `"fingerprint":"rv"`)))["id"].(string)
	// Written, not advanced: the rendered heartbeatStatus reads the wall
	// clock (serializer.Machine), not the service's.
	e.app.DB.Gorm.Exec("UPDATE machines SET last_heartbeat_at = ? WHERE id = ?", time.Now().Add(-90*time.Second).UTC(), rid)
	if s := attrs(t, e.admin("GET", "/v1/accounts/acme/machines/"+rid, ""))["heartbeatStatus"]; s != "DEAD" {
		t.Fatalf("before revival: %v", s)
	}
	if s := attrs(t, e.admin("POST", "/v1/accounts/acme/machines/"+rid+"/actions/ping", ""))["heartbeatStatus"]; s != "RESURRECTED" {
		t.Fatalf("revival: %v", s)
	}
	if s := attrs(t, e.admin("POST", "/v1/accounts/acme/machines/"+rid+"/actions/ping", ""))["heartbeatStatus"]; s != "ALIVE" {
		t.Fatalf("after revival: %v", s)
	}
	e.advance(time.Hour)
	e.admin("POST", "/v1/accounts/acme/machines/"+rid+"/actions/ping", "").expectError(t, 422, "MACHINE_HEARTBEAT_DEAD")

	fromCreation, _ := e.licensed(`"name":"FC","requireHeartbeat":true`)
	if a := attrs(t, e.admin("POST", "/v1/accounts/acme/machines", machineBody(fromCreation, `"fingerprint":"fc"`))); a["heartbeatStatus"] != "ALIVE" {
		t.Fatalf("FROM_CREATION starts alive: %v", a["heartbeatStatus"])
	}
}

func TestMachineOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P"`)))
		userID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("owner@acme.test", "user")))
		owned := e.id(e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+userID+`"}}}}}`))
		unowned := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		for _, tt := range []struct {
			licenseID, fingerprint string
			owner                  any
		}{
			{owned, "fp-owned", userID},
			{unowned, "fp-unowned", nil},
		} {
			created := e.admin("POST", "/v1/accounts/acme/machines", machineBody(tt.licenseID, `"fingerprint":"`+tt.fingerprint+`"`))
			machineID := e.id(created)
			rel := data(t, created)["relationships"].(map[string]any)["owner"].(map[string]any)
			wantLink := "/v1/accounts/" + e.acct.Account.ID + "/machines/" + machineID + "/owner"
			var linked any
			if d, ok := rel["data"].(map[string]any); ok {
				linked = d["id"]
			}
			if linked != tt.owner || rel["links"].(map[string]any)["related"] != wantLink {
				t.Fatalf("owner relationship of %s: %v", tt.fingerprint, rel)
			}
			r := e.admin("GET", wantLink, "")
			var got any
			if d, ok := r.doc(t)["data"].(map[string]any); ok {
				got = d["id"]
			}
			if r.status != 200 || got != tt.owner {
				t.Fatalf("GET owner of %s: %d %s", tt.fingerprint, r.status, r.body)
			}
		}
	})
}

// TestGenerateOfflineProof is POST /machines/:id/actions/generate-offline-
// proof as Keygen's features/api/v1/machines/actions/v1x0/proofs.feature:
// meta.proof is "proof/<base64url JSON>.<signature>", RSA-PKCS1-SHA256 by
// the account's RSA key over the default dataset or staff's meta.dataset;
// the license may ask, users may not choose the dataset, other licenses
// get a 404; machine.proofs.generated is emitted.
func TestGenerateOfflineProof(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme/machines/"
		machineID := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(b.licenseID, `"fingerprint":"fp-proof"`)))
		tenant, err := e.app.Accounts.Resolve(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		key, err := e.app.Accounts.RSAKey(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		verify := func(r *response) map[string]any {
			t.Helper()
			if r.status != 200 || data(t, r)["id"] != machineID {
				t.Fatalf("proof: %d %s", r.status, r.body)
			}
			proof := r.doc(t)["meta"].(map[string]any)["proof"].(string)
			signing, sig, ok := strings.Cut(proof, ".")
			encoded, isProof := strings.CutPrefix(signing, "proof/")
			raw, err1 := base64.URLEncoding.DecodeString(sig)
			payload, err2 := base64.URLEncoding.DecodeString(encoded)
			digest := sha256.Sum256([]byte(signing))
			if !ok || !isProof || err1 != nil || err2 != nil || rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], raw) != nil {
				t.Fatalf("proof does not verify: %s", proof)
			}
			var dataset map[string]any
			if err := json.Unmarshal(payload, &dataset); err != nil {
				t.Fatal(err)
			}
			return dataset
		}
		ds := verify(e.do("POST", base+machineID+"/actions/generate-offline-proof", "", header{"Authorization", "License " + b.license}))
		if ds["machine"].(map[string]any)["fingerprint"] != "fp-proof" || ds["license"].(map[string]any)["key"] != b.license ||
			ds["account"].(map[string]any)["id"] != tenant.ID || ds["policy"].(map[string]any)["id"] != b.policyID {
			t.Fatalf("default dataset: %v", ds)
		}
		ds = verify(e.admin("POST", base+"fp-proof/actions/generate-offline-proof", `{"meta":{"dataset":{"id":"`+machineID+`","nonce":1}}}`))
		if len(ds) != 2 || ds["nonce"] != 1.0 {
			t.Fatalf("custom dataset: %v", ds)
		}
		e.do("POST", base+machineID+"/actions/generate-offline-proof", `{"meta":{"dataset":{"nonce":1}}}`, header{"Authorization", "License " + b.license}).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/dataset")
		other := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, ""))
		e.do("POST", base+machineID+"/actions/generate-offline-proof", "", header{"Authorization", "License " + attrs(t, other)["key"].(string)}).expectError(t, 404, "NOT_FOUND")
		e.do("POST", base+machineID+"/actions/generate-offline-proof", "").expectError(t, 401, "TOKEN_MISSING")
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?event=machine.proofs.generated", ""))); n != 2 {
			t.Fatalf("machine.proofs.generated events: %d", n)
		}
	})
}
