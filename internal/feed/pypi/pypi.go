// Package pypi serves Python's simple repository API (engine "pypi", as
// Keygen's): GET /engines/pypi/simple/ lists the packages the bearer may
// see and /engines/pypi/simple/<package>/ their files, as PEP 503 HTML or,
// when asked, PEP 691 JSON; files link to /engines/pypi/files/<id>/
// <filename> with the artifact's checksum as the hash fragment and the
// artifact's requiresPython metadata as data-requires-python.
//
// A wheel's core metadata (its .dist-info/METADATA) is served beside it
// at <file URL>.metadata (PEP 658, named as PEP 714 names it), read from
// the wheel when asked: no state to keep in step with the artifact, and
// the wheel is immutable, so clients and proxies may keep it (a strong
// ETag). Pages declare it (data-core-metadata, core-metadata) for the
// wheels relkey reads (at most artifact.MaxContent) when the links carry
// no credentials: a client appends .metadata to the whole link, query
// included.
package pypi

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/releasepackage"
)

// Content types of the two serializations (PEP 691).
const (
	JSONType = "application/vnd.pypi.simple.v1+json"
	HTMLType = "text/html; charset=utf-8"
)

// distributions are the files pip installs.
var distributions = artifact.Pick{Suffixes: []string{".whl", ".tar.gz", ".zip"}}

// Engine is the PyPI engine's routes.
func Engine(feeds *feed.Service) httpapi.Engine {
	return feedhttp.Engine("pypi", feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x}
		g.GET("/simple/", h.index)
		g.GET("/simple", h.slash)
		g.GET("/simple/:package/", h.project)
		g.GET("/simple/:package", h.slash)
		g.GET("/files/:package/:artifact/:filename", h.download)
	})
}

type handler struct{ x feedhttp.Exchange }

// slash sends a path without its trailing slash to the canonical one.
func (h handler) slash(c echo.Context) error {
	u := *c.Request().URL
	u.Path += "/"
	u.RawPath = ""
	return c.Redirect(http.StatusMovedPermanently, u.RequestURI())
}

func (h handler) index(c echo.Context) error {
	pkgs, err := h.x.Feeds.Packages(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "pypi")
	if err != nil {
		return feedhttp.Challenge(c, err)
	}
	base := h.x.URL(c, engineRoot(c)+"/simple/")
	return h.answer(c, &feed.Feed{}, func(asJSON bool) ([]byte, error) { return Index(pkgs, base, asJSON) })
}

func (h handler) project(c echo.Context) error {
	f, err := h.x.Feeds.Index(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), "pypi", c.Param("package"), distributions)
	if err != nil {
		return feedhttp.Challenge(c, err)
	}
	files := h.x.URL(c, engineRoot(c)+"/files/"+url.PathEscape(f.Package.Key))
	metadata := len(feedhttp.Credentials(c)) == 0
	return h.answer(c, f, func(asJSON bool) ([]byte, error) {
		return Project(f, func(a *artifact.Artifact) Link {
			return Link{URL: feedhttp.WithCredentials(c, files+"/"+a.ID+"/"+url.PathEscape(a.Filename)), CoreMetadata: metadata && HasCoreMetadata(a)}
		}, asJSON)
	})
}

// metadataSuffix ends the URL of a file's core metadata (PEP 658).
const metadataSuffix = ".metadata"

func (h handler) download(c echo.Context) error {
	if name, ok := strings.CutSuffix(c.Param("filename"), metadataSuffix); ok && feed.Suffix(name, ".whl") {
		return h.metadata(c, name)
	}
	return h.x.Fetch(c, "pypi", c.Param("package"), c.Param("artifact"), c.Param("filename"))
}

