package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/session"
)

// createArtifact records an artifact of the release and answers its
// presigned upload URL: as JSON to the page's upload script, which PUTs the
// file there with a progress bar, or as a page with the URL to PUT to.
func (p *Pages) createArtifact(q *request, releaseID string) error {
	params := artifact.Params{Filename: optional.Of(strings.TrimSpace(q.r.PostFormValue("filename"))),
		Platform: text(q.r, "platform"), Arch: text(q.r, "arch")}
	size, err := number(q.r, "filesize")
	if err != nil {
		return err
	}
	params.Filesize = size
	a, upload, err := p.Artifacts.Create(q.ctx, q.who, q.tenant, releaseID, params)
	wantsJSON := strings.Contains(q.r.Header.Get("Accept"), "application/json")
	if wantsJSON {
		q.w.Header().Set("Content-Type", "application/json")
		if err != nil {
			e := apperr.As(err)
			q.w.WriteHeader(statusOf(e.Kind))
			return json.NewEncoder(q.w).Encode(map[string]string{"error": e.Detail})
		}
		q.w.WriteHeader(http.StatusCreated)
		return json.NewEncoder(q.w).Encode(map[string]string{"id": a.ID, "upload": absolute(q.r, p.PublicURL, upload)})
	}
	if err != nil {
		return p.formPage(q, "releases", "Releases", p.releaseList, err)
	}
	d, err := p.releaseList(q)
	if err != nil {
		return err
	}
	v := q.view("Releases")
	v.Data, v.Form = d, url.Values{}
	v.Flash = "Artifact " + a.Filename + " created: PUT its bytes to this URL within the upload window."
	v.Secret = absolute(q.r, p.PublicURL, upload)
	p.render(q.w, http.StatusCreated, "releases", v)
	return nil
}

// absolute resolves a presigned URL of the local store against relkey's
// own base URL.
func absolute(r *http.Request, public *url.URL, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() {
		return raw
	}
	base := public
	if base == nil {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = &url.URL{Scheme: scheme, Host: r.Host}
	}
	return base.ResolveReference(u).String()
}

func (p *Pages) portalRoutes() {
	m := p.mux
	m.HandleFunc("GET /portal", p.toDefault(session.KindPortal))
	m.HandleFunc("GET /portal/{account}/login", p.portalLoginPage)
	m.HandleFunc("POST /portal/{account}/login", p.portalLogin)
	m.HandleFunc("GET /portal/{account}/open", p.openPortalLink)
	in := func(pattern string, page func(*request) error) {
		m.HandleFunc(pattern, p.signedIn(session.KindPortal, page))
	}
	in("POST /portal/{account}/logout", p.signOut)
	in("GET /portal/{account}/{$}", p.portalHome)
	in("POST /portal/{account}/licenses/{id}/machines", p.portalActivate)
	in("POST /portal/{account}/machines/{id}/deactivate", p.portalDeactivate)
	in("GET /portal/{account}/downloads/{id}", p.portalDownload)
}

// portalLink makes a one-time link into the portal for a license, through
// the rules of POST /portal-sessions, with what a customer signed in by
// key may do and the portal's sign-in page to return to.
func (p *Pages) portalLink(q *request, licenseID string) error {
	home := absolute(q.r, p.PublicURL, "/portal/"+url.PathEscape(q.tenant.Slug)+"/login")
	link, err := p.PortalLinks.Create(q.ctx, q.who, q.tenant, session.PortalParams{
		LicenseID: licenseID, ReturnURL: home,
		Permissions: []string{session.MachineRead, session.MachineDelete, session.ReleaseDownload},
	})
	if err != nil {
		return err
	}
	l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, link.BearerID)
	if err != nil {
		return err
	}
	return p.renderLicense(q, l, "Portal link created: it works once, within 15 minutes.", portalURL(q.r, p.PublicURL, q.tenant.Slug, link.Secret))
}

// portalURL is the address of a one-time portal link. The secret rides in
// the query, which the access log leaves out.
func portalURL(r *http.Request, public *url.URL, accountSlug, secret string) string {
	return absolute(r, public, "/portal/"+url.PathEscape(accountSlug)+"/open?"+url.Values{"token": {secret}}.Encode())
}

