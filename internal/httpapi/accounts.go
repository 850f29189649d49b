package httpapi

import (
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/labstack/echo/v4"
)

// APIVersion is the Keygen API version relkey speaks.
const APIVersion = "1.8"

func (s *Server) showAccount(c echo.Context) error {
	a, err := s.Accounts.Show(c.Request().Context(), principalOf(c), tenantOf(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Account(a, APIVersion), nil)
}

// deleteAccount is DELETE /v1/accounts/:account, which Keygen CE routes
// but refuses every bearer.
func (s *Server) deleteAccount(c echo.Context) error {
	return s.Accounts.Delete(c.Request().Context(), principalOf(c), tenantOf(c))
}
