// Package tauri serves the Tauri updater (engine "tauri", as Keygen's):
// the dynamic update check GET /engines/tauri/<package>?platform=&arch=
// &version=, 204 without an update, and the static v2 manifest
// GET /engines/tauri/<package>/latest.json.
package tauri

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// Engine is the Tauri engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("tauri", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/:package", h.upgrade)
		g.GET("/:package/latest.json", h.manifest)
	})
}

type handler struct{ x feedhttp.Exchange }

// never are the files an update is never served from: signatures.
var never = []string{".sig"}

// Update is the dynamic server's answer.
type Update struct {
	URL       string `json:"url"`
	Signature string `json:"signature"`
	Version   string `json:"version"`
	PubDate   string `json:"pub_date"`
	Notes     string `json:"notes"`
}

func (h handler) upgrade(c echo.Context) error {
	q := c.QueryParams()
	for _, name := range []string{"platform", "arch", "version"} {
		if strings.TrimSpace(q.Get(name)) == "" {
			return apperr.AtParameter(apperr.Invalid, "PARAMETER_MISSING", name+" is missing", name)
		}
	}
	platforms, arches := feed.Platforms(q.Get("platform")), feed.Arches(q.Get("arch"))
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), feed.Request{
		Engine: "tauri", Package: c.Param("package"), Channel: q.Get("channel"), Constraint: q.Get("constraint"),
		Current: q.Get("version"), Known: true, Device: h.x.Device(c),
		Pick: artifact.Pick{Platforms: platforms, Arches: arches, Excluded: never},
	})
	if err != nil {
		return err
	}
	if f.Next == nil {
		return h.x.NoUpdate(c)
	}
	a := Preferred(feed.Among(f.Files[f.Next.ID], platforms, arches))
	if a == nil {
		return h.x.NoUpdate(c)
	}
	body, err := json.Marshal(update(f.Next, a, h.x.Link(c, a)))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}

func update(r *release.Release, a *artifact.Artifact, url string) Update {
	u := Update{URL: url, Version: r.Version, PubDate: PubDate(r), Notes: feed.Notes(r)}
	if a.Signature != nil {
		u.Signature = *a.Signature
	}
	return u
}

// PubDate is a release's date as Tauri reads it: RFC 3339, milliseconds.
func PubDate(r *release.Release) string {
	return feed.Published(r).Format("2006-01-02T15:04:05.000Z07:00")
}

// rank orders update bundles as Keygen does: Tauri v1's compressed
// bundles (.zip, .gz) first, NSIS over MSI, .exe over .msi, newest first.
func rank(a *artifact.Artifact) int {
	n := 0
	if feed.Suffix(a.Filename, ".zip", ".gz") {
		n += 4
	}
	if feed.Suffix(a.Filename, ".nsis.zip") {
		n += 2
	}
	if feed.Suffix(a.Filename, ".exe") {
		n++
	}
	return n
}

// Preferred is the update bundle Tauri is sent among a release's files
// (signatures never); nil when none.
func Preferred(files []artifact.Artifact) *artifact.Artifact {
	files = slices.DeleteFunc(slices.Clone(files), func(a artifact.Artifact) bool { return feed.Suffix(a.Filename, never...) })
	if len(files) == 0 {
		return nil
	}
	best := slices.MaxFunc(files, func(a, b artifact.Artifact) int {
		return cmp.Or(cmp.Compare(rank(&a), rank(&b)), a.CreatedAt.Compare(b.CreatedAt))
	})
	return &best
}

// Manifest is Tauri v2's static update file.
type Manifest struct {
	Version   string              `json:"version"`
	Notes     string              `json:"notes"`
	PubDate   string              `json:"pub_date"`
	Platforms map[string]Platform `json:"platforms"`
}

// Platform is one target of a static manifest.
type Platform struct {
	Signature string `json:"signature"`
	URL       string `json:"url"`
}

// target is the "<os>-<arch>" key Tauri v2 looks a platform up by.
func target(a *artifact.Artifact) string {
	if a.Platform == nil || a.Arch == nil {
		return ""
	}
	return feed.Platforms(*a.Platform)[0] + "-" + feed.Arches(*a.Arch)[0]
}

func (h handler) manifest(c echo.Context) error {
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), feed.Request{
		Engine: "tauri", Package: c.Param("package"), Channel: c.QueryParam("channel"), Constraint: c.QueryParam("constraint"),
		Device: h.x.Device(c), Pick: artifact.Pick{Excluded: never},
	})
	if err != nil {
		return err
	}
	if f.Next == nil {
		return h.x.NoUpdate(c)
	}
	body, err := json.Marshal(NewManifest(f.Next, f.Files[f.Next.ID], func(a *artifact.Artifact) string { return h.x.Link(c, a) }))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}

// NewManifest lists, per "<os>-<arch>", the preferred signed bundle of a
// release (Tauri refuses a platform without a signature).
func NewManifest(r *release.Release, files []artifact.Artifact, link func(*artifact.Artifact) string) Manifest {
	byTarget := map[string][]artifact.Artifact{}
	for _, a := range files {
		if key := target(&a); key != "" && a.Signature != nil && *a.Signature != "" {
			byTarget[key] = append(byTarget[key], a)
		}
	}
	m := Manifest{Version: r.Version, Notes: feed.Notes(r), PubDate: PubDate(r), Platforms: map[string]Platform{}}
	for key, candidates := range byTarget {
		if a := Preferred(candidates); a != nil {
			m.Platforms[key] = Platform{Signature: *a.Signature, URL: link(a)}
		}
	}
	return m
}
