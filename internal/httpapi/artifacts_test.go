package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/testenv"
)

func artifactBody(releaseID, attrs string) string {
	return `{"data":{"type":"artifacts","attributes":{` + attrs + `},"relationships":{"release":{"data":{"type":"releases","id":"` + releaseID + `"}}}}}`
}

// rawRequest sends a request outside relkey's API (to a presigned URL).
func rawRequest(t *testing.T, method, u string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestPublishThenUpgradeAndDownload runs the CI publishing flow and a
// license-key client's upgrade and download, byte for byte.
func TestPublishThenUpgradeAndDownload(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		e.publish(productID, "stable", "1.0.0")
		draft := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"1.1.0"`)))
		content := make([]byte, 200<<10)
		rand.Read(content)

		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft,
			`"filename":"app_linux_amd64","filetype":".BIN","filesize":204800,"platform":"Linux","arch":"AMD64","checksum":"c","signature":"s"`))
		if created.status != http.StatusTemporaryRedirect {
			t.Fatalf("artifact create: %d %s", created.status, created.body)
		}
		a := attrs(t, created)
		upload := created.header.Get("Location")
		if a["status"] != "WAITING" || a["filetype"] != "bin" || a["platform"] != "linux" || a["arch"] != "amd64" || upload == "" ||
			data(t, created)["links"].(map[string]any)["redirect"] != upload {
			t.Fatalf("artifact: %s (Location %q)", created.body, upload)
		}
		artifactID := data(t, created)["id"].(string)
		e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft, `"filename":"app_linux_amd64"`)).expectError(t, 422, "FILENAME_TAKEN")
		noRedirect := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft, `"filename":"notes.txt"`), header{"Prefer", "no-redirect"})
		if noRedirect.status != 200 || noRedirect.header.Get("Location") == "" {
			t.Fatalf("Prefer: no-redirect: %d", noRedirect.status)
		}

		if status, _ := rawRequest(t, "PUT", upload, content); status != 200 {
			t.Fatalf("PUT to the upload URL: %d", status)
		}
		eventually(t, "the artifact to be uploaded", func() bool {
			return attrs(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, "", header{"Prefer", "no-download"}))["status"] == "UPLOADED"
		})
		e.admin("POST", "/v1/accounts/acme/releases/"+draft+"/actions/publish", "")

		// A license-key client upgrades and downloads.
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID,
			`"name":"P","authenticationStrategy":"LICENSE","duration":86400,"expirationBasis":"FROM_FIRST_DOWNLOAD"`)))
		lic := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		key, licenseID := attrs(t, lic)["key"].(string), data(t, lic)["id"].(string)
		if attrs(t, lic)["expiry"] != nil {
			t.Fatal("a FROM_FIRST_DOWNLOAD license starts with an expiry")
		}
		auth := header{"Authorization", "License " + key}
		up := e.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "", auth)
		if up.status != 200 || attrs(t, up)["version"] != "1.1.0" {
			t.Fatalf("upgrade: %d %s", up.status, up.body)
		}
		dl := e.do("GET", "/v1/accounts/acme/releases/"+draft+"/artifacts/app_linux_amd64", "", auth)
		if dl.status != http.StatusSeeOther || data(t, dl)["id"] != artifactID {
			t.Fatalf("download: %d %s", dl.status, dl.body)
		}
		if attrs(t, e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID, ""))["expiry"] == nil {
			t.Fatal("the first upgrade did not start the expiry")
		}
		// The checksum scope matches the uploaded artifact and records its release's version.
		m := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"checksum":"c"}}}`)
		if meta := m.doc(t)["meta"].(map[string]any); meta["code"] != "VALID" || attrs(t, m)["version"] != "1.1.0" {
			t.Fatalf("checksum scope: %s", m.body)
		}
		status, body := rawRequest(t, "GET", dl.header.Get("Location"), nil)
		if status != 200 || !bytes.Equal(body, content) {
			t.Fatalf("the 303 target served %d, %d bytes; want the %d uploaded bytes", status, len(body), len(content))
		}
		// By filename alone (newest visible release), and the vanity path.
		for _, path := range []string{"/v1/accounts/acme/artifacts/app_linux_amd64?platform=linux", "/v1/accounts/acme/artifacts/" + artifactID + "/app_linux_amd64"} {
			if r := e.do("GET", path, "", auth); r.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
		}
		e.do("GET", "/v1/accounts/acme/artifacts/"+artifactID+"/other-name", "", auth).expectError(t, 404, "NOT_FOUND")
		// A waiting artifact is invisible to the license; a short TTL is for staff only.
		waiting := data(t, noRedirect)["id"].(string)
		e.do("GET", "/v1/accounts/acme/artifacts/"+waiting, "", auth).expectError(t, 404, "NOT_FOUND")
		short := e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID+"?ttl=60", "")
		if short.status != http.StatusSeeOther {
			t.Fatalf("admin download: %d", short.status)
		}
		e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID+"?ttl=5", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "ttl")
		var downloads int64
		if err := e.app.Downloads.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.app.DB.Gorm.Raw("SELECT download_count FROM releases WHERE id = ?", draft).Scan(&downloads)
		if downloads != 4 {
			t.Fatalf("download count %d, want 4", downloads)
		}
		// Yanked artifacts stop downloading.
		if r := e.admin("DELETE", "/v1/accounts/acme/artifacts/"+artifactID, ""); r.status != 204 {
			t.Fatalf("yank: %d", r.status)
		}
		e.do("GET", "/v1/accounts/acme/artifacts/"+artifactID, "", auth).expectError(t, 404, "NOT_FOUND")
		if status, _ := rawRequest(t, "GET", dl.header.Get("Location"), nil); status == 200 {
			t.Fatal("a yanked artifact's object is still served")
		}
	})
}

func TestArtifactFailsAfterTheUploadWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App","distributionStrategy":"OPEN"`)))
		releaseID := e.publish(productID, "stable", "1.0.0")
		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, `"filename":"never.bin"`), header{"Prefer", "no-redirect"})
		artifactID := e.id(created)
		show := func() string {
			return attrs(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, "", header{"Prefer", "no-download"}))["status"].(string)
		}
		if got := show(); got != "WAITING" {
			t.Fatalf("within the window: %s", got)
		}
		// The background pass settles artifacts nobody reads: one uploaded
		// (S3 does not tell relkey; the local store already has), one late.
		stored := func(id string) string {
			var status string
			e.app.DB.Gorm.Raw("SELECT status FROM artifacts WHERE id = ?", id).Scan(&status)
			return status
		}
		uploaded := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, `"filename":"landed.bin"`), header{"Prefer", "no-redirect"})
		if status, _ := rawRequest(t, "PUT", uploaded.header.Get("Location"), []byte("bytes")); status != 200 {
			t.Fatalf("upload: %d", status)
		}
		late := e.id(e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, `"filename":"late.bin"`), header{"Prefer", "no-redirect"}))

		e.advance(artifact.UploadWindow + time.Minute)
		if got := show(); got != "FAILED" {
			t.Fatalf("past the window with no upload: %s", got)
		}
		if r := e.do("GET", "/v1/accounts/acme/artifacts/never.bin?product="+productID, ""); r.status != 404 {
			t.Fatalf("a failed artifact is served: %d", r.status)
		}
		if err := e.app.Artifacts.SettleWaiting(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := stored(e.id(uploaded)); got != "UPLOADED" {
			t.Errorf("after a pass the uploaded artifact is %s", got)
		}
		if got := stored(late); got != "FAILED" {
			t.Errorf("after a pass the late artifact is %s", got)
		}
	})
}

