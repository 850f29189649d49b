// Package blackbox drives the relkey binary from the outside, as an operator
// and an API client would: build it, create an account with the CLI, serve,
// and exercise the API with the Go client (pkg/relkey), which verifies every
// response signature.
package blackbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/pkg/relkey"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "relkey-blackbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "relkey")
	build := exec.Command("go", "build", "-o", binary, "github.com/relkey/relkey/cmd/relkey")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building relkey:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type onboarded struct {
	AccountID   string `json:"account_id"`
	AccountSlug string `json:"account_slug"`
	AdminUserID string `json:"admin_user_id"`
	AdminToken  string `json:"admin_token"`
	PublicKey   string `json:"public_key"`
}

// installation is one configured installation of the binary.
type installation struct {
	t   *testing.T
	env []string
}

func (r *installation) run(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = r.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("relkey %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func (r *installation) createAccount(slug string) onboarded {
	r.t.Helper()
	out, err := r.run("account", "create", "--slug", slug, "--name", strings.ToUpper(slug),
		"--email", "owner@"+slug+".test", "--password", "pw-"+slug+"-123", "--json")
	if err != nil {
		r.t.Fatal(err)
	}
	var o onboarded
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		r.t.Fatalf("account create --json printed %q: %v", out, err)
	}
	return o
}

