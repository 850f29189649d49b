// Package rubygems serves RubyGems sources (engine "rubygems", as
// Keygen's): the full index gem install reads (specs.4.8.gz,
// latest_specs.4.8.gz, prerelease_specs.4.8.gz, quick/Marshal.4.8/
// <gem>.gemspec.rz), Bundler's compact index (HEAD /, names, versions,
// info/<gem>), and gems/<gem>.gem (303 to a presigned download). A gem's
// name is its package's key; its version and platform are read off the
// artifact's file name (<name>-<version>[-<platform>].gem, as gem build
// names it), so prereleases are those whose version has a letter.
package rubygems

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/releasepackage"
)

// gemFiles are the files gem installs.
var gemFiles = artifact.Pick{Suffixes: []string{".gem"}}

// Engine is the RubyGems engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("rubygems", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		ping := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
		g.HEAD("", ping)
		g.HEAD("/", ping)
		g.GET("/names", h.names)
		g.GET("/versions", h.versions)
		g.GET("/info/:gem", h.info)
		g.GET("/specs.4.8.gz", h.specs(func(g Gem) bool { return !g.Prerelease() }, false))
		g.GET("/latest_specs.4.8.gz", h.specs(func(g Gem) bool { return !g.Prerelease() }, true))
		g.GET("/prerelease_specs.4.8.gz", h.specs(Gem.Prerelease, false))
		g.GET("/quick/Marshal.4.8/:spec", h.quick)
		g.GET("/gems/:file", h.gem)
	})
}

type handler struct{ x feedhttp.Exchange }

// Gem is one installable gem: a version of a package.
type Gem struct {
	Name, Version, Platform string
	Artifact                artifact.Artifact
	Published               time.Time
}

// Prerelease reports whether RubyGems reads the version as a prerelease.
func (g Gem) Prerelease() bool {
	return strings.ContainsFunc(g.Version, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
}

// FullName is <name>-<version>[-<platform>], as RubyGems names files.
func (g Gem) FullName() string {
	if g.Platform == "ruby" {
		return g.Name + "-" + g.Version
	}
	return g.Name + "-" + g.Version + "-" + g.Platform
}

// Gems reads the gems of a package's index, oldest version first.
func Gems(f *feed.Feed) []Gem {
	var out []Gem
	for i := len(f.Releases) - 1; i >= 0; i-- {
		r := &f.Releases[i]
		for _, a := range feed.Among(f.Files[r.ID], nil, nil, gemFiles.Suffixes...) {
			rest, ok := strings.CutPrefix(strings.TrimSuffix(a.Filename, ".gem"), f.Package.Key+"-")
			if !ok || rest == "" {
				continue
			}
			v, platform, _ := strings.Cut(rest, "-")
			out = append(out, Gem{Name: f.Package.Key, Version: v, Platform: cmp.Or(platform, "ruby"), Artifact: a, Published: feed.Published(r)})
		}
	}
	return out
}

// packages are the rubygems packages the bearer may see; an anonymous
// request that sees none is asked to authenticate.
func (h handler) packages(c echo.Context) ([]releasepackage.Package, error) {
	pkgs, err := h.x.Feeds.Packages(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "rubygems")
	if err == nil && len(pkgs) == 0 && h.x.Principal(c) == nil {
		err = access.ErrTokenMissing
	}
	return pkgs, feedhttp.Challenge(c, err)
}

// gemsOf reads one package's gems.
func (h handler) gemsOf(c echo.Context, key string) ([]Gem, *feed.Feed, error) {
	f, err := h.x.Feeds.Index(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "rubygems", key, gemFiles)
	if err != nil {
		return nil, nil, feedhttp.Challenge(c, err)
	}
	return Gems(f), f, nil
}

// all reads the gems of every package the bearer may see.
func (h handler) all(c echo.Context) ([]Gem, *feed.Feed, error) {
	pkgs, err := h.packages(c)
	if err != nil {
		return nil, nil, err
	}
	var out []Gem
	modified := &feed.Feed{}
	for _, p := range pkgs {
		gems, f, err := h.gemsOf(c, p.Key)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, gems...)
		if f.Modified.After(modified.Modified) {
			modified.Modified = f.Modified
		}
	}
	return out, modified, nil
}

// owner finds the package a file named <name>-<version>... belongs to:
// the longest key that prefixes it.
func (h handler) owner(c echo.Context, file string) (string, error) {
	pkgs, err := h.packages(c)
	if err != nil {
		return "", err
	}
	best := ""
	for _, p := range pkgs {
		if strings.HasPrefix(file, p.Key+"-") && len(p.Key) > len(best) {
			best = p.Key
		}
	}
	if best == "" {
		return "", apperr.NotFoundResource("gem", file)
	}
	return best, nil
}

func (h handler) names(c echo.Context) error {
	pkgs, err := h.packages(c)
	if err != nil {
		return err
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Key)
	}
	return h.compactIndex(c, &feed.Feed{}, Names(names))
}

func (h handler) versions(c echo.Context) error {
	gems, f, err := h.all(c)
	if err != nil {
		return err
	}
	return h.compactIndex(c, f, Versions(gems, f.Modified))
}

func (h handler) info(c echo.Context) error {
	gems, f, err := h.gemsOf(c, c.Param("gem"))
	if err != nil {
		return err
	}
	return h.compactIndex(c, f, Info(gems))
}

