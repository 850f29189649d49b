// Package sparkle serves Sparkle's appcast (engine "sparkle"):
// GET /engines/sparkle/<package>/appcast.xml?channel= is an RSS 2.0 feed
// with one item per visible release that has a macOS archive, newest
// first (at most 50).
package sparkle

import (
	"encoding/xml"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// Engine is the sparkle engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("sparkle", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/:package/appcast.xml", h.appcast)
	})
}

type handler struct{ x feedhttp.Exchange }

// items is how many releases an appcast lists.
const items = 50

// archives are what Sparkle installs, in order of preference.
var archives = []string{".zip", ".dmg", ".tar.xz", ".tar.bz2", ".tar.gz", ".pkg"}

func (h handler) appcast(c echo.Context) error {
	f, err := h.x.Feeds.Open(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), feed.Request{
		Engine: "sparkle", Package: c.Param("package"), Channel: c.QueryParam("channel"), Device: h.x.Device(c),
		Pick: artifact.Pick{Platforms: feed.Platforms("darwin"), Suffixes: archives}, History: items,
	})
	if err != nil {
		return err
	}
	body, err := Render(f.Package, f.Releases, f.Files, func(a *artifact.Artifact) string { return h.x.Link(c, a) })
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/rss+xml; charset=utf-8", body)
}

type rss struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Sparkle string   `xml:"xmlns:sparkle,attr"`
	Channel channel  `xml:"channel"`
}

type channel struct {
	Title string `xml:"title"`
	Items []item `xml:"item"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type item struct {
	Title                string    `xml:"title"`
	PubDate              string    `xml:"pubDate"`
	Version              string    `xml:"sparkle:version"`
	ShortVersionString   string    `xml:"sparkle:shortVersionString"`
	MinimumSystemVersion string    `xml:"sparkle:minimumSystemVersion,omitempty"`
	CriticalUpdate       *struct{} `xml:"sparkle:criticalUpdate"`
	Channel              string    `xml:"sparkle:channel,omitempty"`
	Description          *cdata    `xml:"description"`
	Enclosure            enclosure `xml:"enclosure"`
}

type enclosure struct {
	URL         string `xml:"url,attr"`
	Length      int64  `xml:"length,attr"`
	Type        string `xml:"type,attr"`
	EdSignature string `xml:"sparkle:edSignature,attr,omitempty"`
}

// Render is the appcast of releases (newest first), each with its
// preferred macOS archive as the enclosure.
func Render(pkg *releasepackage.Package, releases []release.Release, files map[string][]artifact.Artifact, link func(*artifact.Artifact) string) ([]byte, error) {
	doc := rss{Version: "2.0", Sparkle: "http://www.andymatuschak.org/xml-namespaces/sparkle", Channel: channel{Title: pkg.Name}}
	for i := range releases {
		r := &releases[i]
		a := preferred(files[r.ID])
		if a == nil {
			continue
		}
		doc.Channel.Items = append(doc.Channel.Items, newItem(r, a, link(a)))
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func preferred(files []artifact.Artifact) *artifact.Artifact {
	for _, suffix := range archives {
		if found := feed.Among(files, feed.Platforms("darwin"), nil, suffix); len(found) > 0 {
			return &found[len(found)-1]
		}
	}
	return nil
}

func newItem(r *release.Release, a *artifact.Artifact, url string) item {
	it := item{
		Title: "Version " + r.Version, PubDate: feed.Published(r).Format(time.RFC1123Z),
		Version: r.Version, ShortVersionString: r.Version,
		Enclosure: enclosure{URL: url, Type: "application/octet-stream"},
	}
	if r.Name != nil {
		it.Title = *r.Name
	}
	switch build := r.Metadata["build"].(type) {
	case string:
		it.Version = build
	case float64:
		it.Version = strconv.FormatFloat(build, 'f', -1, 64)
	}
	if v, ok := r.Metadata["minimum_system_version"].(string); ok {
		it.MinimumSystemVersion = v
	}
	if r.Critical() {
		it.CriticalUpdate = &struct{}{}
	}
	if r.Channel != "stable" {
		it.Channel = r.Channel
	}
	if notes := feed.Notes(r); notes != "" {
		it.Description = &cdata{Text: notes}
	}
	if a.Filesize != nil {
		it.Enclosure.Length = *a.Filesize
	}
	if a.Signature != nil {
		it.Enclosure.EdSignature = *a.Signature
	}
	return it
}
