// Package velopack serves Velopack's HTTP source (engine "velopack"):
// UpdateManager with a SimpleWebSource of /engines/velopack/<package> asks
// GET <base>/releases.<channel>.json (with os, arch, rid, id and
// localVersion, which relkey does not need) and downloads each asset's
// FileName relative to the base URL, keeping its query; so the feed names
// the bare .nupkg file and GET <base>/<file>.nupkg answers 303 through the
// API's download route. The channel is Velopack's: its default per-OS
// channels (win, osx, linux) are relkey's stable channel for that
// platform; stable, rc, beta, alpha and dev are relkey's, for the os the
// client sends.
package velopack

import (
	"encoding/hex"
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// Engine is the velopack engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("velopack", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/:package/:file", h.file)
	})
}

type handler struct{ x feedhttp.Exchange }

// history is how many releases a feed lists.
const history = 50

var feedName = regexp.MustCompile(`^releases\.([A-Za-z0-9_-]+)\.json$`)

// osChannels are Velopack's default channels, one per OS, and the platform
// each names.
var osChannels = map[string]string{"win": "win32", "osx": "darwin", "linux": "linux"}

// Channel reads a feed's Velopack channel (and the os query parameter)
// into relkey's channel and the platforms whose packages it lists (nil
// for any).
func Channel(channel, os string) (string, []string) {
	if platform, ok := osChannels[strings.ToLower(channel)]; ok {
		return "stable", feed.Platforms(platform)
	}
	if platform, ok := osChannels[strings.ToLower(os)]; ok {
		return channel, feed.Platforms(platform)
	}
	return channel, nil
}

func (h handler) file(c echo.Context) error {
	name := c.Param("file")
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	m := feedName.FindStringSubmatch(name)
	if m == nil {
		if !feed.Suffix(name, ".nupkg") {
			return apperr.NotFoundResource("artifact", name)
		}
		a, err := h.x.Feeds.File(ctx, who, t, "velopack", c.Param("package"), name)
		if err != nil {
			return err
		}
		return h.x.Redirect(c, a)
	}
	channel, platforms := Channel(m[1], c.QueryParam("os"))
	f, err := h.x.Feeds.Open(ctx, who, t, feed.Request{
		Engine: "velopack", Package: c.Param("package"), Channel: channel, Device: h.x.Device(c), History: history,
		Pick: artifact.Pick{Platforms: platforms, Suffixes: []string{".nupkg"}},
	})
	if err != nil {
		return err
	}
	body, err := json.Marshal(NewFeed(f.Package.Key, f.Releases, f.Files, platforms))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json; charset=utf-8", body)
}

// Feed is Velopack's releases.<channel>.json.
type Feed struct {
	Assets []Asset `json:"Assets"`
}

// Asset is one package of a release.
type Asset struct {
	PackageID     string `json:"PackageId"`
	Version       string `json:"Version"`
	Type          string `json:"Type"`
	FileName      string `json:"FileName"`
	SHA1          string `json:"SHA1"`
	SHA256        string `json:"SHA256"`
	Size          int64  `json:"Size"`
	NotesMarkdown string `json:"NotesMarkdown"`
	NotesHTML     string `json:"NotesHtml"`
}

// NewFeed lists the .nupkg packages of releases (newest first) for the
// platforms (any when nil).
func NewFeed(packageID string, releases []release.Release, files map[string][]artifact.Artifact, platforms []string) Feed {
	out := Feed{Assets: []Asset{}}
	for i := range releases {
		r := &releases[i]
		notes := feed.Notes(r)
		for _, a := range feed.Among(files[r.ID], platforms, nil, ".nupkg") {
			asset := Asset{PackageID: packageID, Version: r.Version, Type: "Full", FileName: a.Filename,
				SHA1: digest(&a, "sha1", 20), SHA256: digest(&a, "sha256", 32), NotesMarkdown: notes}
			if notes != "" {
				asset.NotesHTML = "<p>" + html.EscapeString(notes) + "</p>"
			}
			if feed.Suffix(a.Filename, "-delta.nupkg") {
				asset.Type = "Delta"
			}
			if a.Filesize != nil {
				asset.Size = *a.Filesize
			}
			out.Assets = append(out.Assets, asset)
		}
	}
	return out
}

// digest is an artifact's hash of size bytes as upper-case hex: its
// metadata key (sha1, sha256), else its checksum when that is a hash of
// that size, else "".
func digest(a *artifact.Artifact, key string, size int) string {
	sums := []string{}
	if v, ok := a.Metadata[key].(string); ok {
		sums = append(sums, v)
	}
	if a.Checksum != nil {
		sums = append(sums, *a.Checksum)
	}
	for _, sum := range sums {
		if raw := feed.Hash(sum, size); raw != nil {
			return strings.ToUpper(hex.EncodeToString(raw))
		}
	}
	return ""
}
