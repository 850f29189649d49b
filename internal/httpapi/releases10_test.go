package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// fileReleaseBody is a Keygen-Version 1.0 release document: the release
// and its file's attributes.
func fileReleaseBody(productID, version, filename, filetype, platform string) string {
	return releaseBody(productID, `"channel":"stable","version":"`+version+`","filename":"`+filename+`","filetype":"`+filetype+
		`","platform":"`+platform+`","filesize":5,"name":"App `+version+`"`)
}

func TestKeygen10Releases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		v10 := header{"Keygen-Version", "1.0"}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		base := "/v1/accounts/acme/releases"

		// The routes are 1.0's: at 1.8 they are unknown.
		e.admin("PUT", base, fileReleaseBody(productID, "1.0.0", "App-1.0.0.dmg", "dmg", "darwin")).expectError(t, 404, "NOT_FOUND")
		e.admin("GET", base+"/actions/upgrade?product="+productID, "").expectError(t, 404, "NOT_FOUND")

		created := e.admin("PUT", base, fileReleaseBody(productID, "1.0.0", "App-1.0.0.dmg", "dmg", "darwin"), v10)
		a := attrs(t, created)
		if created.status != 201 || a["filename"] != "App-1.0.0.dmg" || a["platform"] != "darwin" || a["filetype"] != "dmg" ||
			a["filesize"] != 5.0 || a["status"] != "NOT_PUBLISHED" || created.header.Get("Keygen-Version") != "1.0" {
			t.Fatalf("upsert (create): %d %s", created.status, created.body)
		}
		oldID := e.id(created)
		rels := data(t, created)["relationships"].(map[string]any)
		file := rels["artifact"].(map[string]any)
		if _, many := rels["artifacts"]; many || file["data"] == nil || file["links"].(map[string]any)["related"] != "/v1/accounts/"+
			e.acct.Account.ID+"/releases/"+oldID+"/artifact" {
			t.Fatalf("the release's file relationship: %v", rels)
		}
		fileID := file["data"].(map[string]any)["id"]

		// The same version and file again: the same release and file, updated.
		again := e.admin("PUT", base, releaseBody(productID, `"channel":"stable","version":"1.0.0","filename":"App-1.0.0.dmg","filesize":7,"name":"Renamed"`), v10)
		if again.status != 200 || e.id(again) != oldID || attrs(t, again)["filesize"] != 7.0 || attrs(t, again)["name"] != "Renamed" ||
			data(t, again)["relationships"].(map[string]any)["artifact"].(map[string]any)["data"].(map[string]any)["id"] != fileID {
			t.Fatalf("upsert (existing): %d %s", again.status, again.body)
		}

		// A bad file leaves nothing behind: the release is not created.
		e.admin("PUT", base, fileReleaseBody(productID, "9.0.0", "a/b.dmg", "dmg", "darwin"), v10).
			expectError(t, 422, "FILENAME_INVALID", "pointer", "/data/attributes/filename")
		e.admin("GET", base+"/9.0.0?product="+productID, "").expectError(t, 404, "NOT_FOUND")

		// Two files for one version: the release's one file is ambiguous.
		e.admin("PUT", base, fileReleaseBody(productID, "0.9.0", "App-0.9.0.dmg", "dmg", "darwin"), v10)
		twice := e.id(e.admin("PUT", base, fileReleaseBody(productID, "0.9.0", "App-0.9.0.zip", "zip", "darwin"), v10))
		e.admin("GET", base+"/"+twice+"/artifact", "", v10).expectError(t, 422, "ARTIFACTS_MULTIPLE")

		// The next version is uploaded through its release, which publishes it.
		nextID := e.id(e.admin("PUT", base, fileReleaseBody(productID, "1.1.0", "App-1.1.0.dmg", "dmg", "darwin"), v10))
		e.admin("GET", base+"/"+nextID+"/artifact", "", v10).expectError(t, 404, "NOT_FOUND")
		upload := e.admin("PUT", base+"/"+nextID+"/artifact", "", v10, header{"Content-Type", "application/octet-stream"})
		if upload.status != 307 || upload.header.Get("Location") == "" || attrs(t, upload)["key"] != "App-1.1.0.dmg" {
			t.Fatalf("upload: %d %s", upload.status, upload.body)
		}
		if status, _ := rawRequest(t, "PUT", upload.header.Get("Location"), []byte("bytes")); status != 200 {
			t.Fatalf("PUT to the upload URL: %d", status)
		}
		if r := e.admin("GET", base+"/"+nextID, ""); attrs(t, r)["status"] != "PUBLISHED" {
			t.Fatalf("after the upload: %s", r.body)
		}
		e.admin("POST", base+"/"+oldID+"/actions/publish", "")
		eventually(t, "the file to be uploaded", func() bool {
			return e.admin("GET", base+"/"+nextID+"/artifact", "", v10).status == 303
		})
		if r := e.admin("PUT", base+"/"+nextID+"/artifact", "", v10); r.status != 422 {
			t.Fatalf("a second upload of an uploaded file: %d %s", r.status, r.body)
		}

		// Upgrades by query and by release.
		query := base + "/actions/upgrade?product=" + productID + "&platform=darwin&filetype=dmg"
		for _, path := range []string{query + "&version=1.0.0", query + "&version=0.5.0", base + "/" + oldID + "/actions/upgrade"} {
			up := e.admin("GET", path, "", v10)
			meta, _ := up.doc(t)["meta"].(map[string]any)
			if up.status != 303 || meta["next"] != "1.1.0" || up.header.Get("Location") == "" || attrs(t, up)["filename"] != "App-1.1.0.dmg" {
				t.Fatalf("upgrade %s: %d %s", path, up.status, up.body)
			}
			if status, body := rawRequest(t, "GET", up.header.Get("Location"), nil); status != 200 || string(body) != "bytes" {
				t.Fatalf("the upgrade's file: %d %q", status, body)
			}
		}
		for _, tt := range []struct {
			query  string
			status int
			code   string
		}{
			{"&version=1.1.0", 204, ""},
			{"&version=1.0.0&channel=dev", 204, ""},
			{"&version=1.0.0&constraint=2", 204, ""},
			{"&version=1.0.0&constraint=1", 303, ""},
			{"&version=bogus", 400, "UPGRADE_VERSION_INVALID"},
			{"&version=1.0.0&constraint=x.y", 400, "UPGRADE_CONSTRAINT_INVALID"},
			{"&version=1.0.0&constraint=1.0.0-beta", 400, "UPGRADE_CONSTRAINT_INVALID"},
		} {
			r := e.admin("GET", query+tt.query, "", v10)
			if tt.code != "" {
				r.expectError(t, tt.status, tt.code, "parameter", map[string]string{"UPGRADE_VERSION_INVALID": "version", "UPGRADE_CONSTRAINT_INVALID": "constraint"}[tt.code])
			} else if r.status != tt.status {
				t.Fatalf("upgrade%s: %d %s", tt.query, r.status, r.body)
			}
		}
		for _, missing := range []string{"product", "platform", "filetype", "version"} {
			q := map[string]string{"product": productID, "platform": "darwin", "filetype": "dmg", "version": "1.0.0"}
			delete(q, missing)
			path := base + "/actions/upgrade?"
			for k, v := range q {
				path += k + "=" + v + "&"
			}
			e.admin("GET", path, "", v10).expectError(t, 400, "UPGRADE_"+map[string]string{"product": "PRODUCT", "platform": "PLATFORM",
				"filetype": "FILETYPE", "version": "VERSION"}[missing]+"_INVALID", "parameter", missing)
		}
		// Anonymous callers see nothing of a licensed product.
		if r := e.do("GET", query+"&version=1.0.0", "", v10); r.status != 204 && r.status != 404 && r.status != 401 {
			t.Fatalf("anonymous upgrade: %d %s", r.status, r.body)
		}

		// Deleting the file yanks the release.
		if r := e.admin("DELETE", base+"/"+nextID+"/artifact", "", v10); r.status != 204 {
			t.Fatalf("delete the file: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", base+"/"+nextID, ""); attrs(t, r)["status"] != "YANKED" {
			t.Fatalf("after deleting the file: %s", r.body)
		}
		e.admin("GET", base+"/"+nextID+"/artifact", "", v10).expectError(t, 422, "RELEASE_YANKED")
		// 9.0.0 was rolled back with its bad file.
		for ev, n := range map[string]int{"release.created": 3, "release.updated": 2, "artifact.created": 4, "artifact.updated": 1,
			"release.uploaded": 1, "release.published": 2, "artifact.deleted": 1, "release.yanked": 1} {
			if got := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?limit=100&event="+ev, ""))); got != n {
				t.Errorf("%s: %d events, want %d", ev, got, n)
			}
		}
		eventually(t, "the buffered downloads and upgrades", func() bool {
			return len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?limit=100&event=release.downloaded", ""))) > 0 &&
				len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?limit=100&event=release.upgraded", ""))) >= 4
		})
		if r := e.admin("GET", query+"&version=1.0.0", "", v10); r.status != 204 {
			t.Fatalf("upgrade to a yanked release: %d %s", r.status, r.body)
		}
	})
}

