package clients

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keygen-sh/jsonapi-go"
	keygen "github.com/keygen-sh/keygen-go/v2"
)

// The documents below are keygen-cli 2.9.1's, sent through its HTTP layer
// (keygen-go v2.9.0), since the CLI itself cannot be installed here.

// cliResource is what the CLI reads back from any response.
type cliResource struct {
	ID         string            `json:"-"`
	Type       string            `json:"-"`
	Status     string            `json:"status"`
	Version    string            `json:"version"`
	Tag        *string           `json:"tag"`
	Filename   string            `json:"filename"`
	Filetype   string            `json:"filetype"`
	Attributes map[string]string `json:"-"`
}

func (r *cliResource) SetID(id string) error  { r.ID = id; return nil }
func (r *cliResource) SetType(t string) error { r.Type = t; return nil }
func (r *cliResource) SetData(to func(target interface{}) error) error {
	return to(r)
}

// cliRelease is the document of `keygen new`: tag always present (null
// when unset), constraints embedded without ids.
type cliRelease struct {
	ID          string                 `json:"-"`
	Type        string                 `json:"-"`
	Name        string                 `json:"name,omitempty"`
	Description string                 `json:"description,omitempty"`
	Version     string                 `json:"version"`
	Tag         *string                `json:"tag"`
	Channel     string                 `json:"channel"`
	Metadata    map[string]interface{} `json:"metadata,omitempty"`
	ProductID   string                 `json:"-"`
	PackageID   string                 `json:"-"`
	Constraints []cliConstraint        `json:"-"`
}

func (r cliRelease) GetID() string        { return r.ID }
func (r cliRelease) GetType() string      { return "releases" }
func (r cliRelease) GetData() interface{} { return r }
func (r cliRelease) GetRelationships() map[string]interface{} {
	rel := map[string]interface{}{
		"constraints": r.Constraints,
		"product":     jsonapi.ResourceObjectIdentifier{Type: "products", ID: r.ProductID},
	}
	if r.PackageID != "" {
		rel["package"] = jsonapi.ResourceObjectIdentifier{Type: "packages", ID: r.PackageID}
	}
	return rel
}

type cliConstraint struct {
	EntitlementID string `json:"-"`
}

func (c cliConstraint) GetID() string                                 { return "" }
func (c cliConstraint) GetType() string                               { return "constraints" }
func (c cliConstraint) GetData() interface{}                          { return c }
func (c cliConstraint) UseExperimentalEmbeddedRelationshipData() bool { return true }
func (c cliConstraint) GetRelationships() map[string]interface{} {
	return map[string]interface{}{"entitlement": jsonapi.ResourceObjectIdentifier{Type: "entitlements", ID: c.EntitlementID}}
}

// cliTag is the document of `keygen tag` and `keygen untag`.
type cliTag struct {
	ID  string  `json:"-"`
	Tag *string `json:"tag"`
}

func (t cliTag) GetID() string        { return t.ID }
func (t cliTag) GetType() string      { return "releases" }
func (t cliTag) GetData() interface{} { return t }

// cliArtifact is the document of `keygen upload`.
type cliArtifact struct {
	Filename  string                 `json:"filename"`
	Filetype  string                 `json:"filetype,omitempty"`
	Filesize  int64                  `json:"filesize"`
	Platform  string                 `json:"platform,omitempty"`
	Arch      string                 `json:"arch,omitempty"`
	Signature string                 `json:"signature,omitempty"`
	Checksum  string                 `json:"checksum,omitempty"`
	Metadata  map[string]interface{} `json:"metadata,omitempty"`
	ReleaseID string                 `json:"-"`
}

func (a cliArtifact) GetID() string        { return "" }
func (a cliArtifact) GetType() string      { return "artifacts" }
func (a cliArtifact) GetData() interface{} { return a }
func (a cliArtifact) GetRelationships() map[string]interface{} {
	return map[string]interface{}{"release": jsonapi.ResourceObjectIdentifier{Type: "releases", ID: a.ReleaseID}}
}

// cli runs the CLI's calls and fails the test naming the command and call.
type cli struct {
	t      *testing.T
	client *keygen.Client
}

