// Package console serves relkey's web pages from the binary itself: the
// vendor's console under /console/<account>/ and the customer portal under
// /portal/<account>/. Pages are html/template, embedded, and work without
// JavaScript; every action calls the same domain services as the API with
// the signed-in user's (or license's) principal, so every permission,
// visibility and validation rule holds unchanged. Sessions live on the
// server; every form carries a CSRF token; every answer carries a strict
// Content-Security-Policy.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/ratelimit"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/search"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/internal/webhook"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Services are the domain rules the pages call (the API's own).
type Services struct {
	Accounts  *account.Service
	Identity  *identity.Service
	Issuing   *identity.Issuing
	Users     *user.Service
	Tokens    *token.Service
	Products  *product.Service
	Policies  *policy.Service
	Licenses  *license.Service
	Machines  *machine.Service
	Releases  *release.Service
	Artifacts *artifact.Service
	Webhooks  *webhook.Service
	EventLog  *event.Log
	// Entitlements also holds a release's entitlement constraints.
	Entitlements *entitlement.Service
	Groups       *group.Service
	Search       *search.Service
	Analytics    *analytics.Service
	Limiter      *ratelimit.Limiter
	Storage      storage.Store
}

// Deps are the pages' services and settings.
type Deps struct {
	Services
	Sessions       *session.Sessions
	PortalLinks    *session.PortalLinks
	Logger         *slog.Logger
	DefaultAccount string   // RELKEY_ACCOUNT: where /console and /portal lead
	PublicURL      *url.URL // RELKEY_PUBLIC_URL: https there makes cookies Secure
}

// The sign-in allowance is the API's for email and password (POST /tokens),
// counted under the same key, so the console is no way around it.
const (
	passwordAttempts = 5
	passwordWindow   = time.Minute
	// licenseKeyAttempts bounds portal sign-ins by license key per address.
	licenseKeyAttempts = 10
	consoleSessionTTL  = 12 * time.Hour
	portalSessionTTL   = time.Hour
	portalLinkTTL      = 15 * time.Minute
)

// Pages is the console and portal handler.
type Pages struct {
	Deps
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New builds the pages.
func New(d Deps) (*Pages, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	p := &Pages{Deps: d, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, err
		}
		p.pages[base] = t
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	p.mux.Handle("GET /assets/console/", http.StripPrefix("/assets/console/", http.FileServerFS(static)))
	p.consoleRoutes()
	p.portalRoutes()
	return p, nil
}

var funcs = template.FuncMap{
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"when": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"list": func(words ...string) []string { return words },
	// args passes several values to a shared template.
	"args": func(values ...any) []any { return values },
	// optional is a limit for a form field: empty for none.
	"optional": func(n *int64) string {
		if n == nil {
			return ""
		}
		return itoa(*n)
	},
	"stamp": func(t time.Time) *time.Time { return &t },
	// count is a total, or a dash where the user may not read the list.
	"count": func(n int64) string {
		if n < 0 {
			return "—"
		}
		return itoa(n)
	},
	"limit": func(n *int64) string {
		if n == nil {
			return "∞"
		}
		return itoa(*n)
	},
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ServeHTTP serves the pages with the security headers every page carries.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'"+p.storageOrigin()+"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	p.mux.ServeHTTP(w, r)
}

// storageOrigin lets the browser upload to presigned URLs of an object
// store on another origin (S3); the local store is relkey's own origin.
func (p *Pages) storageOrigin() string {
	if p.Storage == nil {
		return ""
	}
	u, err := p.Storage.PresignPut(context.Background(), "console/origin", time.Minute)
	if err != nil || !u.IsAbs() {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

// view is what every page template sees.
type view struct {
	Title   string
	Account *account.Account
	Section string // console or portal
	CSRF    string
	Signed  bool
	Flash   string
	Secret  string // a key or token shown once
	Errors  map[string]string
	Error   string
	Form    url.Values
	Data    any
}

// render writes the named page with status.
func (p *Pages) render(w http.ResponseWriter, status int, name string, v *view) {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", v); err != nil {
		p.Logger.Error("page failed", "page", name, "error", err)
	}
}

// secure reports whether cookies must be Secure: served over TLS, or
// RELKEY_PUBLIC_URL is https.
func (p *Pages) secure(r *http.Request) bool {
	return r.TLS != nil || (p.PublicURL != nil && p.PublicURL.Scheme == "https")
}

func cookieName(kind string) string { return "relkey_" + kind }

// setCookie hands the session secret to the browser for the account's
// pages only.
func (p *Pages) setCookie(w http.ResponseWriter, r *http.Request, kind, path, raw string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(kind), Value: raw, Path: path, Expires: expires,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

func (p *Pages) clearCookie(w http.ResponseWriter, r *http.Request, kind, path string) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(kind), Path: path, MaxAge: -1,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteStrictMode})
}

// request is one page request: the account and, once signed in, the
// session and the principal it acts as.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	tenant  *account.Tenant
	session *session.Session
	who     *access.Principal
	base    string // /console/<slug> or /portal/<slug>
}

