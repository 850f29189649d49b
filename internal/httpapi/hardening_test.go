package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/ratelimit"
	"github.com/relkey/relkey/internal/testenv"
)

// errorLines are the server log's ERROR lines.
func (e *env) errorLines() []string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return out
}

// TestMalformedBytesInPathsQueriesAndHeaders: a NUL byte or invalid UTF-8
// in a path id, the account segment, a query value or a header value is a
// client's mistake on both engines: 404 for a path id, 400 naming the
// parameter or header otherwise, never a 500 nor an ERROR line.
func TestMalformedBytesInPathsQueriesAndHeaders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, path := range []string{
			"/v1/accounts/%FF/licenses",
			"/v1/accounts/%00/licenses",
			"/v1/accounts/acme/products/%FF%FE",
			"/v1/accounts/acme/products/a%00b",
			"/v1/accounts/acme/licenses/%C3%28",
			"/v1/accounts/acme/machines/%00",
			"/v1/products/%FF",
			"/v1/accounts/acme/releases/%FF/artifacts/%FE",
		} {
			for _, r := range []*response{e.admin("GET", path, ""), e.do("GET", path, "")} {
				if r.status != 404 {
					t.Errorf("GET %s: %d %s", path, r.status, r.body)
				}
				if strings.HasPrefix(path, "/v1/accounts/acme/") && r.header.Get("Keygen-Signature") == "" {
					t.Errorf("GET %s: 404 under the account is not signed", path)
				}
			}
		}
		for _, query := range []string{"fingerprint=%00", "fingerprint=%FF", "product=%FF%FE", "page[number]=%00&page[size]=1", "%FF=1", "metadata[%00]=x"} {
			for _, base := range []string{"/v1/accounts/acme/machines", "/v1/accounts/acme/licenses", "/v1/machines"} {
				r := e.admin("GET", base+"?"+query, "")
				if r.status != 400 {
					t.Errorf("GET %s?%s: %d %s", base, query, r.status, r.body)
					continue
				}
				r.expectError(t, 400, "ENCODING_INVALID")
				if src, _ := r.firstError(t)["source"].(map[string]any); src["parameter"] == nil || src["parameter"] == "" {
					t.Errorf("GET %s?%s: no source.parameter: %s", base, query, r.body)
				}
			}
		}
		for _, h := range []header{{"Authorization", "Bearer \xff\xfe"}, {"Authorization", "License \xc3\x28"}, {"Keygen-Version", "\xff"}} {
			r := e.do("GET", "/v1/accounts/acme/licenses", "", h)
			if r.status != 400 {
				t.Errorf("header %s %q: %d %s", h.key, h.value, r.status, r.body)
				continue
			}
			if src, _ := r.firstError(t)["source"].(map[string]any); src["header"] != h.key {
				t.Errorf("header %s %q: source %v", h.key, h.value, src)
			}
		}
		if lines := e.errorLines(); len(lines) > 0 {
			t.Fatalf("ERROR lines for client mistakes:\n%s", strings.Join(lines, "\n"))
		}
	})
}

// TestLogsCarryNoSecrets runs the credentials of a whole API session (a
// token, a password, a license key as path and as credential, a query
// string, a blob URL's signature) and greps the server's log for each: the
// log names routes and resolved ids, never what a client sent as a secret.
func TestLogsCarryNoSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		bs := e.seedBearers()
		secrets := map[string]string{"admin token": e.token, "read-only token": bs.readOnly, "user token": bs.user,
			"product token": bs.product, "license key": bs.license, "password": "password-123", "filter value": "secret-fingerprint-filter"}
		e.do("GET", "/v1/accounts/acme/licenses/"+url.PathEscape(bs.license), "", bearer(bs.product))
		e.do("GET", "/v1/accounts/acme/licenses/"+url.PathEscape(bs.license)+"/actions/validate", "", bearer(e.token))
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+bs.license+`"}}`)
		e.do("GET", "/v1/accounts/acme/me", "", header{"Authorization", "License " + bs.license})
		e.do("GET", "/v1/accounts/acme/machines?fingerprint=secret-fingerprint-filter&auth="+url.QueryEscape("Bearer "+bs.user), "")
		e.do("GET", "/v1/accounts/acme/licenses?auth="+url.QueryEscape(e.token), "")
		e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-123"))
		e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "wrong-password-456"))
		secrets["wrong password"] = "wrong-password-456"
		e.do("GET", "/v1/accounts/acme/licenses/not-a-key-"+bs.license[:8]+"-guess", "", bearer(bs.product))
		secrets["guessed key"] = "not-a-key-" + bs.license[:8] + "-guess"
		e.do("POST", "/v1/accounts/acme/users/"+bs.userID+"/actions/update-password",
			`{"meta":{"oldPassword":"password-123","newPassword":"password-789"}}`, bearer(bs.user))
		secrets["new password"] = "password-789"
		e.do("GET", "/v1/accounts/acme/products", "", bearer("admin-guessed-token-value"))
		secrets["guessed token"] = "admin-guessed-token-value"
		log := e.logs.String()
		if !strings.Contains(log, `"route":"/v1/accounts/:account/licenses/:id"`) {
			t.Fatalf("the access log names no route patterns:\n%s", lastLines(log, 5))
		}
		if !strings.Contains(log, `"resource":"`+bs.licenseID+`"`) {
			t.Fatalf("the access log names no resolved resource id:\n%s", lastLines(log, 5))
		}
		for name, secret := range secrets {
			if strings.Contains(log, secret) || strings.Contains(log, url.QueryEscape(secret)) || strings.Contains(log, url.PathEscape(secret)) {
				t.Errorf("the %s is in the log", name)
			}
		}
	})
}

