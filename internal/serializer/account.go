package serializer

import (
	"encoding/base64"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
)

// Account renders an account; apiVersion is the Keygen API version relkey speaks.
func Account(a *account.Account, apiVersion string) *jsonapi.Node {
	return &jsonapi.Node{
		Type: "accounts",
		ID:   a.ID,
		Attributes: map[string]any{
			"name":       a.Name,
			"slug":       a.Slug,
			"apiVersion": apiVersion,
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
