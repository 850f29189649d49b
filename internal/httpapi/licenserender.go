package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/serializer"
)

// showLicenses completes licenses for rendering through the license rules;
// pol is a policy the handler holds already (nil for none).
func (s *Server) showLicenses(c echo.Context, pol *policy.Policy, licenses ...*license.License) ([]license.Shown, error) {
	return s.Licenses.Show(c.Request().Context(), principalOf(c), tenantOf(c), pol, licenses...)
}

func (s *Server) renderLicenseValue(c echo.Context, status int, l *license.License) error {
	shown, err := s.showLicenses(c, nil, l)
	if err != nil {
		return err
	}
	return s.renderOne(c, status, serializer.License(&shown[0]), nil)
}
