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
	return func(c echo.Context) error {
		return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]catalog.Entry, int64, error) {
			return s.Catalog.List(ctx, who, t, kind, p)
		}, serializer.CatalogEntry)
	}
}

// showCatalog is GET /channels/:id (id or key), and so on for each kind.
func (s *Server) showCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := s.Catalog.Find(c.Request().Context(), principalOf(c), tenantOf(c), kind, pathRef(c))
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, serializer.CatalogEntry(e), nil)
	}
}
