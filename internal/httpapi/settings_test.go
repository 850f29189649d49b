package httpapi_test

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func settingBody(attrs string) string {
	return `{"data":{"type":"settings","attributes":{` + attrs + `}}}`
}

// TestAccountSettings follows Keygen's settings.feature, and checks that
// a default permission setting is what the account's licenses and users
// may do.
func TestAccountSettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme/settings"
		created := e.admin("POST", base, settingBody(`"key":"default_license_permissions","value":["license.read","license.validate","machine.read"]`))
		if created.status != 201 || attrs(t, created)["key"] != "default_license_permissions" || len(attrs(t, created)["value"].([]any)) != 3 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		settingID := e.id(created)
		for _, tt := range []struct{ attrs, code, pointer string }{
			{`"key":"default_user_permissions","value":["license.validate","license.validate"]`, "VALUE_NOT_ALLOWED", "/data/attributes/value"},
			{`"key":"default_user_permissions","value":["license.read",null]`, "VALUE_NOT_ALLOWED", "/data/attributes/value"},
			{`"key":"default_user_permissions","value":["license.read","account.billing.update"]`, "VALUE_NOT_ALLOWED", "/data/attributes/value"},
			{`"key":"default_user_permissions","value":"license.read"`, "VALUE_NOT_ALLOWED", "/data/attributes/value"},
			{`"key":"default_license_permissions","value":["license.read"]`, "KEY_TAKEN", "/data/attributes/key"},
			{`"key":"foo","value":["license.read"]`, "KEY_NOT_ALLOWED", "/data/attributes/key"},
		} {
			e.admin("POST", base, settingBody(tt.attrs)).expectError(t, 422, tt.code, "pointer", tt.pointer)
		}
		e.admin("POST", base, settingBody(`"key":"default_user_permissions","value":["user.read"],"extra":1`)).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/extra")
		for _, ref := range []string{settingID, "default_license_permissions"} {
			if r := e.admin("GET", base+"/"+ref, ""); r.status != 200 || e.id(r) != settingID {
				t.Fatalf("show %s: %d %s", ref, r.status, r.body)
			}
		}
		e.admin("GET", base+"/foo", "").expectError(t, 404, "NOT_FOUND")
		e.admin("PATCH", base+"/foo", settingBody(`"value":[]`)).expectError(t, 404, "NOT_FOUND")
		e.admin("PATCH", base+"/"+settingID, settingBody(`"key":"default_user_permissions"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/key")
		if n := len(list(t, e.admin("GET", base, ""))); n != 1 {
			t.Fatalf("list: %d settings", n)
		}
		for _, who := range []header{bearer(b.user), bearer(b.product), bearer(b.readOnly), {"Authorization", "License " + b.license}} {
			if r := e.do("GET", base, "", who); r.status != 403 {
				t.Fatalf("%s lists settings: %d %s", who.value[:10], r.status, r.body)
			}
		}

		// The setting is what licenses may do: validate, not list machines' processes.
		license := header{"Authorization", "License " + b.license}
		if r := e.do("GET", "/v1/accounts/acme/processes", "", license); r.status != 403 {
			t.Fatalf("a license without process.read lists processes: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/licenses/"+b.licenseID+"/actions/validate", "", license); r.status != 200 {
			t.Fatalf("a license with license.validate validates: %d %s", r.status, r.body)
		}
		if r := e.admin("PUT", base+"/default_license_permissions", settingBody(`"value":["license.read","license.validate","machine.read","process.read"]`)); r.status != 200 {
			t.Fatalf("replace: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/processes", "", license); r.status != 200 {
			t.Fatalf("once allowed, a license lists processes: %d %s", r.status, r.body)
		}
		// Users get their own default; deleting it brings the built-in one back.
		userSetting := e.id(e.admin("POST", base, settingBody(`"key":"defaultUserPermissions","value":["user.read"]`)))
		if r := e.do("GET", "/v1/accounts/acme/licenses", "", bearer(b.user)); r.status != 403 {
			t.Fatalf("a user without license.read lists licenses: %d %s", r.status, r.body)
		}
		if r := e.admin("DELETE", base+"/"+userSetting, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/licenses", "", bearer(b.user)); r.status != 200 {
			t.Fatalf("with the built-in default a user lists licenses: %d %s", r.status, r.body)
		}
		for ev, n := range map[string]int{"account.settings.created": 2, "account.settings.updated": 1, "account.settings.deleted": 1} {
			if got := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?limit=100&event="+ev, ""))); got != n {
				t.Errorf("%s: %d events, want %d", ev, got, n)
			}
		}
	})
}
