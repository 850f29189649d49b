package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/internal/ociimage/ocitest"
	"github.com/relkey/relkey/internal/testenv"
)

// pushImage stores an image's blobs as artifacts of a release the way the
// API documents it: one per blob, named by its digest, its media type in
// the metadata, its checksum the digest's hex.
func (l *line) pushImage(releaseID string, img *ocitest.Image) {
	t := l.e.t.(*testing.T)
	for _, b := range img.Blobs() {
		created := l.e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, fmt.Sprintf(
			`"filename":%q,"filesize":%d,"checksum":%q,"metadata":{"mediaType":%q}`, b.Digest(), len(b.Content), b.Digest()[7:], b.MediaType)),
			header{"Prefer", "no-redirect"})
		if status, _ := rawRequest(t, "PUT", created.header.Get("Location"), b.Content); status != 200 {
			t.Fatalf("upload %s: %d", b.Digest(), status)
		}
		id := l.e.id(created)
		eventually(t, b.Digest()+" to be uploaded", func() bool {
			return attrs(t, l.e.admin("GET", "/v1/accounts/acme/artifacts/"+id, "", header{"Prefer", "no-download"}))["status"] == "UPLOADED"
		})
	}
}

// TestOCIRegistry serves images pushed as release artifacts through the
// distribution API, at the host's /v2 and under /engines/oci: manifests
// by tag, version and digest with their media types and digests, blobs
// through a presigned 303, tags/list, and refusals.
func TestOCIRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "oci", func(string) [][3]string { return nil })
		images := map[string]*ocitest.Image{}
		for _, v := range []string{"1.0.0", "1.1.0", "1.3.0", "2.0.0"} {
			images[v] = ocitest.New(t, v, v == "1.1.0")
			r := e.admin("GET", "/v1/accounts/acme/releases/"+v, "")
			l.pushImage(e.id(r), images[v])
		}
		for v, tag := range map[string]string{"1.1.0": "lts", "1.3.0": "edge", "2.0.0": "next"} {
			e.admin("PATCH", "/v1/accounts/acme/releases/"+v, `{"data":{"type":"releases","attributes":{"tag":"`+tag+`"}}}`)
		}
		license := basic("license", l.key)

		if r := e.do("GET", "/v2/", "", license); r.status != 200 || r.header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
			t.Fatalf("handshake: %d %v", r.status, r.header)
		}
		img := images["1.1.0"]
		for _, base := range []string{"/v2/acme/app/", "/v1/accounts/acme/engines/oci/app/"} {
			for _, ref := range []string{"lts", "1.1.0", img.Index.Digest()} {
				r := l.get(base+"manifests/"+ref, []header{license})
				if r.status != 200 || r.header.Get("Content-Type") != ociimage.Index || r.header.Get("Docker-Content-Digest") != img.Index.Digest() ||
					!bytes.Equal(r.body, img.Index.Content) {
					t.Fatalf("%smanifests/%s: %d %v %s", base, ref, r.status, r.header, r.body)
				}
			}
		}
		base := "/v2/acme/app/"
		// A client that takes image manifests only gets the platform's.
		r := l.get(base+"manifests/lts", []header{license, {"Accept", ociimage.Manifest + ", " + ociimage.DockerManifest}})
		if r.status != 200 || r.header.Get("Content-Type") != ociimage.Manifest || !bytes.Equal(r.body, img.Manifest.Content) {
			t.Fatalf("manifest for an image-manifest client: %d %v", r.status, r.header)
		}
		if r := l.get(base+"manifests/lts", []header{license, {"Accept", ociimage.DockerManifestList}}); r.status != 404 {
			t.Fatalf("no manifest of the accepted type: %d %s", r.status, r.body)
		}
		r = e.do("HEAD", base+"manifests/1.1.0", "", license)
		if r.status != 200 || r.header.Get("Docker-Content-Digest") != img.Index.Digest() || len(r.body) != 0 ||
			r.header.Get("Content-Length") != strconv.Itoa(len(img.Index.Content)) {
			t.Fatalf("HEAD manifest: %d %v", r.status, r.header)
		}
		if r := l.get(base+"manifests/"+img.Layer.Digest(), []header{license}); r.status != 404 {
			t.Fatalf("a layer as a manifest: %d", r.status)
		}
		r = e.do("GET", base+"blobs/"+img.Layer.Digest(), "", license)
		if r.status != http.StatusSeeOther {
			t.Fatalf("blob: %d %s", r.status, r.body)
		}
		if status, body := rawRequest(t, "GET", r.header.Get("Location"), nil); status != 200 || !bytes.Equal(body, img.Layer.Content) {
			t.Fatalf("presigned blob: %d", status)
		}
		r = e.do("HEAD", base+"blobs/"+img.Config.Digest(), "", license)
		if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(img.Config.Content)) || r.header.Get("Docker-Content-Digest") != img.Config.Digest() {
			t.Fatalf("HEAD blob: %d %v", r.status, r.header)
		}
		if r := l.get(base+"tags/list", []header{license}); r.status != 200 || string(r.body) != `{"name":"app","tags":["lts"]}`+"\n" {
			t.Fatalf("tags (no draft or unentitled release's): %d %s", r.status, r.body)
		}
		// What the license may not see: a draft, an unentitled release, by
		// tag and by digest.
		hidden := images["2.0.0"]
		for _, path := range []string{"manifests/edge", "manifests/1.3.0", "manifests/next", "manifests/" + hidden.Manifest.Digest(),
			"blobs/" + hidden.Layer.Digest(), "manifests/nope", "blobs/sha256:nope"} {
			if r := l.get(base+path, []header{license}); r.status != 404 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
		}
		if r := l.get(base+"manifests/next", []header{bearer(e.token)}); r.status != 200 || !bytes.Equal(r.body, hidden.Manifest.Content) {
			t.Fatalf("admin, the constrained release: %d %s", r.status, r.body)
		}
		// Drafts are listed to no one, as in every registry's index.
		if r := l.get(base+"tags/list", []header{bearer(e.token)}); string(r.body) != `{"name":"app","tags":["lts","next"]}`+"\n" {
			t.Fatalf("admin's tags: %s", r.body)
		}
		// Any user name with the key as password, and a Bearer key.
		for _, h := range []header{basic("oauth2accesstoken", l.key), bearer(l.key)} {
			if r := l.get(base+"manifests/1.0.0", []header{h}); r.status != 200 {
				t.Fatalf("authenticated by %v: %d %s", h, r.status, r.body)
			}
		}
		if r := l.get(base+"manifests/1.0.0", []header{basic("license", "nope")}); r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="keygen"` {
			t.Fatalf("a wrong key: %d %v", r.status, r.header)
		}
		want := `Bearer realm="` + e.srv.URL + `/v2/token",service="` + strings.TrimPrefix(e.srv.URL, "http://") + `",scope="repository:acme/app:pull"`
		if r := l.get(base+"manifests/1.0.0", nil); r.status != 401 || r.header.Get("WWW-Authenticate") != want {
			t.Fatalf("anonymous: %d %v, want %s", r.status, r.header, want)
		}
		for _, path := range []string{"manifests/1.0.0", "blobs/" + img.Layer.Digest(), "tags/list"} {
			if r := l.get(base+path, nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("anonymous %s: %d %v", path, r.status, r.header)
			}
		}
		l.refusals(t, base+"manifests/1.0.0", true, licenseBasic)
		for _, path := range []string{"blobs/" + img.Layer.Digest(), "tags/list"} {
			if r := l.get(base+path, []header{license}); r.status != 403 {
				t.Fatalf("suspended %s: %d %s", path, r.status, r.body)
			}
		}
	})
}