// TestLoginLimitsTrustOnlyConfiguredProxies: X-Forwarded-For names the
// client only from RELKEY_TRUSTED_PROXIES; rotating it from anywhere else
// changes nothing. Attempts are limited per email from any address and
// per address whatever the emails.
func TestLoginLimitsTrustOnlyConfiguredProxies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		login := func(e *env, email, forwarded string) *response {
			return e.do("POST", "/v1/accounts/acme/tokens", "", basic(email, "wrong"), header{"X-Forwarded-For", forwarded}, header{"X-Real-IP", forwarded})
		}
		untrusted := newEnv(t, b)
		refused := 0
		for i := range 40 {
			if r := login(untrusted, fmt.Sprintf("guess-%d@acme.test", i), fmt.Sprintf("198.51.100.%d", i)); r.status == 429 {
				refused++
			}
		}
		if refused != 10 {
			t.Fatalf("rotating X-Forwarded-For from an untrusted peer: %d of 40 refused, want 10 past the per-address 30", refused)
		}
		if !strings.Contains(untrusted.logs.String(), `"ip":"127.0.0.1"`) || strings.Contains(untrusted.logs.String(), `198.51.100.`) {
			t.Fatal("the log names a forwarded address from an untrusted peer")
		}

		trusted := newEnv(t, b, func(c *config.Config) { c.Edge.TrustedProxies = cidrs(t, "127.0.0.0/8") })
		for i := range 40 {
			if r := login(trusted, fmt.Sprintf("guess-%d@acme.test", i), fmt.Sprintf("198.51.100.%d", i)); r.status == 429 {
				t.Fatalf("attempt %d from its own forwarded address refused", i)
			}
		}
		refused = 0
		for i := range 10 {
			if r := login(trusted, "admin@acme.test", fmt.Sprintf("203.0.113.%d", i)); r.status == 429 {
				refused++
			}
		}
		if refused != 5 {
			t.Fatalf("one email from 10 addresses: %d refused, want 5", refused)
		}
		if !strings.Contains(trusted.logs.String(), `"ip":"203.0.113.9"`) {
			t.Fatal("the log does not name the forwarded client of a trusted proxy")
		}
	})
}

func cidrs(t testing.TB, values ...string) []*net.IPNet {
	var out []*net.IPNet
	for _, v := range values {
		_, n, err := net.ParseCIDR(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestUnknownEmailCostsWhatAKnownOneDoes: a login with an unknown email
// answers as Keygen does (401 EMAIL_INVALID) but only after the password
// work a known email's wrong password costs, so timing tells nothing.
func TestUnknownEmailCostsWhatAKnownOneDoes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.PasswordCost = 8 })
		e.admin("POST", "/v1/accounts/acme/users", userBody("known@acme.test", "user"))
		fastest := func(email, code string) time.Duration {
			best := time.Hour
			for range 3 {
				start := time.Now()
				e.do("POST", "/v1/accounts/acme/tokens", "", basic(email, "wrong-password")).expectError(t, 401, code)
				best = min(best, time.Since(start))
			}
			return best
		}
		known := fastest("known@acme.test", "PASSWORD_INVALID")
		unknown := fastest("nobody@acme.test", "EMAIL_INVALID")
		if unknown < known/3 {
			t.Fatalf("unknown email answered in %v, a known one in %v", unknown, known)
		}
	})
}

