package httpapi_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/storage/storagetest"
	"github.com/relkey/relkey/internal/testenv"
)

func basic(user, password string) header {
	return header{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

func TestTokenGenerationAndAuthErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		other := e.onboard("globex")

		created := e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme"))
		if created.status != http.StatusCreated {
			t.Fatalf("token via Basic: %d %s", created.status, created.body)
		}
		a := attrs(t, created)
		raw, _ := a["token"].(string)
		if a["kind"] != "admin-token" || a["expiry"] != nil || !strings.HasPrefix(raw, "admin-") || !strings.HasSuffix(raw, "v3") || len(raw) != len("admin-")+64+2 {
			t.Fatalf("token attributes: %v", a)
		}
		rel := data(t, created)["relationships"].(map[string]any)["bearer"].(map[string]any)["data"].(map[string]any)
		if rel["type"] != "users" || rel["id"] != e.acct.Admin.ID {
			t.Fatalf("bearer relationship: %v", rel)
		}
		named := e.do("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"name":"ci","expiry":"2099-01-01T00:00:00Z"}}}`,
			basic("ADMIN@acme.test", "password-acme"))
		if na := attrs(t, named); named.status != 201 || na["name"] != "ci" || na["expiry"] != "2099-01-01T00:00:00.000Z" {
			t.Fatalf("named token: %d %s", named.status, named.body)
		}
		for _, h := range []header{bearer(raw), {"Authorization", "Token " + raw}, basic("token", raw), basic(raw, "")} {
			if r := e.do("GET", "/v1/accounts/acme/products", "", h); r.status != http.StatusOK {
				t.Fatalf("new token with %q: %d %s", strings.SplitN(h.value, " ", 2)[0], r.status, r.body)
			}
		}
		if r := e.do("GET", "/v1/accounts/acme/products?auth="+url.QueryEscape("token:"+raw), ""); r.status != http.StatusOK {
			t.Fatalf("?auth=token:… : %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/v1/accounts/acme/tokens", "", bearer(raw)); r.status != 201 || attrs(t, r)["token"] == raw {
			t.Fatalf("token from a token: %d %s", r.status, r.body)
		}

		tests := []struct {
			name    string
			method  string
			path    string
			h       []header
			status  int
			code    string
			source  string
			srcWant string
		}{
			{"missing", "GET", "/v1/accounts/acme/products", nil, 401, "TOKEN_MISSING", "", ""},
			{"unknown", "GET", "/v1/accounts/acme/products", []header{bearer("admin-" + strings.Repeat("0", 64) + "v3")}, 401, "TOKEN_INVALID", "", ""},
			{"uuid-shaped", "GET", "/v1/accounts/acme/products", []header{bearer(e.acct.Token.ID)}, 401, "TOKEN_FORMAT_INVALID", "", ""},
			{"other account's token", "GET", "/v1/accounts/acme/products", []header{bearer(other.RawToken)}, 401, "TOKEN_INVALID", "", ""},
			{"bad token in query", "GET", "/v1/accounts/acme/products?token=nope", nil, 401, "TOKEN_INVALID", "", ""},
			{"unsupported scheme", "GET", "/v1/accounts/acme/products", []header{{"Authorization", "Digest x"}}, 401, "TOKEN_INVALID", "header", "Authorization"},
			{"wrong password", "POST", "/v1/accounts/acme/tokens", []header{basic("admin@acme.test", "nope")}, 401, "PASSWORD_INVALID", "header", "Authorization"},
			{"unknown email", "POST", "/v1/accounts/acme/tokens", []header{basic("who@acme.test", "password-acme")}, 401, "EMAIL_INVALID", "header", "Authorization"},
			{"other account's admin", "POST", "/v1/accounts/acme/tokens", []header{basic("admin@globex.test", "password-globex")}, 401, "EMAIL_INVALID", "header", "Authorization"},
			{"empty password", "POST", "/v1/accounts/acme/tokens", []header{basic("admin@acme.test", "")}, 401, "PASSWORD_REQUIRED", "header", "Authorization"},
			{"no credentials", "POST", "/v1/accounts/acme/tokens", nil, 401, "TOKEN_MISSING", "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, "", tt.h...)
				if tt.source != "" {
					r.expectError(t, tt.status, tt.code, tt.source, tt.srcWant)
				} else {
					r.expectError(t, tt.status, tt.code)
				}
				if r.header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
	})
}

func TestContentNegotiationAndErrors(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"}, func(c *config.Config) { c.MaxBodyBytes = 2048 })
	base := "/v1/accounts/acme/products"
	e.admin("GET", base, "", header{"Accept", "text/html"}).expectError(t, 400, "MIME_TYPE_INVALID")
	e.admin("POST", base, productBody(`"name":"x"`), header{"Content-Type", "application/xml"}).expectError(t, 400, "MIME_TYPE_INVALID")
	e.admin("POST", base, productBody(`"name":"x"`), header{"Content-Type", "no/t;;valid"}).expectError(t, 400, "MIME_TYPE_INVALID")

	for _, accept := range []string{"", "*/*", "application/vnd.api+json", "application/vnd.keygen+json", "text/html, */*"} {
		r := e.admin("GET", base, "", header{"Accept", accept})
		if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.api+json; charset=utf-8" {
			t.Fatalf("Accept %q: %d %q", accept, r.status, r.header.Get("Content-Type"))
		}
	}
	for _, accept := range []string{"application/json", "application/json, application/vnd.api+json"} {
		if r := e.admin("GET", base, "", header{"Accept", accept}); r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("Accept %q gave %q", accept, r.header.Get("Content-Type"))
		}
	}
	e.admin("POST", base, productBody(`"name":"`+strings.Repeat("x", 3000)+`"`)).expectError(t, 413, "REQUEST_TOO_LARGE")

	for _, tt := range []struct{ method, path string }{
		{"GET", "/v1/accounts/acme/nothing-here"},
		{"GET", "/v1/nothing-here"},
		{"GET", "/nothing"},
		{"POST", "/v1/accounts/acme/products/abc"},
		{"PATCH", "/v1/accounts/acme/products"},
	} {
		r := e.admin(tt.method, tt.path, "")
		r.expectError(t, 404, "NOT_FOUND")
		if !strings.Contains(r.firstError(t)["detail"].(string), "endpoint was not found") {
			t.Fatalf("%s %s: %s", tt.method, tt.path, r.body)
		}
	}
	e.do("GET", "/v1/accounts/no-such-account/products", "").expectError(t, 404, "NOT_FOUND")

	r := e.do("GET", base, "")
	if r.header.Get("X-Request-Id") == "" || r.firstError(t)["code"] != "TOKEN_MISSING" ||
		r.doc(t)["meta"].(map[string]any)["id"] != r.header.Get("X-Request-Id") {
		t.Fatalf("error document meta.id must equal X-Request-Id: %s / %s", r.body, r.header.Get("X-Request-Id"))
	}
}

