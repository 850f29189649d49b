// Package squirrel serves Squirrel.Mac, Electron's built-in autoUpdater on
// macOS (engine "squirrel"): GET /engines/squirrel/<package>/darwin/<arch>/
// <currentVersion> answers 204 when the client is up to date, else the
// newest .zip as {url, name, notes, pub_date}; RELEASES.json beside it is
// the JSON-file strategy's document. Squirrel.Windows reads
// GET /engines/squirrel/<package>/win32/<arch>/RELEASES and the .nupkg
// packages it names beside it (windows.go).
package squirrel

import (
	"encoding/json"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// Engine is the squirrel engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("squirrel", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/:package/darwin/:arch/RELEASES.json", h.releases)
		g.GET("/:package/darwin/:arch/:version", h.update)
		g.GET("/:package/win32/:arch/:file", h.windows)
	})
}

type handler struct{ x feedhttp.Exchange }

// history is how many releases RELEASES.json lists.
const history = 20

// pick is a Squirrel.Mac update: a .zip for the arch.
func pick(arch string) artifact.Pick {
	return artifact.Pick{Platforms: feed.Platforms("darwin"), Arches: append(feed.Arches(arch), "universal"), Suffixes: []string{".zip"}}
}

// Update is Squirrel.Mac's update document.
type Update struct {
	URL     string `json:"url"`
	Name    string `json:"name"`
	Notes   string `json:"notes"`
	PubDate string `json:"pub_date"`
}

// NewUpdate describes a release's update archive.
func NewUpdate(r *release.Release, url string) Update {
	name := r.Version
	if r.Name != nil {
		name = *r.Name
	}
	return Update{URL: url, Name: name, Notes: feed.Notes(r), PubDate: feed.Published(r).Format(time.RFC3339)}
}

// archive is the .zip a release offers for the arch (nil when none).
func archive(files []artifact.Artifact, arch string) *artifact.Artifact {
	p := pick(arch)
	zips := feed.Among(files, p.Platforms, p.Arches, p.Suffixes...)
	if len(zips) == 0 {
		return nil
	}
	return &zips[len(zips)-1]
}

func (h handler) update(c echo.Context) error {
	arch := c.Param("arch")
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), feed.Request{
		Engine: "squirrel", Package: c.Param("package"), Channel: c.QueryParam("channel"), Current: c.Param("version"),
		Device: h.x.Device(c), Pick: pick(arch),
	})
	if err != nil {
		return err
	}
	if f.Next == nil {
		return h.x.NoUpdate(c)
	}
	a := archive(f.Files[f.Next.ID], arch)
	body, err := json.Marshal(NewUpdate(f.Next, h.x.Link(c, a)))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}

// Releases is the JSON-file strategy's RELEASES.json.
type Releases struct {
	CurrentRelease string  `json:"currentRelease"`
	Releases       []Entry `json:"releases"`
}

// Entry is one release of RELEASES.json.
type Entry struct {
	Version  string `json:"version"`
	UpdateTo Update `json:"updateTo"`
}

// NewReleases lists releases, newest first; current is the one offered.
func NewReleases(current *release.Release, listed []release.Release, link func(*release.Release) string) Releases {
	out := Releases{Releases: []Entry{}}
	if current != nil {
		out.CurrentRelease = current.Version
	}
	for i := range listed {
		if url := link(&listed[i]); url != "" {
			out.Releases = append(out.Releases, Entry{Version: listed[i].Version, UpdateTo: NewUpdate(&listed[i], url)})
		}
	}
	return out
}

func (h handler) releases(c echo.Context) error {
	arch := c.Param("arch")
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), feed.Request{
		Engine: "squirrel", Package: c.Param("package"), Channel: c.QueryParam("channel"),
		Device: h.x.Device(c), Pick: pick(arch), History: history,
	})
	if err != nil {
		return err
	}
	doc := NewReleases(f.Next, f.Releases, func(r *release.Release) string {
		if a := archive(f.Files[r.ID], arch); a != nil {
			return h.x.Link(c, a)
		}
		return ""
	})
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}
