package httpapi

import (
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/product"
)

var productResource = document.Resource{Singular: "product", Plural: "products"}

func (s *Server) listProducts(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	t := tenantOf(c)
	products, total, err := s.Products.List(c.Request().Context(), t.ID, paging.Request)
	if err != nil {
		return err
	}
	nodes := make([]*jsonapi.Node, len(products))
	for i := range products {
		nodes[i] = productNode(&products[i])
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
}

func (s *Server) showProduct(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	p, err := s.Products.Find(c.Request().Context(), tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, productNode(p), nil)
}

// productParams decodes the document of a product create or update.
func (s *Server) productParams(c echo.Context) (product.Params, error) {
	var p product.Params
	req, err := s.decode(c, productResource, true)
	if err != nil {
		return p, err
	}
	if err := req.DecodeAttributes(&p); err != nil {
		return p, err
	}
	return p, req.PermitRelationships()
}

func (s *Server) createProduct(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	params, err := s.productParams(c)
	if err != nil {
		return err
	}
	p, err := s.Products.Create(c.Request().Context(), tenantOf(c).ID, params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, productNode(p), nil)
}

func (s *Server) updateProduct(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	params, err := s.productParams(c)
	if err != nil {
		return err
	}
	p, err := s.Products.Update(c.Request().Context(), tenantOf(c).ID, c.Param("id"), params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, productNode(p), nil)
}

func (s *Server) deleteProduct(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	if err := s.Products.Delete(c.Request().Context(), tenantOf(c).ID, c.Param("id")); err != nil {
		return err
	}
	return noContent(c)
}

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
		},
		Links: &jsonapi.Links{"self": base + "/products/" + p.ID},
	}
}
