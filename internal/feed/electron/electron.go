// Package electron serves electron-updater's generic provider (engine
// "electron"): the base URL /engines/electron/<package> answers
// latest.yml (Windows), latest-mac.yml, latest-linux.yml and
// latest-linux-<arch>.yml for stable, <channel>.yml, <channel>-mac.yml …
// for the other channels (with inclusion), and any other file name with a
// 303 to that file among the package's visible releases (installers,
// .blockmap files).
package electron

import (
	"encoding/base64"
	"regexp"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/release"
)

// Engine is the electron engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("electron", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/:package/:file", h.file)
	})
}

type handler struct{ x feedhttp.Exchange }

// Target is the platform (and arch, on Linux) an update info file
// describes, and the files that install there, the primary one first.
type Target struct {
	Platforms, Arches []string
	Installers        []string
}

var updateInfo = regexp.MustCompile(`^(latest|stable|rc|beta|alpha|dev)(-mac|-linux(?:-([a-z0-9_]+))?)?\.yml$`)

// Parse reads an update info file name into its channel and target; ok
// is false for any other file.
func Parse(name string) (channel string, t Target, ok bool) {
	m := updateInfo.FindStringSubmatch(name)
	if m == nil {
		return "", t, false
	}
	channel = m[1]
	if channel == "latest" {
		channel = "stable"
	}
	switch {
	case m[2] == "-mac":
		t = Target{Platforms: feed.Platforms("darwin"), Installers: []string{".zip", ".dmg"}}
	case m[2] == "":
		t = Target{Platforms: feed.Platforms("win32"), Installers: []string{".exe"}}
	default:
		arch := "x64"
		if m[3] != "" {
			arch = m[3]
		}
		t = Target{Platforms: feed.Platforms("linux"), Arches: feed.Arches(arch), Installers: []string{".appimage", ".deb", ".rpm", ".pacman"}}
	}
	return channel, t, true
}

func (h handler) file(c echo.Context) error {
	name := c.Param("file")
	channel, target, ok := Parse(name)
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	if !ok {
		a, err := h.x.Feeds.File(ctx, who, t, "electron", c.Param("package"), name)
		if err != nil {
			return err
		}
		return h.x.Redirect(c, a)
	}
	f, err := h.x.Feeds.Open(ctx, who, t, feed.Request{
		Engine: "electron", Package: c.Param("package"), Channel: channel, Device: h.x.Device(c), ClientStaging: true,
		Pick: artifact.Pick{Platforms: target.Platforms, Arches: target.Arches, Suffixes: target.Installers},
	})
	if err != nil {
		return err
	}
	if f.Next == nil {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "no release of the package has files for "+name)
	}
	body, err := yaml.Marshal(NewInfo(f.Next, f.Files[f.Next.ID], target, f.Staging))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "text/yaml; charset=utf-8", body)
}

// Info is electron-builder's update info (latest.yml).
type Info struct {
	Version           string `yaml:"version"`
	Files             []File `yaml:"files"`
	Path              string `yaml:"path"`
	SHA512            string `yaml:"sha512,omitempty"`
	ReleaseDate       string `yaml:"releaseDate"`
	ReleaseName       string `yaml:"releaseName,omitempty"`
	ReleaseNotes      string `yaml:"releaseNotes,omitempty"`
	StagingPercentage *int   `yaml:"stagingPercentage,omitempty"`
}

// File is one installable file; its URL is relative to the base URL.
type File struct {
	URL          string `yaml:"url"`
	SHA512       string `yaml:"sha512,omitempty"`
	Size         int64  `yaml:"size,omitempty"`
	BlockMapSize *int64 `yaml:"blockMapSize,omitempty"`
}

// NewInfo describes a release's files for a target.
func NewInfo(r *release.Release, files []artifact.Artifact, t Target, staging *int) Info {
	blockmaps := map[string]*int64{}
	for _, a := range files {
		if feed.Suffix(a.Filename, ".blockmap") {
			blockmaps[a.Filename] = a.Filesize
		}
	}
	info := Info{Version: r.Version, ReleaseDate: feed.Published(r).Format("2006-01-02T15:04:05.000Z07:00"), ReleaseNotes: feed.Notes(r), StagingPercentage: staging}
	if r.Name != nil {
		info.ReleaseName = *r.Name
	}
	// Primary installer kinds first: the updaters install the first file.
	for _, suffix := range t.Installers {
		for _, a := range feed.Among(files, t.Platforms, t.Arches, suffix) {
			file := File{URL: a.Filename, SHA512: SHA512(&a), BlockMapSize: blockmaps[a.Filename+".blockmap"]}
			if a.Filesize != nil {
				file.Size = *a.Filesize
			}
			info.Files = append(info.Files, file)
		}
	}
	if len(info.Files) > 0 {
		info.Path, info.SHA512 = info.Files[0].URL, info.Files[0].SHA512
	}
	return info
}

// SHA512 is an artifact's checksum as electron-updater checks it (padded
// base64 SHA-512), else "" (not a SHA-512).
func SHA512(a *artifact.Artifact) string {
	if a.Checksum == nil {
		return ""
	}
	if raw := feed.Hash(*a.Checksum, 64); raw != nil {
		return base64.StdEncoding.EncodeToString(raw)
	}
	return ""
}
