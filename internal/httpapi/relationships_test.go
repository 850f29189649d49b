package httpapi_test

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestRelationshipRoutes walks Keygen's relationship routes: each lists or
// shows the parent's related records, a related record of another parent
// is a 404, and a bearer who may not see the parent gets a 404 (as in
// Keygen's features/api/v1/<parent>/relationships/*.feature).
func TestRelationshipRoutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		other := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		otherPolicy := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(other, `"name":"Other"`)))
		otherLicense := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(otherPolicy, "")))
		machineID := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(b.licenseID, `"fingerprint":"fp-rel"`)))
		otherMachine := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(otherLicense, `"fingerprint":"fp-other"`)))
		releaseID := e.publish(b.productID, "stable", "1.0.0")
		otherRelease := e.publish(other, "stable", "1.0.0")
		processID := e.id(e.admin("POST", "/v1/accounts/acme/processes",
			`{"data":{"type":"processes","attributes":{"pid":"42"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`))
		componentID := e.id(e.admin("POST", "/v1/accounts/acme/components",
			`{"data":{"type":"components","attributes":{"fingerprint":"disk","name":"Disk"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`))
		e.id(e.admin("POST", "/v1/accounts/acme/components",
			`{"data":{"type":"components","attributes":{"fingerprint":"disk","name":"Disk"},"relationships":{"machine":{"data":{"type":"machines","id":"`+otherMachine+`"}}}}}`))
		packageID := e.id(e.admin("POST", "/v1/accounts/acme/packages",
			`{"data":{"type":"packages","attributes":{"name":"Pkg","key":"pkg"},"relationships":{"product":{"data":{"type":"products","id":"`+b.productID+`"}}}}}`))
		if r := e.admin("PATCH", "/v1/accounts/acme/licenses/"+b.licenseID, `{"data":{"type":"licenses","attributes":{"name":"Mine"}}}`); r.status != 200 {
			t.Fatalf("license update: %d %s", r.status, r.body)
		}
		base := "/v1/accounts/acme"

		for _, tt := range []struct {
			path string
			ids  []string
		}{
			{"/products/" + b.productID + "/policies", []string{b.policyID}},
			{"/products/" + b.productID + "/licenses", []string{b.licenseID}},
			{"/products/" + b.productID + "/machines", []string{machineID}},
			{"/products/" + b.productID + "/releases", []string{releaseID}},
			{"/products/" + b.productID + "/packages", []string{packageID}},
			{"/products/" + other + "/artifacts", nil},
			{"/policies/" + b.policyID + "/licenses", []string{b.licenseID}},
			{"/releases/" + releaseID + "/artifacts", nil},
			{"/components?machine=" + machineID, []string{componentID}},
			{"/components?product=" + b.productID, []string{componentID}},
			{"/components?license=" + b.licenseID, []string{componentID}},
			{"/processes?machine=" + machineID, []string{processID}},
			{"/processes?product=" + other, nil},
		} {
			r := e.admin("GET", base+tt.path, "")
			items := list(t, r)
			if r.status != 200 || len(items) != len(tt.ids) {
				t.Fatalf("GET %s: %d %s", tt.path, r.status, r.body)
			}
			for i, id := range tt.ids {
				if got := items[i].(map[string]any)["id"]; got != id {
					t.Fatalf("GET %s: item %d is %v, want %s", tt.path, i, got, id)
				}
			}
		}

		for _, tt := range []struct {
			path, typ, id string
		}{
			{"/products/" + b.productID + "/policies/" + b.policyID, "policies", b.policyID},
			{"/products/" + b.productID + "/licenses/" + b.licenseID, "licenses", b.licenseID},
			{"/products/" + b.productID + "/machines/" + machineID, "machines", machineID},
			{"/products/" + b.productID + "/releases/" + releaseID, "releases", releaseID},
			{"/products/" + b.productID + "/packages/" + packageID, "packages", packageID},
			{"/policies/" + b.policyID + "/licenses/" + b.licenseID, "licenses", b.licenseID},
			{"/policies/" + b.policyID + "/product", "products", b.productID},
			{"/licenses/" + b.licenseID + "/product", "products", b.productID},
			{"/licenses/" + b.licenseID + "/machines/" + machineID, "machines", machineID},
			{"/machines/" + machineID + "/license", "licenses", b.licenseID},
			{"/machines/" + machineID + "/product", "products", b.productID},
			{"/machines/" + machineID + "/processes/" + processID, "processes", processID},
			{"/processes/" + processID + "/machine", "machines", machineID},
			{"/processes/" + processID + "/license", "licenses", b.licenseID},
			{"/processes/" + processID + "/product", "products", b.productID},
			{"/releases/" + releaseID + "/product", "products", b.productID},
			{"/machines/" + machineID + "/components/" + componentID, "components", componentID},
			{"/components/" + componentID, "components", componentID},
			{"/components/" + componentID + "/machine", "machines", machineID},
			{"/components/" + componentID + "/license", "licenses", b.licenseID},
			{"/components/" + componentID + "/product", "products", b.productID},
		} {
			r := e.admin("GET", base+tt.path, "")
			d := data(t, r)
			if r.status != 200 || d["type"] != tt.typ || d["id"] != tt.id {
				t.Fatalf("GET %s: %d %s", tt.path, r.status, r.body)
			}
		}

		for _, tt := range []struct{ parent, create string }{
			{"/products/" + b.productID, "/products/" + b.productID + "/tokens"},
			{"/licenses/" + b.licenseID, "/licenses/" + b.licenseID + "/tokens"},
			{"/users/" + b.userID, "/users/" + b.userID + "/tokens"},
		} {
			tokenID := e.id(e.admin("POST", base+tt.create, ""))
			if r := e.admin("GET", base+tt.parent+"/tokens/"+tokenID, ""); r.status != 200 || data(t, r)["id"] != tokenID {
				t.Fatalf("GET %s/tokens/%s: %d %s", tt.parent, tokenID, r.status, r.body)
			}
			e.admin("GET", base+"/products/"+other+"/tokens/"+tokenID, "").expectError(t, 404, "NOT_FOUND")
		}

		// A record of another parent is not the parent's.
		for _, path := range []string{
			"/products/" + b.productID + "/policies/" + otherPolicy,
			"/products/" + b.productID + "/licenses/" + otherLicense,
			"/products/" + b.productID + "/machines/" + otherMachine,
			"/products/" + b.productID + "/releases/" + otherRelease,
			"/policies/" + b.policyID + "/licenses/" + otherLicense,
			"/licenses/" + b.licenseID + "/machines/" + otherMachine,
		} {
			e.admin("GET", base+path, "").expectError(t, 404, "NOT_FOUND")
		}

		// Visibility: the product bearer sees its own product's relations
		// only; the license bearer sees its own license's product.
		productAuth := bearer(b.product)
		if r := e.do("GET", base+"/products/"+b.productID+"/licenses", "", productAuth); r.status != 200 || len(list(t, r)) != 1 {
			t.Fatalf("product bearer, own licenses: %d %s", r.status, r.body)
		}
		e.do("GET", base+"/products/"+other+"/licenses", "", productAuth).expectError(t, 404, "NOT_FOUND")
		e.do("GET", base+"/policies/"+otherPolicy+"/product", "", productAuth).expectError(t, 404, "NOT_FOUND")
		licenseAuth := header{"Authorization", "License " + b.license}
		if r := e.do("GET", base+"/licenses/"+b.licenseID+"/product", "", licenseAuth); r.status != 200 || data(t, r)["id"] != b.productID {
			t.Fatalf("license bearer, own product: %d %s", r.status, r.body)
		}
		e.do("GET", base+"/licenses/"+otherLicense+"/product", "", licenseAuth).expectError(t, 404, "NOT_FOUND")
		e.do("GET", base+"/machines/"+otherMachine+"/product", "", licenseAuth).expectError(t, 404, "NOT_FOUND")
		e.do("GET", base+"/products/"+b.productID+"/licenses", "").expectError(t, 401, "TOKEN_MISSING")
		if r := e.do("GET", base+"/components", "", licenseAuth); r.status != 200 || len(list(t, r)) != 1 || list(t, r)[0].(map[string]any)["id"] != componentID {
			t.Fatalf("license bearer, components: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", base+"/components", ""); len(list(t, r)) != 2 {
			t.Fatalf("admin, components: %s", r.body)
		}
		e.admin("GET", base+"/components?machine=x", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "machine")
	})
}

