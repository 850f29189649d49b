package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
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
	m.HandleFunc("GET /portal", p.toDefault(KindPortal))
	m.HandleFunc("GET /portal/{account}/login", p.portalLoginPage)
	m.HandleFunc("POST /portal/{account}/login", p.portalLogin)
	m.HandleFunc("GET /portal/{account}/open", p.openPortalLink)
	in := func(pattern string, page func(*request) error) {
		m.HandleFunc(pattern, p.signedIn(KindPortal, page))
	}
	in("POST /portal/{account}/logout", p.signOut)
	in("GET /portal/{account}/{$}", p.portalHome)
	in("POST /portal/{account}/machines/{id}/deactivate", p.portalDeactivate)
	in("GET /portal/{account}/downloads/{id}", p.portalDownload)
}

// portalLink makes a one-time link into the portal for a license: a
// credential of the license, so it takes what a license token takes.
func (p *Pages) portalLink(q *request, licenseID string) error {
	l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, licenseID)
	if err != nil {
		return err
	}
	if err := q.who.Require("license.tokens.generate"); err != nil {
		return err
	}
	_, raw, err := p.Sessions.Start(q.ctx, q.tenant.ID, KindPortalLink, access.BearerLicense, l.ID, portalLinkTTL)
	if err != nil {
		return err
	}
	// The secret rides in the query, which the access log leaves out.
	link := absolute(q.r, p.PublicURL, "/portal/"+url.PathEscape(q.tenant.Slug)+"/open?"+url.Values{"token": {raw}}.Encode())
	return p.renderLicense(q, l, "Portal link created: it works once, within 15 minutes.", link)
}

// openPortalLink redeems a one-time link and opens a portal session for
// its license; a used or expired link answers a page that says so.
func (p *Pages) openPortalLink(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	link, err := p.Sessions.Redeem(r.Context(), t.ID, r.URL.Query().Get("token"))
	if apperr.Is(err, apperr.Unauthenticated) {
		p.render(w, http.StatusGone, "error", &view{Title: "Link used or expired", Account: t.Account, Section: KindPortal,
			Error: "This link has already been used or has expired: ask for a new one, or sign in with your license key."})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.signIn(w, r, t.ID, KindPortal, link.BearerType, link.BearerID, portalSessionTTL); err != nil {
		p.fail(w, r, err)
	}
}

func (p *Pages) portalLoginPage(w http.ResponseWriter, r *http.Request) {
	t, ok := p.tenant(w, r)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, "portal_login", &view{Title: "Your license", Account: t.Account, Section: KindPortal})
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
		p.render(w, statusOf(e.Kind), "portal_login", &view{Title: "Your license", Account: t.Account, Section: KindPortal, Error: detail})
	}
	if err := p.limited(r.Context(), licenseKeyAttempts, "portal", t.ID, clientIP(r)); err != nil {
		fail(err)
		return
	}
	who, err := p.Identity.LicenseKey(r.Context(), t, strings.TrimSpace(r.PostFormValue("key")))
	if err != nil {
		fail(err)
		return
	}
	if err := p.signIn(w, r, t.ID, KindPortal, access.BearerLicense, who.BearerID, portalSessionTTL); err != nil {
		fail(err)
	}
}

// portalPage is what a customer sees of their license.
type portalPage struct {
	license.Shown
	Status    string
	Machines  []machine.WithPolicy[machine.Machine]
	Downloads []artifact.Artifact
}

// portalHome shows the license, its machines and the downloads its
// license may see, all read as the license itself.
func (p *Pages) portalHome(q *request) error {
	l, err := p.Licenses.Find(q.ctx, q.who, q.tenant, q.who.BearerID)
	if err != nil {
		return err
	}
	shown, err := p.Licenses.Show(q.ctx, q.who, q.tenant, nil, l)
	if err != nil {
		return err
	}
	machines, _, err := p.Machines.List(q.ctx, q.who, q.tenant, machine.Filter{LicenseID: l.ID}, page.Request{Limit: 100})
	if err != nil {
		return err
	}
	downloads, _, err := p.Artifacts.List(q.ctx, q.who, q.tenant, artifact.Filter{}, page.Request{Limit: 50})
	if err != nil && !apperr.Is(err, apperr.Forbidden) {
		return err
	}
	v := q.view("Your license")
	v.Section = KindPortal
	v.Data = portalPage{Shown: shown[0], Status: l.Status(time.Now()), Machines: machines, Downloads: uploaded(downloads)}
	p.render(q.w, http.StatusOK, "portal", v)
	return nil
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

func (p *Pages) portalDeactivate(q *request) error {
	if err := p.Machines.Deactivate(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/", "Machine deactivated.")
}

// portalDownload answers the artifact's download as the API does: a 303 to
// its presigned URL, counted and within the license's sight.
func (p *Pages) portalDownload(q *request) error {
	_, location, err := p.Artifacts.Download(q.ctx, q.who, q.tenant, artifact.DownloadRequest{Ref: q.r.PathValue("id"), Redirect: true})
	if err != nil {
		return err
	}
	if location == "" {
		return apperr.NotFoundResource("artifact", q.r.PathValue("id"))
	}
	http.Redirect(q.w, q.r, absolute(q.r, p.PublicURL, location), http.StatusSeeOther)
	return nil
}
