package httpapi_test

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// activationWithComponents is the document keygen-go sends.
func activationWithComponents(licenseID, fingerprint string, components ...[2]string) string {
	items := ""
	for i, c := range components {
		if i > 0 {
			items += ","
		}
		items += `{"type":"components","attributes":{"fingerprint":"` + c[0] + `","name":"` + c[1] + `"}}`
	}
	return `{"data":{"type":"machines","attributes":{"fingerprint":"` + fingerprint + `","platform":"linux/amd64","cores":4},
		"relationships":{"license":{"data":{"type":"licenses","id":"` + licenseID + `"}},"components":{"data":[` + items + `]}}}}`
}

func TestComponents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"C","floating":true,"maxMachines":5,"componentUniquenessStrategy":"UNIQUE_PER_ACCOUNT","componentMatchingStrategy":"MATCH_MOST"`)
		created := e.admin("POST", "/v1/accounts/acme/machines", activationWithComponents(licenseID, "m1", [2]string{"disk-1", "Disk"}, [2]string{"gpu-1", "GPU"}))
		if created.status != 201 {
			t.Fatalf("activation with components: %d %s", created.status, created.body)
		}
		machineID := data(t, created)["id"].(string)
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines/"+machineID+"/components", ""))); n != 2 {
			t.Fatalf("components: %d", n)
		}
		e.admin("POST", "/v1/accounts/acme/machines", activationWithComponents(licenseID, "m2", [2]string{"x", "X"}, [2]string{"x", "Y"})).
			expectError(t, 422, "COMPONENTS_FINGERPRINT_CONFLICT", "pointer", "/data/relationships/components/data/1/attributes/fingerprint")
		e.admin("POST", "/v1/accounts/acme/machines", activationWithComponents(licenseID, "m3", [2]string{"gpu-1", "GPU"})).
			expectError(t, 422, "COMPONENTS_FINGERPRINT_TAKEN", "pointer", "/data/relationships/components/data/0/attributes/fingerprint")
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+licenseID, ""))); n != 1 {
			t.Fatalf("a refused activation left a machine: %d machines", n)
		}

		validate := func(scope string) string {
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":`+scope+`}}`)
			return r.doc(t)["meta"].(map[string]any)["code"].(string)
		}
		if code := validate(`{"fingerprint":"m1","components":["disk-1","gpu-1","ram-1"]}`); code != "VALID" {
			t.Fatalf("2 of 3 components under MATCH_MOST: %s", code)
		}
		if code := validate(`{"fingerprint":"m1","components":["disk-1","ram-1","cpu-1"]}`); code != "COMPONENTS_SCOPE_MISMATCH" {
			t.Fatalf("1 of 3 components under MATCH_MOST: %s", code)
		}

		added := e.admin("POST", "/v1/accounts/acme/components", `{"data":{"type":"components","attributes":{"fingerprint":"ram-1","name":"RAM"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`)
		if added.status != 201 {
			t.Fatalf("add component: %d %s", added.status, added.body)
		}
		if code := validate(`{"fingerprint":"m1","components":["disk-1","ram-1","cpu-1"]}`); code != "VALID" {
			t.Fatalf("after adding a component: %s", code)
		}
		if r := e.admin("DELETE", "/v1/accounts/acme/components/"+data(t, added)["id"].(string), ""); r.status != 204 {
			t.Fatalf("delete component: %d", r.status)
		}
		e.admin("POST", "/v1/accounts/acme/components", `{"data":{"type":"components","attributes":{"fingerprint":"z","name":"Z"}}}`).expectError(t, 422, "MACHINE_NOT_FOUND")
	})
}

// TestUpdateParts is PATCH/PUT /components/:id and /processes/:id as
// Keygen's machine_components#update and machine_processes#update: a
// component's name, and for staff and products the metadata; fingerprint
// and pid are unpermitted (400), users may not write metadata, another
// license's bearer gets a 404; component.updated and process.updated are
// emitted.
func TestUpdateParts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme"
		machineID := e.id(e.admin("POST", base+"/machines", machineBody(b.licenseID, `"fingerprint":"fp-parts"`)))
		componentID := e.id(e.admin("POST", base+"/components",
			`{"data":{"type":"components","attributes":{"fingerprint":"disk","name":"Disk"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`))
		processID := e.id(e.admin("POST", base+"/processes",
			`{"data":{"type":"processes","attributes":{"pid":"42"},"relationships":{"machine":{"data":{"type":"machines","id":"`+machineID+`"}}}}}`))
		licenseAuth := header{"Authorization", "License " + b.license}
		component, process := base+"/components/"+componentID, base+"/processes/"+processID
		body := func(typ, attrs string) string { return `{"data":{"type":"` + typ + `","attributes":{` + attrs + `}}}` }

		r := e.do("PATCH", component, body("components", `"name":"Boot disk"`), licenseAuth)
		if r.status != 200 || attrs(t, r)["name"] != "Boot disk" || attrs(t, r)["fingerprint"] != "disk" {
			t.Fatalf("PATCH component: %d %s", r.status, r.body)
		}
		r = e.do("PUT", component, body("components", `"metadata":{"slot":2}`), bearer(b.product))
		if r.status != 200 || attrs(t, r)["metadata"].(map[string]any)["slot"] != 2.0 || attrs(t, r)["name"] != "Boot disk" {
			t.Fatalf("PUT component: %d %s", r.status, r.body)
		}
		e.admin("PATCH", component, body("components", `"fingerprint":"other"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/fingerprint")
		e.admin("PATCH", component, body("components", `"name":" "`)).expectError(t, 422, "NAME_MISSING", "pointer", "/data/attributes/name")
		e.do("PATCH", component, body("components", `"metadata":{}`), licenseAuth).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/metadata")
		e.admin("PATCH", component, body("processes", `"name":"x"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/type")

		r = e.admin("PATCH", process, body("processes", `"metadata":{"role":"worker"}`))
		if r.status != 200 || attrs(t, r)["metadata"].(map[string]any)["role"] != "worker" || attrs(t, r)["pid"] != "42" {
			t.Fatalf("PATCH process: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", process, body("processes", ``), licenseAuth); r.status != 200 {
			t.Fatalf("PUT process without changes: %d %s", r.status, r.body)
		}
		e.admin("PATCH", process, body("processes", `"pid":"43"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/pid")
		e.do("PATCH", process, body("processes", `"metadata":{}`), licenseAuth).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/metadata")

		other := e.admin("POST", base+"/licenses", licenseBody(b.policyID, ""))
		otherAuth := header{"Authorization", "License " + attrs(t, other)["key"].(string)}
		e.do("PATCH", component, body("components", `"name":"x"`), otherAuth).expectError(t, 404, "NOT_FOUND")
		e.do("PATCH", process, body("processes", ``), otherAuth).expectError(t, 404, "NOT_FOUND")
		e.do("PATCH", process, body("processes", ``)).expectError(t, 401, "TOKEN_MISSING")
		for ev, n := range map[string]int{"component.updated": 2, "process.updated": 2} {
			if got := len(list(t, e.admin("GET", base+"/event-logs?event="+ev, ""))); got != n {
				t.Fatalf("%s events: %d, want %d", ev, got, n)
			}
		}
	})
}
