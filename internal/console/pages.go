package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

func (p *Pages) consoleRoutes() {
	m := p.mux
	m.HandleFunc("GET /console", p.toDefault(session.KindConsole))
	m.HandleFunc("GET /console/{account}/login", p.loginPage)
	m.HandleFunc("POST /console/{account}/login", p.login)
	in := func(pattern string, page func(*request) error) {
		m.HandleFunc(pattern, p.signedIn(session.KindConsole, page))
	}
	in("POST /console/{account}/logout", p.signOut)
	in("GET /console/{account}/{$}", p.overview)
	in("GET /console/{account}/products", p.listPage("products", "Products", p.productList))
	in("POST /console/{account}/products", p.createProduct)
	in("POST /console/{account}/products/{id}/delete", p.deleteProduct)
	in("GET /console/{account}/entitlements", p.listPage("entitlements", "Entitlements", p.entitlementList))
	in("POST /console/{account}/entitlements", p.createEntitlement)
	in("GET /console/{account}/entitlements/{id}", p.showEntitlement)
	in("POST /console/{account}/entitlements/{id}", p.updateEntitlement)
	in("POST /console/{account}/entitlements/{id}/delete", p.deleteEntitlement)
	in("GET /console/{account}/groups", p.listPage("groups", "Groups", p.groupList))
	in("POST /console/{account}/groups", p.createGroup)
	in("GET /console/{account}/groups/{id}", p.showGroup)
	in("POST /console/{account}/groups/{id}/{action}", p.groupAction)
	in("GET /console/{account}/search", p.searchPage)
	in("GET /console/{account}/policies", p.listPage("policies", "Policies", p.policyList))
	in("POST /console/{account}/policies", p.createPolicy)
	in("GET /console/{account}/licenses", p.listPage("licenses", "Licenses", p.licenseList))
	in("POST /console/{account}/licenses", p.createLicense)
	in("GET /console/{account}/licenses/find", p.findLicense)
	in("GET /console/{account}/licenses/{id}", p.showLicense)
	in("POST /console/{account}/licenses/{id}/{action}", p.licenseAction)
	in("GET /console/{account}/machines", p.machines)
	in("POST /console/{account}/machines/{id}/deactivate", p.deactivateMachine)
	in("GET /console/{account}/users", p.users)
	in("POST /console/{account}/users/{id}/{action}", p.userAction)
	in("GET /console/{account}/releases", p.listPage("releases", "Releases", p.releaseList))
	in("POST /console/{account}/releases", p.createRelease)
	in("GET /console/{account}/releases/{id}", p.showRelease)
	in("POST /console/{account}/releases/{id}/{action}", p.releaseAction)
	in("GET /console/{account}/webhooks", p.listPage("webhooks", "Webhooks", p.webhookList))
	in("POST /console/{account}/webhooks", p.createWebhook)
	in("POST /console/{account}/webhooks/{id}/delete", p.deleteWebhook)
	in("POST /console/{account}/webhooks/deliveries/{id}/retry", p.retryDelivery)
	in("GET /console/{account}/events", p.events)
	in("GET /console/{account}/tokens", p.tokens)
	in("POST /console/{account}/tokens", p.createToken)
	in("POST /console/{account}/tokens/{id}/revoke", p.revokeToken)
	in("GET /console/{account}/settings", p.settings)
}

// toDefault leads /console and /portal to the default account's pages.
func (p *Pages) toDefault(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := p.Accounts.Default(r.Context(), p.DefaultAccount)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/"+kind+"/"+t.Slug+"/", http.StatusSeeOther)
	}
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, "login", &view{Title: "Sign in", Account: t.Account, Form: url.Values{}})
}

// loginStep is what the sign-in form asks for besides email and password.
type loginStep struct {
	// OTP: the user has a second factor enabled; the form asks for a code.
	OTP bool
}