// TestUpdateArtifact is PATCH/PUT /artifacts/:id as Keygen's
// release_artifacts#update: admins and the artifact's product change its
// filesize, checksum, signature and metadata; the filename and platform
// are unpermitted; users, licenses and read-only bearers may not;
// artifact.updated is emitted.
func TestUpdateArtifact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		base := "/v1/accounts/acme/artifacts/"
		releaseID := e.publish(b.productID, "stable", "1.0.0")
		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, `"filename":"app.zip","filetype":"zip","filesize":10,"platform":"linux"`))
		id := data(t, created)["id"].(string)
		body := func(attrs string) string { return `{"data":{"type":"artifacts","attributes":{` + attrs + `}}}` }
		r := e.admin("PATCH", base+id, body(`"checksum":"abc","signature":"sig","filesize":12,"metadata":{"build":7}`))
		a := attrs(t, r)
		if r.status != 200 || a["checksum"] != "abc" || a["signature"] != "sig" || a["filesize"] != 12.0 || a["metadata"].(map[string]any)["build"] != 7.0 || a["filename"] != "app.zip" {
			t.Fatalf("PATCH artifact: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", base+id, body(`"checksum":null`), bearer(b.product)); r.status != 200 || attrs(t, r)["checksum"] != nil || attrs(t, r)["signature"] != "sig" {
			t.Fatalf("PUT artifact by its product: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", "/v1/accounts/acme/artifacts?release="+releaseID, ""); len(list(t, r)) != 1 ||
			list(t, r)[0].(map[string]any)["attributes"].(map[string]any)["signature"] != "sig" {
			t.Fatalf("the change is stored: %s", r.body)
		}
		e.admin("PATCH", base+id, body(`"filename":"other.zip"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/filename")
		e.admin("PATCH", base+id, body(`"platform":"macos"`)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/platform")
		e.admin("PATCH", base+id, body(`"filesize":-1`)).expectError(t, 422, "FILESIZE_INVALID", "pointer", "/data/attributes/filesize")
		for _, auth := range []header{bearer(b.readOnly), bearer(b.user), {"Authorization", "License " + b.license}} {
			if r := e.do("PATCH", base+id, body(`"checksum":"x"`), auth); r.status != 403 && r.status != 404 {
				t.Fatalf("PATCH by %s: %d %s", auth.value[:12], r.status, r.body)
			}
		}
		e.do("PATCH", base+id, body(`"checksum":"x"`)).expectError(t, 401, "TOKEN_MISSING")
		other := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		otherToken := e.rawToken(e.admin("POST", "/v1/accounts/acme/products/"+other+"/tokens", ""))
		e.do("PATCH", base+id, body(`"checksum":"x"`), bearer(otherToken)).expectError(t, 404, "NOT_FOUND")
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?event=artifact.updated", ""))); n != 2 {
			t.Fatalf("artifact.updated events: %d", n)
		}
	})
}

// TestUploadURLsAreSingleUseAndHonest: an upload URL stores one upload of
// the declared filesize and checksum. A PUT of another length is refused
// (by relkey on the local store, by S3 through the signed length), a
// second PUT never changes the served bytes, and a wrong checksum keeps
// the artifact from being served, saying why (meta.failure) and logging it.
func TestUploadURLsAreSingleUseAndHonest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		releaseID := e.publish(productID, "stable", "1.0.0")
		hello := []byte("hello")
		s256, s512 := sha256.Sum256(hello), sha512.Sum512(hello)
		show := func(id string) map[string]any {
			return data(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+id, "", header{"Prefer", "no-download"}))
		}
		failure := func(doc map[string]any) any {
			meta, _ := doc["meta"].(map[string]any)
			return meta["failure"]
		}

		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID,
			`"filename":"hello.txt","filesize":5,"checksum":"`+hex.EncodeToString(s256[:])+`"`), header{"Prefer", "no-redirect"})
		id, upload := e.id(created), created.header.Get("Location")
		status, body := rawRequest(t, "PUT", upload, make([]byte, 3<<20))
		if status != 400 && !(be.Postgres && status == 403) {
			t.Fatalf("a 3 MB PUT to a 5-byte artifact: %d %s", status, body)
		}
		if doc := show(id); doc["attributes"].(map[string]any)["status"] != "WAITING" ||
			!be.Postgres && failure(doc) != "an upload of 3145728 bytes was refused: the declared filesize is 5" {
			t.Fatalf("after the refused PUT: %v", doc)
		}
		if status, body := rawRequest(t, "PUT", upload, hello); status != 200 {
			t.Fatalf("the PUT of the declared bytes: %d %s", status, body)
		}
		if doc := show(id); doc["attributes"].(map[string]any)["status"] != "UPLOADED" || failure(doc) != nil {
			t.Fatalf("after the upload: %v", doc)
		}
		second, _ := rawRequest(t, "PUT", upload, []byte("HACKD"))
		if !be.Postgres && second != 403 {
			t.Fatalf("a second PUT to the local store: %d, want 403", second)
		}
		if err := e.app.Artifacts.SettleWaiting(context.Background()); err != nil {
			t.Fatal(err)
		}
		dl := e.admin("GET", "/v1/accounts/acme/artifacts/"+id, "")
		if status, served := rawRequest(t, "GET", dl.header.Get("Location"), nil); status != 200 || !bytes.Equal(served, hello) {
			t.Fatalf("after a second PUT the artifact serves %d %q, want %q", status, served, hello)
		}

		lying := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID,
			`"filename":"lying.txt","filesize":5,"checksum":"`+base64.StdEncoding.EncodeToString(s512[:])+`"`), header{"Prefer", "no-redirect"})
		status, body = rawRequest(t, "PUT", lying.header.Get("Location"), []byte("HACKD"))
		wantStatus, wantFailure := "WAITING", "an upload was refused: its sha512 does not match the declared checksum"
		if be.Postgres { // S3 stores it; relkey finds it out
			wantStatus, wantFailure = "FAILED", "the stored object's sha512 does not match the declared checksum"
		} else if status != 400 || !strings.Contains(string(body), "CHECKSUM_MISMATCH") {
			t.Fatalf("a PUT of another checksum: %d %s", status, body)
		}
		if doc := show(e.id(lying)); doc["attributes"].(map[string]any)["status"] != wantStatus || failure(doc) != wantFailure {
			t.Fatalf("after the PUT of another checksum: %v", doc)
		}
		if r := e.do("GET", "/v1/accounts/acme/artifacts/lying.txt?product="+productID, ""); r.status != 404 {
			t.Fatalf("an artifact of the wrong checksum is served: %d", r.status)
		}
		logged := false
		for line := range strings.Lines(e.logs.String()) {
			if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, wantFailure) && strings.Contains(line, e.id(lying)) {
				logged = true
			}
			if strings.Contains(line, "X-Amz-Signature") || strings.Contains(line, "signature=") {
				t.Fatalf("an upload URL's signature was logged: %s", line)
			}
		}
		if !logged {
			t.Fatalf("no WARN line says why: %s", e.logs.String())
		}
	})
}
