package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/testenv"
)

// storeEnv is the environment of commands and servers sharing one store of
// the backend: SQLite and the key file in a data dir, or PostgreSQL, MinIO
// and RELKEY_SECRET_KEY.
func storeEnv(t *testing.T, b testenv.Backend) map[string]string {
	t.Helper()
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_PASSWORD_COST": "4"}
	if !b.Postgres {
		testenv.SQLiteFile(t, filepath.Join(env["RELKEY_DATA_DIR"], "relkey.db"))
		return env
	}
	s3 := testenv.S3(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	env["RELKEY_DATABASE_URL"] = testenv.PostgresURL(t)
	env["RELKEY_SECRET_KEY"] = hex.EncodeToString(secret)
	env["RELKEY_STORAGE_URL"] = (&url.URL{Scheme: "s3", User: url.UserPassword(s3.AccessKey, s3.SecretKey), Host: s3.Endpoint, Path: "/" + s3.Bucket,
		RawQuery: url.Values{"secure": {strconv.FormatBool(s3.Secure)}, "region": {s3.Region}}.Encode()}).String()
	return env
}

// forEachStore runs fn on a store of each backend with a server on it.
func forEachStore(t *testing.T, fn func(t *testing.T, b testenv.Backend, env map[string]string, server *live)) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			env := storeEnv(t, b)
			fn(t, b, env, serveLive(t, env))
		})
	}
}

// live is a relkey server on a store, as `relkey serve` would run it with env.
type live struct {
	t   *testing.T
	app *app.App
	srv *httptest.Server
	// api sends requests without following redirects.
	api *http.Client
}

func serveLive(t *testing.T, env map[string]string) *live {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	l := &live{t: t, app: a, srv: httptest.NewServer(a.Server().Handler())}
	l.api = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(l.stop)
	return l
}

// stop ends the server and closes its store; it may be called again.
func (l *live) stop() {
	if l.srv != nil {
		l.srv.Close()
		l.app.Close()
		l.srv = nil
	}
}

func (l *live) onboard(slug string) *onboard.Onboarded {
	l.t.Helper()
	out, err := l.app.Onboard(context.Background(), onboard.Onboarding{Slug: slug, Name: strings.ToUpper(slug), Email: "admin@" + slug + ".test", Password: "password-" + slug})
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// expectSignedBy checks that the server answers GET /v1/accounts/acme
// signed with the account key of publicKey (hex).
func (l *live) expectSignedBy(token, publicKey string) {
	l.t.Helper()
	account := l.do("GET", "/v1/accounts/acme", "", token)
	pub, _ := hex.DecodeString(publicKey)
	if account.status != 200 || testenv.VerifySignature(account.req, account.header, account.body, ed25519.PublicKey(pub)) != nil {
		l.t.Fatalf("the server does not sign with the account's key: %d %s", account.status, account.body)
	}
}

// reply is an API response.
type reply struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
}

func (r reply) doc(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d, not JSON: %s", r.status, r.body)
	}
	return m
}

// data is the document's primary data, an object.
func (r reply) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := r.doc(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("%d, no data object: %s", r.status, r.body)
	}
	return d
}

// do sends a request with a bearer token ("" for none).
func (l *live) do(method, path, body, token string) reply {
	l.t.Helper()
	req, err := http.NewRequest(method, l.srv.URL+path, strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.api+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := l.api.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{req: req, status: resp.StatusCode, header: resp.Header, body: raw}
}

// create POSTs a resource and returns its id.
func (l *live) create(path, body, token string) string {
	l.t.Helper()
	r := l.do("POST", path, body, token)
	if r.status != http.StatusCreated {
		l.t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	return r.data(l.t)["id"].(string)
}

// must runs a command that must succeed and returns its output.
func must(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, env, args...)
	if code != exitOK {
		t.Fatalf("relkey %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}