// metadata serves a wheel's core metadata, read from the wheel.
func (h handler) metadata(c echo.Context, wheel string) error {
	ctx := c.Request().Context()
	a, err := h.x.Feeds.Named(ctx, h.x.Principal(c), h.x.Tenant(c), "pypi", c.Param("package"), c.Param("artifact"))
	if err != nil {
		return feedhttp.Challenge(c, err)
	}
	if a.Filename != wheel || !HasCoreMetadata(a) {
		return apperr.NotFoundResource("artifact", c.Param("filename"))
	}
	content, err := h.x.Feeds.Content(ctx, a)
	if err != nil {
		return err
	}
	body, err := CoreMetadata(content)
	if err != nil {
		return err
	}
	return h.x.Answer(c, &feed.Feed{Modified: a.CreatedAt}, "text/plain; charset=utf-8", body)
}

// HasCoreMetadata reports whether relkey serves an artifact's core
// metadata: an uploaded wheel it reads whole.
func HasCoreMetadata(a *artifact.Artifact) bool {
	return feed.Suffix(a.Filename, ".whl") && a.Filesize != nil && *a.Filesize <= artifact.MaxContent && a.Status == artifact.Uploaded
}

// maxCoreMetadata bounds the METADATA read out of a wheel.
const maxCoreMetadata = 1 << 20

// CoreMetadata is the METADATA of a wheel's .dist-info directory (at the
// archive's top level).
func CoreMetadata(wheel []byte) ([]byte, error) {
	missing := apperr.New(apperr.NotFound, "NOT_FOUND", "the wheel holds no .dist-info/METADATA")
	z, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		return nil, missing
	}
	for _, f := range z.File {
		dir, name := path.Split(f.Name)
		if name != "METADATA" || strings.Count(dir, "/") != 1 || !strings.HasSuffix(dir, ".dist-info/") {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return nil, missing
		}
		body, err := io.ReadAll(io.LimitReader(r, maxCoreMetadata+1))
		r.Close()
		if err != nil || len(body) > maxCoreMetadata {
			return nil, missing
		}
		return body, nil
	}
	return nil, missing
}

// answer renders the serialization the client asked for.
func (h handler) answer(c echo.Context, f *feed.Feed, render func(asJSON bool) ([]byte, error)) error {
	asJSON := WantsJSON(c.Request().Header.Get("Accept"))
	body, err := render(asJSON)
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "Accept")
	if asJSON {
		return h.x.Answer(c, f, JSONType, body)
	}
	return h.x.Answer(c, f, HTMLType, body)
}

// engineRoot is the request's path up to /engines/pypi (either layout).
func engineRoot(c echo.Context) string {
	p := c.Request().URL.Path
	return p[:strings.LastIndex(p, "/simple")]
}

// WantsJSON negotiates PEP 691's serializations: JSON when the Accept
// header ranks it above every HTML type it names; HTML otherwise (and
// without an Accept header, as PEP 503 clients expect).
func WantsJSON(accept string) bool {
	best, jsonQ := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mediaType {
		case JSONType, "application/vnd.pypi.latest+json":
			jsonQ = max(jsonQ, q)
		case "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.latest+html", "text/html", "*/*":
			best = max(best, q)
		}
	}
	return jsonQ > 0 && jsonQ > best
}

// Index is the list of projects: the packages by key.
func Index(pkgs []releasepackage.Package, base string, asJSON bool) ([]byte, error) {
	if asJSON {
		type project struct {
			Name string `json:"name"`
		}
		doc := struct {
			Meta     meta      `json:"meta"`
			Projects []project `json:"projects"`
		}{Meta: meta{"1.1"}, Projects: []project{}}
		for _, p := range pkgs {
			doc.Projects = append(doc.Projects, project{p.Key})
		}
		return marshal(doc)
	}
	var b bytes.Buffer
	head(&b, "Simple index")
	for _, p := range pkgs {
		b.WriteString(`    <a href="` + html.EscapeString(base+url.PathEscape(p.Key)+"/") + `">` + html.EscapeString(p.Key) + "</a><br>\n")
	}
	foot(&b)
	return b.Bytes(), nil
}

