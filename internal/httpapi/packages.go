package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/releasepackage"
)

var packageResource = document.Resource{Singular: "package", Plural: "packages"}

func (s *Server) listPackages(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]releasepackage.Package, int64, error) {
		q := c.QueryParams()
		ids, err := document.IDFilters(q, "product")
		if err != nil {
			return nil, 0, err
		}
		return s.Packages.List(ctx, who, t, releasepackage.Filter{ProductID: ids["product"], Engine: q.Get("engine")}, p)
	}, serializer.Package)
}

func (s *Server) showPackage(c echo.Context) error {
	p, err := s.Packages.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Package(p), nil)
}

func (s *Server) createPackage(c echo.Context) error {
	p, req, err := attributes[releasepackage.Params](s, c, packageResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("product"); err != nil {
		return err
	}
	productRef := ""
	if link, err := req.ToOne("product", productResource); err != nil {
		return err
	} else if link != nil {
		productRef = link.ID
	}
	pkg, err := s.Packages.Create(c.Request().Context(), principalOf(c), tenantOf(c), productRef, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Package(pkg), nil)
}

func (s *Server) updatePackage(c echo.Context) error {
	return updateRecord(s, c, packageResource, s.Packages.Update, serializer.Package)
}

func (s *Server) deletePackage(c echo.Context) error { return deleteRecord(c, s.Packages.Delete) }

// showReleasePackage is GET /releases/:id/package: the release's package,
// or data null.
func (s *Server) showReleasePackage(c echo.Context) error {
	ctx, who := c.Request().Context(), principalOf(c)
	r, err := s.Releases.Find(ctx, who, tenantOf(c), pathRef(c), releaseNarrowing(c))
	if err != nil {
		return err
	}
	return s.renderPackage(c, r.PackageID)
}

// changeReleasePackage is PUT /releases/:id/package with a package
// identifier (id or key) or data null.
func (s *Server) changeReleasePackage(c echo.Context) error {
	ref, err := s.identifier(c, packageResource, true)
	if err != nil {
		return err
	}
	r, err := s.Releases.SetPackage(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ref)
	if err != nil {
		return err
	}
	return s.renderPackage(c, r.PackageID)
}

func (s *Server) renderPackage(c echo.Context, packageID *string) error {
	if packageID == nil {
		return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: nil})
	}
	p, err := s.Packages.Find(c.Request().Context(), principalOf(c), tenantOf(c), *packageID)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Package(p), nil)
}
