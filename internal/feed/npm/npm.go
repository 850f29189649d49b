// Package npm serves npm's registry API (engine "npm", as Keygen's): GET
// /engines/npm/<package> (scoped names too, with the slash escaped or
// not) is the packument of the versions the bearer may see, their
// tarballs at /engines/npm/<package>/-/<filename> (303 to a presigned
// download); a GET of /-/npm/* (ping, search) answers 410 Gone, as
// Keygen answers them (npm's audit, a POST, finds no route: npm warns).
package npm

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// tarballs are the files npm installs.
var tarballs = artifact.Pick{Suffixes: []string{".tgz", ".tar.gz"}}

// Engine is the npm engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("npm", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/-/npm/*", gone)
		g.GET("/:package", h.packument)
		g.GET("/:scope/:package", h.packument)
		g.GET("/:package/-/:filename", h.tarball)
		g.GET("/:scope/:package/-/:filename", h.tarball)
	})
}

type handler struct{ x feedhttp.Exchange }

func gone(c echo.Context) error { return c.NoContent(http.StatusGone) }

// name is the package a request names: "@scope/name" or "name".
func name(c echo.Context) string {
	n := c.Param("package")
	if s := c.Param("scope"); s != "" {
		n = s + "/" + n
	}
	if unescaped, err := url.PathUnescape(n); err == nil {
		n = unescaped
	}
	return n
}

func (h handler) packument(c echo.Context) error {
	f, err := h.x.Feeds.Index(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "npm", name(c), tarballs)
	if err != nil {
		return err
	}
	p := c.Request().URL.Path
	root := p[:strings.LastIndex(p, "/engines/npm/")+len("/engines/npm/")]
	base := h.x.URL(c, root+strings.Replace(url.PathEscape(f.Package.Key), "%40", "@", 1)) + "/-/"
	body, err := json.MarshalIndent(Build(f, func(a *artifact.Artifact) string {
		return feedhttp.WithCredentials(c, base+url.PathEscape(a.Filename))
	}), "", "  ")
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", append(body, '\n'))
}

func (h handler) tarball(c echo.Context) error {
	return h.x.Fetch(c, "npm", name(c), c.Param("filename"), "")
}

// Packument is a package's metadata document.
type Packument struct {
	Name     string             `json:"name"`
	DistTags map[string]string  `json:"dist-tags"`
	Versions map[string]Version `json:"versions"`
	Time     map[string]string  `json:"time"`
}

// Version is one version of a packument.
type Version struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Description  string            `json:"description,omitempty"`
	Dependencies map[string]string `json:"dependencies,omitempty"`
	Dist         Dist              `json:"dist"`
}

// Dist is where a version's tarball is and how to check it.
type Dist struct {
	Tarball   string `json:"tarball"`
	Integrity string `json:"integrity,omitempty"`
	Shasum    string `json:"shasum,omitempty"`
}

// Build is the packument of the releases an index lists: each version
// with its first tarball; latest is the newest stable version, and each
// other channel tags its newest version.
func Build(f *feed.Feed, link func(*artifact.Artifact) string) Packument {
	p := Packument{Name: f.Package.Key, DistTags: map[string]string{}, Versions: map[string]Version{},
		Time: map[string]string{"created": stamp(f.Package.CreatedAt), "modified": stamp(f.Modified)}}
	for i := range f.Releases {
		r := &f.Releases[i]
		files := feed.Among(f.Files[r.ID], nil, nil, tarballs.Suffixes...)
		if len(files) == 0 {
			continue
		}
		tag := r.Channel
		if tag == "stable" {
			tag = "latest"
		}
		if _, ok := p.DistTags[tag]; !ok {
			p.DistTags[tag] = r.Version
		}
		p.Versions[r.Version] = Version{Name: f.Package.Key, Version: r.Version, Description: feed.Notes(r),
			Dependencies: Dependencies(&files[0]), Dist: dist(&files[0], link)}
		p.Time[r.Version] = stamp(feed.Published(r))
	}
	if _, ok := p.DistTags["latest"]; !ok && len(f.Releases) > 0 {
		p.DistTags["latest"] = newest(f.Releases, p.Versions)
	}
	return p
}

// Dependencies are what a tarball's artifact metadata lists, each
// "<name>@<range>" (a name alone takes any version); nil when none.
func Dependencies(a *artifact.Artifact) map[string]string {
	var out map[string]string
	for _, spec := range feed.Dependencies(a) {
		if out == nil {
			out = map[string]string{}
		}
		name, rng := feed.Requirement(spec, "@")
		out[name] = rng
	}
	return out
}

// newest is the newest listed version when no stable one is (npm needs a
// latest tag to install without a version).
func newest(releases []release.Release, versions map[string]Version) string {
	for _, r := range releases {
		if _, ok := versions[r.Version]; ok {
			return r.Version
		}
	}
	return ""
}

// dist checks a tarball by its checksum: as subresource integrity when
// it is a SHA-512 or SHA-256, as shasum when a SHA-1.
func dist(a *artifact.Artifact, link func(*artifact.Artifact) string) Dist {
	d := Dist{Tarball: link(a)}
	if a.Checksum == nil {
		return d
	}
	if raw := feed.Hash(*a.Checksum, 64); raw != nil {
		d.Integrity = "sha512-" + base64.StdEncoding.EncodeToString(raw)
	} else if raw := feed.Hash(*a.Checksum, 32); raw != nil {
		d.Integrity = "sha256-" + base64.StdEncoding.EncodeToString(raw)
	} else if raw := feed.Hash(*a.Checksum, 20); raw != nil {
		d.Shasum = hex.EncodeToString(raw)
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