func TestBareLayoutServesTheDefaultAccount(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	created := e.admin("POST", "/v1/products", productBody(`"name":"Bare","code":"bare"`))
	if created.status != 201 {
		t.Fatalf("bare create: %d %s", created.status, created.body)
	}
	if r := e.admin("GET", "/v1/accounts/"+e.acct.Account.ID+"/products/bare", ""); r.status != 200 {
		t.Fatalf("bare product under the account path: %d", r.status)
	}
	if r := e.admin("GET", "/v1/ping", ""); r.status != 200 {
		t.Fatalf("ping: %d", r.status)
	}
	e.onboard("globex")
	e.admin("GET", "/v1/products", "").expectError(t, 404, "NOT_FOUND")

	cfg := e.cfg
	cfg.Account = "acme"
	pinned := serveEnvShared(t, e, cfg)
	if r := pinned.admin("GET", "/v1/products/bare", ""); r.status != 200 {
		t.Fatalf("RELKEY_ACCOUNT=acme: %d %s", r.status, r.body)
	}
}

// serveEnvShared serves a second relkey over the same database and data
// dir, on the same clock.
func serveEnvShared(t *testing.T, e *env, cfg config.Config) *env {
	t.Helper()
	other := *e
	a, srv := openServer(t, cfg, e.logs, e.clock)
	other.app, other.srv, other.cfg = a, srv, cfg
	return &other
}

func TestAccountShow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, ref := range []string{"acme", e.acct.Account.ID} {
			r := e.admin("GET", "/v1/accounts/"+ref, "")
			if r.status != 200 {
				t.Fatalf("show %s: %d %s", ref, r.status, r.body)
			}
			d := data(t, r)
			key := d["meta"].(map[string]any)["keys"].(map[string]any)["ed25519"].(string)
			decoded, _ := base64.StdEncoding.DecodeString(key)
			if string(decoded) != e.acct.PublicKey {
				t.Fatalf("meta.keys.ed25519 = %q, want base64 of %q", key, e.acct.PublicKey)
			}
			if raw, err := hex.DecodeString(string(decoded)); err != nil || len(raw) != 32 {
				t.Fatalf("public key is not 32 bytes of hex: %v", err)
			}
			if d["id"] != e.acct.Account.ID || d["links"].(map[string]any)["self"] != "/v1/accounts/"+e.acct.Account.ID {
				t.Fatalf("account document: %s", r.body)
			}
		}
		other := e.onboard("globex")
		e.do("GET", "/v1/accounts/globex", "", bearer(e.token)).expectError(t, 401, "TOKEN_INVALID")
		e.do("GET", "/v1/accounts/acme", "", bearer(other.RawToken)).expectError(t, 401, "TOKEN_INVALID")
	})
}

