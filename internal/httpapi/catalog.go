package httpapi

import (
	"context"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
)

// listCatalog is GET /channels, /platforms, /arches or /engines.
func (s *Server) listCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return renderPage(s, c, func(ctx context.Context, who *access.Principal, p page.Request) ([]catalog.Entry, int64, error) {
			return s.Catalog.List(ctx, who, tenantOf(c).ID, kind, p)
		}, catalogNode)
	}
}

// showCatalog is GET /channels/:id (id or key), and so on for each kind.
func (s *Server) showCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := s.Catalog.Find(c.Request().Context(), principalOf(c), tenantOf(c).ID, kind, pathRef(c))
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, catalogNode(e), nil)
	}
}

func catalogNode(e *catalog.Entry) *jsonapi.Node {
	base := document.AccountPath(e.AccountID)
	return &jsonapi.Node{
		Type: e.Kind,
		ID:   e.ID,
		Attributes: map[string]any{
			"name":    e.Key,
			"key":     e.Key,
			"created": document.Time(e.CreatedAt),
			"updated": document.Time(e.UpdatedAt),
		},
		Relationships: map[string]any{"account": document.ToOne("accounts", e.AccountID, base)},
		Links:         &jsonapi.Links{"self": base + "/" + e.Kind + "/" + e.ID},
	}
}
