package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/testenv"
)

func TestEveryTokenKindLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		kinds := []struct {
			role, kind, pattern string
		}{
			{"admin", "admin-token", `^admin-[0-9a-f]{64}v3$`},
			{"developer", "developer-token", `^dev-[0-9a-f]{64}v3$`},
			{"sales-agent", "sales-token", `^sales-[0-9a-f]{64}v3$`},
			{"support-agent", "support-token", `^spprt-[0-9a-f]{64}v3$`},
			{"read-only", "read-only-token", `^read-[0-9a-f]{64}v3$`},
			{"user", "user-token", `^user-[0-9a-f]{64}v3$`},
			{"product", "product-token", `^prod-[0-9a-f]{64}v3$`},
		}
		for _, k := range kinds {
			t.Run(k.kind, func(t *testing.T) {
				var created *response
				if k.role == "product" {
					pid := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"P"`)))
					created = e.admin("POST", "/v1/accounts/acme/products/"+pid+"/tokens", "")
				} else {
					email := k.role + "@kinds.test"
					e.id(e.admin("POST", "/v1/accounts/acme/users", userBody(email, k.role)))
					created = e.do("POST", "/v1/accounts/acme/tokens", "", basic(email, "password-123"))
				}
				a := attrs(t, created)
				raw := e.rawToken(created)
				if a["kind"] != k.kind || !regexp.MustCompile(k.pattern).MatchString(raw) {
					t.Fatalf("kind %v raw %q", a["kind"], raw)
				}
				if (k.role == "user") != (a["expiry"] != nil) {
					t.Fatalf("expiry %v: user tokens expire in two weeks, others never", a["expiry"])
				}
				if k.role == "user" {
					expiry, _ := time.Parse(time.RFC3339, a["expiry"].(string))
					if d := time.Until(expiry); d < 13*24*time.Hour || d > 15*24*time.Hour {
						t.Fatalf("user token expiry in %v, want two weeks", d)
					}
				}
				id := data(t, created)["id"].(string)
				me := e.do("GET", "/v1/accounts/acme/me", "", bearer(raw))
				if me.status != 200 {
					t.Fatalf("the new token does not authenticate: %d %s", me.status, me.body)
				}
				// Regenerate with the token itself (user and product) or as admin.
				regen := e.do("PUT", "/v1/accounts/acme/tokens/"+id, "", bearer(raw))
				if k.role == "read-only" {
					regen.expectError(t, 403, "ACCESS_DENIED")
					regen = e.admin("PUT", "/v1/accounts/acme/tokens/"+id, "")
				}
				fresh := attrs(t, regen)["token"].(string)
				if regen.status != 200 || fresh == raw || data(t, regen)["id"] != id {
					t.Fatalf("regenerate: %d %s", regen.status, regen.body)
				}
				e.do("GET", "/v1/accounts/acme/me", "", bearer(raw)).expectError(t, 401, "TOKEN_INVALID")
				if r := e.do("GET", "/v1/accounts/acme/me", "", bearer(fresh)); r.status != 200 {
					t.Fatalf("regenerated token: %d", r.status)
				}
				if r := e.admin("DELETE", "/v1/accounts/acme/tokens/"+id, ""); r.status != 204 {
					t.Fatalf("revoke: %d %s", r.status, r.body)
				}
				e.do("GET", "/v1/accounts/acme/me", "", bearer(fresh)).expectError(t, 401, "TOKEN_INVALID")
			})
		}

		// Expiry.
		soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		created := e.admin("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"expiry":"`+soon+`"}}}`)
		expiring := e.rawToken(created)
		if r := e.do("GET", "/v1/accounts/acme/me", "", bearer(expiring)); r.status != 200 {
			t.Fatalf("before expiry: %d", r.status)
		}
		// The hour passes.
		e.advance(time.Hour + time.Second)
		e.do("GET", "/v1/accounts/acme/me", "", bearer(expiring)).expectError(t, 401, "TOKEN_EXPIRED")
		e.admin("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"expiry":"2001-01-01T00:00:00Z"}}}`).
			expectError(t, 422, "EXPIRY_INVALID", "pointer", "/data/attributes/expiry")

		// Narrowed permissions: token ∩ bearer.
		narrow := e.rawToken(e.admin("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"permissions":["product.read"]}}}`))
		if r := e.do("GET", "/v1/accounts/acme/products", "", bearer(narrow)); r.status != 200 {
			t.Fatalf("narrowed token reads products: %d", r.status)
		}
		e.do("POST", "/v1/accounts/acme/products", productBody(`"name":"x"`), bearer(narrow)).expectError(t, 403, "ACCESS_DENIED")
		userToken := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("user@kinds.test", "password-123")))
		e.do("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"permissions":["product.delete"]}}}`, bearer(userToken)).
			expectError(t, 422, "PERMISSIONS_NOT_ALLOWED", "pointer", "/data/attributes/permissions")
		e.admin("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","attributes":{"permissions":["made.up"]}}}`).
			expectError(t, 422, "PERMISSIONS_NOT_ALLOWED")

		// Minting for another bearer through relationships.bearer.
		devID := e.id(e.admin("GET", "/v1/accounts/acme/users/developer@kinds.test", ""))
		minted := e.admin("POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","relationships":{"bearer":{"data":{"type":"users","id":"`+devID+`"}}}}}`)
		if attrs(t, minted)["kind"] != "developer-token" {
			t.Fatalf("minted for a developer: %s", minted.body)
		}
		devToken := attrs(t, minted)["token"].(string)
		adminID := e.acct.Admin.ID
		e.do("POST", "/v1/accounts/acme/users/"+adminID+"/tokens", "", bearer(devToken)).expectError(t, 403, "ACCESS_DENIED")
	})
}