// login checks the email and password as POST /tokens does, within the
// same rate limit, with the code of the user's second factor when it has
// one enabled (the form then asks for it, with the password again), and
// starts a console session. Sign-in forms carry no CSRF token (there is no
// session yet); SameSite=Strict cookies and the CSP's form-action keep
// other sites from using one.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	var otp *string
	if _, asked := r.PostForm["otp"]; asked {
		code := strings.TrimSpace(r.PostFormValue("otp"))
		otp = &code
	}
	fail := func(err error) {
		e := apperr.As(err)
		v := &view{Title: "Sign in", Account: t.Account, Form: url.Values{"email": {email}}, Error: e.Detail}
		if e.Kind == apperr.Internal {
			p.fail(w, r, err)
			return
		}
		if e.Code == "OTP_REQUIRED" || e.Code == "OTP_INVALID" || otp != nil {
			v.Data = loginStep{OTP: true}
		}
		p.render(w, statusOf(e.Kind), "login", v)
	}
	if err := p.limited(r.Context(), passwordAttempts, "password", t.ID, clientIP(r), email); err != nil {
		fail(err)
		return
	}
	u, err := p.Identity.Password(r.Context(), t, email, password, otp)
	if err != nil {
		fail(err)
		return
	}
	if err := p.signIn(w, r, t.ID, session.KindConsole, access.BearerUser, u.ID, consoleSessionTTL); err != nil {
		fail(err)
	}
}

// signIn starts a session of kind for the bearer, hands its cookie to
// the browser and leads to the first page.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, accountID, kind, bearerType, bearerID string, ttl time.Duration) error {
	sess, raw, err := p.Sessions.Start(r.Context(), accountID, kind, bearerType, bearerID, ttl, nil)
	if err != nil {
		return err
	}
	return p.enter(w, r, sess, raw)
}

// enter hands a started session's cookie to the browser and leads to the
// first page.
func (p *Pages) enter(w http.ResponseWriter, r *http.Request, sess *session.Session, raw string) error {
	kind := sess.Kind
	base := "/" + kind + "/" + r.PathValue("account")
	p.setCookie(w, r, kind, base, raw, sess.ExpiresAt)
	http.Redirect(w, r, base+"/", http.StatusSeeOther)
	return nil
}

// signOut revokes the request's session and leads to the sign-in page.
func (p *Pages) signOut(q *request) error {
	if err := p.Sessions.Revoke(q.ctx, q.session); err != nil {
		return err
	}
	p.clearCookie(q.w, q.r, q.session.Kind, q.base)
	http.Redirect(q.w, q.r, q.base+"/login", http.StatusSeeOther)
	return nil
}

// counted is the total of a list the principal may read; a list it may
// not read counts as hidden (-1), not as an error of the page.
func counted(total int64, err error) (int64, error) {
	if apperr.Is(err, apperr.Forbidden) {
		return -1, nil
	}
	return total, err
}

var countOnly = page.Request{Limit: 1, Count: true}

// counts are the account's totals on the overview.
type counts struct{ Products, Policies, Licenses, Machines, Releases int64 }

// overviewPage is the account's totals and, for who may read them, its
// analytics.
type overviewPage struct {
	counts
	Usage *usage
}

// overview shows the account's totals, read through the same listing
// rules, and the analytics API's last 30 days.
func (p *Pages) overview(q *request) error {
	var c counts
	for total, list := range map[*int64]func() (int64, error){
		&c.Products: func() (int64, error) { _, n, err := p.Products.List(q.ctx, q.who, q.tenant, countOnly); return n, err },
		&c.Policies: func() (int64, error) {
			_, n, err := p.Policies.List(q.ctx, q.who, q.tenant, "", countOnly)
			return n, err
		},
		&c.Licenses: func() (int64, error) {
			_, n, err := p.Licenses.List(q.ctx, q.who, q.tenant, license.Filter{}, countOnly)
			return n, err
		},
		&c.Machines: func() (int64, error) {
			_, n, err := p.Machines.List(q.ctx, q.who, q.tenant, machine.Filter{}, countOnly)
			return n, err
		},
		&c.Releases: func() (int64, error) {
			_, n, err := p.Releases.List(q.ctx, q.who, q.tenant, release.Filter{}, countOnly)
			return n, err
		},
	} {
		n, err := list()
		if *total, err = counted(n, err); err != nil {
			return err
		}
	}
	use, err := p.usageOf(q)
	if err != nil {
		return err
	}
	v := q.view("Overview")
	v.Data = overviewPage{c, use}
	p.render(q.w, http.StatusOK, "overview", v)
	return nil
}