// serve starts the server and returns its base URL; it is stopped with
// SIGTERM at the end of the test, and must exit 0.
func (r *installation) serve() string {
	r.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(r.env, "RELKEY_LISTEN="+addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			r.t.Errorf("serve did not exit cleanly on SIGTERM: %v\n%s", err, logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("relkey did not become ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client is the Go client (pkg/relkey) of one account of the server,
// verifying every signed response with the public key account create
// printed.
func (o onboarded) client(t *testing.T, base string, opts ...relkey.Option) *relkey.Client {
	t.Helper()
	pub, err := relkey.ParsePublicKey(o.PublicKey)
	if err != nil {
		t.Fatalf("public_key %q: %v", o.PublicKey, err)
	}
	c, err := relkey.New(base, o.AccountSlug, append([]relkey.Option{relkey.WithPublicKey(pub)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// expectError asserts that err is an API error with status, code and, when
// given, the source member (pointer, parameter or header) and its value.
func expectError(t *testing.T, err error, status int, code string, source ...string) {
	t.Helper()
	var e *relkey.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	if len(source) == 2 {
		at := map[string]string{"pointer": e.Source.Pointer, "parameter": e.Source.Parameter, "header": e.Source.Header}[source[0]]
		if at != source[1] {
			t.Fatalf("source %+v, want %s %s", e.Source, source[0], source[1])
		}
	}
}

// must returns v; on err it stops the test, through the failOnError the
// test deferred.
func must[T any](v T, err error) T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{fmt.Errorf("%s:%d: %w", filepath.Base(file), line, err)})
	}
	return v
}

type failure struct{ err error }

// failOnError turns a must's failure into the test's.
func failOnError(t *testing.T) {
	if r := recover(); r != nil {
		f, ok := r.(failure)
		if !ok {
			panic(r)
		}
		t.Fatal(f.err)
	}
}

func TestOperatorAndClientJourney(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			defer failOnError(t)
			env := append(os.Environ(), "RELKEY_DATA_DIR="+t.TempDir(), "RELKEY_LOG_LEVEL=warn", "RELKEY_PASSWORD_COST=4")
			if b.Postgres {
				s3 := testenv.S3(t)
				env = append(env,
					"RELKEY_DATABASE_URL="+testenv.EmptyPostgresURL(t),
					"RELKEY_SECRET_KEY="+strings.Repeat("s", 40),
					fmt.Sprintf("RELKEY_STORAGE_URL=s3://%s:%s@%s/%s?secure=false&region=%s", s3.AccessKey, s3.SecretKey, s3.Endpoint, s3.Bucket, s3.Region))
			}
			rk := &installation{t: t, env: env}
			acme := rk.createAccount("acme")
			base := rk.serve()
			ctx := context.Background()
			anonymous := acme.client(t, base)

			// Token via HTTP Basic email:password.
			tok := must(anonymous.CreateToken(ctx, "owner@acme.test", "pw-acme-123"))
			if tok.Kind != "admin-token" || !strings.HasPrefix(tok.Token, "admin-") {
				t.Fatalf("token: %+v", tok)
			}
			_, err := anonymous.CreateToken(ctx, "owner@acme.test", "nope")
			expectError(t, err, 401, "PASSWORD_INVALID", "header", "Authorization")
			admin := anonymous.AsToken(tok.Token)

			// Products: create, list with pagination links, show, update, delete.
			for i, code := range []string{"alpha", "beta", "gamma"} {
				must(admin.Products.Create(ctx, relkey.ProductAttributes{Name: fmt.Sprintf("Product %d", i), Code: relkey.String(code)}))
			}
			page := must(admin.Products.List(ctx, relkey.ListOptions{PageSize: 2}))
			if len(page.Items) != 2 || page.Links.Next != "/v1/accounts/acme/products?page%5Bnumber%5D=2&page%5Bsize%5D=2" || page.Total != 3 {
				t.Fatalf("first page: %d items, links %+v, total %d", len(page.Items), page.Links, page.Total)
			}
			next := must(page.Next(ctx))
			if len(next.Items) != 1 || next.Links.Next != "" {
				t.Fatalf("second page: %d items, links %+v", len(next.Items), next.Links)
			}
			beta := must(admin.Products.Get(ctx, "beta"))
			updated := must(admin.Products.Update(ctx, beta.ID, relkey.ProductAttributes{Name: "Beta 2", URL: relkey.String("https://beta.example")}))
			if updated.Name != "Beta 2" || *updated.Code != "beta" || *updated.URL != "https://beta.example" {
				t.Fatalf("update: %+v", updated.ProductAttributes)
			}
			_, err = admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Dup", Code: relkey.String("ALPHA")})
			expectError(t, err, 422, "CODE_TAKEN", "pointer", "/data/attributes/code")
			_, err = admin.Do(ctx, "POST", "/products", []byte(`{"data":{"type":"products","attributes":{"name":"X","colour":"red"}}}`), nil)
			expectError(t, err, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/colour")
			if err := admin.Products.Delete(ctx, beta.ID); err != nil {
				t.Fatal(err)
			}
			_, err = admin.Products.Get(ctx, beta.ID)
			expectError(t, err, 404, "NOT_FOUND")
			_, err = admin.AsToken("admin-"+strings.Repeat("f", 64)+"v3").Products.List(ctx, relkey.ListOptions{})
			expectError(t, err, 401, "TOKEN_INVALID")
			// The bare layout serves the only account.
			bare := must(relkey.New(base, "", relkey.WithToken(tok.Token)))
			alpha := must(bare.Products.Get(ctx, "alpha"))

			licensing(t, admin, alpha)
			distribution(t, admin, alpha, b.Postgres)

			// A second account created while the server runs is served at once,
			// and its token is worthless on the first account.
			globex := rk.createAccount("globex")
			g := globex.client(t, base, relkey.WithToken(globex.AdminToken))
			must(g.Products.List(ctx, relkey.ListOptions{}))
			if account := must(g.Account(ctx)); account.PublicKey != globex.PublicKey || account.Slug != "globex" {
				t.Fatalf("the account does not publish its public key: %+v", account)
			}
			_, err = admin.AsToken(globex.AdminToken).Products.List(ctx, relkey.ListOptions{})
			expectError(t, err, 401, "TOKEN_INVALID")
		})
	}
}

// licensing runs a node-locked license through what an application does:
// validate, activate, heartbeat, check out; and the admin suspends it.
func licensing(t *testing.T, admin *relkey.Client, product *relkey.Product) {
	ctx := context.Background()
	pro := must(admin.Entitlements.Create(ctx, relkey.EntitlementAttributes{Name: "Pro features", Code: "PRO"}))
	policy := must(admin.Policies.Create(ctx, relkey.PolicyAttributes{
		ProductID: product.ID, Name: "Node-locked", MaxMachines: relkey.Int(1), Duration: relkey.Int(30 * 24 * 3600),
		AuthenticationStrategy: "LICENSE", RequireHeartbeat: relkey.Bool(true), HeartbeatDuration: relkey.Int(600),
	}))
	if err := admin.Policies.AttachEntitlements(ctx, policy.ID, pro.ID); err != nil {
		t.Fatal(err)
	}
	license := must(admin.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: policy.ID, Key: "ACME-DESKTOP-0001"}))
	if license.Expiry == nil || license.PolicyID != policy.ID || license.ProductID() != product.ID {
		t.Fatalf("license: %+v", license)
	}
	app := admin.AsLicenseKey(license.Key)
	scope := &relkey.Scope{Fingerprint: "fp-laptop", Entitlements: []string{"PRO"}}
	if v := must(app.Anonymous().Licenses.ValidateKey(ctx, license.Key, scope)); v.Valid || v.Code != "NO_MACHINE" || v.License.ID != license.ID {
		t.Fatalf("before activation: %+v", v)
	}
	machine := must(app.Machines.Create(ctx, relkey.MachineAttributes{LicenseID: license.ID, Fingerprint: "fp-laptop", Platform: relkey.String("linux")}))
	if machine.LicenseID != license.ID || machine.HeartbeatStatus != "ALIVE" || *machine.Platform != "linux" {
		t.Fatalf("machine: %+v", machine.MachineAttributes)
	}
	_, err := app.Machines.Create(ctx, relkey.MachineAttributes{LicenseID: license.ID, Fingerprint: "fp-desktop"})
	expectError(t, err, 422, "MACHINE_LIMIT_EXCEEDED")
	if v := must(app.Licenses.ValidateKey(ctx, license.Key, scope)); !v.Valid || v.Code != "VALID" {
		t.Fatalf("after activation: %+v", v)
	}
	if v := must(app.Licenses.Validate(ctx, license.ID, &relkey.Scope{Fingerprint: "fp-other"})); v.Valid || v.Code != "FINGERPRINT_SCOPE_MISMATCH" {
		t.Fatalf("another fingerprint: %+v", v)
	}
	if pinged := must(app.Machines.Ping(ctx, machine.ID)); pinged.HeartbeatStatus != "ALIVE" || !pinged.LastHeartbeat.After(*machine.LastHeartbeat) {
		t.Fatalf("heartbeat: %s at %v after %v", pinged.HeartbeatStatus, pinged.LastHeartbeat, machine.LastHeartbeat)
	}
	file := must(app.Licenses.CheckOut(ctx, license.ID, relkey.CheckOutOptions{Include: []string{"entitlements"}}))
	if !strings.HasPrefix(file.Certificate, "-----BEGIN LICENSE FILE-----") || file.Algorithm != "base64+ed25519" {
		t.Fatalf("license file: %s %.40q", file.Algorithm, file.Certificate)
	}
	if mf := must(app.Machines.CheckOut(ctx, machine.ID, relkey.CheckOutOptions{})); !strings.HasPrefix(mf.Certificate, "-----BEGIN MACHINE FILE-----") {
		t.Fatalf("machine file: %.40q", mf.Certificate)
	}
	must(admin.Licenses.Suspend(ctx, license.ID))
	_, err = app.Machines.Ping(ctx, machine.ID)
	expectError(t, err, 403, "LICENSE_SUSPENDED")
	if v := must(app.Anonymous().Licenses.ValidateKey(ctx, license.Key, scope)); v.Valid || v.Code != "SUSPENDED" {
		t.Fatalf("suspended: %+v", v)
	}
	must(admin.Licenses.Reinstate(ctx, license.ID))
}

// distribution publishes two releases of the product, the newer constrained
// to PRO, uploads their artifacts (to the local folder or to S3 through the
// presigned 307) and has the licensed application upgrade and download.
func distribution(t *testing.T, admin *relkey.Client, product *relkey.Product, s3 bool) {
	ctx := context.Background()
	var newest *relkey.Artifact
	for _, version := range []string{"1.0.0", "1.1.0"} {
		r := must(admin.Releases.Create(ctx, relkey.ReleaseAttributes{ProductID: product.ID, Version: version, Channel: "stable"}))
		must(admin.Releases.Publish(ctx, r.ID))
		data := "app " + version
		newest = must(admin.Artifacts.Upload(ctx, relkey.ArtifactAttributes{ReleaseID: r.ID, Filename: "app-" + version + ".tar.gz", Platform: relkey.String("linux")},
			strings.NewReader(data), int64(len(data))))
	}
	pro := must(admin.Entitlements.Get(ctx, "PRO"))
	if err := admin.Releases.AttachConstraints(ctx, newest.ReleaseID, pro.ID); err != nil {
		t.Fatal(err)
	}
	var constrained []string
	for c, err := range admin.Releases.Constraints(newest.ReleaseID).All(ctx, relkey.ListOptions{}) {
		constrained = append(constrained, must(c, err).EntitlementID)
	}
	if len(constrained) != 1 || constrained[0] != pro.ID {
		t.Fatalf("constraints %v", constrained)
	}
	// On S3 a replica's settling pass marks the upload; locally the PUT does.
	deadline := time.Now().Add(15 * time.Second)
	for status := ""; status != "UPLOADED"; {
		status = must(admin.Artifacts.Get(ctx, newest.ID)).Status
		if time.Now().After(deadline) {
			t.Fatalf("artifact still %s (S3: %v)", status, s3)
		}
		if status != "UPLOADED" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	app := admin.AsLicenseKey("ACME-DESKTOP-0001")
	next := must(app.Releases.Upgrade(ctx, "1.0.0", relkey.UpgradeOptions{Product: product.ID}))
	if next.Version != "1.1.0" {
		t.Fatalf("upgrade to %s", next.Version)
	}
	_, err := app.Releases.Upgrade(ctx, "1.1.0", relkey.UpgradeOptions{Product: product.ID})
	if !errors.Is(err, relkey.ErrNoUpgrade) {
		t.Fatalf("upgrade from the newest: %v", err)
	}
	d := must(app.Artifacts.Download(ctx, newest.ID, nil))
	data, err := io.ReadAll(d.Body)
	d.Body.Close()
	if err != nil || string(data) != "app 1.1.0" || d.Artifact.Filename != "app-1.1.0.tar.gz" {
		t.Fatalf("downloaded %s: %q, %v", d.Artifact.Filename, data, err)
	}
}
