package httpapi_test

import (
	"maps"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

func releaseBody(productID, attrs string) string {
	return `{"data":{"type":"releases","attributes":{` + attrs + `},"relationships":{"product":{"data":{"type":"products","id":"` + productID + `"}}}}}`
}

// publish creates a published release and returns its id.
func (e *env) publish(productID, channel, version string) string {
	return e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"`+channel+`","version":"`+version+`","status":"PUBLISHED"`)))
}

func TestReleases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		created := e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"2","tag":"latest-two","name":"Two"`))
		a := attrs(t, created)
		if created.status != 201 || a["version"] != "2.0.0" || a["status"] != "DRAFT" || a["semver"].(map[string]any)["major"] != 2.0 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		id := data(t, created)["id"].(string)
		for _, tt := range []struct{ attrs, code, pointer string }{
			{`"channel":"stable","version":"2.0.0"`, "VERSION_TAKEN", "/data/attributes/version"},
			{`"channel":"stable","version":"3.0.0","tag":"latest-two"`, "TAG_TAKEN", "/data/attributes/tag"},
			{`"channel":"stable","version":"v3.0.0"`, "VERSION_INVALID", "/data/attributes/version"},
			{`"channel":"stable","version":"3.0.0-beta.1"`, "VERSION_CHANNEL_INVALID", "/data/attributes/version"},
			{`"channel":"nightly","version":"3.0.0"`, "CHANNEL_NOT_ALLOWED", "/data/attributes/channel"},
			{`"version":"3.0.0"`, "CHANNEL_NOT_ALLOWED", "/data/attributes/channel"},
			{`"channel":"stable"`, "VERSION_MISSING", "/data/attributes/version"},
		} {
			e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, tt.attrs)).expectError(t, 422, tt.code, "pointer", tt.pointer)
		}
		// Keygen's typed params refuse a YANKED release on create: a 400.
		e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"3.0.0","status":"YANKED"`)).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/status")
		// A tag is unique per product and package, not per account (Keygen's
		// scope: tag, release_package_id, product_id, account_id).
		otherProduct := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		if r := e.admin("POST", "/v1/accounts/acme/releases", releaseBody(otherProduct, `"channel":"stable","version":"2.0.0","tag":"latest-two"`)); r.status != 201 {
			t.Fatalf("the same tag in another product: %d %s", r.status, r.body)
		}
		for _, ref := range []string{id, "2.0.0", "latest-two"} {
			if r := e.admin("GET", "/v1/accounts/acme/releases/"+ref+"?product="+productID, ""); r.status != 200 || data(t, r)["id"] != id {
				t.Fatalf("lookup %s: %d", ref, r.status)
			}
		}
		e.admin("PATCH", "/v1/accounts/acme/releases/"+id, `{"data":{"type":"releases","attributes":{"version":"9.9.9"}}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/version")
		if r := e.admin("POST", "/v1/accounts/acme/releases/"+id+"/actions/publish", ""); attrs(t, r)["status"] != "PUBLISHED" {
			t.Fatalf("publish: %s", r.body)
		}
		if r := e.admin("POST", "/v1/accounts/acme/releases/"+id+"/actions/yank", ""); attrs(t, r)["status"] != "YANKED" || attrs(t, r)["yanked"] == nil {
			t.Fatalf("yank: %s", r.body)
		}

		for _, v := range [][2]string{{"stable", "3.0.0"}, {"rc", "3.1.0-rc.1"}, {"beta", "3.1.0-beta.1"}, {"alpha", "3.1.0-alpha.1"}, {"dev", "3.1.0-dev.1"}} {
			e.publish(productID, v[0], v[1])
		}
		count := func(channel string) int {
			return len(list(t, e.admin("GET", "/v1/accounts/acme/releases?limit=100&status=PUBLISHED&channel="+channel, "")))
		}
		if got := [5]int{count("stable"), count("rc"), count("beta"), count("alpha"), count("dev")}; got != [5]int{1, 2, 3, 4, 1} {
			t.Fatalf("channel inclusion: %v", got)
		}
		if r := e.admin("DELETE", "/v1/accounts/acme/releases/"+id, ""); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
	})
}

