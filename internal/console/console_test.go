package console_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/internal/webhook"
)

// site is relkey served with its pages on one backend, account "acme".
type site struct {
	t      testing.TB
	app    *app.App
	url    string
	tenant *account.Tenant
	clock  *testenv.Clock
}

func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newSite(t testing.TB, b testenv.Backend, tweak ...func(*config.Config)) *site {
	t.Helper()
	cfg := config.Config{DataDir: t.TempDir(), SecretKey: randomKey(), RequestTimeout: 5 * time.Second,
		MaxBodyBytes: 1 << 20, PasswordCost: password.MinCost}
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
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	clock := &testenv.Clock{}
	a.Sessions.SetClock(clock.Now)
	srv := httptest.NewServer(a.Server().Handler())
	t.Cleanup(srv.Close)
	s := &site{t: t, app: a, url: srv.URL, clock: clock}
	s.tenant = s.onboard("acme")
	return s
}

func (s *site) onboard(slug string) *account.Tenant {
	s.t.Helper()
	out, err := s.app.Onboard(context.Background(), onboard.Onboarding{Slug: slug, Name: strings.ToUpper(slug),
		Email: "admin@" + slug + ".test", Password: "password-" + slug})
	if err != nil {
		s.t.Fatal(err)
	}
	t, err := s.app.Accounts.Resolve(context.Background(), out.Account.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return t
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    testing.TB
	site *site
	http *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, site: s, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page_ struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page_ {
	b.t.Helper()
	res, err := b.http.Get(b.site.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, res)
}

func (b *browser) post(path string, form url.Values) page_ {
	b.t.Helper()
	res, err := b.http.PostForm(b.site.url+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, res)
}

func read(t testing.TB, res *http.Response) page_ {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page_{status: res.StatusCode, header: res.Header, body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a signed-in page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("GET %s: no CSRF token in %d %s", path, p.status, p.body)
	}
	return m[1]
}

// login signs in and expects to land on the overview.
func (b *browser) login(slug, email, pass string) page_ {
	b.t.Helper()
	p := b.post("/console/"+slug+"/login", url.Values{"email": {email}, "password": {pass}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/"+slug+"/" {
		b.t.Fatalf("login: %d %s %s", p.status, p.header.Get("Location"), p.body)
	}
	return p
}

func forEachBackend(t *testing.T, fn func(t *testing.T, b testenv.Backend)) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

func (s *site) operator() *access.Principal { return access.Operator(s.tenant.ID) }

func (s *site) products() int64 {
	s.t.Helper()
	_, n, err := s.app.Products.List(context.Background(), s.operator(), s.tenant, page.Request{Limit: 1, Count: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestSecurityHeadersAndCookieFlags(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		br := s.browser()
		p := br.get("/console/acme/login")
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("login page: %d %s", p.status, p.body)
		}
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script>") {
			t.Errorf("inline script allowed or present: %q", csp)
		}
		if p.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("X-Frame-Options = %q", p.header.Get("X-Frame-Options"))
		}
		in := br.login("acme", "admin@acme.test", "password-acme")
		cookie := in.header.Get("Set-Cookie")
		for _, want := range []string{"relkey_console=", "HttpOnly", "SameSite=Strict", "Path=/console/acme"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("cookie %q lacks %q", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("cookie over plain http with no https public URL is Secure: %q", cookie)
		}
		if p := br.get("/console/acme/"); p.status != http.StatusOK || !strings.Contains(p.body, "products") {
			t.Fatalf("overview: %d %s", p.status, p.body)
		}

		https := newSite(t, b, func(c *config.Config) { c.PublicURL = &url.URL{Scheme: "https", Host: "licensing.example"} })
		in = https.browser().post("/console/acme/login", url.Values{"email": {"admin@acme.test"}, "password": {"password-acme"}})
		if c := in.header.Get("Set-Cookie"); !strings.Contains(c, "Secure") {
			t.Errorf("cookie under an https RELKEY_PUBLIC_URL is not Secure: %q", c)
		}
	})
}

func TestWrongPasswordAndRateLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		br := s.browser()
		p := br.post("/console/acme/login", url.Values{"email": {"admin@acme.test"}, "password": {"nope"}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, `value="admin@acme.test"`) {
			t.Fatalf("wrong password: %d %s", p.status, p.body)
		}
		if c := p.header.Get("Set-Cookie"); c != "" {
			t.Fatalf("wrong password set a cookie: %q", c)
		}
		for range 4 {
			br.post("/console/acme/login", url.Values{"email": {"admin@acme.test"}, "password": {"nope"}})
		}
		p = br.post("/console/acme/login", url.Values{"email": {"admin@acme.test"}, "password": {"password-acme"}})
		if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many sign-in attempts") {
			t.Fatalf("sixth attempt in a minute: %d %s", p.status, p.body)
		}
	})
}

func TestCSRFRefusedAndFieldErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		for _, form := range []url.Values{{"name": {"Forged"}}, {"name": {"Forged"}, "csrf": {"not-the-token"}}} {
			if p := br.post("/console/acme/products", form); p.status != http.StatusForbidden {
				t.Fatalf("product without the CSRF token: %d %s", p.status, p.body)
			}
		}
		if n := s.products(); n != 0 {
			t.Fatalf("a refused form created %d products", n)
		}
		token := br.csrf("/console/acme/products")
		p := br.post("/console/acme/products", url.Values{"csrf": {token}, "name": {""}, "code": {"app"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("blank name: %d %s", p.status, p.body)
		}
		if !regexp.MustCompile(`id="name" name="name"[^>]*aria-invalid="true"[^>]*><span id="name-error" class="field-error">[^<]+</span>`).MatchString(p.body) {
			t.Fatalf("the rule's message is not beside the name field: %s", p.body)
		}
		if !strings.Contains(p.body, `value="app"`) {
			t.Errorf("the form lost what was typed: %s", p.body)
		}
		p = br.post("/console/acme/products", url.Values{"csrf": {token}, "name": {"App"}, "code": {"app"}})
		if p.status != http.StatusSeeOther || s.products() != 1 {
			t.Fatalf("valid product: %d %s (products %d)", p.status, p.body, s.products())
		}
		p = br.post("/console/acme/products", url.Values{"csrf": {token}, "name": {"Again"}, "code": {"app"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `<span id="code-error" class="field-error">`) {
			t.Fatalf("taken code: %d %s", p.status, p.body)
		}
	})
}

func TestSessionExpiryAndRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		s.clock.Advance(11 * time.Hour)
		if p := br.get("/console/acme/"); p.status != http.StatusOK {
			t.Fatalf("within the session: %d", p.status)
		}
		s.clock.Advance(2 * time.Hour)
		if p := br.get("/console/acme/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/acme/login" {
			t.Fatalf("expired session: %d %s", p.status, p.header.Get("Location"))
		}
		if p := br.post("/console/acme/products", url.Values{"name": {"X"}}); p.status != http.StatusUnauthorized {
			t.Fatalf("POST on an expired session: %d", p.status)
		}

		br = s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		stolen := br.http.Jar.Cookies(mustURL(t, s.url+"/console/acme/"))
		token := br.csrf("/console/acme/")
		if p := br.post("/console/acme/logout", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("logout: %d %s", p.status, p.body)
		}
		replay := s.browser()
		replay.http.Jar.SetCookies(mustURL(t, s.url+"/console/acme/"), stolen)
		if p := replay.get("/console/acme/"); p.status != http.StatusSeeOther {
			t.Fatalf("a signed-out session's cookie still opens the console: %d", p.status)
		}

		// Banning the user ends what its sessions may do at once.
		br = s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		dev, err := s.app.Users.Create(context.Background(), s.operator(), s.tenant, user.Params{
			Email: optional.Of("dev@acme.test"), Password: optional.Of(ptr("password-dev")), Role: optional.Of("user")})
		if err != nil {
			t.Fatal(err)
		}
		devBrowser := s.browser()
		devBrowser.login("acme", "dev@acme.test", "password-dev")
		token = br.csrf("/console/acme/users")
		if p := br.post("/console/acme/users/"+dev.ID+"/ban", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("ban: %d %s", p.status, p.body)
		}
		if p := devBrowser.get("/console/acme/"); p.status != http.StatusForbidden {
			t.Fatalf("banned user's session: %d", p.status)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func mustURL(t testing.TB, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fixture is a product, a policy and a license with one machine.
type fixture struct {
	product *product.Product
	policy  *policy.Policy
	license *license.License
	machine *machine.Machine
}

func (s *site) fixture(tenant *account.Tenant, fingerprint string) fixture {
	s.t.Helper()
	ctx, op := context.Background(), access.Operator(tenant.ID)
	var f fixture
	var err error
	if f.product, err = s.app.Products.Create(ctx, op, tenant, product.Params{Name: optional.Of("App")}); err != nil {
		s.t.Fatal(err)
	}
	if f.policy, err = s.app.Policies.Create(ctx, op, tenant, f.product.ID, policy.Params{Name: optional.Of("Pro"), Floating: optional.Of(true), AuthenticationStrategy: optional.Of("LICENSE"), MaxMachines: optional.Of(ptr(int64(3)))}); err != nil {
		s.t.Fatal(err)
	}
	if f.license, err = s.app.Licenses.Create(ctx, op, tenant, license.Relationships{Policy: f.policy.ID}, license.Params{Name: optional.Of(ptr("Customer"))}); err != nil {
		s.t.Fatal(err)
	}
	if f.machine, _, err = s.app.Machines.Activate(ctx, op, tenant, f.license.ID, machine.Params{Fingerprint: optional.Of(fingerprint), Name: optional.Of(ptr("Laptop"))}, nil); err != nil {
		s.t.Fatal(err)
	}
	return f
}

func TestReadOnlyUserChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		f := s.fixture(s.tenant, "fp-1")
		if _, err := s.app.Users.Create(context.Background(), s.operator(), s.tenant, user.Params{
			Email: optional.Of("ro@acme.test"), Password: optional.Of(ptr("password-ro")), Role: optional.Of("read-only")}); err != nil {
			t.Fatal(err)
		}
		br := s.browser()
		br.login("acme", "ro@acme.test", "password-ro")
		if p := br.get("/console/acme/licenses/" + f.license.ID); p.status != http.StatusOK || !strings.Contains(p.body, "Laptop") {
			t.Fatalf("read-only sees the license: %d %s", p.status, p.body)
		}
		token := br.csrf("/console/acme/licenses")
		for path, form := range map[string]url.Values{
			"/console/acme/products":                                 {"name": {"New"}},
			"/console/acme/licenses/" + f.license.ID + "/suspend":    {},
			"/console/acme/licenses/" + f.license.ID + "/revoke":     {},
			"/console/acme/machines/" + f.machine.ID + "/deactivate": {},
			"/console/acme/products/" + f.product.ID + "/delete":     {},
		} {
			form.Set("csrf", token)
			if p := br.post(path, form); p.status != http.StatusForbidden {
				t.Errorf("read-only POST %s: %d %s", path, p.status, p.body)
			}
		}
		l, err := s.app.Licenses.Find(context.Background(), s.operator(), s.tenant, f.license.ID)
		if err != nil || l.Suspended {
			t.Fatalf("license after read-only actions: %v %+v", err, l)
		}
		if _, err := s.app.Machines.Visible(context.Background(), s.operator(), s.tenant, f.machine.ID); err != nil {
			t.Fatalf("machine after read-only actions: %v", err)
		}
		if s.products() != 1 {
			t.Fatalf("products after read-only actions: %d", s.products())
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		globex := s.onboard("globex")
		theirs := s.fixture(globex, "fp-globex")
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		if p := br.get("/console/acme/licenses/" + theirs.license.ID); p.status != http.StatusNotFound {
			t.Fatalf("another account's license through ours: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/licenses/find?ref=" + url.QueryEscape(theirs.license.Key)); p.status != http.StatusNotFound {
			t.Fatalf("another account's license by key: %d", p.status)
		}
		ours := s.fixture(s.tenant, "fp-ours")
		if p := br.get("/console/acme/licenses/find?ref=" + url.QueryEscape(ours.license.Key)); p.status != http.StatusSeeOther ||
			p.header.Get("Location") != "/console/acme/licenses/"+ours.license.ID {
			t.Fatalf("our license by key: %d %s", p.status, p.header.Get("Location"))
		}
		token := br.csrf("/console/acme/")
		if p := br.post("/console/acme/machines/"+theirs.machine.ID+"/deactivate", url.Values{"csrf": {token}}); p.status != http.StatusNotFound {
			t.Fatalf("another account's machine through ours: %d", p.status)
		}
		// The acme session's cookie is not sent to, nor valid for, globex's console.
		if p := br.get("/console/globex/"); p.status != http.StatusSeeOther {
			t.Fatalf("acme's session in globex's console: %d", p.status)
		}
		if p := br.get("/console/nobody/login"); p.status != http.StatusNotFound {
			t.Fatalf("unknown account: %d", p.status)
		}
	})
}

func TestPortal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		mine, other := s.fixture(s.tenant, "fp-mine"), s.fixture(s.tenant, "fp-other")
		br := s.browser()
		if p := br.post("/portal/acme/login", url.Values{"key": {"not-a-key"}}); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "not known") {
			t.Fatalf("unknown key: %d %s", p.status, p.body)
		}
		p := br.post("/portal/acme/login", url.Values{"key": {mine.license.Key}})
		if p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Set-Cookie"), "SameSite=Strict") {
			t.Fatalf("portal sign-in: %d %s", p.status, p.body)
		}
		home := br.get("/portal/acme/")
		if home.status != http.StatusOK || !strings.Contains(home.body, "fp-mine") || strings.Contains(home.body, "fp-other") {
			t.Fatalf("portal home: %d %s", home.status, home.body)
		}
		token := csrfField.FindStringSubmatch(home.body)[1]
		if p := br.post("/portal/acme/machines/"+other.machine.ID+"/deactivate", url.Values{"csrf": {token}}); p.status != http.StatusNotFound {
			t.Fatalf("another customer's machine: %d", p.status)
		}
		if p := br.post("/portal/acme/machines/"+mine.machine.ID+"/deactivate", url.Values{}); p.status != http.StatusForbidden {
			t.Fatalf("portal form without CSRF: %d", p.status)
		}
		if p := br.post("/portal/acme/machines/"+mine.machine.ID+"/deactivate", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("deactivate own machine: %d %s", p.status, p.body)
		}
		if _, err := s.app.Machines.Visible(context.Background(), s.operator(), s.tenant, mine.machine.ID); err == nil {
			t.Fatal("the machine is still there")
		}
		if _, err := s.app.Machines.Visible(context.Background(), s.operator(), s.tenant, other.machine.ID); err != nil {
			t.Fatalf("the other customer's machine went: %v", err)
		}
		// A portal session opens no console page.
		if p := br.get("/console/acme/"); p.status != http.StatusSeeOther {
			t.Fatalf("portal session in the console: %d", p.status)
		}
	})
}

func TestPortalLinkWorksOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		f := s.fixture(s.tenant, "fp-link")
		admin := s.browser()
		admin.login("acme", "admin@acme.test", "password-acme")
		token := admin.csrf("/console/acme/licenses/" + f.license.ID)
		p := admin.post("/console/acme/licenses/"+f.license.ID+"/portal-link", url.Values{"csrf": {token}})
		m := regexp.MustCompile(`id="secret" readonly value="([^"]+)"`).FindStringSubmatch(p.body)
		if p.status != http.StatusOK || m == nil {
			t.Fatalf("portal link: %d %s", p.status, p.body)
		}
		link := strings.TrimPrefix(html.UnescapeString(m[1]), s.url)
		customer := s.browser()
		if p := customer.get(link); p.status != http.StatusSeeOther || p.header.Get("Location") != "/portal/acme/" {
			t.Fatalf("opening the link: %d %s", p.status, p.body)
		}
		if p := customer.get("/portal/acme/"); p.status != http.StatusOK || !strings.Contains(p.body, "fp-link") {
			t.Fatalf("portal through the link: %d %s", p.status, p.body)
		}
		for _, again := range []*browser{customer, s.browser()} {
			if p := again.get(link); p.status != http.StatusGone || !strings.Contains(p.body, "already been used") {
				t.Fatalf("reused link: %d %s", p.status, p.body)
			}
		}

		expiring := admin.post("/console/acme/licenses/"+f.license.ID+"/portal-link", url.Values{"csrf": {token}})
		late := strings.TrimPrefix(html.UnescapeString(regexp.MustCompile(`id="secret" readonly value="([^"]+)"`).FindStringSubmatch(expiring.body)[1]), s.url)
		s.clock.Advance(16 * time.Minute)
		if p := s.browser().get(late); p.status != http.StatusGone {
			t.Fatalf("expired link: %d", p.status)
		}

		// A read-only user may see the license but not hand out its access.
		if _, err := s.app.Users.Create(context.Background(), s.operator(), s.tenant, user.Params{
			Email: optional.Of("ro@acme.test"), Password: optional.Of(ptr("password-ro")), Role: optional.Of("read-only")}); err != nil {
			t.Fatal(err)
		}
		ro := s.browser()
		ro.login("acme", "ro@acme.test", "password-ro")
		roToken := ro.csrf("/console/acme/licenses/" + f.license.ID)
		if p := ro.post("/console/acme/licenses/"+f.license.ID+"/portal-link", url.Values{"csrf": {roToken}}); p.status != http.StatusForbidden {
			t.Fatalf("read-only portal link: %d", p.status)
		}
	})
}

func TestLicensesFilterByStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		active := s.fixture(s.tenant, "fp-active")
		suspended := s.fixture(s.tenant, "fp-suspended")
		if _, err := s.app.Licenses.SetSuspended(context.Background(), s.operator(), s.tenant, suspended.license.ID, true); err != nil {
			t.Fatal(err)
		}
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		// The API's filter: SUSPENDED is the suspended ones; ACTIVE, as in
		// Keygen, is about activity, so it includes suspended licenses.
		p := br.get("/console/acme/licenses?status=SUSPENDED")
		if p.status != http.StatusOK || !strings.Contains(p.body, suspended.license.ID) || strings.Contains(p.body, active.license.ID) || !strings.Contains(p.body, `value="SUSPENDED" selected`) {
			t.Fatalf("suspended: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/licenses?status=EXPIRED"); p.status != http.StatusOK || strings.Contains(p.body, active.license.ID) || strings.Contains(p.body, suspended.license.ID) {
			t.Fatalf("expired: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/licenses?status=bogus"); p.status != http.StatusOK || !strings.Contains(p.body, active.license.ID) || !strings.Contains(p.body, suspended.license.ID) {
			t.Fatalf("unknown status filters nothing out: %d", p.status)
		}
	})
}

func TestWebhooksAndEventLogPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b, func(c *config.Config) { c.WebhookAllowPrivate, c.WebhookAllowInsecure = true, true })
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		token := br.csrf("/console/acme/webhooks")
		// The API's rules, their messages beside the fields.
		if p := br.post("/console/acme/webhooks", url.Values{"csrf": {token}, "url": {"https://hooks.example/x"}, "subscriptions": {"license.nope"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "license.nope") {
			t.Fatalf("unknown event: %d %s", p.status, p.body)
		}
		if p := br.post("/console/acme/webhooks", url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/hook"}, "subscriptions": {"product.created, product.deleted"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create endpoint: %d %s", p.status, p.body)
		}
		endpoints, _, err := s.app.Webhooks.ListEndpoints(context.Background(), s.operator(), s.tenant, page.Request{Limit: 10})
		if err != nil || len(endpoints) != 1 || len(endpoints[0].Subscriptions.V) != 2 {
			t.Fatalf("endpoints: %+v %v", endpoints, err)
		}
		if p := br.post("/console/acme/products", url.Values{"csrf": {token}, "name": {"Hooked"}}); p.status >= 400 {
			t.Fatalf("create product: %d", p.status)
		}
		if err := s.app.DeliveryWorker(webhook.WorkerOptions{}).FanOut(context.Background()); err != nil {
			t.Fatal(err)
		}
		p := br.get("/console/acme/webhooks")
		if p.status != http.StatusOK || !strings.Contains(p.body, "http://127.0.0.1:9/hook") || !strings.Contains(p.body, "product.created") || !strings.Contains(p.body, "DELIVERING") {
			t.Fatalf("webhooks page: %d %s", p.status, p.body)
		}
		deliveries, _, err := s.app.Webhooks.ListDeliveries(context.Background(), s.operator(), s.tenant, webhook.DeliveryFilter{}, page.Request{Limit: 10})
		if err != nil || len(deliveries) != 1 {
			t.Fatalf("deliveries: %v %v", deliveries, err)
		}
		if p := br.post("/console/acme/webhooks/deliveries/"+deliveries[0].ID+"/retry", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", p.status, p.body)
		}
		events := br.get("/console/acme/events?event=product.created")
		if events.status != http.StatusOK || strings.Count(events.body, `class="event-name"`) != 1 || !strings.Contains(events.body, `value="product.created" selected`) {
			t.Fatalf("event log: %d %s", events.status, events.body)
		}
		if p := br.post("/console/acme/webhooks/"+endpoints[0].ID+"/delete", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete endpoint: %d", p.status)
		}
		if _, err := s.app.Webhooks.FindEndpoint(context.Background(), s.operator(), s.tenant, endpoints[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("endpoint after delete: %v", err)
		}
	})
}