func TestAuthenticationSchemesAndCodes(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	b := e.seedBearers()
	path := "/v1/accounts/acme/me"
	for name, h := range map[string]header{
		"Bearer":         bearer(b.user),
		"Token":          {"Authorization", "Token " + b.user},
		"Basic token:":   basic("token", b.user),
		"Basic <token>:": basic(b.user, ""),
		"lower-case":     {"Authorization", "bearer " + b.user},
	} {
		if r := e.do("GET", path, "", h); r.status != 200 || data(t, r)["id"] != b.userID {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	for _, q := range []string{"auth=" + b.user, "token=" + b.user, "auth=" + url.QueryEscape("token:"+b.user)} {
		if r := e.do("GET", path+"?"+q, ""); r.status != 200 {
			t.Errorf("?%s: %d", strings.SplitN(q, "=", 2)[0], r.status)
		}
	}
	// Credentials in the query never appear in rendered links.
	page := e.do("GET", "/v1/accounts/acme/tokens?page[number]=1&page[size]=1&auth="+b.user, "")
	if strings.Contains(string(page.body), b.user) {
		t.Fatal("a pagination link echoes the credential")
	}

	license := e.do("GET", path, "", header{"Authorization", "License some-license-key"})
	license.expectError(t, 401, "LICENSE_INVALID")
	if got := license.header.Get("WWW-Authenticate"); got != `License realm="keygen"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	e.do("GET", path, "", basic("license", "some-license-key")).expectError(t, 401, "LICENSE_INVALID")
	e.do("GET", path+"?auth=license:some-license-key", "").expectError(t, 401, "LICENSE_INVALID")

	e.do("GET", path, "").expectError(t, 401, "TOKEN_MISSING")
	e.do("GET", path, "", bearer("")).expectError(t, 401, "TOKEN_MISSING")
	e.do("GET", path, "", bearer("user-"+strings.Repeat("1", 64)+"v3")).expectError(t, 401, "TOKEN_INVALID")
	e.do("GET", path, "", bearer(e.acct.Token.ID)).expectError(t, 401, "TOKEN_FORMAT_INVALID")
	// Optional authentication still refuses bad credentials.
	e.do("POST", "/v1/accounts/acme/users", userBody("signup@acme.test", "user"), bearer("nope")).expectError(t, 401, "TOKEN_INVALID")

	// Banned users: their tokens answer 403, and they cannot log in.
	e.admin("POST", "/v1/accounts/acme/users/"+b.userID+"/actions/ban", "")
	e.do("GET", path, "", bearer(b.user)).expectError(t, 403, "USER_BANNED")
	e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-123")).expectError(t, 403, "USER_BANNED")
	if r := e.admin("GET", "/v1/accounts/acme/users/"+b.userID, ""); attrs(t, r)["status"] != "BANNED" {
		t.Fatalf("status after ban: %v", attrs(t, r)["status"])
	}
	e.admin("POST", "/v1/accounts/acme/users/"+b.userID+"/actions/unban", "")
	if r := e.do("GET", path, "", bearer(b.user)); r.status != 200 {
		t.Fatalf("after unban: %d", r.status)
	}
	e.admin("POST", "/v1/accounts/acme/users/"+e.acct.Admin.ID+"/actions/ban", "").expectError(t, 403, "ACCESS_DENIED")

	// /me renders the bearer.
	if r := e.do("GET", path, "", bearer(b.product)); data(t, r)["type"] != "products" || data(t, r)["id"] != b.productID {
		t.Fatalf("/me as a product: %s", r.body)
	}
	if r := e.admin("GET", path, ""); attrs(t, r)["role"] != "admin" {
		t.Fatalf("/me as admin: %s", r.body)
	}
}

func TestPasswordAttemptsAreRateLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		for i := 1; i <= 5; i++ {
			r := e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "wrong"))
			r.expectError(t, 401, "PASSWORD_INVALID")
			if r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(5-i) || r.header.Get("X-RateLimit-Limit") != "5" {
				t.Fatalf("attempt %d headers: %v", i, r.header)
			}
		}
		limited := e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme"))
		limited.expectError(t, 429, "TOO_MANY_REQUESTS")
		retry, err := strconv.Atoi(limited.header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 60 {
			t.Fatalf("Retry-After = %q", limited.header.Get("Retry-After"))
		}
		for _, h := range []string{"X-RateLimit-Window", "X-RateLimit-Count", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if limited.header.Get(h) == "" {
				t.Errorf("429 without %s", h)
			}
		}
		// Other emails and token authentication are not affected.
		e.do("POST", "/v1/accounts/acme/tokens", "", basic("other@acme.test", "x")).expectError(t, 401, "EMAIL_INVALID")
		if r := e.admin("POST", "/v1/accounts/acme/tokens", ""); r.status != 201 {
			t.Fatalf("token generation with a token: %d", r.status)
		}
	})
}

func TestUserRulesAndPasswordActions(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	var mu sync.Mutex
	resetTokens := map[string]string{}
	e.app.Events.Subscribe(func(_ context.Context, ev event.Event) {
		if ev.Type == event.UserPasswordReset {
			mu.Lock()
			resetTokens[ev.ResourceID] = ev.Meta["passwordResetToken"].(string)
			mu.Unlock()
		}
	})
	b := e.seedBearers()
	users := "/v1/accounts/acme/users"

	created := e.admin("POST", users, `{"data":{"type":"users","attributes":{"firstName":"Ada","lastName":"Lovelace","email":"ada@acme.test","password":"password-123","metadata":{"planTier":"pro"}}}}`)
	a := attrs(t, created)
	if a["fullName"] != "Ada Lovelace" || a["role"] != "user" || a["status"] != "ACTIVE" || a["password"] != nil ||
		strings.Contains(string(created.body), "password-123") || a["metadata"].(map[string]any)["planTier"] != "pro" {
		t.Fatalf("created user: %s", created.body)
	}
	adaID := data(t, created)["id"].(string)
	if r := e.admin("GET", users+"/ADA@acme.test", ""); r.status != 200 || data(t, r)["id"] != adaID {
		t.Fatalf("lookup by email: %d", r.status)
	}
	e.admin("POST", users, userBody("Ada@ACME.test", "user")).expectError(t, 422, "EMAIL_TAKEN", "pointer", "/data/attributes/email")
	e.admin("POST", users, userBody("bad", "user")).expectError(t, 422, "EMAIL_INVALID")
	e.admin("POST", users, userBody("x@acme.test", "root")).expectError(t, 422, "ROLE_NOT_ALLOWED")
	e.admin("POST", users, `{"data":{"type":"users","attributes":{"email":"y@acme.test","password":"123"}}}`).expectError(t, 422, "PASSWORD_TOO_SHORT", "pointer", "/data/attributes/password")

	// Role filters: users by default, roles[] otherwise.
	if ids := listIDs(t, e.admin("GET", users+"?roles[]=admin", "")); ids != e.acct.Admin.ID {
		t.Fatalf("roles[]=admin lists %s", ids)
	}
	for _, item := range list(t, e.admin("GET", users+"?limit=100", "")) {
		if role := item.(map[string]any)["attributes"].(map[string]any)["role"]; role != "user" {
			t.Fatalf("default list includes role %v", role)
		}
	}
	e.admin("GET", users+"?roles[]=root", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "roles[]")

	// Escalation is refused.
	e.do("PATCH", users+"/"+b.userID, `{"data":{"type":"users","attributes":{"role":"admin"}}}`, bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
	e.do("PATCH", users+"/"+b.userID, `{"data":{"type":"users","attributes":{"password":"new-password"}}}`, bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
	e.do("POST", users, userBody("boss@acme.test", "admin"), bearer(b.product)).expectError(t, 403, "ACCESS_DENIED")
	e.do("POST", users, userBody("boss@acme.test", "admin")).expectError(t, 401, "TOKEN_MISSING")
	if r := e.do("PATCH", users+"/"+b.userID, `{"data":{"type":"users","attributes":{"firstName":"Me"}}}`, bearer(b.user)); r.status != 200 || attrs(t, r)["firstName"] != "Me" {
		t.Fatalf("a user updates its own name: %d", r.status)
	}
	e.admin("DELETE", users+"/"+e.acct.Admin.ID, "").expectError(t, 422, "ADMINS_REQUIRED")

	// Anonymous sign-up makes user-role users only.
	signup := e.do("POST", users, userBody("signup@acme.test", "user"))
	if signup.status != 201 || attrs(t, signup)["role"] != "user" {
		t.Fatalf("sign-up: %d %s", signup.status, signup.body)
	}

	// update-password: only the user, with its old password.
	up := users + "/" + b.userID + "/actions/update-password"
	e.do("POST", up, `{"meta":{"oldPassword":"wrong","newPassword":"password-456"}}`, bearer(b.user)).expectError(t, 401, "PASSWORD_INVALID", "pointer", "/meta/oldPassword")
	e.do("POST", up, `{"meta":{"oldPassword":"password-123"}}`, bearer(b.user)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/newPassword")
	e.do("POST", up, `{"meta":{"oldPassword":"password-123","newPassword":"123"}}`, bearer(b.user)).expectError(t, 422, "PASSWORD_TOO_SHORT", "pointer", "/data/attributes/password")
	e.admin("POST", up, `{"meta":{"oldPassword":"password-123","newPassword":"password-456"}}`).expectError(t, 403, "ACCESS_DENIED")
	other := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-123")))
	if r := e.do("POST", up, `{"meta":{"oldPassword":"password-123","newPassword":"password-456"}}`, bearer(b.user)); r.status != 200 {
		t.Fatalf("update-password: %d %s", r.status, r.body)
	}
	// The user's other tokens are revoked, the one it used is kept.
	e.do("GET", "/v1/accounts/acme/me", "", bearer(other)).expectError(t, 401, "TOKEN_INVALID")
	if r := e.do("GET", "/v1/accounts/acme/me", "", bearer(b.user)); r.status != 200 {
		t.Fatalf("the token that changed the password: %d", r.status)
	}
	e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-123")).expectError(t, 401, "PASSWORD_INVALID")
	e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-456")))

	// Password reset through the event hook.
	for _, email := range []string{"ada@acme.test", "nobody@acme.test"} {
		if r := e.do("POST", "/v1/accounts/acme/passwords", `{"meta":{"email":"`+email+`"}}`); r.status != 204 {
			t.Fatalf("request reset for %s: %d %s", email, r.status, r.body)
		}
	}
	mu.Lock()
	resetToken := resetTokens[adaID]
	mu.Unlock()
	if resetToken == "" || len(resetTokens) != 1 {
		t.Fatalf("reset tokens published: %v", resetTokens)
	}
	reset := users + "/" + adaID + "/actions/reset-password"
	// Keygen's reset-password: a wrong token is a 404 (nothing told of the
	// user), another bearer than the user a 403, a short password a 422.
	e.do("POST", reset, `{"meta":{"passwordResetToken":"wrong","newPassword":"password-789"}}`).expectError(t, 404, "NOT_FOUND")
	e.admin("POST", reset, `{"meta":{"passwordResetToken":"`+resetToken+`","newPassword":"password-789"}}`).expectError(t, 403, "ACCESS_DENIED")
	e.do("POST", reset, `{"meta":{"passwordResetToken":"`+resetToken+`","newPassword":"bad"}}`).expectError(t, 422, "PASSWORD_TOO_SHORT", "pointer", "/data/attributes/password")
	if r := e.do("POST", reset, `{"meta":{"passwordResetToken":"`+resetToken+`","newPassword":"password-789"}}`); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	e.do("POST", reset, `{"meta":{"passwordResetToken":"`+resetToken+`","newPassword":"password-000"}}`).expectError(t, 404, "NOT_FOUND")
	e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("ada@acme.test", "password-789")))

	// Deleting a user deletes its tokens.
	adaToken := e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("ada@acme.test", "password-789")))
	if r := e.admin("DELETE", users+"/"+adaID, ""); r.status != 204 {
		t.Fatalf("delete user: %d", r.status)
	}
	e.do("GET", "/v1/accounts/acme/me", "", bearer(adaToken)).expectError(t, 401, "TOKEN_INVALID")
	if logs := e.logs.String(); strings.Contains(logs, resetToken) {
		t.Fatal("the log contains a password reset token")
	}
}

// TestTenantIsolation creates the same kinds of records in two accounts and
// proves that no credential of one reaches the other's data.
func TestTenantIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		// The probes come from an address of their own (through a trusted
		// proxy): they are more failed guesses than one address may make.
		e := newEnv(t, be, func(c *config.Config) { c.Edge.TrustedProxies = cidrs(t, "127.0.0.0/8") })
		acme := e.seedBearers()
		other := e.onboard("globex")
		globexAdmin := header{"Authorization", "Bearer " + other.RawToken}
		gProduct := e.id(e.do("POST", "/v1/accounts/globex/products", productBody(`"name":"Globex App","code":"own"`), globexAdmin))
		gUser := e.id(e.do("POST", "/v1/accounts/globex/users", userBody("customer@globex.test", "user"), globexAdmin))
		gToken := e.id(e.do("POST", "/v1/accounts/globex/tokens", "", globexAdmin))

		credentials := map[string]header{
			"admin token":     bearer(e.token),
			"read-only token": bearer(acme.readOnly),
			"product token":   bearer(acme.product),
			"user token":      bearer(acme.user),
			"query token":     {"X-Unused", ""},
		}
		globexPaths := []struct{ method, path, body string }{
			{"GET", "/v1/accounts/globex", ""},
			{"GET", "/v1/accounts/globex/me", ""},
			{"GET", "/v1/accounts/globex/products", ""},
			{"GET", "/v1/accounts/globex/products/" + gProduct, ""},
			{"GET", "/v1/accounts/globex/products/own", ""},
			{"PATCH", "/v1/accounts/globex/products/" + gProduct, productBody(`"name":"Hijacked"`)},
			{"DELETE", "/v1/accounts/globex/products/" + gProduct, ""},
			{"POST", "/v1/accounts/globex/products", productBody(`"name":"Planted"`)},
			{"GET", "/v1/accounts/globex/users", ""},
			{"GET", "/v1/accounts/globex/users/" + gUser, ""},
			{"PATCH", "/v1/accounts/globex/users/" + gUser, `{"data":{"type":"users","attributes":{"firstName":"Hijacked"}}}`},
			{"DELETE", "/v1/accounts/globex/users/" + gUser, ""},
			{"POST", "/v1/accounts/globex/users/" + gUser + "/actions/ban", ""},
			{"GET", "/v1/accounts/globex/tokens", ""},
			{"GET", "/v1/accounts/globex/tokens/" + gToken, ""},
			{"PUT", "/v1/accounts/globex/tokens/" + gToken, ""},
			{"DELETE", "/v1/accounts/globex/tokens/" + gToken, ""},
			{"POST", "/v1/accounts/globex/tokens", ""},
			{"POST", "/v1/accounts/globex/products/" + gProduct + "/tokens", ""},
			{"POST", "/v1/accounts/globex/users/" + gUser + "/tokens", ""},
		}
		for name, h := range credentials {
			for _, p := range globexPaths {
				path := p.path
				if name == "query token" {
					path += "?auth=" + e.token
				}
				r := e.do(p.method, path, p.body, h, header{"X-Forwarded-For", "192.0.2." + strconv.Itoa(len(name))})
				if r.status != 401 {
					t.Errorf("%s: %s %s = %d, want 401", name, p.method, p.path, r.status)
				}
			}
		}
		// acme's admin password is not globex's.
		e.do("POST", "/v1/accounts/globex/tokens", "", basic("admin@acme.test", "password-acme")).expectError(t, 401, "EMAIL_INVALID")
		// globex ids on acme's URLs are simply not there.
		for _, p := range []struct{ method, path, body string }{
			{"GET", "/v1/accounts/acme/products/" + gProduct, ""},
			{"PATCH", "/v1/accounts/acme/products/" + gProduct, productBody(`"name":"Hijacked"`)},
			{"DELETE", "/v1/accounts/acme/products/" + gProduct, ""},
			{"GET", "/v1/accounts/acme/users/" + gUser, ""},
			{"GET", "/v1/accounts/acme/users/customer@globex.test", ""},
			{"PATCH", "/v1/accounts/acme/users/" + gUser, `{"data":{"type":"users","attributes":{"firstName":"Hijacked"}}}`},
			{"DELETE", "/v1/accounts/acme/users/" + gUser, ""},
			{"GET", "/v1/accounts/acme/tokens/" + gToken, ""},
			{"PUT", "/v1/accounts/acme/tokens/" + gToken, ""},
			{"DELETE", "/v1/accounts/acme/tokens/" + gToken, ""},
			{"POST", "/v1/accounts/acme/products/" + gProduct + "/tokens", ""},
			{"POST", "/v1/accounts/acme/users/" + gUser + "/tokens", ""},
			{"POST", "/v1/accounts/acme/tokens", `{"data":{"type":"tokens","relationships":{"bearer":{"data":{"type":"users","id":"` + gUser + `"}}}}}`},
		} {
			e.admin(p.method, p.path, p.body).expectError(t, 404, "NOT_FOUND")
		}
		// acme's lists hold none of globex's records, and globex is unchanged.
		for _, path := range []string{"/v1/accounts/acme/products?limit=100", "/v1/accounts/acme/users?limit=100&roles[]=user&roles[]=admin&roles[]=read-only", "/v1/accounts/acme/tokens?limit=100"} {
			if ids := listIDs(t, e.admin("GET", path, "")); strings.Contains(ids, gProduct) || strings.Contains(ids, gUser) || strings.Contains(ids, gToken) {
				t.Fatalf("%s lists a globex record", path)
			}
		}
		if r := e.do("GET", "/v1/accounts/globex/products/"+gProduct, "", globexAdmin); attrs(t, r)["name"] != "Globex App" {
			t.Fatalf("globex product changed: %s", r.body)
		}
		if r := e.do("GET", "/v1/accounts/globex/users/"+gUser, "", globexAdmin); r.status != 200 || attrs(t, r)["firstName"] != nil || attrs(t, r)["status"] != "ACTIVE" {
			t.Fatalf("globex user changed: %s", r.body)
		}
		if r := e.do("GET", "/v1/accounts/globex/tokens/"+gToken, "", globexAdmin); r.status != http.StatusOK {
			t.Fatalf("globex token changed: %d", r.status)
		}
		if n := len(list(t, e.do("GET", "/v1/accounts/globex/products", "", globexAdmin))); n != 1 {
			t.Fatalf("globex has %d products", n)
		}
	})
}
