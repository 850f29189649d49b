package httpapi

import (
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
)

var productResource = document.Resource{Singular: "product", Plural: "products"}

func (s *Server) listProducts(c echo.Context) error {
	return renderPage(s, c, s.Products.List, productNode)
}

func (s *Server) showProduct(c echo.Context) error {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, productNode(p), nil)
}

func (s *Server) createProduct(c echo.Context) error {
	params, err := attributesOnly[product.Params](s, c, productResource)
	if err != nil {
		return err
	}
	p, err := s.Products.Create(c.Request().Context(), principalOf(c), params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, productNode(p), nil)
}

func (s *Server) updateProduct(c echo.Context) error {
	return updateRecord(s, c, productResource, s.Products.Update, productNode)
}

func (s *Server) deleteProduct(c echo.Context) error { return deleteRecord(c, s.Products.Delete) }

func productNode(p *product.Product) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	var platforms any
	if p.Platforms != nil {
		platforms = p.Platforms
	}
	return &jsonapi.Node{
		Type: "products",
		ID:   p.ID,
		Attributes: map[string]any{
			"name":                 p.Name,
			"code":                 p.Code,
			"distributionStrategy": p.DistributionStrategy,
			"url":                  p.URL,
			"platforms":            platforms,
			"metadata":             document.Metadata(p.Metadata),
			"created":              document.Time(p.CreatedAt),
			"updated":              document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", p.AccountID, base),
			"tokens":  document.ToMany(base + "/products/" + p.ID + "/tokens"),
		},
		Links: &jsonapi.Links{"self": base + "/products/" + p.ID},
	}
}

func (s *Server) listProductTokens(c echo.Context) error {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderBearerTokens(c, token.Target{Type: token.BearerProduct, ID: p.ID, Role: access.RoleProduct})
}

func (s *Server) createProductToken(c echo.Context) error {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.generateToken(c, token.Target{Type: token.BearerProduct, ID: p.ID, Role: access.RoleProduct})
}