// openPortalLink redeems a one-time link and opens a portal session for
// its license or user with the link's grant; a used or expired link
// answers a page that says so.
func (p *Pages) openPortalLink(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	link, err := p.Sessions.Redeem(r.Context(), t.ID, r.URL.Query().Get("token"))
	if apperr.Is(err, apperr.Unauthenticated) {
		p.render(w, http.StatusGone, "error", &view{Title: "Link used or expired", Account: t.Account, Section: session.KindPortal,
			Error: "This link has already been used or has expired: ask for a new one, or sign in with your license key."})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sess, raw, err := p.Sessions.Start(r.Context(), t.ID, session.KindPortal, link.BearerType, link.BearerID, portalSessionTTL, link.Grant)
	if err == nil {
		err = p.enter(w, r, sess, raw)
	}
	if err != nil {
		p.fail(w, r, err)
	}
}

func (p *Pages) portalLoginPage(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, "portal_login", &view{Title: "Your license", Account: t.Account, Section: session.KindPortal})
}

// portalLogin signs a customer in by license key, as license-key
// authentication does in the API, within a per-address attempt limit.
func (p *Pages) portalLogin(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	fail := func(err error) {
		e := apperr.As(err)
		if e.Kind == apperr.Internal {
			p.fail(w, r, err)
			return
		}
		detail := e.Detail
		if e.Kind == apperr.Unauthenticated || e.Kind == apperr.NotFound {
			detail = "That license key is not known."
		}
		p.render(w, statusOf(e.Kind), "portal_login", &view{Title: "Your license", Account: t.Account, Section: session.KindPortal, Error: detail})
	}
	if err := p.limited(r.Context(), licenseKeyAttempts, "portal", t.ID, clientIP(r)); err != nil {
		fail(err)
		return
	}
	who, err := p.Identity.LicenseKey(r.Context(), t, strings.TrimSpace(r.PostFormValue("key")), false)
	if err != nil {
		fail(err)
		return
	}
	if err := p.signIn(w, r, t.ID, session.KindPortal, access.BearerLicense, who.BearerID, portalSessionTTL); err != nil {
		fail(err)
	}
}

// portalLicense is one of the customer's licenses as the portal shows it.
type portalLicense struct {
	license.Shown
	Status   string
	Machines []machine.WithPolicy[machine.Machine]
}

// portalPage is what a customer sees: their licenses, what they may
// download, and what their session lets them do.
type portalPage struct {
	Licenses  []portalLicense
	Downloads []artifact.Artifact
	Grant     *session.Grant
}

// portalHome shows the session's license (or the user's licenses, of the
// session's product when it names one), their machines and the downloads
// they may see, all read as the license or user itself.
func (p *Pages) portalHome(q *request) error {
	grant := q.session.Grant.Effective()
	licenses, err := p.portalLicenses(q, grant)
	if err != nil {
		return err
	}
	data := portalPage{Grant: grant}
	now := time.Now()
	for i := range licenses {
		l := &licenses[i]
		shown, err := p.Licenses.Show(q.ctx, q.who, q.tenant, nil, l)
		if err != nil {
			return err
		}
		pl := portalLicense{Shown: shown[0], Status: l.Status(now)}
		if grant.Allows(session.MachineRead) {
			if pl.Machines, _, err = p.Machines.List(q.ctx, q.who, q.tenant, machine.Filter{LicenseID: l.ID}, page.Request{Limit: 100}); err != nil {
				return err
			}
		}
		data.Licenses = append(data.Licenses, pl)
	}
	if grant.Allows(session.ReleaseDownload) {
		downloads, _, err := p.Artifacts.List(q.ctx, q.who, q.tenant, artifact.Filter{Product: grant.ProductID}, page.Request{Limit: 50})
		if err != nil && !apperr.Is(err, apperr.Forbidden) {
			return err
		}
		data.Downloads = uploaded(downloads)
	}
	v := q.view("Your licenses")
	v.Section = session.KindPortal
	v.Data = data
	p.render(q.w, http.StatusOK, "portal", v)
	return nil
}