// tenant resolves the {account} of the path; an unknown account is a 404.
func (p *Pages) tenant(w http.ResponseWriter, r *http.Request) (*account.Tenant, bool) {
	t, err := p.Accounts.Resolve(r.Context(), r.PathValue("account"))
	if err != nil {
		p.fail(w, r, err)
		return nil, false
	}
	return t, true
}

// fail answers an error that no form shows: a page with its message.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	status := statusOf(e.Kind)
	detail := e.Detail
	if e.Kind == apperr.Internal {
		p.Logger.Error("page failed", "path", r.URL.Path, "error", err)
		detail = "Something went wrong on our side."
	}
	p.render(w, status, "error", &view{Title: http.StatusText(status), Error: detail})
}

// statusOf is the API's status of an error kind.
func statusOf(k apperr.Kind) int { return httpapi.StatusOf(k) }

// fieldErrors puts a rule's error beside the form field it names; an
// error about no field is the form's own.
func fieldErrors(err error) (map[string]string, string) {
	e := apperr.As(err)
	if e.Kind == apperr.Internal {
		return nil, "Something went wrong on our side."
	}
	if e.Source != nil && e.Source.Field != nil && e.Source.Field.Name != "" {
		return map[string]string{e.Source.Field.Name: e.Detail}, ""
	}
	return nil, e.Detail
}

// signedIn wraps a page that needs a session of kind: without one it leads
// to the sign-in page; a POST must carry the session's CSRF token.
func (p *Pages) signedIn(kind string, page func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := p.tenant(w, r)
		if !ok {
			return
		}
		base := "/" + kind + "/" + r.PathValue("account")
		c, _ := r.Cookie(cookieName(kind))
		raw := ""
		if c != nil {
			raw = c.Value
		}
		sess, err := p.Sessions.Open(r.Context(), t.ID, kind, raw)
		if err != nil {
			if apperr.Is(err, apperr.Unauthenticated) {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, base+"/login", http.StatusSeeOther)
					return
				}
				p.render(w, http.StatusUnauthorized, "error", &view{Title: "Signed out", Error: apperr.As(err).Detail})
				return
			}
			p.fail(w, r, err)
			return
		}
		if r.Method == http.MethodPost && !validCSRF(r, sess.CSRF) {
			p.render(w, http.StatusForbidden, "error", &view{Title: "Forbidden", Error: "The form has expired or did not come from this site: reload the page and try again."})
			return
		}
		who, err := p.principal(r.Context(), t, sess)
		if err != nil {
			if apperr.Is(err, apperr.Unauthenticated) || apperr.Is(err, apperr.Forbidden) || apperr.Is(err, apperr.NotFound) {
				p.Sessions.Revoke(r.Context(), sess)
				p.clearCookie(w, r, kind, base)
			}
			p.fail(w, r, err)
			return
		}
		req := &request{w: w, r: r, ctx: r.Context(), tenant: t, session: sess, who: who, base: base}
		if err := page(req); err != nil {
			p.fail(w, r, err)
		}
	}
}

// validCSRF compares the form's token with the session's in constant time.
func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// principal is who the session acts as, built as authentication builds
// it: a user that is still there and not banned, or a license.
func (p *Pages) principal(ctx context.Context, t *account.Tenant, sess *session.Session) (*access.Principal, error) {
	if sess.BearerType == access.BearerLicense {
		return p.Licenses.PrincipalForPortal(ctx, t.ID, sess.BearerID)
	}
	u, err := p.Users.Bearer(ctx, t.ID, sess.BearerID)
	if err != nil {
		return nil, session.ErrGone
	}
	if u.BannedAt != nil {
		return nil, identity.ErrUserBanned
	}
	return access.NewPrincipal(t.ID, u.Role, access.BearerUser, u.ID, "", nil), nil
}

// view starts a signed-in page's view.
func (q *request) view(title string) *view {
	return &view{Title: title, Account: q.tenant.Account, CSRF: q.session.CSRF, Signed: true, Flash: q.r.URL.Query().Get("flash")}
}

// back redirects after a change, with a message for the next page.
func (q *request) back(path, flash string) error {
	target := q.base + path
	if flash != "" {
		target += "?flash=" + url.QueryEscape(flash)
	}
	http.Redirect(q.w, q.r, target, http.StatusSeeOther)
	return nil
}

// limited counts one sign-in attempt and reports a refusal.
func (p *Pages) limited(ctx context.Context, allowed int, parts ...string) error {
	res, err := p.Limiter.Hit(ctx, ratelimit.Key(parts...), allowed, passwordWindow)
	if err != nil {
		return err
	}
	if !res.Allowed {
		return apperr.New(apperr.TooManyRequests, "TOO_MANY_REQUESTS", "Too many sign-in attempts: wait a minute and try again.")
	}
	return nil
}

// clientIP is the connection's address (the API's trusted-proxy rules
// apply in front of both).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
