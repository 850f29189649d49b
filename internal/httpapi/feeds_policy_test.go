package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/testenv"
)

// tauriFiles is a Tauri release's Linux bundle and its signature.
func tauriFiles(v string) [][3]string {
	return [][3]string{{"app-" + v + ".AppImage", "linux", "x86_64"}, {"app-" + v + ".AppImage.sig", "linux", "x86_64"}}
}

// TestFeedPolicy: the platform filter, required intermediates, staged
// rollouts by device, validators and 304, release.upgraded, Tauri's static
// manifest and Keygen's raw links.
func TestFeedPolicy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		var upgraded []string
		e.app.Events.Subscribe(func(_ context.Context, ev event.Event) {
			if ev.Type == event.ReleaseUpgraded {
				upgraded = append(upgraded, fmt.Sprint(ev.Meta["current"], "→", ev.Meta["next"]))
			}
		})
		l := seedLine(t, e, "tauri", tauriFiles)
		license := header{"Authorization", "License " + l.key}
		tauri := func(current string, h ...header) *response {
			return l.get("/v1/accounts/acme/engines/tauri/app?platform=linux&arch=x86_64&version="+current, append([]header{license}, h...))
		}

		// A newer release without a Linux bundle is not offered to Linux.
		l.release("1.1.5", "stable", `,"status":"PUBLISHED"`, func(v string) [][3]string { return [][3]string{{"app-" + v + ".dmg", "darwin", "x86_64"}} })
		r := tauri("1.0.0")
		if r.status != 200 || r.doc(t)["version"] != "1.1.0" || r.doc(t)["signature"] != "sig-of-app-1.1.0.AppImage" || r.doc(t)["notes"] != "bar" {
			t.Fatalf("tauri from 1.0.0: %d %s", r.status, r.body)
		}
		if !strings.HasSuffix(r.doc(t)["pub_date"].(string), "Z") || r.header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("pub_date %v, Cache-Control %q", r.doc(t)["pub_date"], r.header.Get("Cache-Control"))
		}

		// Validators: the same feed again is a 304 by ETag and by date, and
		// only the answers that carry the update record it.
		etag, modified := r.header.Get("ETag"), r.header.Get("Last-Modified")
		if etag == "" || modified == "" {
			t.Fatalf("no validators: %v", r.header)
		}
		if r := tauri("1.0.0", header{"If-None-Match", etag}); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("If-None-Match: %d", r.status)
		}
		if r := tauri("1.0.0", header{"If-Modified-Since", modified}); r.status != http.StatusNotModified {
			t.Fatalf("If-Modified-Since: %d", r.status)
		}
		if strings.Join(upgraded, ",") != "1.0.0→1.1.0" {
			t.Fatalf("release.upgraded events: %v", upgraded)
		}
		if r := tauri("1.1.0"); r.status != http.StatusNoContent || len(upgraded) != 1 {
			t.Fatalf("no update: %d, events %v", r.status, upgraded)
		}
		if r := tauri("9.9.9"); r.status != http.StatusNoContent {
			t.Fatalf("an unknown current version (Keygen's rule): %d", r.status)
		}

		// 1.6.0 requires stepping through: 1.0.0 gets it before 1.7.0; 1.6.0 gets 1.7.0.
		l.release("1.6.0", "stable", `,"status":"PUBLISHED","metadata":{"requiredIntermediate":true}`, tauriFiles)
		l.release("1.7.0", "stable", `,"status":"PUBLISHED"`, tauriFiles)
		if got := tauri("1.0.0").doc(t)["version"]; got != "1.6.0" {
			t.Fatalf("from 1.0.0 past a required intermediate: %v", got)
		}
		if got := tauri("1.6.0").doc(t)["version"]; got != "1.7.0" {
			t.Fatalf("from the intermediate: %v", got)
		}

		// 1.8.0 rolls out to 30%: of 200 devices about 60 get it, the others
		// 1.7.0; raising it to 60% keeps every device that had it.
		rolled := l.release("1.8.0", "stable", `,"status":"PUBLISHED","metadata":{"rolloutPercentage":30}`, tauriFiles)
		in := func() map[string]bool {
			out := map[string]bool{}
			for i := range 200 {
				device := fmt.Sprintf("device-%d", i)
				switch v := tauri("1.6.0", header{"X-Device-ID", device}).doc(t)["version"]; v {
				case "1.8.0":
					out[device] = true
				case "1.7.0":
				default:
					t.Fatalf("%s offered %v", device, v)
				}
			}
			return out
		}
		thirty := in()
		e.admin("PATCH", "/v1/accounts/acme/releases/"+rolled, `{"data":{"type":"releases","attributes":{"metadata":{"rolloutPercentage":60}}}}`)
		sixty := in()
		for device := range thirty {
			if !sixty[device] {
				t.Fatalf("%s left the rollout when it grew", device)
			}
		}
		if len(thirty) < 40 || len(thirty) > 80 || len(sixty) < 100 || len(sixty) > 140 {
			t.Fatalf("rollout sizes %d at 30%%, %d at 60%% of 200", len(thirty), len(sixty))
		}

		// Tauri v2's static manifest: the newest signed bundle per target.
		m := l.get("/v1/accounts/acme/engines/tauri/app/latest.json", []header{license, {"X-Device-ID", "device-0"}})
		platforms, _ := m.doc(t)["platforms"].(map[string]any)
		linux, _ := platforms["linux-x86_64"].(map[string]any)
		if m.status != 200 || linux == nil || !strings.HasSuffix(strings.Split(linux["url"].(string), "?")[0], ".AppImage") || linux["signature"] == "" {
			t.Fatalf("latest.json: %d %s", m.status, m.body)
		}

		// A package of another engine is not served here.
		e.admin("POST", "/v1/accounts/acme/packages", packageBody(l.productID, `"name":"Py","key":"py","engine":"pypi"`))
		l.get("/v1/accounts/acme/engines/tauri/py?platform=linux&arch=x86_64&version=1.0.0", []header{bearer(e.token)}).expectError(t, 404, "NOT_FOUND")
		l.get("/v1/accounts/acme/engines/tauri/app?platform=linux&version=1.0.0", []header{license}).expectError(t, 400, "PARAMETER_MISSING", "parameter", "arch")

		// Keygen's raw links: version, tag or latest, with the query carried.
		for path, want := range map[string]string{
			"desk/@app/1.1.0/app-1.1.0.AppImage":           "app-1.1.0.AppImage",
			"desk/@app/latest/app-1.1.0.AppImage":          "app-1.1.0.AppImage",
			l.productID + "/@app/1.0.0/app-1.0.0.AppImage": "app-1.0.0.AppImage",
		} {
			r := e.do("GET", "/v1/accounts/acme/engines/raw/"+path+"?auth=license:"+l.key, "")
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther || !strings.Contains(loc, "/artifacts/") || !strings.Contains(loc, want+"?auth=license") {
				t.Fatalf("raw %s: %d %s", path, r.status, loc)
			}
			if got := l.follow(t, loc); string(got) != string(l.content[want]) {
				t.Fatalf("raw %s: bytes differ", path)
			}
		}
		for _, path := range []string{"desk/1.0.0/app-1.0.0.AppImage", "desk/@app/1.3.0/app-1.3.0.AppImage", "desk/@app/9.0.0/app-1.0.0.AppImage", "nope/@app/1.0.0/app-1.0.0.AppImage"} {
			if r := e.do("GET", "/v1/accounts/acme/engines/raw/"+path, "", license); r.status != 404 {
				t.Fatalf("raw %s: %d, want 404", path, r.status)
			}
		}
	})
}
