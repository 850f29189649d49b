package httpapi

import (
	"encoding/base64"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
)

// APIVersion is the Keygen API version relkey speaks.
const APIVersion = "1.8"

func (s *Server) showAccount(c echo.Context) error {
	if err := principalOf(c).Require("account.read"); err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, accountNode(tenantOf(c).Account), nil)
}

func accountNode(a *account.Account) *jsonapi.Node {
	return &jsonapi.Node{
		Type: "accounts",
		ID:   a.ID,
		Attributes: map[string]any{
			"name":       a.Name,
			"slug":       a.Slug,
			"apiVersion": APIVersion,
			"protected":  a.Protected,
			"created":    document.Time(a.CreatedAt),
			"updated":    document.Time(a.UpdatedAt),
		},
		Links: &jsonapi.Links{"self": document.AccountPath(a.ID)},
		// Keygen publishes base64 of the hex-encoded key (and of the PEM).
		Meta: &jsonapi.Meta{"keys": accountKeys(a)},
	}
}

func accountKeys(a *account.Account) map[string]any {
	keys := map[string]any{"ed25519": base64.StdEncoding.EncodeToString([]byte(a.Ed25519PublicKey)), "rsa2048": nil}
	if a.RSAPublicKey != nil {
		keys["rsa2048"] = base64.StdEncoding.EncodeToString([]byte(*a.RSAPublicKey))
	}
	return keys
}
