package squirrel

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
)

// Squirrel.Windows asks GET …/win32/<arch>/RELEASES?id=&localVersion=&arch=
// and downloads the packages it names relative to that URL. relkey serves
// the RELEASES file the build uploaded with the newest visible release for
// the platform and arch, each package's name rewritten to the package
// route beside it (…/win32/<arch>/<file>.nupkg, which answers 303 through
// the API's download route), so every download goes through relkey.

// windowsPick is a Squirrel.Windows release: one with a RELEASES file.
func windowsPick(arch string) artifact.Pick {
	return artifact.Pick{Platforms: feed.Platforms("win32"), Arches: feed.Arches(arch), Suffixes: []string{"releases"}}
}

func (h handler) windows(c echo.Context) error {
	name := c.Param("file")
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	switch {
	case feed.Suffix(name, ".nupkg"):
		a, err := h.x.Feeds.File(ctx, who, t, "squirrel", c.Param("package"), name)
		if err != nil {
			return err
		}
		return h.x.Redirect(c, a)
	case name != "RELEASES":
		return apperr.NotFoundResource("artifact", name)
	}
	arch := c.Param("arch")
	pick := windowsPick(arch)
	f, err := h.x.Feeds.Open(ctx, who, t, feed.Request{
		Engine: "squirrel", Package: c.Param("package"), Channel: c.QueryParam("channel"), Device: h.x.Device(c), Pick: pick,
	})
	if err != nil {
		return err
	}
	var index *artifact.Artifact
	if f.Next != nil {
		for _, a := range feed.Among(f.Files[f.Next.ID], pick.Platforms, pick.Arches) {
			if a.Filename == "RELEASES" {
				index = &a
			}
		}
	}
	if index == nil {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "no release of the package has a RELEASES file for win32 "+arch)
	}
	body, err := h.x.Feeds.Content(ctx, index)
	if err != nil {
		return err
	}
	base := h.x.URL(c, strings.TrimSuffix(c.Request().URL.EscapedPath(), "/RELEASES")+"/")
	body, err = Rewrite(body, func(filename string) string {
		return feedhttp.WithCredentials(c, base+url.PathEscape(filename))
	})
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "text/plain; charset=utf-8", body)
}

// releasesLine is a line of a RELEASES file: SHA1, filename (or URL), size.
var releasesLine = regexp.MustCompile(`^([0-9a-fA-F]{40})\s+(\S+)\s+(\d+)$`)

// Rewrite replaces each package name of a RELEASES file with its link;
// names that are already URLs and blank lines stay as they are. A line of
// another shape is refused (Squirrel would refuse the whole file).
func Rewrite(body []byte, link func(filename string) string) ([]byte, error) {
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	var out bytes.Buffer
	for i, raw := range strings.Split(string(body), "\n") {
		line := strings.TrimRight(raw, "\r \t")
		m := releasesLine.FindStringSubmatch(line)
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case m == nil:
			return nil, apperr.New(apperr.Unprocessable, "RELEASES_INVALID", fmt.Sprintf("line %d of the RELEASES artifact is not 'SHA1 filename size'", i+1))
		case strings.Contains(m[2], "://"):
			out.WriteString(m[1] + " " + m[2] + " " + m[3] + "\n")
		default:
			out.WriteString(m[1] + " " + link(m[2]) + " " + m[3] + "\n")
		}
	}
	return out.Bytes(), nil
}
