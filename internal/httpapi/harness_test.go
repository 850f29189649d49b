package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/testenv"
)

// env is one relkey served over HTTP on a fresh backend, with an account.
type env struct {
	t       testing.TB
	backend testenv.Backend
	cfg     config.Config
	app     *app.App
	srv     *httptest.Server
	acct    *onboard.Onboarded
	token   string
	logs    *syncBuffer
	// clock is the time every clocked service of app reads; advance moves it.
	clock *testenv.Clock
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newEnv serves relkey on the backend, with account "acme".
func newEnv(t testing.TB, b testenv.Backend, tweak ...func(*config.Config)) *env {
	t.Helper()
	cfg := config.Config{
		DataDir:        t.TempDir(),
		SecretKey:      randomKey(),
		RequestTimeout: 5 * time.Second,
		MaxBodyBytes:   1 << 20,
		PasswordCost:   password.MinCost,
	}
	if b.Postgres {
		cfg.DatabaseURL = testenv.PostgresURL(t)
		cfg.Storage = testenv.S3(t)
	}
	for _, f := range tweak {
		f(&cfg)
	}
	if cfg.Embedded() {
		testenv.SQLiteFile(t, cfg.SQLitePath())
	}
	return serveEnv(t, b, cfg)
}

func serveEnv(t testing.TB, b testenv.Backend, cfg config.Config) *env {
	t.Helper()
	logs, clock := &syncBuffer{}, &testenv.Clock{}
	a, srv := openServer(t, cfg, logs, clock)
	e := &env{t: t, backend: b, cfg: cfg, app: a, srv: srv, logs: logs, clock: clock}
	e.acct = e.onboard("acme")
	e.token = e.acct.RawToken
	return e
}

// openServer assembles relkey for cfg and serves it, logging into logs;
// its services read the time from clock.
func openServer(t testing.TB, cfg config.Config, logs *syncBuffer, clock *testenv.Clock) (*app.App, *httptest.Server) {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// Before the server starts, so that no request races the change.
	for _, s := range []interface{ SetClock(func() time.Time) }{a.Artifacts, a.Tokens, a.Machines, a.Validations, a.SecondFactors, a.Limiter, a.Users, a.RegistryTokens} {
		s.SetClock(clock.Now)
	}
	srv := httptest.NewServer(a.Server().Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// advance moves the env's clock d forward: to the services on it, whatever
// was stamped before (by them or by the database) is d older, as if d had
// passed.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

func (e *env) onboard(slug string) *onboard.Onboarded {
	e.t.Helper()
	out, err := e.app.Onboard(context.Background(), onboard.Onboarding{
		Slug: slug, Name: strings.ToUpper(slug), Email: "admin@" + slug + ".test", Password: "password-" + slug,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// forEachBackend runs fn against every backend. Each run has its own
// database, bucket and server, so runs go in parallel with each other and
// with other such tests.
func forEachBackend(t *testing.T, fn func(t *testing.T, b testenv.Backend)) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// doc decodes the body as a generic JSON document.
func (r *response) doc(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
	return m
}

// firstError returns errors[0] of an error document.
func (r *response) firstError(t testing.TB) map[string]any {
	t.Helper()
	errs, ok := r.doc(t)["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("no errors in %s", r.body)
	}
	return errs[0].(map[string]any)
}

// expectError asserts status, code and (when given) source member and value.
func (r *response) expectError(t testing.TB, status int, code string, source ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	e := r.firstError(t)
	if e["code"] != code {
		t.Fatalf("code %v, want %s: %s", e["code"], code, r.body)
	}
	if e["title"] == "" || e["detail"] == "" {
		t.Fatalf("error lacks title or detail: %s", r.body)
	}
	if len(source) == 2 {
		src, _ := e["source"].(map[string]any)
		if src[source[0]] != source[1] {
			t.Fatalf("source %v, want %s=%s", e["source"], source[0], source[1])
		}
	}
}

type header struct{ key, value string }

func bearer(token string) header { return header{"Authorization", "Bearer " + token} }

// do sends a request and, when the response is signed, verifies the
// signature with the account's public key exactly as keygen-go does.
func (e *env) do(method, path, body string, headers ...header) *response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	req.Header.Set("Accept", "application/vnd.api+json")
	for _, h := range headers {
		req.Header.Set(h.key, h.value)
		if h.key == "Host" {
			req.Host = h.value
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := &response{status: resp.StatusCode, header: resp.Header, body: data}
	if sig := resp.Header.Get("Keygen-Signature"); strings.Contains(sig, `algorithm="ed25519"`) {
		e.verify(req, r) // other algorithms: the signature tests verify them
	}
	return r
}

// admin sends a request as the account's admin.
func (e *env) admin(method, path, body string, headers ...header) *response {
	e.t.Helper()
	return e.do(method, path, body, append([]header{bearer(e.token)}, headers...)...)
}

// verify checks a response signature the way keygen-go's verifier does.
func (e *env) verify(req *http.Request, r *response) {
	e.t.Helper()
	if err := testenv.VerifySignature(req, r.header, r.body, e.publicKeyFor(r.header.Get("Keygen-Account"))); err != nil {
		e.t.Fatal(err)
	}
}

var publicKeys sync.Map // account id -> ed25519.PublicKey

func (e *env) publicKeyFor(accountID string) ed25519.PublicKey {
	e.t.Helper()
	if k, ok := publicKeys.Load(accountID); ok {
		return k.(ed25519.PublicKey)
	}
	t, err := e.app.Accounts.Resolve(context.Background(), accountID)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := hex.DecodeString(t.Ed25519PublicKey)
	if err != nil {
		e.t.Fatal(err)
	}
	publicKeys.Store(accountID, ed25519.PublicKey(raw))
	return raw
}

// data returns the "data" member of a single-resource document.
func data(t testing.TB, r *response) map[string]any {
	t.Helper()
	d, ok := r.doc(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object in %s", r.body)
	}
	return d
}

func attrs(t testing.TB, r *response) map[string]any {
	t.Helper()
	return data(t, r)["attributes"].(map[string]any)
}

func list(t testing.TB, r *response) []any {
	t.Helper()
	d, ok := r.doc(t)["data"].([]any)
	if !ok {
		t.Fatalf("no data array in %s", r.body)
	}
	return d
}