// portalLicenses are the licenses the session shows: its license, or its
// user's (of the grant's product when it names one).
func (p *Pages) portalLicenses(q *request, grant *session.Grant) ([]license.License, error) {
	if q.who.BearerType == access.BearerLicense {
		l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, q.who.BearerID)
		if err != nil {
			return nil, err
		}
		return []license.License{*l}, nil
	}
	licenses, _, err := p.Licenses.List(q.ctx, q.who, q.tenant, license.Filter{UserID: q.who.BearerID, ProductID: grant.ProductID}, page.Request{Limit: 100})
	return licenses, err
}

// uploaded keeps the artifacts whose bytes are there to download.
func uploaded(all []artifact.Artifact) []artifact.Artifact {
	var out []artifact.Artifact
	for _, a := range all {
		if a.Status == artifact.Uploaded {
			out = append(out, a)
		}
	}
	return out
}

// portalAllows refuses what the session's grant does not include as a
// page that is not there.
func portalAllows(q *request, permission string) error {
	if !q.session.Grant.Allows(permission) {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "This page is not there.")
	}
	return nil
}

// portalMachine finds a machine the session may act on: within the
// bearer's sight and of the grant's product when it names one.
func (p *Pages) portalMachine(q *request, id string) (*machine.Machine, error) {
	m, _, err := p.Machines.Find(q.ctx, q.who, q.tenant, id)
	if err != nil {
		return nil, err
	}
	if pid := q.session.Grant.Effective().ProductID; pid != "" && m.ProductID != pid {
		return nil, apperr.NotFoundResource("machine", id)
	}
	return m, nil
}

// portalActivate activates a machine for one of the customer's licenses,
// with the fingerprint and the fields the session asks for, through the
// same rules as POST /machines.
func (p *Pages) portalActivate(q *request) error {
	if err := portalAllows(q, session.MachineCreate); err != nil {
		return err
	}
	grant := q.session.Grant.Effective()
	licenses, err := p.portalLicenses(q, grant)
	if err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if !slices.ContainsFunc(licenses, func(l license.License) bool { return l.ID == id }) {
		return apperr.NotFoundResource("license", id)
	}
	params := machine.Params{Fingerprint: optional.Of(strings.TrimSpace(q.r.PostFormValue("fingerprint")))}
	for field, into := range map[string]*optional.Value[*string]{"name": &params.Name, "hostname": &params.Hostname, "platform": &params.Platform} {
		if grant.Asks(field) {
			*into = text(q.r, field)
		}
	}
	if _, _, err := p.Machines.Activate(q.ctx, q.who, q.tenant, id, params, nil); err != nil {
		if e := apperr.As(err); e.Kind != apperr.Internal {
			return q.back("/", "The machine was not activated: "+e.Detail)
		}
		return err
	}
	return q.back("/", "Machine activated.")
}

func (p *Pages) portalDeactivate(q *request) error {
	if err := portalAllows(q, session.MachineDelete); err != nil {
		return err
	}
	m, err := p.portalMachine(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.Machines.Deactivate(q.ctx, q.who, q.tenant, m.ID); err != nil {
		return err
	}
	return q.back("/", "Machine deactivated.")
}

// portalDownload answers the artifact's download as the API does: a 303 to
// its presigned URL, counted and within the license's sight.
func (p *Pages) portalDownload(q *request) error {
	if err := portalAllows(q, session.ReleaseDownload); err != nil {
		return err
	}
	_, location, err := p.Artifacts.Download(q.ctx, q.who, q.tenant, artifact.DownloadRequest{Ref: q.r.PathValue("id"),
		Filter: artifact.Filter{Product: q.session.Grant.Effective().ProductID}, Redirect: true})
	if err != nil {
		return err
	}
	if location == "" {
		return apperr.NotFoundResource("artifact", q.r.PathValue("id"))
	}
	http.Redirect(q.w, q.r, absolute(q.r, p.PublicURL, location), http.StatusSeeOther)
	return nil
}