// TestOCITokenFlow is the distribution token flow: the handshake
// challenges a request without credentials to the token endpoint, which
// trades a license key (or a token) for a registry token granting the
// scopes asked for, for a few minutes, as long as the credential it
// seals still holds.
func TestOCITokenFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "oci", func(string) [][3]string { return nil })
		img := ocitest.New(t, "1.0.0", false)
		l.pushImage(e.id(e.admin("GET", "/v1/accounts/acme/releases/1.0.0", "")), img)
		host := strings.TrimPrefix(e.srv.URL, "http://")

		r := e.do("GET", "/v2/", "")
		if want := `Bearer realm="` + e.srv.URL + `/v2/token",service="` + host + `"`; r.status != 401 || r.header.Get("WWW-Authenticate") != want {
			t.Fatalf("anonymous handshake: %d %v, want %s", r.status, r.header, want)
		}
		token := func(scope string, h ...header) (int, string) {
			r := e.do("GET", "/v2/token?service="+host+"&scope="+scope, "", h...)
			var answer struct {
				Token       string `json:"token"`
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
			}
			if r.status == 200 {
				if err := json.Unmarshal(r.body, &answer); err != nil || answer.Token == "" || answer.AccessToken != answer.Token || answer.ExpiresIn != 300 {
					t.Fatalf("token answer: %s", r.body)
				}
			}
			return r.status, answer.Token
		}
		status, pull := token("repository:acme/app:pull", basic("license", l.key))
		if status != 200 {
			t.Fatalf("token for a license key: %d", status)
		}
		if r := e.do("GET", "/v2/", "", bearer(pull)); r.status != 200 {
			t.Fatalf("handshake with the token: %d %s", r.status, r.body)
		}
		for _, base := range []string{"/v2/acme/app/", "/v1/accounts/acme/engines/oci/app/"} {
			if r := e.do("GET", base+"manifests/1.0.0", "", bearer(pull)); r.status != 200 || !bytes.Equal(r.body, img.Manifest.Content) {
				t.Fatalf("%s manifest with the token: %d %s", base, r.status, r.body)
			}
		}
		// The same scope in the engine's layout names the same repository.
		if status, tok := token("repository:v1/accounts/acme/engines/oci/app:pull", basic("license", l.key)); status != 200 ||
			e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer(tok)).status != 200 {
			t.Fatalf("token for the engine layout's name: %d", status)
		}
		// What the token does not grant: another package, another account,
		// a push.
		if r := e.do("GET", "/v2/acme/other/manifests/1.0.0", "", bearer(pull)); r.status != 401 ||
			!strings.Contains(r.header.Get("WWW-Authenticate"), `scope="repository:acme/other:pull",error="invalid_token"`) {
			t.Fatalf("another package: %d %v", r.status, r.header)
		}
		e.onboard("other")
		if r := e.do("GET", "/v2/other/app/manifests/1.0.0", "", bearer(pull)); r.status != 401 {
			t.Fatalf("another account: %d", r.status)
		}
		// Wrong credentials are refused at the token endpoint; none get an
		// anonymous token, which sees what anyone may.
		if status, _ := token("repository:acme/app:pull", basic("license", "nope")); status != 401 {
			t.Fatalf("a wrong key: %d", status)
		}
		status, anonymous := token("repository:acme/app:pull")
		if r := e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer(anonymous)); status != 200 || r.status != 404 && r.status != 401 {
			t.Fatalf("anonymous token: %d, then %d %s", status, r.status, r.body)
		}
		if r := e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer("rkoci.forged")); r.status != 401 || !strings.Contains(string(r.body), `"code":"TOKEN_INVALID"`) {
			t.Fatalf("a forged token: %d %s", r.status, r.body)
		}
		// An admin token trades the same way.
		if status, tok := token("repository:acme/app:pull", basic("token", e.token)); status != 200 ||
			e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer(tok)).status != 200 {
			t.Fatalf("an admin token: %d", status)
		}
		// Suspending the license stops its registry token at once.
		e.admin("POST", "/v1/accounts/acme/licenses/"+l.licenseID+"/actions/suspend", "")
		if r := e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer(pull)); r.status != 403 {
			t.Fatalf("suspended: %d %s", r.status, r.body)
		}
		e.admin("POST", "/v1/accounts/acme/licenses/"+l.licenseID+"/actions/reinstate", "")
		e.advance(6 * time.Minute)
		if r := e.do("GET", "/v2/acme/app/manifests/1.0.0", "", bearer(pull)); r.status != 401 || !strings.Contains(string(r.body), `"code":"TOKEN_EXPIRED"`) {
			t.Fatalf("expired: %d %s", r.status, r.body)
		}
	})
}