func (c *cli) call(command, method, path string, params interface{}, want int) *cliResource {
	c.t.Helper()
	out := &cliResource{}
	var res *keygen.Response
	var err error
	switch method {
	case http.MethodGet:
		res, err = c.client.Get(path, params, out)
	case http.MethodPost:
		res, err = c.client.Post(path, params, out)
	case http.MethodPatch:
		res, err = c.client.Patch(path, params, out)
	case http.MethodDelete:
		res, err = c.client.Delete(path, params, out)
	}
	status := 0
	if res != nil {
		status = res.Status
	}
	if status != want || (err != nil && want < 300) {
		body := ""
		if res != nil && err == nil {
			body = string(res.Body)
		}
		c.t.Fatalf("keygen %s: %s /v1/%s answered %d (want %d), err=%v: %s", command, method, path, status, want, err, body)
	}
	if res != nil && res.Headers.Get("Location") != "" {
		out.Attributes = map[string]string{"location": res.Headers.Get("Location")}
	}
	return out
}

// upload is `keygen upload`: create the artifact, then PUT the bytes to the
// Location without credentials, with the mime type of the server's filetype,
// where only 200 counts as success.
func (c *cli) upload(releaseID string, a cliArtifact, content []byte) *cliResource {
	c.t.Helper()
	a.ReleaseID, a.Filesize = releaseID, int64(len(content))
	created := c.call("upload", http.MethodPost, "artifacts", a, http.StatusTemporaryRedirect)
	location := created.Attributes["location"]
	if location == "" {
		c.t.Fatalf("keygen upload: POST /v1/artifacts answered without a Location")
	}
	req, err := http.NewRequest(http.MethodPut, location, bytes.NewReader(content))
	if err != nil {
		c.t.Fatal(err)
	}
	req.ContentLength = int64(len(content))
	contentType := mime.TypeByExtension("." + created.Filetype)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("keygen upload: PUT %s: %v", location, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("keygen upload: PUT to the storage provider answered %d, want exactly 200", res.StatusCode)
	}
	return created
}