func TestSecretsNeverReachTheLog(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme"))
	e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "wrong-password-xyz"))
	e.admin("GET", "/v1/accounts/acme/products", "")
	e.do("GET", "/v1/accounts/acme/products?auth=token:"+e.token, "")
	e.do("GET", "/v1/accounts/acme/products?token=query-secret-abc", "")
	e.do("GET", "/v1/accounts/acme/me", "", header{"Authorization", "License LICENSE-KEY-SECRET-123"})
	e.do("GET", "/v1/accounts/acme/me?auth=license:LICENSE-KEY-SECRET-456", "")
	e.do("POST", "/v1/accounts/acme/users", `{"data":{"type":"users","attributes":{"email":"s@acme.test","password":"signup-password-789"}}}`)
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"/v1/accounts/:account/products"`) {
		t.Fatalf("access log missing: %s", logs)
	}
	for _, secret := range []string{e.token, "password-acme", "wrong-password-xyz", "query-secret-abc", e.acct.Token.Digest,
		"LICENSE-KEY-SECRET-123", "LICENSE-KEY-SECRET-456", "signup-password-789"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains a secret %q", secret[:8])
		}
	}
}

func TestLocalStoreContractThroughRelkey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base, _ := url.Parse(e.srv.URL)
		// The local store takes a PUT for a waiting artifact only.
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		draft := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"1.0.0"`)))
		a := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft, `"filename":"file.bin"`), header{"Prefer", "no-redirect"})
		key := "accounts/" + e.acct.Account.ID + "/artifacts/" + e.id(a) + "/file.bin"
		if b.Postgres {
			key = "contract/file.bin"
		}
		storagetest.Contract(t, e.app.Storage, key, func(u *url.URL) *url.URL { return base.ResolveReference(u) })
	})
}

// TestMalformedIDsAreNeverServerErrors: values that are not UUIDs, where
// PostgreSQL stores uuid columns, answer 404 or 400, never 500.
func TestMalformedIDsAreNeverServerErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		for _, path := range []string{
			"/v1/accounts/acme/tokens/not-an-id", "/v1/accounts/acme/policies/not-an-id", "/v1/accounts/acme/licenses/not-a-key",
			"/v1/accounts/acme/machines/not-a-fingerprint", "/v1/accounts/acme/users/nobody@acme.test", "/v1/accounts/acme/products/nope",
			"/v1/accounts/acme/entitlements/NOPE", "/v1/accounts/acme/processes/nope", "/v1/accounts/nope-account",
		} {
			e.admin("GET", path, "").expectError(t, 404, "NOT_FOUND")
		}
		for _, q := range []string{"licenses?product=x", "licenses?policy=x", "licenses?owner=x", "machines?license=x", "machines?product=x"} {
			param := strings.SplitN(strings.SplitN(q, "?", 2)[1], "=", 2)[0]
			e.admin("GET", "/v1/accounts/acme/"+q, "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", param)
		}
		if r := e.admin("GET", "/v1/accounts/acme/policies?product=not-a-code", ""); r.status != 200 || len(list(t, r)) != 0 {
			t.Fatalf("policies of an unknown product: %d %s", r.status, r.body)
		}
	})
}

// TestAccountDelete: Keygen CE routes DELETE /v1/accounts/:account but its
// AccountPolicy#destroy? denies every bearer (features/api/v1/accounts/
// destroy.feature: 403 for admins, products and users, 401 for another
// account's admin).
func TestAccountDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		for _, auth := range []header{bearer(e.token), bearer(b.product), bearer(b.user), {"Authorization", "License " + b.license}} {
			e.do("DELETE", "/v1/accounts/acme", "", auth).expectError(t, 403, "ACCESS_DENIED")
		}
		other := e.onboard("globex")
		e.do("DELETE", "/v1/accounts/acme", "", bearer(other.RawToken)).expectError(t, 401, "TOKEN_INVALID")
		e.do("DELETE", "/v1/accounts/acme", "").expectError(t, 401, "TOKEN_MISSING")
		if r := e.admin("GET", "/v1/accounts/acme", ""); r.status != 200 {
			t.Fatalf("the account after DELETE: %d", r.status)
		}
	})
}

// TestRegenerateCurrentToken is PUT /tokens (features/api/v1/tokens/
// regenerate.feature "… resets their current token"): the bearer's own
// token gets a new value, the old one stops working, and a license key
// (no token) is a 404.
func TestRegenerateCurrentToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		for _, old := range []string{b.user, b.product} {
			r := e.do("PUT", "/v1/accounts/acme/tokens", "", bearer(old))
			fresh, _ := attrs(t, r)["token"].(string)
			if r.status != 200 || fresh == "" || fresh == old {
				t.Fatalf("PUT /tokens: %d %s", r.status, r.body)
			}
			e.do("GET", "/v1/accounts/acme/me", "", bearer(old)).expectError(t, 401, "TOKEN_INVALID")
			if r := e.do("GET", "/v1/accounts/acme/me", "", bearer(fresh)); r.status != 200 {
				t.Fatalf("the new token: %d %s", r.status, r.body)
			}
		}
		if r := e.do("PUT", "/v1/accounts/acme/tokens", "", bearer(b.user)); r.status != 401 {
			t.Fatalf("the regenerated-away token: %d", r.status)
		}
		e.do("PUT", "/v1/accounts/acme/tokens", "", header{"Authorization", "License " + b.license}).expectError(t, 404, "NOT_FOUND")
		e.do("PUT", "/v1/accounts/acme/tokens", "").expectError(t, 401, "TOKEN_MISSING")
	})
}
