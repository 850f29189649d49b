package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
)

var artifactResource = document.Resource{Singular: "artifact", Plural: "artifacts"}

// prefers reports whether the Prefer header (or ?prefer=) asks for token.
func prefers(c echo.Context, token string) bool {
	for _, v := range append(c.Request().Header.Values("Prefer"), c.QueryParam("prefer")) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// absolute resolves a presigned URL against relkey's external base URL.
func (s *Server) absolute(c echo.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() {
		return raw
	}
	base := s.PublicURL
	if base == nil {
		scheme := "http"
		if c.Request().TLS != nil || strings.EqualFold(c.Request().Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		base = &url.URL{Scheme: scheme, Host: c.Request().Host}
	}
	return base.ResolveReference(&url.URL{Path: base.Path + u.Path, RawQuery: u.RawQuery}).String()
}

// createArtifact is POST /artifacts: 307 to the presigned upload URL with
// the waiting artifact as the body (200 with links.redirect under
// Prefer: no-redirect).
func (s *Server) createArtifact(c echo.Context) error {
	p, req, err := attributes[artifact.Params](s, c, artifactResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("release"); err != nil {
		return err
	}
	ref := ""
	if link, err := req.ToOne("release", releaseResource); err != nil {
		return err
	} else if link != nil {
		ref = link.ID
	}
	a, upload, err := s.Artifacts.Create(c.Request().Context(), principalOf(c), tenantOf(c), ref, p)
	if err != nil {
		return err
	}
	return s.redirect(c, http.StatusTemporaryRedirect, a, s.absolute(c, upload))
}

// redirect answers with the artifact and a Location: the given status, or
// 200 with links.redirect under Prefer: no-redirect.
func (s *Server) redirect(c echo.Context, status int, a *artifact.Artifact, location string) error {
	return s.redirectNode(c, status, serializer.Artifact(a), location, nil)
}

// redirectNode answers with a document and a Location: the given status,
// or 200 with links.redirect under Prefer: no-redirect.
func (s *Server) redirectNode(c echo.Context, status int, node *jsonapi.Node, location string, meta *jsonapi.Meta) error {
	(*node.Links)["redirect"] = location
	c.Response().Header().Set(echo.HeaderLocation, location)
	if prefers(c, "no-redirect") {
		status = http.StatusOK
	}
	return s.render(c, status, &jsonapi.OnePayload{Data: node, Meta: meta})
}

func artifactFilter(c echo.Context) artifact.Filter {
	q := c.QueryParams()
	f := artifact.Filter{Release: q.Get("release"), Product: q.Get("product"), Channel: q.Get("channel"), Platform: q.Get("platform"), Arch: q.Get("arch"),
		Package: packageParam(c), Status: q.Get("status"), Filetype: q.Get("filetype")}
	if q.Has("engine") {
		engine := q.Get("engine")
		f.Engine = &engine
	}
	return f
}

func (s *Server) listArtifacts(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]artifact.Artifact, int64, error) {
		if _, err := document.IDFilters(c.QueryParams(), "product"); err != nil {
			return nil, 0, err
		}
		return s.Artifacts.List(ctx, who, t, artifactFilter(c), p)
	}, serializer.Artifact)
}

// downloadArtifact is GET /artifacts/:id (id or filename), also reached as
// /artifacts/:id/:filename and /releases/:release/artifacts/:filename: 303
// to a presigned download with the artifact as the body.
func (s *Server) downloadArtifact(c echo.Context) error {
	req := artifact.DownloadRequest{Ref: pathRef(c), Filename: c.Param("filename"), Filter: artifactFilter(c),
		Redirect: !prefers(c, "no-download")}
	if rel := c.Param("release"); rel != "" {
		req.Filter.Release, req.Ref, req.Filename = rel, req.Filename, ""
	}
	if raw := c.QueryParam("ttl"); raw != "" {
		ttl, err := strconv.Atoi(raw)
		if err != nil || ttl == 0 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "ttl must be 60 to 604800 seconds", "ttl")
		}
		req.TTL = ttl
	}
	a, location, err := s.Artifacts.Download(c.Request().Context(), principalOf(c), tenantOf(c), req)
	if err != nil {
		return err
	}
	if location == "" {
		return s.renderOne(c, http.StatusOK, serializer.Artifact(a), nil)
	}
	s.recordDownload(c, a)
	return s.redirect(c, http.StatusSeeOther, a, s.absolute(c, location))
}

// yankArtifact is DELETE /artifacts/:id.
func (s *Server) yankArtifact(c echo.Context) error {
	if err := s.Artifacts.Yank(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), artifactFilter(c)); err != nil {
		return err
	}
	return noContent(c)
}

// updateArtifact is PATCH (or PUT) /artifacts/:id: filesize, checksum,
// signature and metadata.
func (s *Server) updateArtifact(c echo.Context) error {
	p, err := attributesOnly[artifact.Params](s, c, artifactResource)
	if err != nil {
		return err
	}
	a, err := s.Artifacts.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), artifactFilter(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Artifact(a), nil)
}
