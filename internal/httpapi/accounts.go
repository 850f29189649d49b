package httpapi

import (
	"net/http"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
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
	return s.renderOne(c, http.StatusOK, serializer.Account(a), nil)
}

var accountResource = document.Resource{Singular: "account", Plural: "accounts"}

// updateAccount is PATCH (and PUT) /v1/accounts/:account.
func (s *Server) updateAccount(c echo.Context) error {
	p, err := attributesOnly[account.Changes](s, c, accountResource)
	if err != nil {
		return err
	}
	a, err := s.Accounts.Update(c.Request().Context(), principalOf(c), tenantOf(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Account(a), nil)
}

// deleteAccount is DELETE /v1/accounts/:account, which Keygen CE routes
// but refuses every bearer.
func (s *Server) deleteAccount(c echo.Context) error {
	return s.Accounts.Delete(c.Request().Context(), principalOf(c), tenantOf(c))
}
