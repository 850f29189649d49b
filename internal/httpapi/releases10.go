package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/legacyrelease"
	"github.com/relkey/relkey/internal/naming"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/serializer"
)

// legacyReleaseRoutes registers Keygen-Version 1.0's release routes,
// served to requests that speak 1.0 (others get the 404 of an unknown
// route, as Keygen's version constraint gives).
func (s *Server) legacyReleaseRoutes(g *echo.Group) {
	only10 := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if apiMinorOf(c) != 0 {
				return errEndpointNotFound
			}
			return next(c)
		}
	}
	g.PUT("/releases", s.upsertRelease, only10)
	g.GET("/releases/actions/upgrade", s.upgradeByQuery, only10)
	g.GET("/releases/:id/actions/upgrade", s.upgradeReleaseFile, only10)
	g.GET("/releases/:id/artifact", s.downloadReleaseFile, only10)
	g.PUT("/releases/:id/artifact", s.uploadReleaseFile, only10)
	g.DELETE("/releases/:id/artifact", s.deleteReleaseFile, only10)
}

// fileAttributes are the attributes of a Keygen-Version 1.0 release that
// belong to its file.
var fileAttributes = map[string]bool{"filename": true, "filetype": true, "filesize": true, "platform": true, "signature": true, "checksum": true}

// upsertRelease is PUT /releases (Keygen-Version 1.0): the release of the
// version, created (201) or updated (200), with its file.
func (s *Server) upsertRelease(c echo.Context) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	req, err := s.decode(c, releaseResource, true)
	if err != nil {
		return err
	}
	fileReq := &document.Request{Attributes: map[string]json.RawMessage{}}
	for key, raw := range req.Attributes {
		if fileAttributes[naming.Snake(key)] {
			fileReq.Attributes[key] = raw
			delete(req.Attributes, key)
		}
	}
	var rp release.Params
	var fp artifact.Params
	if err := req.DecodeAttributes(&rp); err != nil {
		return err
	}
	if err := fileReq.DecodeAttributes(&fp); err != nil {
		return err
	}
	rel, err := releaseRelations(req)
	if err != nil {
		return err
	}
	u, err := s.LegacyReleases.Upsert(c.Request().Context(), principalOf(c), tenantOf(c), rel, rp, fp)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if u.Created {
		status = http.StatusCreated
	}
	return s.renderOne(c, status, serializer.ReleaseV1x0(u.Release, u.File), nil)
}

// downloadReleaseFile is GET /releases/:id/artifact (Keygen-Version 1.0):
// 303 to the release's one file.
func (s *Server) downloadReleaseFile(c echo.Context) error {
	ttl := 0
	if raw := c.QueryParam("ttl"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n == 0 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "ttl must be 60 to 604800 seconds", "ttl")
		}
		ttl = n
	}
	a, location, err := s.LegacyReleases.Download(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ttl)
	if err != nil {
		return err
	}
	s.recordDownload(c, a)
	return s.redirectV1x0(c, http.StatusSeeOther, a, location, nil)
}

// uploadReleaseFile is PUT /releases/:id/artifact (Keygen-Version 1.0):
// 307 to where the release's file is uploaded, whatever the request's
// content type (the client sends the file along).
func (s *Server) uploadReleaseFile(c echo.Context) error {
	a, location, err := s.LegacyReleases.Upload(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.redirectV1x0(c, http.StatusTemporaryRedirect, a, location, nil)
}

// deleteReleaseFile is DELETE /releases/:id/artifact (Keygen-Version
// 1.0): the file is deleted and the release yanked.
func (s *Server) deleteReleaseFile(c echo.Context) error {
	if err := s.LegacyReleases.Delete(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}

// upgradeByQuery is GET /releases/actions/upgrade (Keygen-Version 1.0).
func (s *Server) upgradeByQuery(c echo.Context) error {
	q := c.QueryParams()
	u, err := s.LegacyReleases.UpgradeBy(c.Request().Context(), principalOf(c), tenantOf(c), release.FileUpgrade{
		Product: q.Get("product"), Platform: q.Get("platform"), Filetype: q.Get("filetype"), Version: q.Get("version"),
		Channel: q.Get("channel"), Constraint: q.Get("constraint")})
	return s.renderFileUpgrade(c, u, err)
}

// upgradeReleaseFile is GET /releases/:id/actions/upgrade (Keygen-Version
// 1.0): the upgrade from the release's version, platform and filetype.
func (s *Server) upgradeReleaseFile(c echo.Context) error {
	u, err := s.LegacyReleases.UpgradeOf(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c),
		c.QueryParam("channel"), c.QueryParam("constraint"))
	return s.renderFileUpgrade(c, u, err)
}

// renderFileUpgrade answers an upgrade check: 303 to the next release's
// file with meta {current, next}, or 204 when there is none.
func (s *Server) renderFileUpgrade(c echo.Context, u *legacyrelease.Upgrade, err error) error {
	if err != nil {
		return err
	}
	if u.Next == nil {
		return noContent(c)
	}
	s.recordDownload(c, u.File)
	current := c.QueryParam("version")
	if u.Current != nil {
		current = u.Current.Version
	}
	return s.redirectV1x0(c, http.StatusSeeOther, u.File, u.Location, &jsonapi.Meta{"current": current, "next": u.Next.Version})
}

// redirectV1x0 answers with a file as Keygen-Version 1.0 renders it and
// the presigned URL (made absolute) as its Location.
func (s *Server) redirectV1x0(c echo.Context, status int, a *artifact.Artifact, raw string, meta *jsonapi.Meta) error {
	return s.redirectNode(c, status, serializer.ArtifactV1x0(a), s.absolute(c, raw), meta)
}