// listPage is a page of a list and the form that adds to it.
func (p *Pages) listPage(name, title string, data func(*request) (any, error)) func(*request) error {
	return func(q *request) error {
		d, err := data(q)
		if err != nil {
			return err
		}
		v := q.view(title)
		v.Data, v.Form = d, url.Values{}
		p.render(q.w, http.StatusOK, name, v)
		return nil
	}
}

// formPage renders a list page again with a failed form's errors.
func (p *Pages) formPage(q *request, name, title string, data func(*request) (any, error), failed error) error {
	if apperr.As(failed).Kind == apperr.Internal {
		return failed
	}
	d, err := data(q)
	if err != nil {
		return err
	}
	v := q.view(title)
	v.Data = d
	v.Form = q.r.PostForm
	v.Errors, v.Error = fieldErrors(failed)
	p.render(q.w, statusOf(apperr.As(failed).Kind), name, v)
	return nil
}

func (p *Pages) productList(q *request) (any, error) {
	return listed(q.r, func(req page.Request) ([]product.Product, int64, error) {
		return p.Products.List(q.ctx, q.who, q.tenant, req)
	}, func(r product.Product) string { return r.ID })
}

// text is a form field as an optional string: absent when left empty.
func text(r *http.Request, name string) optional.Value[*string] {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return optional.Value[*string]{}
	}
	return optional.Of(&s)
}

// number is a form field as an optional count: absent when left empty,
// a field error when it is not a whole number.
func number(r *http.Request, name string) (optional.Value[*int64], error) {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return optional.Value[*int64]{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return optional.Value[*int64]{}, apperr.At(apperr.Unprocessable, "PARAMETERS_INVALID", "must be a whole number", apperr.Attr(name))
	}
	return optional.Of(&n), nil
}

func (p *Pages) createProduct(q *request) error {
	params := product.Params{Name: optional.Of(strings.TrimSpace(q.r.PostFormValue("name"))), Code: text(q.r, "code"),
		DistributionStrategy: text(q.r, "distribution_strategy")}
	if _, err := p.Products.Create(q.ctx, q.who, q.tenant, params); err != nil {
		return p.formPage(q, "products", "Products", p.productList, err)
	}
	return q.back("/products", "Product created.")
}

