package clients

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is relkey built from this tree, once for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "relkey-clients-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "relkey")
	build := exec.Command("go", "build", "-o", binary, "./cmd/relkey")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building relkey:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// onboarded is what `relkey account create --json` prints.
type onboarded struct {
	AccountID  string `json:"account_id"`
	AdminToken string `json:"admin_token"`
	PublicKey  string `json:"public_key"`
}

// relkey is one running server on a fresh embedded store with one account,
// so the bare /v1/... layout serves it.
type relkey struct {
	t   *testing.T
	URL string // http(s)://host:port
	onboarded
	client *http.Client
}

// relkeyEnv is the process environment without any RELKEY_ setting of the
// caller's, plus the given ones.
func relkeyEnv(settings ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELKEY_") {
			env = append(env, kv)
		}
	}
	return append(env, settings...)
}

// startRelkey serves relkey on listen (a free loopback port when empty)
// with a fresh data folder, after creating its account; over TLS with a
// certificate for 127.0.0.1 when cert is set; with the RELKEY_ settings
// given.
func startRelkey(t *testing.T, listen string, cert *testTLS, settings ...string) *relkey {
	t.Helper()
	env := relkeyEnv(append([]string{"RELKEY_DATA_DIR=" + t.TempDir(), "RELKEY_LOG_LEVEL=warn", "RELKEY_PASSWORD_COST=4"}, settings...)...)
	if cert != nil {
		env = append(env, "RELKEY_TLS_CERT="+cert.certFile, "RELKEY_TLS_KEY="+cert.keyFile)
	}
	create := exec.Command(binary, "account", "create", "--slug", "clients", "--name", "Clients",
		"--email", "owner@clients.test", "--password", "pw-clients-123", "--json")
	create.Env = env
	out, err := create.Output()
	if err != nil {
		t.Fatalf("relkey account create: %v", err)
	}
	r := &relkey{t: t, client: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		r.client.Transport = &http.Transport{TLSClientConfig: cert.clientConfig()}
	}
	if err := json.Unmarshal(out, &r.onboarded); err != nil {
		t.Fatalf("account create printed %q: %v", out, err)
	}
	if listen == "" {
		listen = freeAddr(t)
	}
	var logs bytes.Buffer
	serve := exec.Command(binary, "serve")
	serve.Env = append(env, "RELKEY_LISTEN="+listen)
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("relkey logs:\n%s", logs.String())
		}
	})
	r.URL = scheme + "://" + listen
	r.waitHealthy()
	return r
}

// waitHealthy waits until the server answers its readiness probe.
func (r *relkey) waitHealthy() {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := r.client.Get(r.URL + "/v1/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("relkey did not become healthy at %s", r.URL)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   []byte
	doc    map[string]any
}

func (res *response) data() map[string]any {
	d, _ := res.doc["data"].(map[string]any)
	return d
}

func (res *response) id() string {
	id, _ := res.data()["id"].(string)
	return id
}

func (res *response) attr(name string) any {
	a, _ := res.data()["attributes"].(map[string]any)
	return a[name]
}

// do sends one request as the account's admin; step names the call in
// failure messages.
func (r *relkey) do(step, method, path, body string, headers ...string) *response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.URL+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatalf("%s: %v", step, err)
	}
	req.Header.Set("Authorization", "Bearer "+r.AdminToken)
	req.Header.Set("Accept", "application/vnd.api+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s (%s %s): %v", step, method, path, err)
	}
	defer res.Body.Close()
	out := &response{status: res.StatusCode, header: res.Header}
	out.body, _ = io.ReadAll(res.Body)
	if len(out.body) > 0 {
		_ = json.Unmarshal(out.body, &out.doc)
	}
	return out
}

// must is do that fails the test on any status but want.
func (r *relkey) must(step string, want int, method, path, body string, headers ...string) *response {
	r.t.Helper()
	res := r.do(step, method, path, body, headers...)
	if res.status != want {
		r.t.Fatalf("%s (%s %s): status %d, want %d: %s", step, method, path, res.status, want, res.body)
	}
	return res
}

// put uploads bytes to a presigned URL without credentials, as clients do.
func put(t *testing.T, client *http.Client, url string, content []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(content))
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// waitUploaded waits until the artifact's upload is recorded.
func (r *relkey) waitUploaded(artifactID string) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res := r.do("artifact status", "GET", "/v1/artifacts/"+artifactID, "", "Prefer", "no-download")
		if res.attr("status") == "UPLOADED" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("artifact %s was never UPLOADED", artifactID)
}

// ensureMachineID gives the machine the /etc/machine-id that keygen-go's
// fingerprinting (denisbrodbeck/machineid) reads, when it has none.
func ensureMachineID(t *testing.T) {
	t.Helper()
	for _, path := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return
		}
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	if err := os.WriteFile("/etc/machine-id", []byte(hex.EncodeToString(id)+"\n"), 0o444); err != nil {
		t.Fatalf("keygen-go fingerprints the machine by /etc/machine-id, which is missing and cannot be created: %v", err)
	}
}

// testTLS is a self-signed certificate for 127.0.0.1 in PEM files.
type testTLS struct {
	certFile, keyFile string
	pool              *x509.CertPool
}

func newTestTLS(t *testing.T) *testTLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := &testTLS{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(out.certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	out.pool.AppendCertsFromPEM(certPEM)
	return out
}

func (c *testTLS) clientConfig() *tls.Config { return &tls.Config{RootCAs: c.pool} }
