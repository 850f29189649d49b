package httpapi

import (
	"net/http"

	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/serializer"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
)

var productResource = document.Resource{Singular: "product", Plural: "products"}

func (s *Server) listProducts(c echo.Context) error {
	return renderPage(s, c, s.Products.List, serializer.Product)
}

func (s *Server) showProduct(c echo.Context) error {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Product(p), nil)
}

func (s *Server) createProduct(c echo.Context) error {
	params, err := attributesOnly[product.Params](s, c, productResource)
	if err != nil {
		return err
	}
	p, err := s.Products.Create(c.Request().Context(), principalOf(c), tenantOf(c), params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Product(p), nil)
}

func (s *Server) updateProduct(c echo.Context) error {
	return updateRecord(s, c, productResource, s.Products.Update, serializer.Product)
}

func (s *Server) deleteProduct(c echo.Context) error { return deleteRecord(c, s.Products.Delete) }

func (s *Server) listProductTokens(c echo.Context) error {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderBearerTokens(c, identity.ProductTarget(p))
}

func (s *Server) createProductToken(c echo.Context) error {
	return s.generateToken(c, token.BearerProduct)
}