func (p *Pages) deleteProduct(q *request) error {
	if err := p.Products.Delete(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/products", "Product deleted.")
}

// policyPage is the policies list and the products a new one may belong to.
type policyPage struct {
	listing[policy.Policy]
	Products []product.Product
}

func (p *Pages) policyList(q *request) (any, error) {
	rows, err := listed(q.r, func(req page.Request) ([]policy.Policy, int64, error) {
		return p.Policies.List(q.ctx, q.who, q.tenant, q.r.URL.Query().Get("product"), req)
	}, func(r policy.Policy) string { return r.ID })
	if err != nil {
		return nil, err
	}
	products, _, err := p.Products.List(q.ctx, q.who, q.tenant, page.Request{Limit: 100})
	if err != nil {
		return nil, err
	}
	return policyPage{rows, products}, nil
}

func (p *Pages) createPolicy(q *request) error {
	again := func(err error) error {
		return p.formPage(q, "policies", "Policies", p.policyList, err)
	}
	maxMachines, err := number(q.r, "max_machines")
	if err != nil {
		return again(err)
	}
	duration, err := number(q.r, "duration")
	if err != nil {
		return again(err)
	}
	params := policy.Params{Name: optional.Of(strings.TrimSpace(q.r.PostFormValue("name"))), MaxMachines: maxMachines,
		Duration: duration, Floating: optional.Of(q.r.PostFormValue("floating") == "on")}
	if strategy := q.r.PostFormValue("authentication_strategy"); strategy != "" {
		params.AuthenticationStrategy = optional.Of(strategy)
	}
	product := q.r.PostFormValue("product")
	if product == "" {
		return again(apperr.At(apperr.Unprocessable, "PRODUCT_BLANK", "must exist", apperr.Rel("product")))
	}
	if _, err := p.Policies.Create(q.ctx, q.who, q.tenant, product, params); err != nil {
		return again(err)
	}
	return q.back("/policies", "Policy created.")
}

// licensePage is the licenses list with its filters and the policies a
// new license may take.
type licensePage struct {
	listing[license.Shown]
	Policies                []policy.Policy
	Products                []product.Product
	Product, Policy, Status string
	Statuses                []string
}

// licenseStatuses are the statuses the licenses page filters by.
var licenseStatuses = []string{license.StatusActive, license.StatusInactive, license.StatusExpiring,
	license.StatusExpired, license.StatusSuspended, license.StatusBanned}

func (p *Pages) licenseList(q *request) (any, error) {
	query := q.r.URL.Query()
	f := license.Filter{ProductID: query.Get("product"), PolicyID: query.Get("policy")}
	if status := query.Get("status"); slices.Contains(licenseStatuses, status) {
		f.Status = status
	}
	rows, err := listed(q.r, func(req page.Request) ([]license.License, int64, error) {
		return p.Licenses.List(q.ctx, q.who, q.tenant, f, req)
	}, func(r license.License) string { return r.ID })
	if err != nil {
		return nil, err
	}
	ptrs := make([]*license.License, len(rows.Rows))
	for i := range rows.Rows {
		ptrs[i] = &rows.Rows[i]
	}
	shown, err := p.Licenses.Show(q.ctx, q.who, q.tenant, nil, ptrs...)
	if err != nil {
		return nil, err
	}
	policies, _, err := p.Policies.List(q.ctx, q.who, q.tenant, "", page.Request{Limit: 100})
	if err != nil {
		return nil, err
	}
	products, _, err := p.Products.List(q.ctx, q.who, q.tenant, page.Request{Limit: 100})
	if err != nil {
		return nil, err
	}
	return licensePage{withRows(rows, shown), policies, products, f.ProductID, f.PolicyID, f.Status, licenseStatuses}, nil
}

func (p *Pages) createLicense(q *request) error {
	again := func(err error) error {
		return p.formPage(q, "licenses", "Licenses", p.licenseList, err)
	}
	pol := q.r.PostFormValue("policy")
	if pol == "" {
		return again(apperr.At(apperr.Unprocessable, "POLICY_BLANK", "must exist", apperr.Rel("policy")))
	}
	params := license.Params{Name: text(q.r, "name")}
	if key := strings.TrimSpace(q.r.PostFormValue("key")); key != "" {
		params.Key = optional.Of(key)
	}
	l, err := p.Licenses.Create(q.ctx, q.who, q.tenant, license.Relationships{Policy: pol}, params)
	if err != nil {
		return again(err)
	}
	return p.renderLicense(q, l, "License created: copy its key now.", l.Key)
}

// licenseDetail is a license with its machines.
type licenseDetail struct {
	license.Shown
	Status   string
	Machines []machine.WithPolicy[machine.Machine]
}

func (p *Pages) showLicense(q *request) error {
	l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	return p.renderLicense(q, l, q.r.URL.Query().Get("flash"), "")
}

// findLicense opens the license whose id or key is ?ref (the API's lookup
// by id or key).
func (p *Pages) findLicense(q *request) error {
	l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, strings.TrimSpace(q.r.URL.Query().Get("ref")))
	if err != nil {
		return err
	}
	http.Redirect(q.w, q.r, q.base+"/licenses/"+url.PathEscape(l.ID), http.StatusSeeOther)
	return nil
}

