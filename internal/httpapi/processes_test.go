package httpapi_test

import (
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

func processBody(machineID, pid string) string {
	return `{"data":{"type":"processes","attributes":{"pid":"` + pid + `"},"relationships":{"machine":{"data":{"type":"machines","id":"` + machineID + `"}}}}}`
}

func TestProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"P","strict":true,"maxProcesses":2,"authenticationStrategy":"LICENSE"`)
		auth := header{"Authorization", "License " + key}
		machineID := e.id(e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"m1"`), auth))
		first := e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "100"), auth)
		if first.status != 201 || attrs(t, first)["status"] != "ALIVE" || attrs(t, first)["interval"] != 600.0 {
			t.Fatalf("spawn: %d %s", first.status, first.body)
		}
		e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "100"), auth).expectError(t, 422, "PID_TAKEN")
		second := e.id(e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "200"), auth))
		e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "300"), auth).expectError(t, 422, "MACHINE_PROCESS_LIMIT_EXCEEDED", "pointer", "/data")
		e.do("POST", "/v1/accounts/acme/processes", processBody(e.acct.Account.ID, "1"), auth).expectError(t, 422, "MACHINE_NOT_FOUND")
		if n := len(list(t, e.do("GET", "/v1/accounts/acme/machines/"+machineID+"/processes", "", auth))); n != 2 {
			t.Fatalf("machine processes: %d", n)
		}
		if r := e.do("POST", "/v1/accounts/acme/processes/"+second+"/actions/ping", "", auth); r.status != 200 || attrs(t, r)["status"] != "ALIVE" {
			t.Fatalf("ping: %d %s", r.status, r.body)
		}

		// Too many processes fails a strict validation.
		e.app.DB.Gorm.Exec("UPDATE licenses SET max_processes = 1 WHERE id = ?", licenseID)
		r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"fingerprint":"m1"}}}`)
		if m := r.doc(t)["meta"].(map[string]any); m["code"] != "TOO_MANY_PROCESSES" || m["valid"] != false {
			t.Fatalf("validation: %v", m)
		}

		// A dead process cannot ping (NO_REVIVE), and killing frees a slot.
		e.advance(time.Hour)
		e.do("POST", "/v1/accounts/acme/processes/"+second+"/actions/ping", "", auth).expectError(t, 422, "PROCESS_HEARTBEAT_DEAD")
		if r := e.do("DELETE", "/v1/accounts/acme/processes/"+second, "", auth); r.status != 204 {
			t.Fatalf("kill: %d", r.status)
		}
		e.app.DB.Gorm.Exec("UPDATE licenses SET max_processes = NULL WHERE id = ?", licenseID)
		if r := e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "300"), auth); r.status != 201 {
			t.Fatalf("spawn after kill: %d %s", r.status, r.body)
		}
		_, otherKey := e.licensed(`"name":"Other","authenticationStrategy":"LICENSE"`)
		e.do("GET", "/v1/accounts/acme/processes/"+data(t, first)["id"].(string), "", header{"Authorization", "License " + otherKey}).expectError(t, 404, "NOT_FOUND")
	})
}