// TestKeygenCLIPublishing replays keygen-cli 2.9.1's publishing commands,
// then installs the uploaded artifact with keygen-go v3.2.1 Upgrade and
// Install in a small program that replaces itself.
func TestKeygenCLIPublishing(t *testing.T) {
	r := startRelkey(t, "", nil)
	product := r.must("create product", 201, "POST", "/v1/products", `{"data":{"type":"products","attributes":{"name":"CLI app"}}}`).id()
	productToken := r.must("create product token", 201, "POST", "/v1/products/"+product+"/tokens", "").attr("token").(string)
	r.must("create entitlement", 201, "POST", "/v1/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Pro","code":"PRO"}}}`)
	r.must("create package", 201, "POST", "/v1/packages", `{"data":{"type":"packages","attributes":{"name":"Probe","key":"probe"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`)

	c := &cli{t: t, client: keygen.NewClientWithOptions(&keygen.ClientOptions{
		APIURL: r.URL, Account: r.AccountID, Token: productToken, UserAgent: "cli/2.9.1",
	})}

	// keygen new --version 2.0.0 --entitlements PRO --package probe
	entitlement := c.call("new", http.MethodGet, "entitlements/PRO", nil, 200)
	pkg := c.call("new", http.MethodGet, "packages/"+url.PathEscape("probe"), nil, 200)
	newRelease := func(version string) *cliResource {
		return c.call("new", http.MethodPost, "releases", cliRelease{
			Version: version, Channel: "stable", ProductID: product, PackageID: pkg.ID,
			Constraints: []cliConstraint{{EntitlementID: entitlement.ID}},
		}, http.StatusCreated)
	}
	release := newRelease("2.0.0")
	if release.Status != "DRAFT" || release.Tag != nil {
		t.Fatalf("keygen new: the release is %s with tag %v, want a DRAFT without tag", release.Status, release.Tag)
	}
	c.call("new", http.MethodPost, "releases", cliRelease{Version: "2.0.0", Channel: "stable", ProductID: product, PackageID: pkg.ID}, http.StatusUnprocessableEntity)

	// keygen upload / publish / tag look the release up by id, version or tag.
	for _, path := range []string{"releases/" + release.ID, "releases/2.0.0?product=" + product, "releases/2.0.0?package=probe&product=" + product} {
		if got := c.call("upload", http.MethodGet, path, nil, 200); got.ID != release.ID {
			t.Fatalf("keygen upload: GET /v1/%s found %s, want %s", path, got.ID, release.ID)
		}
	}
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	probeName := fmt.Sprintf("probe_%s_%s", runtime.GOOS, runtime.GOARCH)
	installed := []byte("#!/bin/sh\necho probe 2.0.0\n")
	c.upload(release.ID, cliArtifact{Filename: probeName, Platform: runtime.GOOS, Arch: runtime.GOARCH,
		Checksum: cliChecksum(installed), Signature: cliSignature(t, private, product, installed)}, installed)
	tampered := fmt.Sprintf("tampered_%s_%s", runtime.GOOS, runtime.GOARCH)
	c.upload(release.ID, cliArtifact{Filename: tampered, Platform: runtime.GOOS, Arch: runtime.GOARCH,
		Checksum: cliChecksum(installed), Signature: "AAAA"}, installed)
	bundle := c.upload(release.ID, cliArtifact{Filename: "bundle.tar.gz", Filetype: ".gz"}, []byte("bundle"))
	if bundle.Filetype != "gz" {
		t.Fatalf("keygen upload: filetype %q stored, want the leading dot stripped", bundle.Filetype)
	}
	r.waitUploaded(bundle.ID)

	// keygen publish / tag / untag
	if got := c.call("publish", http.MethodPost, "releases/"+release.ID+"/actions/publish", nil, 200); got.Status != "PUBLISHED" {
		t.Fatalf("keygen publish: status %s", got.Status)
	}
	latest := "latest"
	c.call("tag", http.MethodPatch, "releases/"+release.ID, cliTag{ID: release.ID, Tag: &latest}, 200)
	if got := c.call("tag", http.MethodGet, "releases/latest?product="+product, nil, 200); got.ID != release.ID {
		t.Fatalf("keygen tag: the tag finds %s", got.ID)
	}
	if got := c.call("untag", http.MethodPatch, "releases/"+release.ID, cliTag{ID: release.ID}, 200); got.Tag != nil {
		t.Fatalf("keygen untag: tag %v remains", *got.Tag)
	}

	// keygen del --release 2.0.0 --artifact bundle.tar.gz (no lookup first)
	c.call("del", http.MethodDelete, "artifacts/bundle.tar.gz?release=2.0.0", nil, http.StatusNoContent)

	// keygen yank and del on a release of their own.
	other := newRelease("2.1.0")
	if other.ID == "" {
		t.Fatal("keygen new: no release id")
	}
	if got := c.call("yank", http.MethodPost, "releases/"+other.ID+"/actions/yank", nil, 200); got.Status != "YANKED" {
		t.Fatalf("keygen yank: status %s", got.Status)
	}
	c.call("del", http.MethodDelete, "releases/"+other.ID, nil, http.StatusNoContent)

	// An app on 1.0.0 of the package, licensed with PRO, updates itself.
	r.must("create release 1.0.0", 201, "POST", "/v1/releases", `{"data":{"type":"releases","attributes":{"version":"1.0.0","channel":"stable","status":"PUBLISHED"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}},"package":{"data":{"type":"packages","id":"probe"}}}}}`)
	policy := r.must("create policy", 201, "POST", "/v1/policies", `{"data":{"type":"policies","attributes":{"name":"Pro","authenticationStrategy":"LICENSE"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
	r.must("attach PRO", 200, "POST", "/v1/policies/"+policy+"/entitlements", `{"data":[{"type":"entitlements","id":"`+entitlement.ID+`"}]}`)
	key := r.must("create license", 201, "POST", "/v1/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policy+`"}}}}}`).attr("key").(string)

	dir := t.TempDir()
	env := append(relkeyEnv(), "KEYGEN_API_URL="+r.URL, "KEYGEN_ACCOUNT_ID="+r.AccountID, "KEYGEN_PRODUCT_ID="+product,
		"KEYGEN_LICENSE_KEY="+key, "KEYGEN_PUBLIC_KEY="+r.PublicKey, "PERSONAL_PUBLIC_KEY="+hex.EncodeToString(public))
	for _, name := range []string{"probe", "tampered"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./probe")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
	}
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(dir, name), args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := run("probe", "1.0.0"); err != nil || out != "installed 2.0.0" {
		t.Fatalf("keygen-go Upgrade+Install of the CLI's upload: %v: %s", err, out)
	}
	if out, err := run("probe"); err != nil || out != "probe 2.0.0" {
		t.Fatalf("the installed executable is not the uploaded artifact: %v: %s", err, out)
	}
	if out, err := run("tampered", "1.0.0"); err == nil || !strings.Contains(out, "signature") {
		t.Fatalf("a tampered signature was installed: %v: %s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tampered")); err != nil || bytes.Equal(b, installed) {
		t.Fatal("the tampered artifact replaced the executable")
	}
}
