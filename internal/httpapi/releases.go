package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
)

var releaseResource = document.Resource{Singular: "release", Plural: "releases"}

func (s *Server) listReleases(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]release.Release, int64, error) {
		q := c.QueryParams()
		ids, err := document.IDFilters(q, "product")
		if err != nil {
			return nil, 0, err
		}
		yanked, err := document.BoolFilter(q, "yanked")
		if err != nil {
			return nil, 0, err
		}
		f := release.Filter{ProductID: ids["product"], Channel: q.Get("channel"), Status: q.Get("status"), Package: packageParam(c),
			Entitlements: entitlementCodes(q), Yanked: yanked}
		if q.Has("engine") {
			engine := q.Get("engine")
			f.Engine = &engine
		}
		return s.Releases.List(ctx, who, t, f, p)
	}, serializer.Release)
}

func (s *Server) showRelease(c echo.Context) error {
	r, err := s.Releases.Show(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), releaseNarrowing(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Release(r), nil)
}

// entitlementCodes is ?entitlements[]= (or Keygen's alias ?constraints[]=):
// the codes releases must be constrained within, nil when absent. Blank
// codes are dropped, so an empty list keeps unconstrained releases only.
func entitlementCodes(q url.Values) *[]string {
	var codes []string
	present := false
	for _, name := range []string{"entitlements[]", "entitlements", "constraints[]", "constraints"} {
		if !q.Has(name) {
			continue
		}
		present = true
		for _, code := range q[name] {
			if code = strings.TrimSpace(code); code != "" && !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
	}
	if !present {
		return nil
	}
	if codes == nil {
		codes = []string{}
	}
	return &codes
}

// packageParam is ?package= (an id or key; blank for releases without a
// package), or nil when absent.
func packageParam(c echo.Context) *string {
	if !c.QueryParams().Has("package") {
		return nil
	}
	v := c.QueryParam("package")
	return &v
}

// releaseNarrowing is the ?product= and ?package= of a release lookup.
func releaseNarrowing(c echo.Context) release.Narrowing {
	return release.Narrowing{Product: c.QueryParam("product"), Package: packageParam(c)}
}

func (s *Server) createRelease(c echo.Context) error {
	p, req, err := attributes[release.Params](s, c, releaseResource)
	if err != nil {
		return err
	}
	rel, err := releaseRelations(req)
	if err != nil {
		return err
	}
	r, err := s.Releases.Create(c.Request().Context(), principalOf(c), tenantOf(c), rel, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Release(r), nil)
}

// releaseRelations decodes the product, package and constraints a
// release is created with, refusing other relationships.
func releaseRelations(req *document.Request) (release.Relations, error) {
	var rel release.Relations
	if err := req.PermitRelationships("product", "package", "constraints"); err != nil {
		return rel, err
	}
	if raw, ok := req.Relationships["constraints"]; ok {
		var err error
		if rel.Constraints, err = document.DecodeEmbedded(raw, "/data/relationships/constraints", constraintResource, "entitlement", entitlementResource); err != nil {
			return rel, err
		}
	}
	for name, dst := range map[string]*string{"product": &rel.Product, "package": &rel.Package} {
		link, err := req.ToOne(name, map[string]document.Resource{"product": productResource, "package": packageResource}[name])
		if err != nil {
			return rel, err
		}
		if link != nil {
			*dst = link.ID
		}
	}
	return rel, nil
}

func (s *Server) updateRelease(c echo.Context) error {
	return updateRecord(s, c, releaseResource, s.Releases.Update, serializer.Release)
}

func (s *Server) deleteRelease(c echo.Context) error { return deleteRecord(c, s.Releases.Delete) }

func (s *Server) publishRelease(c echo.Context) error {
	return renderAction(s, c, s.Releases.Publish, serializer.Release)
}

func (s *Server) yankRelease(c echo.Context) error {
	return renderAction(s, c, s.Releases.Yank, serializer.Release)
}

// upgradeRelease is GET /releases/:id/upgrade: the next release with
// meta {current, next}, or 404 NOT_FOUND when there is none.
func (s *Server) upgradeRelease(c echo.Context) error {
	q := c.QueryParams()
	current, next, err := s.Releases.Upgrade(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c),
		releaseNarrowing(c), q.Get("channel"), q.Get("constraint"))
	s.recordUpgrade(c, current, next, err)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Release(next), &jsonapi.Meta{"current": current.Version, "next": next.Version, "critical": next.Critical()})
}