func TestUpgrades(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		for _, v := range [][2]string{
			{"stable", "1.0.0"}, {"stable", "1.5.0"}, {"stable", "1.7.0"}, {"stable", "2.0.0"}, {"stable", "2.0.1"},
			{"alpha", "2.1.0-alpha.1"}, {"alpha", "1.8.0-alpha.2"}, {"beta", "1.8.0-beta.1"},
			{"beta", "3.0.0-beta.1"}, {"stable", "3.0.0+build.1"}, {"stable", "3.0.0+build.2"},
		} {
			e.publish(productID, v[0], v[1])
		}
		e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"9.0.0"`))) // a draft
		upgrade := func(from, query string) *response {
			return e.admin("GET", "/v1/accounts/acme/releases/"+from+"/upgrade?product="+productID+query, "")
		}
		for _, tt := range []struct{ from, query, want string }{
			{"1.0.0", "", "3.0.0+build.2"},
			{"1.0.0", "&constraint=1", "1.7.0"},
			{"1.5.0", "&constraint=1.0", "1.7.0"},
			{"2.0.0", "&constraint=2.0.0", "2.0.1"},
			{"1.8.0-alpha.2", "&channel=beta&constraint=1.8", "1.8.0-beta.1"},
			{"1.8.0-alpha.2", "&channel=alpha&constraint=1.8", "1.8.0-beta.1"},
			{"1.8.0-beta.1", "&constraint=1.8", ""},
			{"1.8.0-beta.1", "", "3.0.0+build.2"},
			{"3.0.0-beta.1", "&channel=stable", "3.0.0+build.2"},
			{"3.0.0+build.1", "", "3.0.0+build.2"},
		} {
			r := upgrade(tt.from, tt.query)
			if tt.want == "" {
				r.expectError(t, 404, "NOT_FOUND")
				continue
			}
			if r.status != 200 || attrs(t, r)["version"] != tt.want {
				t.Fatalf("upgrade from %s%s: %d %s, want %s", tt.from, tt.query, r.status, r.body, tt.want)
			}
			if m := r.doc(t)["meta"].(map[string]any); m["current"] != tt.from || m["next"] != tt.want {
				t.Fatalf("meta: %v", m)
			}
		}
		if m := upgrade("1.0.0", "").doc(t)["meta"].(map[string]any); m["critical"] != false {
			t.Fatalf("meta of a release without critical metadata: %v", m)
		}
		e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"4.0.0","status":"PUBLISHED","metadata":{"critical":true}`))
		if m := upgrade("1.0.0", "").doc(t)["meta"].(map[string]any); m["next"] != "4.0.0" || m["critical"] != true {
			t.Fatalf("meta of a critical release: %v", m)
		}
		upgrade("4.0.0", "").expectError(t, 404, "NOT_FOUND")
		upgrade("1.0.0", "&channel=edge").expectError(t, 404, "NOT_FOUND")
		upgrade("1.0.0", "&constraint=x.y").expectError(t, 400, "CONSTRAINT_INVALID", "parameter", "constraint")
		upgrade("0.0.1", "").expectError(t, 404, "NOT_FOUND")
	})
}

