// Package oci serves the OCI distribution API (engine "oci", Keygen
// Enterprise's, free here) from images stored as a release's artifacts,
// one per manifest or blob, named by digest (see internal/ociimage):
// manifests by tag, version or digest (GET and HEAD, with their own media
// type and Docker-Content-Digest), blobs by digest (HEAD, and GET as a 303
// to a presigned download, which OCI clients follow without forwarding
// their credentials) and tags/list; and it takes pushes (push.go).
// Clients address it at the host's root, /v2/<account>/<package>/… (or
// /v2/<package>/… for the default account), after the /v2/ handshake; the
// same routes answer under /engines/oci/ as Keygen's. Clients
// authenticate with Basic credentials (a license key as `license:<key>`,
// or a token) on every request, or through the distribution token flow
// (token.go), which a request without credentials is challenged to
// start.
package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/ociimage"
)

const engine = "oci"

// Engine is the OCI engine's routes, its registry tokens sealed by
// tokens, pushes stored with push.
func Engine(feeds *feed.Service, tokens *Tokens, push *Pushing) httpapi.Engine {
	en := feedhttp.Engine(engine, feeds, func(g *echo.Group, x feedhttp.Exchange) {
		h := handler{x: x, push: push}
		both := []string{http.MethodGet, http.MethodHead}
		g.Match(both, "/:package/manifests/:reference", h.manifest)
		g.Match(both, "/:package/blobs/:digest", h.blob)
		g.GET("/:package/tags/list", h.tags)
		for _, r := range []*echo.Route{
			g.POST("/:package/blobs/uploads/", h.startUpload),
			g.PATCH("/:package/blobs/uploads/:upload", h.patchUpload),
			g.PUT("/:package/blobs/uploads/:upload", h.putUpload),
			g.PUT("/:package/manifests/:reference", h.putManifest),
		} {
			r.Name = httpapi.TransferRoute
		}
	})
	en.Root, en.Challenge, en.Credentials = "/v2", challenge, tokens.credentials
	en.RootRoutes = func(g *echo.Group, x httpapi.Exchange) {
		h := root{x: x, tokens: tokens}
		both := []string{http.MethodGet, http.MethodHead}
		g.Match(both, "/", h.handshake)
		g.Match(both, "/token", h.token)
	}
	return en
}

type handler struct {
	x    feedhttp.Exchange
	push *Pushing
}

// mediaType is an artifact's OCI media type (its metadata's).
func mediaType(a *artifact.Artifact) string {
	mt, _ := a.Metadata[ociimage.MetadataKey].(string)
	return mt
}

func (h handler) manifest(c echo.Context) error {
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	pkg, ref := c.Param("package"), c.Param("reference")
	var a *artifact.Artifact
	if ociimage.ValidDigest(ref) {
		found, err := h.x.Feeds.Named(ctx, who, t, engine, pkg, ref)
		if err != nil {
			return err
		}
		if !ociimage.IsManifest(mediaType(found)) {
			return apperr.NotFoundResource("manifest", ref)
		}
		a = found
	} else {
		f, err := h.x.Feeds.Release(ctx, who, t, engine, pkg, ref)
		if err != nil {
			return err
		}
		if a = Choose(f.Files[f.Next.ID], accepted(c.Request().Header.Values("Accept"))); a == nil {
			return apperr.NotFoundResource("manifest", ref)
		}
	}
	hdr := c.Response().Header()
	hdr.Set("Docker-Content-Digest", a.Filename)
	hdr.Set("ETag", `"`+a.Filename+`"`)
	hdr.Set("Cache-Control", "private, no-cache")
	if c.Request().Method == http.MethodHead {
		hdr.Set("Content-Type", mediaType(a))
		if a.Filesize != nil {
			hdr.Set("Content-Length", strconv.FormatInt(*a.Filesize, 10))
		}
		return c.NoContent(http.StatusOK)
	}
	body, err := h.x.Feeds.Content(ctx, a)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(body); "sha256:"+hex.EncodeToString(sum[:]) != a.Filename {
		return apperr.New(apperr.Unprocessable, "MANIFEST_INVALID", "the stored manifest "+a.Filename+" does not match its digest")
	}
	if slices.Contains(c.Request().Header.Values("If-None-Match"), `"`+a.Filename+`"`) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, mediaType(a), body)
}

// accepted are the manifest media types an Accept header names
// (parameters dropped); nil when it names none of them or accepts
// anything.
func accepted(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			mt = strings.TrimSpace(mt)
			if mt == "*/*" {
				return nil
			}
			if ociimage.IsManifest(mt) {
				out = append(out, mt)
			}
		}
	}
	return out
}

// Choose is the manifest of a release's files a client is served: among
// those of an accepted media type (any manifest when accepts is nil), the
// first in ociimage.Manifests' order, the oldest of equals; nil when none.
func Choose(files []artifact.Artifact, accepts []string) *artifact.Artifact {
	var best *artifact.Artifact
	rank := len(ociimage.Manifests)
	for i := range files {
		mt := mediaType(&files[i])
		r := slices.Index(ociimage.Manifests, mt)
		if r < 0 || accepts != nil && !slices.Contains(accepts, mt) || !ociimage.ValidDigest(files[i].Filename) {
			continue
		}
		if r < rank {
			best, rank = &files[i], r
		}
	}
	return best
}

func (h handler) blob(c echo.Context) error {
	pkg, digest := c.Param("package"), c.Param("digest")
	if c.Request().Method == http.MethodGet {
		if !ociimage.ValidDigest(digest) {
			return apperr.NotFoundResource("blob", digest)
		}
		return h.x.Fetch(c, engine, pkg, digest, "")
	}
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	a, err := h.x.Feeds.Named(ctx, who, t, engine, pkg, digest)
	var size *int64
	switch {
	case err == nil:
		size, digest = a.Filesize, a.Filename
	case apperr.Is(err, apperr.NotFound) && mayPush(who):
		// A pusher checks what it has already uploaded.
		p, perr := h.pushing(c)
		if perr != nil {
			return err
		}
		staged, ok := h.push.Staging.Staged(p.repo, digest)
		if !ok {
			return err
		}
		size = &staged
	default:
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Docker-Content-Digest", digest)
	hdr.Set("Content-Type", "application/octet-stream")
	if size != nil {
		hdr.Set("Content-Length", strconv.FormatInt(*size, 10))
	}
	return c.NoContent(http.StatusOK)
}

// TagList is tags/list's answer.
type TagList struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// Tags lists the tags of the releases an index lists, sorted, after last
// (the spec's paging), at most n when n > 0.
func Tags(f *feed.Feed, last string, n int) TagList {
	out := TagList{Name: f.Package.Key, Tags: []string{}}
	for _, r := range f.Releases {
		if r.Tag != nil && *r.Tag > last && !slices.Contains(out.Tags, *r.Tag) {
			out.Tags = append(out.Tags, *r.Tag)
		}
	}
	slices.Sort(out.Tags)
	if n > 0 && len(out.Tags) > n {
		out.Tags = out.Tags[:n]
	}
	return out
}

func (h handler) tags(c echo.Context) error {
	n := 0
	if raw := c.QueryParam("n"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 0 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "must be a non-negative integer", "n")
		}
		n = v
	}
	f, err := h.x.Feeds.Listed(c.Request().Context(), h.x.Principal(c), h.x.Tenant(c), engine, c.Param("package"), artifact.Pick{})
	if err != nil {
		return err
	}
	body, err := json.Marshal(Tags(f, c.QueryParam("last"), n))
	if err != nil {
		return err
	}
	return h.x.Answer(c, f, "application/json", append(body, '\n'))
}