// compactIndex answers a compact index file as rubygems.org does: its
// ETag the quoted MD5 of the body and Repr-Digest its SHA-256, which
// Bundler checks the copy it keeps against (a file failing the check is
// dropped for the slower dependency API or the full index).
func (h handler) compactIndex(c echo.Context, f *feed.Feed, body []byte) error {
	md := md5.Sum(body)
	sha := sha256.Sum256(body)
	c.Response().Header().Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sha[:])+":")
	return h.x.AnswerTagged(c, f, "text/plain; charset=utf-8", body, `"`+hex.EncodeToString(md[:])+`"`)
}

func (h handler) specs(keep func(Gem) bool, latest bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		gems, f, err := h.all(c)
		if err != nil {
			return err
		}
		gems = slices.DeleteFunc(gems, func(g Gem) bool { return !keep(g) })
		if latest {
			gems = Latest(gems)
		}
		body, err := Specs(gems)
		if err != nil {
			return err
		}
		return h.x.Answer(c, f, "application/octet-stream", body)
	}
}

func (h handler) quick(c echo.Context) error {
	full, ok := strings.CutSuffix(c.Param("spec"), ".gemspec.rz")
	if !ok {
		return apperr.NotFoundResource("gemspec", c.Param("spec"))
	}
	key, err := h.owner(c, full)
	if err != nil {
		return err
	}
	gems, f, err := h.gemsOf(c, key)
	if err != nil {
		return err
	}
	for _, g := range gems {
		if g.FullName() == full {
			body, err := Quick(g)
			if err != nil {
				return err
			}
			return h.x.Answer(c, f, "application/octet-stream", body)
		}
	}
	return apperr.NotFoundResource("gemspec", c.Param("spec"))
}

func (h handler) gem(c echo.Context) error {
	file := c.Param("file")
	if !strings.HasSuffix(file, ".gem") {
		return apperr.NotFoundResource("gem", file)
	}
	key, err := h.owner(c, file)
	if err != nil {
		return err
	}
	return h.x.Fetch(c, "rubygems", key, file, "")
}

// Names is the compact index's list of gem names.
func Names(names []string) []byte {
	slices.Sort(names)
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	return b.Bytes()
}

// Info is the compact index's file of a gem: a line per version, oldest
// first, with the dependencies its artifact metadata lists (each
// "<name>:<requirement>", Bundler's notation) and the .gem's SHA-256 when
// its checksum is one.
func Info(gems []Gem) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, g := range gems {
		name := g.Version
		if g.Platform != "ruby" {
			name += "-" + g.Platform
		}
		var deps []string
		for _, spec := range feed.Dependencies(&g.Artifact) {
			dep, req := feed.Requirement(spec, ":")
			if req == "*" {
				req = ">= 0"
			}
			deps = append(deps, dep+":"+req)
		}
		b.WriteString(name + " " + strings.Join(deps, ",") + "|")
		if g.Artifact.Checksum != nil {
			if raw := feed.Hash(*g.Artifact.Checksum, 32); raw != nil {
				b.WriteString("checksum:" + hex.EncodeToString(raw))
			}
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// Versions is the compact index's versions file: each gem's versions and
// the MD5 of its info file, by name.
func Versions(gems []Gem, modified time.Time) []byte {
	byName := map[string][]Gem{}
	var names []string
	for _, g := range gems {
		if byName[g.Name] == nil {
			names = append(names, g.Name)
		}
		byName[g.Name] = append(byName[g.Name], g)
	}
	slices.Sort(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "created_at: %s\n---\n", modified.UTC().Format(time.RFC3339))
	for _, n := range names {
		var vs []string
		for _, g := range byName[n] {
			v := g.Version
			if g.Platform != "ruby" {
				v += "-" + g.Platform
			}
			vs = append(vs, v)
		}
		sum := md5.Sum(Info(byName[n]))
		fmt.Fprintf(&b, "%s %s %s\n", n, strings.Join(vs, ","), hex.EncodeToString(sum[:]))
	}
	return b.Bytes()
}

// Latest keeps the newest version of each gem and platform (gems come
// oldest first).
func Latest(gems []Gem) []Gem {
	newest := map[[2]string]int{}
	for i, g := range gems {
		newest[[2]string{g.Name, g.Platform}] = i
	}
	var out []Gem
	for i, g := range gems {
		if newest[[2]string{g.Name, g.Platform}] == i {
			out = append(out, g)
		}
	}
	return out
}

// Specs is a full index file: the gzipped Marshal of [name, version,
// platform] tuples, by name.
func Specs(gems []Gem) ([]byte, error) {
	gems = slices.Clone(gems)
	slices.SortStableFunc(gems, func(a, b Gem) int { return strings.Compare(a.Name, b.Name) })
	tuples := []any{}
	for _, g := range gems {
		tuples = append(tuples, []any{g.Name, version(g.Version), g.Platform})
	}
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(dump(tuples)); err != nil {
		return nil, err
	}
	err := z.Close()
	return b.Bytes(), err
}

// Quick is a gem's quick gemspec: the deflated Marshal of its
// Gem::Specification (name, version, platform, date; no dependencies).
func Quick(g Gem) ([]byte, error) {
	var b bytes.Buffer
	z := zlib.NewWriter(&b)
	spec := specification{name: g.Name, version: g.Version, platform: g.Platform, summary: g.Name, date: g.Published}
	if _, err := z.Write(dump(spec)); err != nil {
		return nil, err
	}
	err := z.Close()
	return b.Bytes(), err
}