func TestReleaseVisibility(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licensed := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Licensed"`)))
		open := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Open","distributionStrategy":"OPEN"`)))
		closed := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Closed","distributionStrategy":"CLOSED"`)))
		old := e.publish(licensed, "stable", "1.0.0")
		draft := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(licensed, `"channel":"stable","version":"1.1.0"`)))
		openRelease := e.publish(open, "stable", "1.0.0")
		closedRelease := e.publish(closed, "stable", "1.0.0")

		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(licensed, `"name":"P","authenticationStrategy":"LICENSE"`)))
		// Expired yesterday, restricted to what came out before.
		lic := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"expiry":"`+time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339)+`"`))
		key := attrs(t, lic)["key"].(string)
		// Written, not advanced: SQL compares the release's created_at (the
		// database's wall clock) with the license's expiry; no clock is read.
		e.app.DB.Gorm.Exec("UPDATE releases SET created_at = ? WHERE id = ?", time.Now().Add(-48*time.Hour).UTC(), old)
		newer := e.publish(licensed, "stable", "1.2.0")
		backdated := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(licensed,
			`"channel":"stable","version":"1.2.1","status":"PUBLISHED","backdated":"`+time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339)+`"`)))

		closedPolicy := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(closed, `"name":"C","authenticationStrategy":"LICENSE"`)))
		closedKey := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(closedPolicy, "")))["key"].(string)

		seen := func(h ...header) map[string]int {
			out := map[string]int{}
			for _, id := range []string{old, draft, openRelease, closedRelease, newer, backdated} {
				out[id] = e.do("GET", "/v1/accounts/acme/releases/"+id, "", h...).status
			}
			return out
		}
		licenseAuth := header{"Authorization", "License " + key}
		want := map[string]int{old: 200, draft: 404, openRelease: 200, closedRelease: 404, newer: 404, backdated: 200}
		if got := seen(licenseAuth); !equalStatuses(got, want) {
			t.Fatalf("an expired RESTRICT_ACCESS license sees %v, want %v", got, want)
		}
		if r := e.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+licensed, "", licenseAuth); r.status != 200 || attrs(t, r)["version"] != "1.2.1" {
			t.Fatalf("the license's upgrade: %d %s", r.status, r.body)
		}
		anonymous := map[string]int{old: 404, draft: 404, openRelease: 200, closedRelease: 404, newer: 404, backdated: 404}
		if got := seen(); !equalStatuses(got, anonymous) {
			t.Fatalf("anonymous sees %v", got)
		}
		if got := seen(header{"Authorization", "License " + closedKey}); got[closedRelease] != 404 {
			t.Fatalf("a CLOSED product's license sees its release: %v", got)
		}
		if got := seen(bearer(e.token)); got[draft] != 200 || got[closedRelease] != 200 {
			t.Fatalf("admin: %v", got)
		}
		e.do("POST", "/v1/accounts/acme/releases", releaseBody(licensed, `"channel":"stable","version":"5.0.0"`), licenseAuth).expectError(t, 403, "ACCESS_DENIED")
	})
}

func equalStatuses(a, b map[string]int) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// A suspended license lists its product's releases but may not show,
// upgrade to or download them (Keygen's release policy); a user holding
// only suspended licenses for the product likewise. License-key
// authentication refuses the suspended license outright.
func TestSuspendedLicensesListButCannotDownload(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		old := e.publish(productID, "stable", "1.0.0")
		e.publish(productID, "stable", "1.1.0")
		created := e.admin("POST", "/v1/accounts/acme/artifacts", `{"data":{"type":"artifacts","attributes":{"filename":"app"},`+
			`"relationships":{"release":{"data":{"type":"releases","id":"`+old+`"}}}}}`, header{"Prefer", "no-redirect"})
		artifactID := e.id(created)
		if status, _ := rawRequest(t, "PUT", created.header.Get("Location"), []byte("bytes")); status != 200 {
			t.Fatalf("upload: %d", status)
		}
		eventually(t, "the artifact to be uploaded", func() bool {
			return attrs(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, "", header{"Prefer", "no-download"}))["status"] == "UPLOADED"
		})
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"MIXED"`)))
		e.admin("POST", "/v1/accounts/acme/users", userBody("holder@acme.test", "user"))
		lic := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},`+
			`"owner":{"data":{"type":"users","id":"`+e.id(e.admin("GET", "/v1/accounts/acme/users/holder@acme.test", ""))+`"}}}}}`)
		licenseID, key := e.id(lic), attrs(t, lic)["key"].(string)
		activation := bearer(e.rawToken(e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/tokens", "")))
		user := bearer(e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("holder@acme.test", "password-123"))))

		paths := map[string]string{
			"list":     "/v1/accounts/acme/releases",
			"show":     "/v1/accounts/acme/releases/" + old,
			"upgrade":  "/v1/accounts/acme/releases/" + old + "/upgrade",
			"download": "/v1/accounts/acme/artifacts/" + artifactID,
		}
		statuses := func(h header) map[string]int {
			out := map[string]int{}
			for name, path := range paths {
				out[name] = e.do("GET", path, "", h, header{"Prefer", "no-redirect"}).status
			}
			return out
		}
		usable := map[string]int{"list": 200, "show": 200, "upgrade": 200, "download": 200}
		for name, h := range map[string]header{"activation token": activation, "user": user} {
			if got := statuses(h); !maps.Equal(got, usable) {
				t.Fatalf("%s before the suspension: %v", name, got)
			}
		}
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/suspend", "")
		refused := map[string]int{"list": 200, "show": 403, "upgrade": 403, "download": 403}
		for name, h := range map[string]header{"activation token": activation, "user": user} {
			if got := statuses(h); !maps.Equal(got, refused) {
				t.Errorf("%s of a suspended license: %v, want %v", name, got, refused)
			}
			e.do("GET", paths["show"], "", h).expectError(t, 403, "LICENSE_SUSPENDED")
		}
		if r := e.do("GET", paths["list"], "", activation); len(list(t, r)) != 2 {
			t.Fatalf("the suspended license still lists both releases: %s", r.body)
		}
		e.do("GET", paths["list"], "", header{"Authorization", "License " + key}).expectError(t, 403, "LICENSE_SUSPENDED")
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/reinstate", "")
		if got := statuses(user); !maps.Equal(got, usable) {
			t.Fatalf("user after reinstating: %v", got)
		}
	})
}