type meta struct {
	APIVersion string `json:"api-version"`
}

// File is a distribution of a project page.
type File struct {
	Filename       string            `json:"filename"`
	URL            string            `json:"url"`
	Hashes         map[string]string `json:"hashes"`
	RequiresPython string            `json:"requires-python,omitempty"`
	Size           *int64            `json:"size,omitempty"`
	UploadTime     string            `json:"upload-time"`
	// CoreMetadata is true when the file's core metadata is served at its
	// URL and .metadata (PEP 714's name, and PEP 658's for older
	// clients), unset otherwise.
	CoreMetadata     *bool `json:"core-metadata,omitempty"`
	DistInfoMetadata *bool `json:"dist-info-metadata,omitempty"`
}

// Link is where a project page sends a client for a file, and whether its
// core metadata is served beside it.
type Link struct {
	URL          string
	CoreMetadata bool
}

// Project is a project's page: every file of its releases, oldest
// version first (as PyPI lists them), and its versions.
func Project(f *feed.Feed, link func(*artifact.Artifact) Link, asJSON bool) ([]byte, error) {
	var files []File
	versions := []string{}
	for i := len(f.Releases) - 1; i >= 0; i-- {
		r := &f.Releases[i]
		versions = append(versions, r.Version)
		for _, a := range feed.Among(f.Files[r.ID], nil, nil, distributions.Suffixes...) {
			l := link(&a)
			file := File{Filename: a.Filename, URL: l.URL, Hashes: hashes(&a), Size: a.Filesize,
				UploadTime: a.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z")}
			if l.CoreMetadata {
				file.CoreMetadata, file.DistInfoMetadata = &l.CoreMetadata, &l.CoreMetadata
			}
			file.RequiresPython, _ = a.Metadata["requires_python"].(string)
			files = append(files, file)
		}
	}
	if asJSON {
		if files == nil {
			files = []File{}
		}
		return marshal(struct {
			Meta     meta     `json:"meta"`
			Name     string   `json:"name"`
			Files    []File   `json:"files"`
			Versions []string `json:"versions"`
		}{meta{"1.1"}, f.Package.Key, files, versions})
	}
	var b bytes.Buffer
	head(&b, "Links for "+f.Package.Key)
	for _, file := range files {
		href := file.URL
		for name, sum := range file.Hashes {
			href += "#" + name + "=" + sum
		}
		b.WriteString(`    <a href="` + html.EscapeString(href) + `"`)
		if file.RequiresPython != "" {
			b.WriteString(` data-requires-python="` + html.EscapeString(file.RequiresPython) + `"`)
		}
		if file.CoreMetadata != nil {
			b.WriteString(` data-dist-info-metadata="true" data-core-metadata="true"`)
		}
		b.WriteString(">" + html.EscapeString(file.Filename) + "</a><br>\n")
	}
	foot(&b)
	return b.Bytes(), nil
}

// hashes is an artifact's checksum by hash name (sha256 or sha512, by
// its length), hex as PEP 503 writes it; empty when it has none.
func hashes(a *artifact.Artifact) map[string]string {
	if a.Checksum == nil {
		return map[string]string{}
	}
	for name, size := range map[string]int{"sha256": 32, "sha512": 64} {
		if raw := feed.Hash(*a.Checksum, size); raw != nil {
			return map[string]string{name: hex.EncodeToString(raw)}
		}
	}
	return map[string]string{}
}

func head(b *bytes.Buffer, title string) {
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n" +
		"    <title>" + html.EscapeString(title) + "</title>\n  </head>\n  <body>\n    <h1>" + html.EscapeString(title) + "</h1>\n")
}

func foot(b *bytes.Buffer) { b.WriteString("  </body>\n</html>\n") }

func marshal(doc any) ([]byte, error) {
	body, err := json.MarshalIndent(doc, "", "  ")
	return append(body, '\n'), err
}
