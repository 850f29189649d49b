// Package faynosync answers the requests of apps built against faynoSync
// (engine "faynosync"), so that they switch servers by changing their base
// URL: GET /engines/faynosync/checkVersion and /engines/faynosync/apps/latest
// with faynoSync's parameters (app_name is the package key) and JSON.
package faynosync

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// Engine is the faynosync engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("faynosync", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/checkVersion", h.checkVersion)
		g.GET("/apps/latest", h.latest)
	})
}

type handler struct{ x feedhttp.Exchange }

// Kind is the type faynoSync names an artifact by: its extension
// ("deb", "dmg", "tar.gz"…).
func Kind(a *artifact.Artifact) string {
	if a.Filetype != nil && *a.Filetype != "" {
		return *a.Filetype
	}
	lower := strings.ToLower(a.Filename)
	for _, double := range []string{".tar.gz", ".tar.xz", ".tar.bz2"} {
		if strings.HasSuffix(lower, double) {
			return double[1:]
		}
	}
	return strings.TrimPrefix(path.Ext(lower), ".")
}

func (h handler) request(c echo.Context, current string) (feed.Request, error) {
	q := c.QueryParams()
	if q.Get("app_name") == "" {
		return feed.Request{}, apperr.AtParameter(apperr.Invalid, "PARAMETER_MISSING", "app_name is missing", "app_name")
	}
	pick := artifact.Pick{Excluded: []string{".sig", ".blockmap"}}
	if p := q.Get("platform"); p != "" {
		pick.Platforms = feed.Platforms(p)
	}
	if a := q.Get("arch"); a != "" {
		pick.Arches = feed.Arches(a)
	}
	if kind := strings.TrimPrefix(q.Get("package"), "."); kind != "" {
		pick.Suffixes = []string{"." + kind}
	}
	return feed.Request{Engine: "faynosync", Package: q.Get("app_name"), Channel: q.Get("channel"), Current: current,
		Device: h.x.Device(c), Pick: pick}, nil
}

// Check is checkVersion's answer; URLs go in update_url_<kind> members.
type Check struct {
	UpdateAvailable      bool
	Critical             bool
	IntermediateRequired bool
	Changelog            string
	URLs                 map[string]string
}

// MarshalJSON writes faynoSync's flat document.
func (ch Check) MarshalJSON() ([]byte, error) {
	out := map[string]any{"update_available": ch.UpdateAvailable}
	if ch.UpdateAvailable {
		out["critical"] = ch.Critical
		out["is_intermediate_required"] = ch.IntermediateRequired
		out["changelog"] = ch.Changelog
	}
	for kind, url := range ch.URLs {
		out["update_url_"+kind] = url
	}
	return json.Marshal(out)
}

// NewCheck describes the update a release is (nil: none) with its files.
func NewCheck(next *release.Release, files []artifact.Artifact, pick artifact.Pick, link func(*artifact.Artifact) string) Check {
	ch := Check{URLs: map[string]string{}}
	if next == nil {
		return ch
	}
	ch.UpdateAvailable, ch.Critical, ch.Changelog = true, next.Critical(), feed.Notes(next)
	ch.IntermediateRequired, _ = next.Metadata["required_intermediate"].(bool)
	for _, a := range feed.Among(files, pick.Platforms, pick.Arches, pick.Suffixes...) {
		if !feed.Suffix(a.Filename, pick.Excluded...) {
			ch.URLs[Kind(&a)] = link(&a)
		}
	}
	return ch
}

func (h handler) checkVersion(c echo.Context) error {
	if c.QueryParam("version") == "" {
		return apperr.AtParameter(apperr.Invalid, "PARAMETER_MISSING", "version is missing", "version")
	}
	req, err := h.request(c, c.QueryParam("version"))
	if err != nil {
		return err
	}
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), req)
	if err != nil {
		return err
	}
	var files []artifact.Artifact
	if f.Next != nil {
		files = f.Files[f.Next.ID]
	}
	body, err := json.Marshal(NewCheck(f.Next, files, req.Pick, func(a *artifact.Artifact) string { return h.x.Link(c, a) }))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}

// Download is one file of apps/latest.
type Download struct {
	URL string `json:"url"`
}

// Latest is apps/latest's nested channel → platform → arch → kind map.
type Latest map[string]map[string]map[string]map[string]Download

// NewLatest files a release's artifacts under its channel.
func NewLatest(r *release.Release, files []artifact.Artifact, pick artifact.Pick, link func(*artifact.Artifact) string) Latest {
	out := Latest{r.Channel: {}}
	for _, a := range feed.Among(files, pick.Platforms, pick.Arches, pick.Suffixes...) {
		if feed.Suffix(a.Filename, pick.Excluded...) || a.Platform == nil || a.Arch == nil {
			continue
		}
		byArch := out[r.Channel][*a.Platform]
		if byArch == nil {
			byArch = map[string]map[string]Download{}
			out[r.Channel][*a.Platform] = byArch
		}
		if byArch[*a.Arch] == nil {
			byArch[*a.Arch] = map[string]Download{}
		}
		byArch[*a.Arch][Kind(&a)] = Download{URL: link(&a)}
	}
	return out
}

func (h handler) latest(c echo.Context) error {
	req, err := h.request(c, "")
	if err != nil {
		return err
	}
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), req)
	if err != nil {
		return err
	}
	if f.Next == nil {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "no release of "+req.Package+" matches")
	}
	body, err := json.Marshal(NewLatest(f.Next, f.Files[f.Next.ID], req.Pick, func(a *artifact.Artifact) string { return h.x.Link(c, a) }))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}
