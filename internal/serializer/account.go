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
		// Keygen publishes base64 of the hex-encoded key (and of the PEMs);
		// publicKey is the RSA one, as before Keygen had several.
		Meta: accountMeta(a),
	}
}

func accountMeta(a *account.Account) *jsonapi.Meta {
	pem := func(p *string) any {
		if p == nil {
			return nil
		}
		return base64.StdEncoding.EncodeToString([]byte(*p))
	}
	keys := map[string]any{
		"ed25519": base64.StdEncoding.EncodeToString([]byte(a.Ed25519PublicKey)),
		"rsa2048": pem(a.RSAPublicKey),
		"ecdsa":   pem(a.ECDSAPublicKey),
	}
	return &jsonapi.Meta{"publicKey": keys["rsa2048"], "keys": keys}
}