func (p *Pages) renderLicense(q *request, l *license.License, flash, secret string) error {
	shown, err := p.Licenses.Show(q.ctx, q.who, q.tenant, nil, l)
	if err != nil {
		return err
	}
	machines, _, err := p.Machines.List(q.ctx, q.who, q.tenant, machine.Filter{LicenseID: l.ID}, page.Request{Limit: 100})
	if err != nil && !apperr.Is(err, apperr.Forbidden) {
		return err
	}
	v := q.view("License")
	v.Flash, v.Secret = flash, secret
	v.Data = licenseDetail{Shown: shown[0], Status: l.Status(time.Now()), Machines: machines}
	p.render(q.w, http.StatusOK, "license", v)
	return nil
}

// licenseAction is suspend, reinstate, renew or revoke, through the same
// rules as the API's actions.
func (p *Pages) licenseAction(q *request) error {
	id := q.r.PathValue("id")
	var err error
	switch q.r.PathValue("action") {
	case "suspend":
		_, err = p.Licenses.SetSuspended(q.ctx, q.who, q.tenant, id, true)
	case "reinstate":
		_, err = p.Licenses.SetSuspended(q.ctx, q.who, q.tenant, id, false)
	case "renew":
		_, err = p.Licenses.Renew(q.ctx, q.who, q.tenant, id)
	case "portal-link":
		return p.portalLink(q, id)
	case "revoke":
		if err = p.Licenses.Revoke(q.ctx, q.who, q.tenant, id, "license.revoke"); err == nil {
			return q.back("/licenses", "License revoked.")
		}
	default:
		return apperr.NotFoundResource("action", q.r.PathValue("action"))
	}
	if err != nil {
		return err
	}
	return q.back("/licenses/"+url.PathEscape(id), "License "+q.r.PathValue("action")+"d.")
}

func (p *Pages) machines(q *request) error {
	f := machine.Filter{LicenseID: q.r.URL.Query().Get("license")}
	rows, err := listed(q.r, func(req page.Request) ([]machine.WithPolicy[machine.Machine], int64, error) {
		return p.Machines.List(q.ctx, q.who, q.tenant, f, req)
	}, func(r machine.WithPolicy[machine.Machine]) string { return r.Item.ID })
	if err != nil {
		return err
	}
	v := q.view("Machines")
	v.Data = rows
	p.render(q.w, http.StatusOK, "machines", v)
	return nil
}

