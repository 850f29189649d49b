package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

// TestHeartbeatStatusFilters checks ?status= of the machines and
// processes indexes (Keygen's with_status): ALIVE takes machines not
// started, DEAD those whose heartbeat (or required first one) is past its
// policy's duration.
func TestHeartbeatStatusFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		required, _ := e.licensed(`"name":"Required","requireHeartbeat":true,"heartbeatDuration":120,"maxMachines":10,"maxProcesses":10,"floating":true`)
		optional, _ := e.licensed(`"name":"Optional","heartbeatDuration":120,"maxMachines":10,"floating":true`)
		activate := func(licenseID, fingerprint string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"`+fingerprint+`"`)))
		}
		pinged, idle, unmonitored := activate(required, "pinged"), activate(required, "idle"), activate(optional, "unmonitored")
		e.admin("POST", "/v1/accounts/acme/machines/"+pinged+"/actions/ping", "")
		oldProcess := e.id(e.admin("POST", "/v1/accounts/acme/processes", processBody(pinged, "1")))
		ids := func(path string) []string {
			t.Helper()
			r := e.admin("GET", path, "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			var out []string
			for _, item := range list(t, r) {
				out = append(out, item.(map[string]any)["id"].(string))
			}
			slices.Sort(out)
			return out
		}
		sorted := func(v ...string) []string { slices.Sort(v); return v }
		check := func(path string, want []string) {
			t.Helper()
			if got := ids(path); !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", path, got, want)
			}
		}
		check("/v1/accounts/acme/machines?limit=100&status=ALIVE", sorted(pinged, idle, unmonitored))
		check("/v1/accounts/acme/machines?limit=100&status=dead", nil)
		check("/v1/accounts/acme/processes?limit=100&status=ALIVE", []string{oldProcess})

		e.advance(200 * time.Second)
		fresh := activate(required, "fresh")
		newProcess := e.id(e.admin("POST", "/v1/accounts/acme/processes", processBody(fresh, "2")))
		check("/v1/accounts/acme/machines?limit=100&status=ALIVE", sorted(unmonitored, fresh))
		check("/v1/accounts/acme/machines?limit=100&status=DEAD", sorted(pinged, idle))
		check("/v1/accounts/acme/machines?limit=100&status=NOT_STARTED", nil)
		check("/v1/accounts/acme/processes?limit=100&status=alive", []string{newProcess})
		check("/v1/accounts/acme/processes?limit=100&status=DEAD", []string{oldProcess})
		e.admin("GET", "/v1/accounts/acme/machines?status[x]=1", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "status")
		e.admin("GET", "/v1/accounts/acme/processes?status[x]=1", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "status")
	})
}
