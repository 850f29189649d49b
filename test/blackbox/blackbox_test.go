// Package blackbox drives the relkey binary from the outside, as an operator
// and an API client would: build it, create an account with the CLI, serve,
// and exercise the API over HTTP with response-signature verification.
package blackbox

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
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

// relkey is one configured installation of the binary.
type relkey struct {
	t   *testing.T
	env []string
}

func (r *relkey) run(args ...string) (string, error) {
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

func (r *relkey) createAccount(slug string) onboarded {
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
func (r *relkey) serve() string {
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

// client speaks to one account and verifies every signed response with the
// public key account create printed.
type client struct {
	t     *testing.T
	base  string
	token string
	pub   ed25519.PublicKey
}

type result struct {
	status int
	header http.Header
	doc    map[string]any
}

func (c *client) call(method, path, body string, auth ...string) result {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Accept", "application/vnd.api+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	switch {
	case len(auth) == 1:
		req.Header.Set("Authorization", auth[0])
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := testenv.VerifySignature(req, resp.Header, data, c.pub); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	res := result{status: resp.StatusCode, header: resp.Header}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &res.doc); err != nil {
			c.t.Fatalf("%s %s: body is not JSON: %s", method, path, data)
		}
	}
	return res
}

func (r result) expect(t *testing.T, status int) result {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %v", r.status, status, r.doc)
	}
	return r
}

func (r result) errorCode(t *testing.T) (string, map[string]any) {
	t.Helper()
	errs, _ := r.doc["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %v", r.doc)
	}
	e := errs[0].(map[string]any)
	src, _ := e["source"].(map[string]any)
	return e["code"].(string), src
}

func (r result) attr(name string) any {
	return r.doc["data"].(map[string]any)["attributes"].(map[string]any)[name]
}

func TestOperatorAndClientJourney(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := append(os.Environ(), "RELKEY_DATA_DIR="+t.TempDir(), "RELKEY_LOG_LEVEL=warn", "RELKEY_PASSWORD_COST=4")
			if b.Postgres {
				s3 := testenv.S3(t)
				env = append(env,
					"RELKEY_DATABASE_URL="+testenv.EmptyPostgresURL(t),
					"RELKEY_SECRET_KEY="+strings.Repeat("s", 40),
					fmt.Sprintf("RELKEY_STORAGE_URL=s3://%s:%s@%s/%s?secure=false&region=%s", s3.AccessKey, s3.SecretKey, s3.Endpoint, s3.Bucket, s3.Region))
			}
			rk := &relkey{t: t, env: env}
			acme := rk.createAccount("acme")
			base := rk.serve()
			pub, err := hex.DecodeString(acme.PublicKey)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				t.Fatalf("public_key %q is not hex Ed25519", acme.PublicKey)
			}
			c := &client{t: t, base: base, pub: pub}

			// Token via HTTP Basic email:password.
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("owner@acme.test:pw-acme-123"))
			tok := c.call("POST", "/v1/accounts/acme/tokens", "", basic).expect(t, 201)
			c.token, _ = tok.attr("token").(string)
			if tok.attr("kind") != "admin-token" || !strings.HasPrefix(c.token, "admin-") {
				t.Fatalf("token: %v", tok.doc)
			}
			wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("owner@acme.test:nope"))
			if code, src := c.call("POST", "/v1/accounts/acme/tokens", "", wrong).expect(t, 401).errorCode(t); code != "PASSWORD_INVALID" || src["header"] != "Authorization" {
				t.Fatalf("wrong password: %s %v", code, src)
			}

			// Products: create, list with pagination links, show, update, delete.
			for i, code := range []string{"alpha", "beta", "gamma"} {
				body := fmt.Sprintf(`{"data":{"type":"product","attributes":{"name":"Product %d","code":"%s"}}}`, i, code)
				c.call("POST", "/v1/accounts/acme/products", body).expect(t, 201)
			}
			page := c.call("GET", "/v1/accounts/acme/products?page[number]=1&page[size]=2", "").expect(t, 200)
			links := page.doc["links"].(map[string]any)
			if len(page.doc["data"].([]any)) != 2 || links["next"] != "/v1/accounts/acme/products?page%5Bnumber%5D=2&page%5Bsize%5D=2" ||
				links["meta"].(map[string]any)["count"] != 3.0 {
				t.Fatalf("first page: %v", page.doc)
			}
			next := c.call("GET", links["next"].(string), "").expect(t, 200)
			if len(next.doc["data"].([]any)) != 1 || next.doc["links"].(map[string]any)["next"] != nil {
				t.Fatalf("second page: %v", next.doc)
			}
			shown := c.call("GET", "/v1/accounts/acme/products/beta", "").expect(t, 200)
			id := shown.doc["data"].(map[string]any)["id"].(string)
			updated := c.call("PATCH", "/v1/accounts/acme/products/"+id, `{"data":{"type":"products","attributes":{"name":"Beta 2","url":"https://beta.example"}}}`).expect(t, 200)
			if updated.attr("name") != "Beta 2" || updated.attr("code") != "beta" {
				t.Fatalf("update: %v", updated.doc)
			}
			if code, src := c.call("POST", "/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"Dup","code":"ALPHA"}}}`).expect(t, 422).errorCode(t); code != "CODE_TAKEN" || src["pointer"] != "/data/attributes/code" {
				t.Fatalf("duplicate code: %s %v", code, src)
			}
			if code, src := c.call("POST", "/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"X","colour":"red"}}}`).expect(t, 400).errorCode(t); code != "PARAMETERS_INVALID" || src["pointer"] != "/data/attributes/colour" {
				t.Fatalf("unknown attribute: %s %v", code, src)
			}
			c.call("DELETE", "/v1/accounts/acme/products/"+id, "").expect(t, 204)
			if code, _ := c.call("GET", "/v1/accounts/acme/products/"+id, "").expect(t, 404).errorCode(t); code != "NOT_FOUND" {
				t.Fatalf("after delete: %s", code)
			}
			if code, _ := c.call("GET", "/v1/accounts/acme/products", "", "Bearer admin-"+strings.Repeat("f", 64)+"v3").expect(t, 401).errorCode(t); code != "TOKEN_INVALID" {
				t.Fatalf("unknown token: %s", code)
			}
			// The bare layout serves the only account.
			c.call("GET", "/v1/products/alpha", "").expect(t, 200)

			// A second account created while the server runs is served at once,
			// and its token is worthless on the first account.
			globex := rk.createAccount("globex")
			gpub, _ := hex.DecodeString(globex.PublicKey)
			g := &client{t: t, base: base, token: globex.AdminToken, pub: gpub}
			g.call("GET", "/v1/accounts/globex/products", "").expect(t, 200)
			account := g.call("GET", "/v1/accounts/globex", "").expect(t, 200)
			key, _ := base64.StdEncoding.DecodeString(account.doc["data"].(map[string]any)["meta"].(map[string]any)["keys"].(map[string]any)["ed25519"].(string))
			if string(key) != globex.PublicKey {
				t.Fatalf("meta.keys.ed25519 does not carry the public key")
			}
			if code, _ := c.call("GET", "/v1/accounts/acme/products", "", "Bearer "+globex.AdminToken).expect(t, 401).errorCode(t); code != "TOKEN_INVALID" {
				t.Fatalf("cross-account token: %s", code)
			}
		})
	}
}
