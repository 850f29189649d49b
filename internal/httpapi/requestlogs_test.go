package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/testenv"
)

func TestRequestLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, func(c *config.Config) { c.RequestLog = true })
		licenseID, key := e.licensed(`"name":"Std","authenticationStrategy":"LICENSE"`)
		shown := e.do("GET", "/v1/accounts/acme/licenses/"+licenseID+"?auth="+e.token, "")
		e.do("GET", "/v1/accounts/acme/licenses/"+key, "", bearer(e.token))
		var entries []any
		eventually(t, "the license reads in the request log", func() bool {
			entries = nil
			for _, item := range list(t, e.admin("GET", "/v1/accounts/acme/request-logs?method=get&status=200&page[number]=1&page[size]=100", "")) {
				if item.(map[string]any)["attributes"].(map[string]any)["url"] == "/v1/accounts/:account/licenses/:id" {
					entries = append(entries, item)
				}
			}
			return len(entries) >= 2
		})
		var byID map[string]any
		for _, item := range entries {
			entry := item.(map[string]any)
			a := entry["attributes"].(map[string]any)
			if a["method"] != "GET" || a["status"] != 200.0 || a["ip"] == "" {
				t.Fatalf("entry: %v", entry)
			}
			if a["requestId"] == shown.header.Get("X-Request-Id") {
				byID = entry
			}
			rel := entry["relationships"].(map[string]any)
			if who := rel["requestor"].(map[string]any)["data"].(map[string]any); who["id"] != e.acct.Admin.ID {
				t.Fatalf("requestor: %v", rel)
			}
		}
		if byID == nil {
			t.Fatalf("the read by id is not logged: %v", entries)
		}
		res := byID["relationships"].(map[string]any)["resource"].(map[string]any)["data"].(map[string]any)
		if res["type"] != "licenses" || res["id"] != licenseID {
			t.Fatalf("resource: %v", res)
		}
		all := e.admin("GET", "/v1/accounts/acme/request-logs?page[number]=1&page[size]=100", "")
		if body := string(all.body); strings.Contains(body, key) || strings.Contains(body, e.token) {
			t.Fatal("the request log holds a license key or a token")
		}
		one := e.admin("GET", "/v1/accounts/acme/request-logs/"+byID["id"].(string), "")
		if one.status != 200 || data(t, one)["id"] != byID["id"] {
			t.Fatalf("show: %d %s", one.status, one.body)
		}
		e.admin("GET", "/v1/accounts/acme/request-logs?status=abc", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "status")
		e.admin("GET", "/v1/accounts/acme/request-logs/nope", "").expectError(t, 404, "NOT_FOUND")
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/request-logs?resource[type]=licenses&resource[id]="+licenseID, ""))); n != 1 {
			t.Fatalf("%d entries about the license, want 1", n)
		}
		// The license's own read: requestor and url filters pick it out.
		licenseAuth := header{"Authorization", "License " + key}
		if r := e.do("GET", "/v1/accounts/acme/licenses/"+licenseID+"/machines", "", licenseAuth); r.status != 200 {
			t.Fatalf("the license lists its machines: %d %s", r.status, r.body)
		}
		base := "/v1/accounts/acme/request-logs?limit=100&"
		eventually(t, "the license's own read in the request log", func() bool {
			return len(list(t, e.admin("GET", base+"requestor[type]=license&requestor[id]="+licenseID, ""))) == 1
		})
		admin := e.acct.Admin.ID
		for _, tt := range []struct {
			query string
			want  func(n int) bool
		}{
			{"requestor[type]=License&requestor[id]=" + licenseID, func(n int) bool { return n == 1 }},
			{"requestor[type]=licenses", func(n int) bool { return n == 1 }},
			{"requestor=" + licenseID, func(n int) bool { return n == 1 }},
			{"requestor[id]=" + licenseID[len(licenseID)-12:], func(n int) bool { return n == 1 }},
			{"requestor[type]=User&requestor[id]=" + admin, func(n int) bool { return n >= 2 }},
			{"requestor[type]=environment", func(n int) bool { return n == 0 }},
			{"url=/machines", func(n int) bool { return n == 1 }},
			{"url=licenses/:id&requestor[id]=" + admin, func(n int) bool { return n >= 2 }},
			{"url=100%25", func(n int) bool { return n == 0 }},
		} {
			if n := len(list(t, e.admin("GET", base+tt.query, ""))); !tt.want(n) {
				t.Errorf("?%s: %d entries", tt.query, n)
			}
		}
		for _, tt := range []struct{ query, parameter string }{
			{"requestor[name]=x", "requestor[name]"},
			{"url[x]=1", "url"},
		} {
			e.admin("GET", base+tt.query, "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", tt.parameter)
		}
	})
}