// TestKeyGuessingIsLimited: failed license-key and token guesses and
// failed validate-key lookups are counted in memory per client address and
// per account; past the address's limit it gets 429 with Keygen's
// X-RateLimit-* and Retry-After, and while the account is guessed at from
// everywhere, addresses that guessed wrong are refused too. A valid key
// from an address that never guessed is never slowed.
func TestKeyGuessingIsLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.Edge.TrustedProxies = cidrs(t, "127.0.0.0/8") })
		_, key := e.licensed(`"name":"Keyed","authenticationStrategy":"LICENSE"`)
		from := func(ip string) header { return header{"X-Forwarded-For", ip} }
		validate := func(k, ip string) *response {
			return e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+k+`"}}`, from(ip))
		}
		for i := range ratelimit.AddressGuesses {
			var r *response
			switch i % 3 {
			case 0:
				r = validate(fmt.Sprintf("GUESS-%d", i), "198.51.100.1")
			case 1:
				r = e.do("GET", "/v1/accounts/acme/me", "", header{"Authorization", fmt.Sprintf("License GUESS-%d", i)}, from("198.51.100.1"))
			default:
				r = e.do("GET", "/v1/accounts/acme/me", "", bearer(fmt.Sprintf("guessed-token-%d", i)), from("198.51.100.1"))
			}
			if r.status == 429 {
				t.Fatalf("guess %d refused before the limit", i)
			}
		}
		limited := validate(key, "198.51.100.1")
		limited.expectError(t, 429, "TOO_MANY_REQUESTS")
		for _, h := range []string{"X-RateLimit-Window", "X-RateLimit-Count", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"} {
			if limited.header.Get(h) == "" {
				t.Errorf("429 without %s", h)
			}
		}
		e.do("GET", "/v1/accounts/acme/me", "", header{"Authorization", "License " + key}, from("198.51.100.1")).expectError(t, 429, "TOO_MANY_REQUESTS")
		if r := validate(key, "198.51.100.2"); r.status != 200 || r.doc(t)["meta"].(map[string]any)["valid"] != true {
			t.Fatalf("a valid key from another address: %d %s", r.status, r.body)
		}
		var rows int64
		e.app.DB.Conn(context.Background()).Raw(`SELECT count(*) FROM rate_limits WHERE key LIKE 'guard-%'`).Scan(&rows)
		if rows != 0 {
			t.Fatalf("failed guesses wrote %d rows synchronously", rows)
		}
		// The account guessed at from as many addresses as it may fail, once each.
		for i := range ratelimit.AccountGuesses - ratelimit.AddressGuesses {
			validate(fmt.Sprintf("SPRAY-%d", i), fmt.Sprintf("10.%d.%d.1", i/250, i%250))
		}
		validate("SPRAY-again", "10.0.0.1").expectError(t, 429, "TOO_MANY_REQUESTS")
		if r := e.do("GET", "/v1/accounts/acme/me", "", header{"Authorization", "License " + key}, from("192.0.2.50")); r.status != 200 {
			t.Fatalf("a valid key from a clean address during the attack: %d %s", r.status, r.body)
		}
		if err := e.app.Guesses.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.app.DB.Conn(context.Background()).Raw(`SELECT count(*) FROM rate_limits WHERE key LIKE 'guard-%'`).Scan(&rows)
		if want := ratelimit.AccountGuesses - ratelimit.AddressGuesses + 2; rows != int64(want) {
			t.Fatalf("%d shared rows after Sync, want %d: one an address and the account's", rows, want)
		}
	})
}