// TestOCIPush pushes images through the distribution API: blobs in one
// request or in chunks, manifests by digest staged and by tag stored with
// what they list as the tag's release's artifacts, which pull back; only
// bearers who may create artifacts push.
func TestOCIPush(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "oci", func(string) [][3]string { return nil })
		admin, license := bearer(e.token), basic("license", l.key)
		base := "/v2/acme/app/"
		img := ocitest.New(t, "3.0.0", true)

		want := `,scope="repository:acme/app:pull,push"`
		if r := e.do("POST", base+"blobs/uploads/", ""); r.status != 401 || !strings.HasSuffix(r.header.Get("WWW-Authenticate"), want) {
			t.Fatalf("anonymous push: %d %v", r.status, r.header)
		}
		if r := e.do("POST", base+"blobs/uploads/", "", license); r.status != 403 {
			t.Fatalf("a license pushes: %d %s", r.status, r.body)
		}
		// The layer in chunks.
		r := e.do("POST", base+"blobs/uploads/", "", admin)
		location := r.header.Get("Location")
		if r.status != 202 || !strings.HasPrefix(location, base+"blobs/uploads/") || r.header.Get("Range") != "0-0" {
			t.Fatalf("start: %d %v", r.status, r.header)
		}
		layer, half := img.Layer.Content, len(img.Layer.Content)/2
		for i, chunk := range [][]byte{layer[:half], layer[half:]} {
			end := half - 1
			if i == 1 {
				end = len(layer) - 1
			}
			if r := e.do("PATCH", location, string(chunk), admin); r.status != 202 || r.header.Get("Range") != "0-"+strconv.Itoa(end) {
				t.Fatalf("chunk %d: %d %v %s", i, r.status, r.header, r.body)
			}
		}
		if r := e.do("PUT", location+"?digest="+img.Config.Digest(), "", admin); r.status != 400 || !strings.Contains(string(r.body), "DIGEST_INVALID") {
			t.Fatalf("closed with another digest: %d %s", r.status, r.body)
		}
		if r := e.do("PATCH", location, "x", admin); r.status != 404 || !strings.Contains(string(r.body), "BLOB_UPLOAD_UNKNOWN") {
			t.Fatalf("the upload after it failed: %d %s", r.status, r.body)
		}
		for _, b := range []ocitest.Blob{img.Layer, img.Config} {
			// Whole, in the POST.
			r := e.do("POST", base+"blobs/uploads/?digest="+b.Digest(), string(b.Content), admin)
			if r.status != 201 || r.header.Get("Docker-Content-Digest") != b.Digest() || r.header.Get("Location") != base+"blobs/"+b.Digest() {
				t.Fatalf("monolithic upload: %d %v %s", r.status, r.header, r.body)
			}
		}
		// What is staged is a pusher's, not a license's.
		if r := e.do("HEAD", base+"blobs/"+img.Layer.Digest(), "", admin); r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(layer)) {
			t.Fatalf("HEAD staged blob: %d %v", r.status, r.header)
		}
		if r := e.do("HEAD", base+"blobs/"+img.Layer.Digest(), "", license); r.status != 404 {
			t.Fatalf("a license HEADs a staged blob: %d", r.status)
		}
		manifest := header{"Content-Type", ociimage.Manifest}
		if r := e.do("PUT", base+"manifests/lts", string(img.Index.Content), admin, header{"Content-Type", ociimage.Index}); r.status != 404 ||
			!strings.Contains(string(r.body), "MANIFEST_UNKNOWN") {
			t.Fatalf("a tag no release has, not a version: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", base+"manifests/3.0.0", string(img.Index.Content), admin, header{"Content-Type", ociimage.Index}); r.status != 400 ||
			!strings.Contains(string(r.body), "MANIFEST_BLOB_UNKNOWN") || !strings.Contains(string(r.body), img.Manifest.Digest()) {
			t.Fatalf("an index before its manifest: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", base+"manifests/"+img.Config.Digest(), string(img.Manifest.Content), admin, manifest); r.status != 400 {
			t.Fatalf("a manifest by another digest: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", base+"manifests/"+img.Manifest.Digest(), string(img.Manifest.Content), admin, header{"Content-Type", "text/plain"}); r.status != 400 {
			t.Fatalf("a manifest of no manifest type: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", base+"manifests/"+img.Manifest.Digest(), string(img.Manifest.Content), admin, manifest); r.status != 201 ||
			r.header.Get("Docker-Content-Digest") != img.Manifest.Digest() {
			t.Fatalf("the platform's manifest by digest: %d %s", r.status, r.body)
		}
		r = e.do("PUT", base+"manifests/3.0.0", string(img.Index.Content), admin, header{"Content-Type", ociimage.Index})
		if r.status != 201 || r.header.Get("Docker-Content-Digest") != img.Index.Digest() || r.header.Get("Location") != base+"manifests/"+img.Index.Digest() {
			t.Fatalf("the index by tag: %d %v %s", r.status, r.header, r.body)
		}
		// The tag's release, created and published, holds the image as
		// relkey image push stores it; the license pulls it.
		rel := attrs(t, e.admin("GET", "/v1/accounts/acme/releases/3.0.0", ""))
		if rel["status"] != "PUBLISHED" || rel["channel"] != "stable" {
			t.Fatalf("the tag's release: %v", rel)
		}
		files := list(t, e.admin("GET", "/v1/accounts/acme/artifacts?release=3.0.0", ""))
		if len(files) != len(img.Blobs()) {
			t.Fatalf("the release holds %d artifacts, want %d", len(files), len(img.Blobs()))
		}
		for _, item := range files {
			a := item.(map[string]any)["attributes"].(map[string]any)
			if a["status"] != "UPLOADED" || a["metadata"].(map[string]any)["mediaType"] == "" {
				t.Fatalf("artifact %v", a)
			}
		}
		if r := l.get(base+"manifests/3.0.0", []header{license}); r.status != 200 || !bytes.Equal(r.body, img.Index.Content) {
			t.Fatalf("pulling the pushed index: %d %s", r.status, r.body)
		}
		r = e.do("GET", base+"blobs/"+img.Layer.Digest(), "", license)
		if status, body := rawRequest(t, "GET", r.header.Get("Location"), nil); r.status != 303 || status != 200 || !bytes.Equal(body, layer) {
			t.Fatalf("pulling the pushed layer: %d %d", r.status, status)
		}
		// A second tag reuses what the package holds: nothing is uploaded.
		if r := e.do("PUT", base+"manifests/3.1.0-beta.1", string(img.Manifest.Content), admin, manifest); r.status != 201 {
			t.Fatalf("a second tag of the same image: %d %s", r.status, r.body)
		}
		if rel := attrs(t, e.admin("GET", "/v1/accounts/acme/releases/3.1.0-beta.1", "")); rel["channel"] != "beta" {
			t.Fatalf("the second tag's release: %v", rel)
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/artifacts?release=3.1.0-beta.1", ""))); n != 3 {
			t.Fatalf("the second tag's release holds %d artifacts, want 3", n)
		}
		// A registry token of pull alone does not push.
		status, token := 0, ""
		if r := e.do("GET", "/v2/token?scope=repository:acme/app:pull", "", basic("token", e.token)); r.status == 200 {
			var answer struct{ Token string }
			_ = json.Unmarshal(r.body, &answer)
			status, token = r.status, answer.Token
		}
		if r := e.do("POST", base+"blobs/uploads/", "", bearer(token)); status != 200 || r.status != 401 {
			t.Fatalf("push with a pull token: %d, then %d %s", status, r.status, r.body)
		}
	})
}