// TestWireFormatsKeygen10 holds Keygen-Version 1.0's release and file
// documents to their golden files, and follows their links at 1.0.
func TestWireFormatsKeygen10(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		v10 := header{"Keygen-Version", "1.0"}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		created := e.admin("PUT", "/v1/accounts/acme/releases", fileReleaseBody(productID, "1.0.0", "App-1.0.0.dmg", "dmg", "darwin"), v10)
		golden(t, "release-v1x0", 201, created, nil)
		upload := e.admin("PUT", "/v1/accounts/acme/releases/"+e.id(created)+"/artifact", "", v10)
		if status, _ := rawRequest(t, "PUT", upload.header.Get("Location"), []byte("bytes")); status != 200 {
			t.Fatalf("PUT to the upload URL: %d", status)
		}
		var file *response
		eventually(t, "the file to be uploaded", func() bool {
			file = e.admin("GET", "/v1/accounts/acme/releases/"+e.id(created)+"/artifact", "", v10, header{"Prefer", "no-redirect"})
			return file.status == 200
		})
		location := file.header.Get("Location")
		golden(t, "artifact-v1x0", 200, file, map[string]string{location: "<presigned-url>", strings.ReplaceAll(location, "&", `\u0026`): "<presigned-url>"})
		e.resolveLinksWith(t, []header{v10}, created, file)
	})
}
