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
		licenseID, key := e.licensed(`"name":"Std"`)
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
	})
}
