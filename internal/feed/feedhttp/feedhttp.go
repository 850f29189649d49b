// Package feedhttp is the HTTP exchange every feed format shares: reading
// the client off the request, relkey's stable download links, validators
// and conditional requests, and the no-update answer.
//
// Links inside a feed point at the API's download route
// (/v1/accounts/<account>/artifacts/<id>/<filename>), which answers 303 to
// a fresh presigned URL and counts the download; a cached feed therefore
// never holds a URL that expires. When the feed was fetched with ?auth=
// (or ?token=), its links carry the same parameter, since an updater that
// only takes a URL has no other way to authenticate the download. A feed
// fetched with an Authorization header gets bare links: minting a
// credential into a document that proxies and logs may keep would leak
// it, and the updaters that send a header (electron-updater, Tauri,
// Squirrel.Mac through Electron) send it again for the download.
package feedhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/httpapi"
)

// Exchange reads feed requests and writes feed answers.
type Exchange struct {
	httpapi.Exchange
	Feeds *feed.Service
}

// Credentials are the query parameters that authenticated the request,
// for links to carry (empty when a header did).
func Credentials(c echo.Context) url.Values {
	out := url.Values{}
	if c.Request().Header.Get("Authorization") != "" {
		return out
	}
	for _, name := range []string{"auth", "token"} {
		if v := c.QueryParam(name); v != "" {
			out.Set(name, v)
			return out
		}
	}
	return out
}

// WithCredentials appends the request's credentials to a URL.
func WithCredentials(c echo.Context, raw string) string {
	creds := Credentials(c)
	if len(creds) == 0 {
		return raw
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + creds.Encode()
}

// Link is relkey's stable download URL of an artifact, with the request's
// credentials.
func (x Exchange) Link(c echo.Context, a *artifact.Artifact) string {
	return WithCredentials(c, x.URL(c, DownloadPath(x.Tenant(c), a)))
}

// DownloadPath is the API's download route of an artifact.
func DownloadPath(t *account.Tenant, a *artifact.Artifact) string {
	return "/v1/accounts/" + t.ID + "/artifacts/" + a.ID + "/" + url.PathEscape(a.Filename)
}

// Redirect answers 303 to the artifact's stable download URL.
func (x Exchange) Redirect(c echo.Context, a *artifact.Artifact) error {
	return c.Redirect(http.StatusSeeOther, x.Link(c, a))
}

// Device identifies the client for staged rollouts: the X-Device-ID
// header (faynoSync's), else the fingerprint parameter, else the
// authenticating license; "" when none.
func (x Exchange) Device(c echo.Context) string {
	if v := strings.TrimSpace(c.Request().Header.Get("X-Device-ID")); v != "" {
		return v
	}
	if v := strings.TrimSpace(c.QueryParam("fingerprint")); v != "" {
		return v
	}
	if who := x.Principal(c); who != nil && who.BearerType == "licenses" {
		return who.BearerID
	}
	return ""
}

// cacheControl keeps what a bearer authenticated out of shared caches;
// every feed is revalidated (it is cheap, and answers 304).
func (x Exchange) cacheControl(c echo.Context) {
	v := "public, no-cache"
	if x.Principal(c) != nil {
		v = "private, no-cache"
	}
	c.Response().Header().Set("Cache-Control", v)
}

// NoUpdate is the answer of a feed with nothing to offer: 204.
func (x Exchange) NoUpdate(c echo.Context) error {
	x.cacheControl(c)
	return c.NoContent(http.StatusNoContent)
}

// Answer serves a feed document with its validators (a strong ETag of the
// body, Last-Modified from the releases), 304 to a conditional request it
// satisfies, and records the upgrade the feed offers when it is sent.
func (x Exchange) Answer(c echo.Context, f *feed.Feed, contentType string, body []byte) error {
	sum := sha256.Sum256(append([]byte(contentType+"\n"), body...))
	return x.AnswerTagged(c, f, contentType, body, `"`+hex.EncodeToString(sum[:16])+`"`)
}

// AnswerTagged is Answer with the document's own ETag, for a format whose
// clients check the tag against the body (the compact index's MD5).
func (x Exchange) AnswerTagged(c echo.Context, f *feed.Feed, contentType string, body []byte, etag string) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	if !f.Modified.IsZero() {
		h.Set("Last-Modified", f.Modified.UTC().Format(http.TimeFormat))
	}
	x.cacheControl(c)
	if notModified(c.Request(), etag, f.Modified) {
		return c.NoContent(http.StatusNotModified)
	}
	x.Feeds.Upgraded(c.Request().Context(), x.Tenant(c), f)
	return c.Blob(http.StatusOK, contentType, body)
}

// notModified applies If-None-Match, else If-Modified-Since.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == etag || tag == "*" {
				return true
			}
		}
		return false
	}
	since, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !modified.IsZero() && !modified.Truncate(time.Second).After(since)
}

// Engine is a feed format's routes under /engines/<name>: routes registers
// them with the exchange the feed's handlers read.
func Engine(name string, feeds *feed.Service, routes func(g *echo.Group, x Exchange)) httpapi.Engine {
	return httpapi.Engine{Name: name, Routes: func(g *echo.Group, x httpapi.Exchange) {
		routes(g, Exchange{Exchange: x, Feeds: feeds})
	}}
}

// Fetch answers 303 to a presigned download of an artifact (by id or
// filename) of a package an engine serves: presigned URLs carry their own
// authorization, so the package managers that do not send credentials on
// a redirect (npm, gem, composer) still follow it.
func (x Exchange) Fetch(c echo.Context, engine, pkg, artifactRef, filename string) error {
	location, err := x.Feeds.Download(c.Request().Context(), x.Principal(c), x.Tenant(c), engine, pkg, artifactRef, filename)
	if err != nil {
		return Challenge(c, err)
	}
	return c.Redirect(http.StatusSeeOther, x.URL(c, location))
}

// Challenge adds a Basic challenge to a 401, so that the package managers
// that authenticate only when asked (pip, gem, composer) send their
// credentials.
func Challenge(c echo.Context, err error) error {
	if apperr.Is(err, apperr.Unauthenticated) {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="relkey"`)
	}
	return err
}
