package httpapi

import (
	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/serializer"
)

// licenseNodes renders licenses as the license rules show them; pol is a
// policy the handler holds already (nil for none).
func (s *Server) licenseNodes(c echo.Context, pol *policy.Policy, licenses ...*license.License) ([]*jsonapi.Node, error) {
	shown, err := s.Licenses.Show(c.Request().Context(), principalOf(c), tenantOf(c), pol, licenses...)
	if err != nil {
		return nil, err
	}
	nodes := make([]*jsonapi.Node, len(shown))
	for i, l := range shown {
		nodes[i] = serializer.License(l.License, l.Policy, l.Machines)
	}
	return nodes, nil
}

func (s *Server) renderLicenseValue(c echo.Context, status int, l *license.License, meta *jsonapi.Meta) error {
	nodes, err := s.licenseNodes(c, nil, l)
	if err != nil {
		return err
	}
	return s.renderOne(c, status, nodes[0], meta)
}
