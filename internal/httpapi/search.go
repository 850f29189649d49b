package httpapi

import (
	"context"
	"encoding/json"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/search"
	"github.com/relkey/relkey/internal/serializer"
)

func (s *Server) registerSearch(g *echo.Group) {
	g.POST("/search", s.search)
}

// search is Keygen's POST /search: {"meta":{"type","query","op"}}, the
// matches rendered as the type's list, newest first, paged.
func (s *Server) search(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var doc struct {
		Meta *struct {
			Type  string         `json:"type"`
			Op    *string        `json:"op"`
			Query map[string]any `json:"query"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return apperr.New(apperr.Invalid, "JSON_INVALID", "The request body is not a JSON document")
	}
	if doc.Meta == nil {
		return missingMeta("meta")
	}
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	paging.Keyset = false
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	typ, ids, total, err := s.Search.Search(ctx, who, t, search.Query{Type: doc.Meta.Type, Op: doc.Meta.Op, Terms: doc.Meta.Query}, paging.Request)
	if err != nil {
		return err
	}
	nodes := make([]*jsonapi.Node, 0, len(ids))
	for _, id := range ids {
		node, err := s.searchResult(ctx, c, typ.Name, id)
		if apperr.Is(err, apperr.NotFound) {
			continue // deleted since the search
		}
		if err != nil {
			return err
		}
		nodes = append(nodes, node)
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
}

// searchResult renders one match as its type's show route does.
func (s *Server) searchResult(ctx context.Context, c echo.Context, typ, id string) (*jsonapi.Node, error) {
	who, t := principalOf(c), tenantOf(c)
	switch typ {
	case "entitlements":
		return rendered(s.Entitlements.Find(ctx, who, t, id))(serializer.Entitlement)
	case "products":
		return rendered(s.Products.Find(ctx, who, t, id))(serializer.Product)
	case "policies":
		return rendered(s.Policies.Find(ctx, who, t, id))(serializer.Policy)
	case "users":
		return rendered(s.Users.Find(ctx, who, t, id))(serializer.User)
	case "releases":
		return rendered(s.Releases.Show(ctx, who, t, id, release.Narrowing{}))(serializer.Release)
	case "groups":
		return rendered(s.Groups.Find(ctx, who, t, id))(serializer.Group)
	case "licenses":
		l, err := s.Licenses.Find(ctx, who, t, id)
		if err != nil {
			return nil, err
		}
		shown, err := s.showLicenses(c, nil, l)
		if err != nil {
			return nil, err
		}
		return serializer.License(&shown[0]), nil
	case "machines":
		m, pol, err := s.Machines.Find(ctx, who, t, id)
		if err != nil {
			return nil, err
		}
		return serializer.Machine(m, pol), nil
	}
	return nil, apperr.NotFoundResource(typ, id)
}

// rendered renders a found record with node, or passes its error on.
func rendered[T any](v *T, err error) func(node func(*T) *jsonapi.Node) (*jsonapi.Node, error) {
	return func(node func(*T) *jsonapi.Node) (*jsonapi.Node, error) {
		if err != nil {
			return nil, err
		}
		return node(v), nil
	}
}
