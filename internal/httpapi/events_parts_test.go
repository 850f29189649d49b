package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/machine"
)

// buffered are the events of hot paths, recorded off the request path:
// they reach the log in batches, out of order with the others.
var buffered = []string{"machine.created", "artifact.downloaded", "release.upgraded"}

// partsAndRelationships makes every action of machines, their parts,
// tokens, packages, artifacts and relationships once, and returns the
// events they emit in order and the buffered ones (sorted).
func partsAndRelationships(t *testing.T, e *env) (ordered, hot []string) {
	t.Helper()
	ok := func(r *response, status int) *response {
		t.Helper()
		if r.status != status {
			t.Fatalf("%d %s, want %d", r.status, r.body, status)
		}
		return r
	}
	emitted := func(name, resource string) { ordered = append(ordered, name+" "+resource) }
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Parts"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID,
		`"name":"Beat","heartbeatDuration":600,"heartbeatResurrectionStrategy":"ALWAYS_REVIVE","heartbeatCullStrategy":"KEEP_DEAD","floating":true,"maxMachines":10`)))
	otherPolicyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Other","floating":true,"maxMachines":10`)))
	licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
	userID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("parts@acme.test", "user")))
	entitlementID := e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Pro","code":"PARTS"}}}`))
	emitted("product.created", "products/"+productID)
	emitted("policy.created", "policies/"+policyID)
	emitted("policy.created", "policies/"+otherPolicyID)
	emitted("license.created", "licenses/"+licenseID)
	emitted("user.created", "users/"+userID)
	emitted("entitlement.created", "entitlements/"+entitlementID)
	ok(e.do("POST", "/v1/accounts/acme/passwords", `{"meta":{"email":"parts@acme.test"}}`), 204)
	emitted("user.password-reset", "users/"+userID)
	// An unknown email changes nothing.
	ok(e.do("POST", "/v1/accounts/acme/passwords", `{"meta":{"email":"nobody@acme.test"}}`), 204)

	// Machines, their heartbeats, components and processes.
	machineID := e.id(ok(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-parts"`)), 201))
	hot = append(hot, "machine.created machines/"+machineID)
	ok(e.admin("POST", "/v1/accounts/acme/machines/"+machineID+"/actions/ping-heartbeat", ""), 200)
	emitted("machine.heartbeat.ping", "machines/"+machineID)
	e.advance(11 * time.Minute)
	// Dead: the scheduled pass reports it once, however often it runs.
	deaths := machine.NewDeaths(e.app.DB, e.app.Outbox)
	for range 2 {
		if _, err := deaths.Pass(context.Background(), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	emitted("machine.heartbeat.dead", "machines/"+machineID)
	ok(e.admin("POST", "/v1/accounts/acme/machines/"+machineID+"/actions/ping-heartbeat", ""), 200)
	emitted("machine.heartbeat.resurrected", "machines/"+machineID)
	ok(e.admin("POST", "/v1/accounts/acme/machines/"+machineID+"/actions/reset-heartbeat", ""), 200)
	emitted("machine.heartbeat.reset", "machines/"+machineID)
	ok(e.admin("POST", "/v1/accounts/acme/machines/"+machineID+"/actions/check-out", "{}"), 200)
	emitted("machine.checked-out", "machines/"+machineID)
	componentID := e.id(ok(e.admin("POST", "/v1/accounts/acme/components", `{"data":{"type":"components","attributes":{"fingerprint":"disk-1","name":"Disk"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`), 201))
	emitted("component.created", "components/"+componentID)
	// The same fingerprint again: refused inside the transaction, no event.
	e.admin("POST", "/v1/accounts/acme/components", `{"data":{"type":"components","attributes":{"fingerprint":"disk-1","name":"Disk"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`).
		expectError(t, 422, "COMPONENTS_FINGERPRINT_TAKEN")
	ok(e.admin("DELETE", "/v1/accounts/acme/components/"+componentID, ""), 204)
	emitted("component.deleted", "components/"+componentID)
	processID := e.id(ok(e.admin("POST", "/v1/accounts/acme/processes", processBody(machineID, "42")), 201))
	emitted("process.created", "processes/"+processID)
	ok(e.admin("POST", "/v1/accounts/acme/processes/"+processID+"/actions/ping", ""), 200)
	emitted("process.heartbeat.ping", "processes/"+processID)
	e.advance(11 * time.Minute)
	if _, err := deaths.Pass(context.Background(), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The machine was reset (not started, no heartbeat required): alive.
	emitted("process.heartbeat.dead", "processes/"+processID)
	ok(e.admin("DELETE", "/v1/accounts/acme/processes/"+processID, ""), 204)
	emitted("process.deleted", "processes/"+processID)

	// License relationships and check-out.
	license := "/v1/accounts/acme/licenses/" + licenseID
	ok(e.admin("PUT", license+"/owner", `{"data":{"type":"users","id":"`+userID+`"}}`), 200)
	emitted("license.owner.updated", "licenses/"+licenseID)
	licenseeID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("licensee@acme.test", "user")))
	emitted("user.created", "users/"+licenseeID)
	ok(e.admin("POST", license+"/users", `{"data":[{"type":"users","id":"`+licenseeID+`"}]}`), 200)
	emitted("license.users.attached", "licenses/"+licenseID)
	// Attached already: refused, no event.
	e.admin("POST", license+"/users", `{"data":[{"type":"users","id":"`+licenseeID+`"}]}`).expectError(t, 422, "USER_TAKEN")
	ok(e.admin("DELETE", license+"/users", `{"data":[{"type":"users","id":"`+licenseeID+`"}]}`), 204)
	emitted("license.users.detached", "licenses/"+licenseID)
	ok(e.admin("POST", license+"/entitlements", linkages(entitlementID)), 200)
	emitted("license.entitlements.attached", "licenses/"+licenseID)
	e.admin("POST", license+"/entitlements", linkages(entitlementID)).expectError(t, 422, "ENTITLEMENT_TAKEN")
	ok(e.admin("DELETE", license+"/entitlements", linkages(entitlementID)), 204)
	emitted("license.entitlements.detached", "licenses/"+licenseID)
	ok(e.admin("PUT", license+"/policy", `{"data":{"type":"policies","id":"`+otherPolicyID+`"}}`), 200)
	emitted("license.policy.updated", "licenses/"+licenseID)
	ok(e.admin("POST", license+"/actions/check-out", "{}"), 200)
	emitted("license.checked-out", "licenses/"+licenseID)
	policy := "/v1/accounts/acme/policies/" + otherPolicyID
	ok(e.admin("POST", policy+"/entitlements", linkages(entitlementID)), 200)
	emitted("policy.entitlements.attached", "policies/"+otherPolicyID)
	ok(e.admin("DELETE", policy+"/entitlements", linkages(entitlementID)), 204)
	emitted("policy.entitlements.detached", "policies/"+otherPolicyID)

	// Tokens.
	tokenID := e.id(ok(e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme")), 201))
	emitted("token.generated", "tokens/"+tokenID)
	productTokenID := e.id(ok(e.admin("POST", "/v1/accounts/acme/products/"+productID+"/tokens", ""), 201))
	emitted("token.generated", "tokens/"+productTokenID)
	ok(e.admin("PUT", "/v1/accounts/acme/tokens/"+tokenID, ""), 200)
	emitted("token.regenerated", "tokens/"+tokenID)
	ok(e.admin("DELETE", "/v1/accounts/acme/tokens/"+tokenID, ""), 204)
	emitted("token.revoked", "tokens/"+tokenID)

	// Packages, releases and artifacts.
	packageID := e.id(ok(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"CLI","key":"cli"`)), 201))
	emitted("package.created", "packages/"+packageID)
	e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"CLI","key":"cli"`)).expectError(t, 422, "KEY_TAKEN")
	ok(e.admin("PATCH", "/v1/accounts/acme/packages/"+packageID, `{"data":{"type":"packages","attributes":{"name":"CLI 2"}}}`), 200)
	emitted("package.updated", "packages/"+packageID)
	oldID := e.publish(productID, "stable", "1.0.0")
	emitted("release.created", "releases/"+oldID)
	releaseID := e.publish(productID, "stable", "1.1.0")
	emitted("release.created", "releases/"+releaseID)
	constraint := list(t, ok(e.admin("POST", "/v1/accounts/acme/releases/"+releaseID+"/constraints", constraintsBody(entitlementID)), 200))[0].(map[string]any)["id"].(string)
	emitted("release.constraints.attached", "releases/"+releaseID)
	ok(e.admin("DELETE", "/v1/accounts/acme/releases/"+releaseID+"/constraints", `{"data":[{"type":"constraints","id":"`+constraint+`"}]}`), 204)
	emitted("release.constraints.detached", "releases/"+releaseID)
	created := ok(e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, `"filename":"app.bin","filesize":5`)), 307)
	artifactID := data(t, created)["id"].(string)
	emitted("artifact.created", "artifacts/"+artifactID)
	if status, _ := rawRequest(t, "PUT", created.header.Get("Location"), []byte("bytes")); status != 200 {
		t.Fatalf("upload: %d", status)
	}
	if err := e.app.Artifacts.SettleWaiting(context.Background()); err != nil {
		t.Fatal(err)
	}
	emitted("artifact.upload.succeeded", "artifacts/"+artifactID)
	emitted("artifact.uploaded", "artifacts/"+artifactID)
	ok(e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, ""), 303)
	hot = append(hot, "artifact.downloaded artifacts/"+artifactID)
	ok(e.admin("GET", "/v1/accounts/acme/releases/"+oldID+"/upgrade", ""), 200)
	hot = append(hot, "release.upgraded releases/"+releaseID)
	ok(e.admin("DELETE", "/v1/accounts/acme/artifacts/"+artifactID, ""), 204)
	emitted("artifact.deleted", "artifacts/"+artifactID)
	ok(e.admin("PUT", "/v1/accounts/acme/releases/"+releaseID+"/package", `{"data":{"type":"packages","id":"`+packageID+`"}}`), 200)
	emitted("release.package.updated", "releases/"+releaseID)
	ok(e.admin("DELETE", "/v1/accounts/acme/packages/"+packageID, ""), 204)
	emitted("package.deleted", "packages/"+packageID)
	slices.Sort(hot)
	return ordered, hot
}

// withoutBuffered drops the buffered events from a log.
func withoutBuffered(log []string) []string {
	return slices.DeleteFunc(log, func(ev string) bool {
		return slices.Contains(buffered, strings.Fields(ev)[0])
	})
}

// bufferedOf keeps the buffered events of a log, sorted.
func bufferedOf(log []string) []string {
	out := slices.DeleteFunc(slices.Clone(log), func(ev string) bool {
		return !slices.Contains(buffered, strings.Fields(ev)[0])
	})
	slices.Sort(out)
	return out
}
