package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/serializer"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/page"
)

// listCatalog is GET /channels, /platforms, /arches or /engines.
func (s *Server) listCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error { return s.pageCatalog(c, kind, "") }
}

// showCatalog is GET /channels/:id (id or key), and so on for each kind.
func (s *Server) showCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error { return s.oneCatalog(c, kind, "", pathRef(c)) }
}

// listProductCatalog is GET /products/:id/channels (and platforms, arches,
// engines): the keys the product's releases, artifacts or packages use.
func (s *Server) listProductCatalog(kind string) echo.HandlerFunc {
	return s.withParent(s.productID, func(c echo.Context, productID string) error { return s.pageCatalog(c, kind, productID) })
}

// showProductCatalog is GET /products/:id/channels/:related, and so on.
func (s *Server) showProductCatalog(kind string) echo.HandlerFunc {
	return s.withParent(s.productID, func(c echo.Context, productID string) error { return s.oneCatalog(c, kind, productID, relatedRef(c)) })
}

func (s *Server) pageCatalog(c echo.Context, kind, productID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]catalog.Entry, int64, error) {
		return s.Catalog.List(ctx, who, t, kind, productID, p)
	}, serializer.CatalogEntry)
}

func (s *Server) oneCatalog(c echo.Context, kind, productID, ref string) error {
	e, err := s.Catalog.Find(c.Request().Context(), principalOf(c), tenantOf(c), kind, productID, ref)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.CatalogEntry(e), nil)
}
