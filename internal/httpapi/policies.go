package httpapi

import (
	"context"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

var policyResource = document.Resource{Singular: "policy", Plural: "policies"}

func (s *Server) listPolicies(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, p page.Request) ([]policy.Policy, int64, error) {
		return s.Policies.List(ctx, who, c.QueryParam("product"), p)
	}, policyNode)
}

func (s *Server) showPolicy(c echo.Context) error {
	pol, err := s.Policies.Find(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, policyNode(pol), nil)
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
	pol, err := s.Policies.Create(c.Request().Context(), principalOf(c), productRef, tenantOf(c).Protected, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, policyNode(pol), nil)
}

func (s *Server) updatePolicy(c echo.Context) error {
	p, _, err := s.policyDocument(c, false)
	if err != nil {
		return err
	}
	pol, err := s.Policies.Update(c.Request().Context(), principalOf(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, policyNode(pol), nil)
}

func (s *Server) deletePolicy(c echo.Context) error { return deleteRecord(c, s.Policies.Delete) }

func policyNode(p *policy.Policy) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	self := base + "/policies/" + p.ID
	return &jsonapi.Node{
		Type: "policies",
		ID:   p.ID,
		Attributes: map[string]any{
			"name":                          p.Name,
			"duration":                      p.Duration,
			"strict":                        p.Strict,
			"floating":                      p.Floating,
			"scheme":                        p.Scheme,
			"usePool":                       false,
			"encrypted":                     false,
			"protected":                     p.Protected,
			"maxMachines":                   p.MaxMachines,
			"maxProcesses":                  p.MaxProcesses,
			"maxUsers":                      p.MaxUsers,
			"maxCores":                      p.MaxCores,
			"maxMemory":                     p.MaxMemory,
			"maxDisk":                       p.MaxDisk,
			"maxUses":                       p.MaxUses,
			"requireProductScope":           p.RequireProductScope,
			"requirePolicyScope":            p.RequirePolicyScope,
			"requireMachineScope":           p.RequireMachineScope,
			"requireFingerprintScope":       p.RequireFingerprintScope,
			"requireComponentsScope":        p.RequireComponentsScope,
			"requireUserScope":              p.RequireUserScope,
			"requireChecksumScope":          p.RequireChecksumScope,
			"requireVersionScope":           p.RequireVersionScope,
			"requireCheckIn":                p.RequireCheckIn,
			"checkInInterval":               p.CheckInInterval,
			"checkInIntervalCount":          p.CheckInIntervalCount,
			"requireHeartbeat":              p.RequireHeartbeat,
			"heartbeatDuration":             p.HeartbeatDuration,
			"heartbeatBasis":                p.HeartbeatBasis,
			"heartbeatCullStrategy":         p.HeartbeatCullStrategy,
			"heartbeatResurrectionStrategy": p.HeartbeatResurrectionStrategy,
			"machineUniquenessStrategy":     p.MachineUniquenessStrategy,
			"machineMatchingStrategy":       p.MachineMatchingStrategy,
			"componentUniquenessStrategy":   p.ComponentUniquenessStrategy,
			"componentMatchingStrategy":     p.ComponentMatchingStrategy,
			"expirationStrategy":            p.ExpirationStrategy,
			"expirationBasis":               p.ExpirationBasis,
			"renewalBasis":                  p.RenewalBasis,
			"transferStrategy":              p.TransferStrategy,
			"authenticationStrategy":        p.AuthenticationStrategy,
			"machineLeasingStrategy":        p.MachineLeasingStrategy,
			"processLeasingStrategy":        p.ProcessLeasingStrategy,
			"overageStrategy":               p.OverageStrategy,
			"metadata":                      document.Metadata(p.Metadata),
			"created":                       document.Time(p.CreatedAt),
			"updated":                       document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", p.AccountID, base),
			"product": document.ToOne("products", p.ProductID, base+"/products/"+p.ProductID),
		},
		Links: &jsonapi.Links{"self": self},
	}
}
