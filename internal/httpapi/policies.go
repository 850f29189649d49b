package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/serializer"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

var policyResource = document.Resource{Singular: "policy", Plural: "policies"}

func (s *Server) listPolicies(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]policy.Policy, int64, error) {
		return s.Policies.List(ctx, who, t, c.QueryParam("product"), p)
	}, serializer.Policy)
}

func (s *Server) showPolicy(c echo.Context) error {
	pol, err := s.Policies.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Policy(pol), nil)
}

// policyDocument decodes a policy document: attributes, and the product
// relationship on create.
func (s *Server) policyDocument(c echo.Context, creating bool) (policy.Params, string, error) {
	var p policy.Params
	if principalOf(c) == nil {
		return p, "", access.ErrTokenMissing
	}
	req, err := s.decode(c, policyResource, true)
	if err != nil {
		return p, "", err
	}
	if err := req.DecodeAttributes(&p); err != nil {
		return p, "", err
	}
	if !creating {
		return p, "", req.PermitRelationships()
	}
	if err := req.PermitRelationships("product"); err != nil {
		return p, "", err
	}
	link, err := req.ToOne("product", productResource)
	if err != nil || link == nil {
		return p, "", err
	}
	return p, link.ID, nil
}

func (s *Server) createPolicy(c echo.Context) error {
	p, productRef, err := s.policyDocument(c, true)
	if err != nil {
		return err
	}
	pol, err := s.Policies.Create(c.Request().Context(), principalOf(c), tenantOf(c), productRef, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Policy(pol), nil)
}

func (s *Server) updatePolicy(c echo.Context) error {
	p, _, err := s.policyDocument(c, false)
	if err != nil {
		return err
	}
	pol, err := s.Policies.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Policy(pol), nil)
}

func (s *Server) deletePolicy(c echo.Context) error { return deleteRecord(c, s.Policies.Delete) }