// TestChangeLicenseOwner is PUT /licenses/:id/owner (and /user): staff and
// the license's product change it; users may not (Keygen's
// Licenses::OwnerPolicy#update?).
func TestChangeLicenseOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme/licenses/" + b.licenseID
		to := func(userID string) string { return `{"data":{"type":"users","id":"` + userID + `"}}` }
		r := e.admin("PUT", base+"/owner", to(b.userID))
		if r.status != 200 || data(t, r)["type"] != "licenses" {
			t.Fatalf("PUT owner: %d %s", r.status, r.body)
		}
		if owner := data(t, e.admin("GET", base+"/owner", "")); owner["id"] != b.userID {
			t.Fatalf("owner after PUT: %v", owner)
		}
		// The owner itself may not give its license away.
		e.do("PUT", base+"/owner", `{"data":null}`, bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		if r := e.do("PUT", base+"/user", `{"data":null}`, bearer(b.product)); r.status != 200 {
			t.Fatalf("the product clears the owner: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", base+"/owner", ""); r.doc(t)["data"] != nil {
			t.Fatalf("owner after clearing: %s", r.body)
		}
		e.do("PUT", base+"/owner", to(b.userID), bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		e.admin("PUT", base+"/owner", to("7e0b1f4e-1c1d-4b7a-9a8e-000000000000")).expectError(t, 422, "OWNER_NOT_FOUND", "pointer", "/data/id")
		e.admin("PUT", base+"/owner", `{"data":{"type":"products","id":"`+b.productID+`"}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/type")
	})
}

// TestRelatedShowRoutes walks Keygen's …/:id/<related>/:related show
// routes of to-many relationships relkey lists, and the products' catalog
// lists: each shows a record among the parent's, and a record of another
// parent, an unknown id or a non-uuid is a 404 (as in Keygen's
// <parent>/relationships/*.feature "retrieves … that is not associated").
func TestRelatedShowRoutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme"
		other := e.id(e.admin("POST", base+"/products", productBody(`"name":"Other"`)))
		otherPolicy := e.id(e.admin("POST", base+"/policies", policyBody(other, `"name":"Other"`)))
		otherLicense := e.id(e.admin("POST", base+"/licenses", licenseBody(otherPolicy, "")))
		otherUser := e.id(e.admin("POST", base+"/users", userBody("other@acme.test", "user")))
		e.id(e.admin("PUT", base+"/licenses/"+otherLicense+"/owner", `{"data":{"type":"users","id":"`+otherUser+`"}}`))
		e.id(e.admin("PATCH", base+"/licenses/"+b.licenseID+"/owner", `{"data":{"type":"users","id":"`+b.userID+`"}}`))
		machineID := e.id(e.admin("POST", base+"/machines", machineBody(b.licenseID, `"fingerprint":"fp-own"`)))
		otherMachine := e.id(e.admin("POST", base+"/machines", machineBody(otherLicense, `"fingerprint":"fp-other"`)))
		entitlementID := e.id(e.admin("POST", base+"/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Pro","code":"PRO"}}}`))
		policyEntitlement := e.id(e.admin("POST", base+"/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Sync","code":"SYNC"}}}`))
		e.admin("POST", base+"/licenses/"+b.licenseID+"/entitlements", `{"data":[{"type":"entitlements","id":"`+entitlementID+`"}]}`)
		e.admin("POST", base+"/policies/"+b.policyID+"/entitlements", `{"data":[{"type":"entitlements","id":"`+policyEntitlement+`"}]}`)
		releaseID := e.publish(b.productID, "stable", "1.0.0")
		otherRelease := e.publish(other, "beta", "1.0.0-beta.1")
		constraint := e.admin("POST", base+"/releases/"+releaseID+"/constraints",
			`{"data":[{"type":"constraints","relationships":{"entitlement":{"data":{"type":"entitlements","id":"`+entitlementID+`"}}}}]}`)
		constraintID := list(t, constraint)[0].(map[string]any)["id"].(string)
		if r := e.admin("POST", base+"/artifacts", artifactBody(releaseID, `"filename":"app.dmg","filetype":"dmg","platform":"macos","arch":"arm64"`)); r.status != 307 {
			t.Fatalf("artifact: %d %s", r.status, r.body)
		}
		if r := e.admin("POST", base+"/artifacts", artifactBody(otherRelease, `"filename":"app.exe","filetype":"exe","platform":"windows","arch":"amd64"`)); r.status != 307 {
			t.Fatalf("artifact: %d %s", r.status, r.body)
		}
		e.id(e.admin("POST", base+"/packages", `{"data":{"type":"packages","attributes":{"name":"Py","key":"py","engine":"pypi"},"relationships":{"product":{"data":{"type":"products","id":"`+b.productID+`"}}}}}`))
		e.id(e.admin("POST", base+"/packages", `{"data":{"type":"packages","attributes":{"name":"Gem","key":"gem","engine":"rubygems"},"relationships":{"product":{"data":{"type":"products","id":"`+other+`"}}}}}`))

		for _, tt := range []struct{ path, typ, id, foreign string }{
			{"/users/" + b.userID + "/products/", "products", b.productID, other},
			{"/users/" + b.userID + "/machines/", "machines", machineID, otherMachine},
			{"/products/" + b.productID + "/users/", "users", b.userID, otherUser},
			{"/licenses/" + b.licenseID + "/users/", "users", b.userID, otherUser},
			{"/licenses/" + b.licenseID + "/entitlements/", "entitlements", entitlementID, ""},
			{"/licenses/" + otherLicense + "/entitlements/", "", "", entitlementID},
			{"/licenses/" + b.licenseID + "/entitlements/", "entitlements", policyEntitlement, ""},
			{"/policies/" + b.policyID + "/entitlements/", "entitlements", policyEntitlement, entitlementID},
			{"/releases/" + releaseID + "/entitlements/", "entitlements", entitlementID, policyEntitlement},
			{"/releases/" + releaseID + "/constraints/", "constraints", constraintID, entitlementID},
			{"/releases/" + otherRelease + "/constraints/", "", "", constraintID},
		} {
			if tt.id != "" {
				r := e.admin("GET", base+tt.path+tt.id, "")
				if d := data(t, r); r.status != 200 || d["type"] != tt.typ || d["id"] != tt.id {
					t.Fatalf("GET %s%s: %d %s", tt.path, tt.id, r.status, r.body)
				}
			}
			for _, ref := range []string{tt.foreign, "7e0b1f4e-1c1d-4b7a-9a8e-000000000000", "not-a-uuid"} {
				if ref != "" {
					e.admin("GET", base+tt.path+ref, "").expectError(t, 404, "NOT_FOUND")
				}
			}
		}
		// The parent must be visible: a user bearer may not read another user's products.
		e.do("GET", base+"/users/"+otherUser+"/products/"+other, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		e.do("GET", base+"/products/"+b.productID+"/users/"+b.userID, "", bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")

		for _, tt := range []struct{ kind, key, foreign string }{
			{"channels", "stable", "beta"},
			{"platforms", "macos", "windows"},
			{"arches", "arm64", "amd64"},
			{"engines", "pypi", "rubygems"},
		} {
			r := e.admin("GET", base+"/products/"+b.productID+"/"+tt.kind, "")
			items := list(t, r)
			if r.status != 200 || len(items) != 1 || items[0].(map[string]any)["attributes"].(map[string]any)["key"] != tt.key {
				t.Fatalf("GET /products/:id/%s: %d %s", tt.kind, r.status, r.body)
			}
			id := items[0].(map[string]any)["id"].(string)
			for _, ref := range []string{id, tt.key} {
				if r := e.admin("GET", base+"/products/"+b.productID+"/"+tt.kind+"/"+ref, ""); r.status != 200 || data(t, r)["id"] != id {
					t.Fatalf("GET /products/:id/%s/%s: %d %s", tt.kind, ref, r.status, r.body)
				}
			}
			e.admin("GET", base+"/products/"+b.productID+"/"+tt.kind+"/"+tt.foreign, "").expectError(t, 404, "NOT_FOUND")
			if r := e.admin("GET", base+"/"+tt.kind, ""); len(list(t, r)) != 2 {
				t.Fatalf("GET /%s: %s", tt.kind, r.body)
			}
			e.do("GET", base+"/products/"+other+"/"+tt.kind, "", bearer(b.product)).expectError(t, 404, "NOT_FOUND")
		}
	})
}

// TestRelationshipPatch: Keygen's to-one relationship routes take PATCH
// as PUT (resource … only: %i[show update]).
func TestRelationshipPatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme"
		teamPolicy := e.id(e.admin("POST", base+"/policies", policyBody(b.productID, `"name":"Team"`)))
		if r := e.admin("PATCH", base+"/licenses/"+b.licenseID+"/policy", `{"data":{"type":"policies","id":"`+teamPolicy+`"}}`); r.status != 200 ||
			data(t, r)["relationships"].(map[string]any)["policy"].(map[string]any)["data"].(map[string]any)["id"] != teamPolicy {
			t.Fatalf("PATCH policy: %d %s", r.status, r.body)
		}
		for _, rel := range []string{"owner", "user"} {
			if r := e.admin("PATCH", base+"/licenses/"+b.licenseID+"/"+rel, `{"data":{"type":"users","id":"`+b.userID+`"}}`); r.status != 200 {
				t.Fatalf("PATCH %s: %d %s", rel, r.status, r.body)
			}
			e.do("PATCH", base+"/licenses/"+b.licenseID+"/"+rel, `{"data":null}`, bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		}
		releaseID := e.publish(b.productID, "stable", "1.0.0")
		pkg := e.id(e.admin("POST", base+"/packages", `{"data":{"type":"packages","attributes":{"name":"Pkg","key":"pkg"},"relationships":{"product":{"data":{"type":"products","id":"`+b.productID+`"}}}}}`))
		if r := e.admin("PATCH", base+"/releases/"+releaseID+"/package", `{"data":{"type":"packages","id":"`+pkg+`"}}`); r.status != 200 {
			t.Fatalf("PATCH package: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", base+"/releases/"+releaseID+"/package", ""); data(t, r)["id"] != pkg {
			t.Fatalf("package after PATCH: %s", r.body)
		}
	})
}

// TestChangeMachineOwner is PUT/PATCH /machines/:id/owner as in Keygen's
// features/api/v1/machines/relationships/owner.feature: staff and the
// machine's product give it to one of its license's users or take it
// away; another user is OWNER_INVALID, an unknown one OWNER_NOT_FOUND;
// users and licenses are refused; machine.owner.updated is emitted.
func TestChangeMachineOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme"
		licensee := e.id(e.admin("POST", base+"/users", userBody("licensee@acme.test", "user")))
		stranger := e.id(e.admin("POST", base+"/users", userBody("stranger@acme.test", "user")))
		e.id(e.admin("PUT", base+"/licenses/"+b.licenseID+"/owner", `{"data":{"type":"users","id":"`+b.userID+`"}}`))
		if r := e.admin("POST", base+"/licenses/"+b.licenseID+"/users", `{"data":[{"type":"users","id":"`+licensee+`"}]}`); r.status != 200 {
			t.Fatalf("attach licensee: %d %s", r.status, r.body)
		}
		machineID := e.id(e.admin("POST", base+"/machines", machineBody(b.licenseID, `"fingerprint":"fp-owner"`)))
		path := base + "/machines/" + machineID + "/owner"
		to := func(id string) string { return `{"data":{"type":"users","id":"` + id + `"}}` }
		owner := func(r *response) any {
			return data(t, r)["relationships"].(map[string]any)["owner"].(map[string]any)["data"]
		}
		r := e.admin("PUT", path, to(licensee))
		if r.status != 200 || data(t, r)["type"] != "machines" || owner(r).(map[string]any)["id"] != licensee {
			t.Fatalf("PUT owner: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", path, ""); data(t, r)["id"] != licensee {
			t.Fatalf("GET owner: %s", r.body)
		}
		if r := e.do("PATCH", path, `{"data":null}`, bearer(b.product)); r.status != 200 || owner(r) != nil {
			t.Fatalf("the product clears the owner: %d %s", r.status, r.body)
		}
		e.admin("PUT", path, to(stranger)).expectError(t, 422, "OWNER_INVALID", "pointer", "/data/relationships/owner")
		e.admin("PUT", path, to("7e0b1f4e-1c1d-4b7a-9a8e-000000000000")).expectError(t, 422, "OWNER_NOT_FOUND", "pointer", "/data/relationships/owner")
		e.admin("PUT", path, to("customer@acme.test")).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/id")
		e.admin("PUT", path, `{"data":{"type":"products","id":"`+b.productID+`"}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/type")
		e.do("PUT", path, to(b.userID), bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		e.do("PUT", path, to(b.userID), header{"Authorization", "License " + b.license}).expectError(t, 403, "ACCESS_DENIED")
		e.do("PUT", path, to(b.userID)).expectError(t, 401, "TOKEN_MISSING")
		other := e.id(e.admin("POST", base+"/products", productBody(`"name":"Other"`)))
		otherToken := e.rawToken(e.admin("POST", base+"/products/"+other+"/tokens", ""))
		e.do("PUT", path, to(b.userID), bearer(otherToken)).expectError(t, 404, "NOT_FOUND")
		if r := e.admin("GET", base+"/event-logs?event=machine.owner.updated", ""); r.status == 200 && len(list(t, r)) != 2 {
			t.Fatalf("machine.owner.updated events: %s", r.body)
		}
	})
}
