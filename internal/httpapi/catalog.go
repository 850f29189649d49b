package httpapi

import (
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/document"
)

// listCatalog is GET /channels, /platforms, /arches or /engines.
func (s *Server) listCatalog(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		paging, err := document.ParsePaging(c.QueryParams())
		if err != nil {
			return err
		}
		items, total, err := s.Catalog.List(c.Request().Context(), principalOf(c), tenantOf(c).ID, kind, paging.Request)
		if err != nil {
			return err
		}
		nodes := nodesOf(items, catalogNode)
		return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
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
