// Package composer serves a Composer repository (engine "composer", as
// Anystack serves PHP products): GET /engines/composer/packages.json names
// the packages the bearer may see and the metadata-url (Composer 2's
// lazy v2 metadata); /engines/composer/p2/<vendor>/<package>.json lists
// their versions with zip dist URLs at /engines/composer/files/<vendor>/
// <package>/<artifact>/<file> (303 to a presigned download). Composer
// authenticates with auth.json's http-basic (license:<key>).
package composer

import (
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/releasepackage"
)

// zips are the dists Composer installs.
var zips = artifact.Pick{Suffixes: []string{".zip"}}

// Engine is the Composer engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("composer", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/packages.json", h.root)
		g.GET("/p2/:vendor/:file", h.metadata)
		g.GET("/files/:vendor/:package/:artifact/:filename", h.download)
	})
}

type handler struct{ x feedhttp.Exchange }

// engineRoot is the request's path up to /engines/composer (either layout).
func engineRoot(c echo.Context, last string) string {
	p := c.Request().URL.Path
	return p[:strings.LastIndex(p, last)]
}

func (h handler) root(c echo.Context) error {
	pkgs, err := h.x.Feeds.Packages(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "composer")
	if err != nil {
		return feedhttp.Challenge(c, err)
	}
	base := h.x.URL(c, engineRoot(c, "/packages.json"))
	return answer(c, h.x, &feed.Feed{}, Root(pkgs, base))
}

func (h handler) metadata(c echo.Context) error {
	file := c.Param("file")
	name, ok := strings.CutSuffix(file, ".json")
	if !ok {
		return apperr.NotFoundResource("package", file)
	}
	key := c.Param("vendor") + "/" + name
	if dev, ok := strings.CutSuffix(key, "~dev"); ok {
		// Branches are not releases: no dev versions.
		return answer(c, h.x, &feed.Feed{}, Metadata{Packages: map[string][]Version{dev: {}}})
	}
	f, err := h.x.Feeds.Index(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "composer", key, zips)
	if err != nil {
		return feedhttp.Challenge(c, err)
	}
	files := h.x.URL(c, engineRoot(c, "/p2/")+"/files/"+url.PathEscape(c.Param("vendor"))+"/"+url.PathEscape(name))
	return answer(c, h.x, f, Build(f, func(a *artifact.Artifact) string {
		return feedhttp.WithCredentials(c, files+"/"+a.ID+"/"+url.PathEscape(a.Filename))
	}))
}

func (h handler) download(c echo.Context) error {
	return h.x.Fetch(c, "composer", c.Param("vendor")+"/"+c.Param("package"), c.Param("artifact"), c.Param("filename"))
}

func answer(c echo.Context, x feedhttp.Exchange, f *feed.Feed, doc any) error {
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return x.Answer(c, f, "application/json", append(body, '\n'))
}

// RootDocument is packages.json.
type RootDocument struct {
	Packages          map[string]any `json:"packages"`
	MetadataURL       string         `json:"metadata-url"`
	AvailablePackages []string       `json:"available-packages"`
}

// Root is packages.json: no inline packages, the v2 metadata URL, and
// the names Composer may ask for.
func Root(pkgs []releasepackage.Package, base string) RootDocument {
	doc := RootDocument{Packages: map[string]any{}, MetadataURL: base + "/p2/%package%.json", AvailablePackages: []string{}}
	for _, p := range pkgs {
		doc.AvailablePackages = append(doc.AvailablePackages, p.Key)
	}
	return doc
}

// Metadata is a p2 file: a package's versions, newest first.
type Metadata struct {
	Packages map[string][]Version `json:"packages"`
}

// Version is one version of a p2 file.
type Version struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Type        string            `json:"type"`
	Time        string            `json:"time"`
	Require     map[string]string `json:"require,omitempty"`
	Dist        Dist              `json:"dist"`
}

// Dist is a version's zip and its SHA-1 (Composer checks only SHA-1;
// empty for any other checksum).
type Dist struct {
	Type   string `json:"type"`
	URL    string `json:"url"`
	Shasum string `json:"shasum"`
}

// Build is the p2 file of the releases an index lists: each version with
// its first zip.
func Build(f *feed.Feed, link func(*artifact.Artifact) string) Metadata {
	versions := []Version{}
	for i := range f.Releases {
		r := &f.Releases[i]
		files := feed.Among(f.Files[r.ID], nil, nil, zips.Suffixes...)
		if len(files) == 0 {
			continue
		}
		a := &files[0]
		d := Dist{Type: "zip", URL: link(a)}
		if a.Checksum != nil {
			if raw := feed.Hash(*a.Checksum, 20); raw != nil {
				d.Shasum = hex.EncodeToString(raw)
			}
		}
		versions = append(versions, Version{Name: f.Package.Key, Version: r.Version, Description: feed.Notes(r), Type: "library",
			Time: feed.Published(r).Format("2006-01-02T15:04:05-07:00"), Require: require(a), Dist: d})
	}
	return Metadata{Packages: map[string][]Version{f.Package.Key: versions}}
}

// require is what a zip's artifact metadata lists, each
// "<vendor/name>:<constraint>" (a name alone takes any version).
func require(a *artifact.Artifact) map[string]string {
	var out map[string]string
	for _, spec := range feed.Dependencies(a) {
		if out == nil {
			out = map[string]string{}
		}
		name, constraint := feed.Requirement(spec, ":")
		out[name] = constraint
	}
	return out
}