func (p *Pages) deactivateMachine(q *request) error {
	m, err := p.Machines.Visible(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.Machines.Deactivate(q.ctx, q.who, q.tenant, m.ID); err != nil {
		return err
	}
	return q.back("/licenses/"+url.PathEscape(m.LicenseID), "Machine deactivated.")
}

func (p *Pages) users(q *request) error {
	rows, err := listed(q.r, func(req page.Request) ([]user.User, int64, error) {
		return p.Users.List(q.ctx, q.who, q.tenant, user.Filter{}, req)
	}, func(r user.User) string { return r.ID })
	if err != nil {
		return err
	}
	v := q.view("Users")
	v.Data = rows
	p.render(q.w, http.StatusOK, "users", v)
	return nil
}

// userAction bans or unbans a user; a banned user's sessions stop working
// at their next request.
func (p *Pages) userAction(q *request) error {
	action := q.r.PathValue("action")
	if action != "ban" && action != "unban" {
		return apperr.NotFoundResource("action", action)
	}
	if _, err := p.Users.SetBanned(q.ctx, q.who, q.tenant, q.r.PathValue("id"), action == "ban"); err != nil {
		return err
	}
	return q.back("/users", "User "+action+"ned.")
}

// releasePage is the releases list, the products a release may belong
// to, and the filters.
type releasePage struct {
	listing[release.Release]
	Products         []product.Product
	Product, Channel string
}

func (p *Pages) releaseList(q *request) (any, error) {
	f := release.Filter{ProductID: q.r.URL.Query().Get("product"), Channel: q.r.URL.Query().Get("channel")}
	rows, err := listed(q.r, func(req page.Request) ([]release.Release, int64, error) {
		return p.Releases.List(q.ctx, q.who, q.tenant, f, req)
	}, func(r release.Release) string { return r.ID })
	if err != nil {
		return nil, err
	}
	products, _, err := p.Products.List(q.ctx, q.who, q.tenant, page.Request{Limit: 100})
	if err != nil {
		return nil, err
	}
	return releasePage{rows, products, f.ProductID, f.Channel}, nil
}

func (p *Pages) createRelease(q *request) error {
	params := release.Params{Name: text(q.r, "name"), Version: optional.Of(strings.TrimSpace(q.r.PostFormValue("version"))),
		Channel: optional.Of(q.r.PostFormValue("channel"))}
	if _, err := p.Releases.Create(q.ctx, q.who, q.tenant, release.Relations{Product: q.r.PostFormValue("product")}, params); err != nil {
		return p.formPage(q, "releases", "Releases", p.releaseList, err)
	}
	return q.back("/releases", "Release created.")
}

// releaseAction publishes or yanks a release, or adds an artifact to it:
// the artifact's presigned upload URL comes back for the page's script,
// which sends the file there straight from the browser.
func (p *Pages) releaseAction(q *request) error {
	id := q.r.PathValue("id")
	switch q.r.PathValue("action") {
	case "publish":
		if _, err := p.Releases.Publish(q.ctx, q.who, q.tenant, id); err != nil {
			return err
		}
		return q.back("/releases", "Release published.")
	case "yank":
		if _, err := p.Releases.Yank(q.ctx, q.who, q.tenant, id); err != nil {
			return err
		}
		return q.back("/releases", "Release yanked.")
	case "artifacts":
		return p.createArtifact(q, id)
	case "constraints":
		return p.changeConstraint(q, id, true)
	case "remove-constraint":
		return p.changeConstraint(q, id, false)
	}
	return apperr.NotFoundResource("action", q.r.PathValue("action"))
}

func (p *Pages) tokenList(q *request) (listing[token.Token], error) {
	return listed(q.r, func(req page.Request) ([]token.Token, int64, error) {
		return p.Tokens.List(q.ctx, q.who, q.tenant, req)
	}, func(r token.Token) string { return r.ID })
}

func (p *Pages) tokens(q *request) error {
	rows, err := p.tokenList(q)
	if err != nil {
		return err
	}
	v := q.view("Tokens")
	v.Data = rows
	p.render(q.w, http.StatusOK, "tokens", v)
	return nil
}

// createToken issues a token for the signed-in user, shown once.
func (p *Pages) createToken(q *request) error {
	opts := token.Options{}
	if name := strings.TrimSpace(q.r.PostFormValue("name")); name != "" {
		opts.Name = &name
	}
	_, raw, err := p.Issuing.Issue(q.ctx, q.who, q.tenant, identity.For{}, opts)
	if err != nil {
		return err
	}
	rows, err := p.tokenList(q)
	if err != nil {
		return err
	}
	v := q.view("Tokens")
	v.Flash, v.Secret = "Token created: copy it now, it is not shown again.", raw
	v.Data = rows
	p.render(q.w, http.StatusCreated, "tokens", v)
	return nil
}

func (p *Pages) revokeToken(q *request) error {
	if err := p.Tokens.Revoke(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/tokens", "Token revoked.")
}

func (p *Pages) settings(q *request) error {
	a, err := p.Accounts.Show(q.ctx, q.who, q.tenant)
	if err != nil {
		return err
	}
	v := q.view("Settings")
	v.Data = a
	p.render(q.w, http.StatusOK, "settings", v)
	return nil
}