// TestAccountAnswersAreSignedErrorsIncluded: under an account every
// answer carries the account's signature, refusals of the request's media
// types and unknown endpoints included (e.do verifies each signature).
func TestAccountAnswersAreSignedErrorsIncluded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, r := range []*response{
			e.admin("GET", "/v1/accounts/acme/products", "", header{"Accept", "text/html"}),
			e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"X"`), header{"Content-Type", "application/xml"}),
			e.admin("GET", "/v1/accounts/acme/no-such-endpoint", ""),
			e.do("GET", "/v1/accounts/acme/products", ""),
			e.admin("GET", "/v1/products", "", header{"Accept", "text/html"}),
		} {
			if r.status < 400 || r.header.Get("Keygen-Signature") == "" || r.header.Get("Keygen-Account") != e.acct.Account.ID {
				t.Errorf("%d %s: unsigned (%q)", r.status, r.body, r.header.Get("Keygen-Signature"))
			}
		}
	})
}

// TestAllowedHostsAndCORS: with RELKEY_ALLOWED_HOSTS another Host is 400
// HOST_INVALID (the probes excepted); RELKEY_CORS_ORIGINS answers its
// origins' preflights allowing Authorization and exposes the signature
// headers, and nothing to other origins.
func TestAllowedHostsAndCORS(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.Edge.AllowedHosts = []string{"licensing.example.com", "127.0.0.1"}
			c.Edge.CORSOrigins = []string{"https://app.example.com"}
		})
		e.admin("GET", "/v1/accounts/acme/products", "", header{"Host", "evil.example"}).expectError(t, 400, "HOST_INVALID", "header", "Host")
		if r := e.admin("GET", "/v1/accounts/acme/products", "", header{"Host", "Licensing.Example.com:8443"}); r.status != 200 {
			t.Fatalf("an allowed host: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/health/live", "", header{"Host", "10.1.2.3:8080"}); r.status != 200 {
			t.Fatalf("the probe by address: %d", r.status)
		}
		if r := e.admin("GET", "/v1/accounts/acme/products", ""); r.status != 200 {
			t.Fatalf("the listener's own address: %d", r.status)
		}
		preflight := e.do("OPTIONS", "/v1/accounts/acme/licenses/actions/validate-key", "", header{"Origin", "https://app.example.com"},
			header{"Access-Control-Request-Method", "POST"}, header{"Access-Control-Request-Headers", "authorization,content-type"})
		if preflight.status != 204 || preflight.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(strings.ToLower(preflight.header.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(preflight.header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight: %d %v", preflight.status, preflight.header)
		}
		r := e.admin("GET", "/v1/accounts/acme/products", "", header{"Origin", "https://app.example.com"})
		if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Keygen-Signature") {
			t.Fatalf("CORS answer: %v", r.header)
		}
		other := e.do("OPTIONS", "/v1/accounts/acme/products", "", header{"Origin", "https://evil.example"}, header{"Access-Control-Request-Method", "GET"})
		if other.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("another origin allowed: %v", other.header)
		}
	})
}

// pacedReader yields chunk bytes of body every pause: a slow link.
type pacedReader struct {
	body  []byte
	chunk int
	pause time.Duration
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if len(p.body) == 0 {
		return 0, io.EOF
	}
	time.Sleep(p.pause) // the slow client under test, not a wait for the server
	n := copy(b[:min(len(b), p.chunk)], p.body)
	p.body = p.body[n:]
	return n, nil
}

// TestSlowUploadsGetASizeProportionalAllowance: a local-store PUT slower
// than the request deadline but within its size's allowance is stored and
// recorded; one that withholds its body past the allowance is cut off.
func TestSlowUploadsGetASizeProportionalAllowance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.Storage, c.RequestTimeout = nil, 500*time.Millisecond })
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		draft := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"1.0.0"`)))
		content := make([]byte, 256<<10)
		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft, `"filename":"slow.bin","filesize":262144`))
		req, _ := http.NewRequest("PUT", created.header.Get("Location"), &pacedReader{body: content, chunk: 32 << 10, pause: 100 * time.Millisecond})
		req.ContentLength = int64(len(content))
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || time.Since(start) < 500*time.Millisecond {
			t.Fatalf("slow upload: %d after %v", resp.StatusCode, time.Since(start))
		}
		if a := attrs(t, e.admin("GET", "/v1/accounts/acme/artifacts/"+data(t, created)["id"].(string), "", header{"Prefer", "no-download"})); a["status"] != "UPLOADED" {
			t.Fatalf("after the slow upload: %v", a["status"])
		}

		stalled := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(draft, `"filename":"stalled.bin","filesize":65536`))
		target, _ := url.Parse(stalled.header.Get("Location"))
		conn, err := net.Dial("tcp", target.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 65536\r\n\r\n", target.RequestURI(), target.Host)
		conn.Write(make([]byte, 16<<10))
		start = time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		answer, _ := io.ReadAll(conn) // the server answers or closes
		if strings.HasPrefix(string(answer), "HTTP/1.1 200") {
			t.Fatal("a withheld body was accepted")
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("a withheld body held the connection for %v", took)
		}
	})
}
