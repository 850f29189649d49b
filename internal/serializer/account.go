package serializer

import (
	"encoding/base64"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
)

// accountLists are the account's lists its document links, as Keygen's
// serializer does (those relkey serves): relationship name and path.
var accountLists = [][2]string{
	{"webhookEndpoints", "webhook-endpoints"}, {"webhookEvents", "webhook-events"}, {"products", "products"},
	{"platforms", "platforms"}, {"arches", "arches"}, {"channels", "channels"}, {"releases", "releases"},
	{"artifacts", "artifacts"}, {"policies", "policies"}, {"users", "users"}, {"licenses", "licenses"},
	{"machines", "machines"}, {"tokens", "tokens"}, {"keys", "keys"}, {"settings", "settings"},
}

// Account renders an account. Its apiVersion is the version requests
// that pin none speak; status is null, as Keygen's without billing.
func Account(a *account.Account) *jsonapi.Node {
	base := document.AccountPath(a.ID)
	apiVersion := account.APIVersions[len(account.APIVersions)-1]
	if a.APIVersion != nil {
		apiVersion = *a.APIVersion
	}
	rels := map[string]any{}
	for _, l := range accountLists {
		rels[l[0]] = document.ToMany(base + "/" + l[1])
	}
	return &jsonapi.Node{
		Type: "accounts",
		ID:   a.ID,
		Attributes: map[string]any{
			"name":       a.Name,
			"slug":       a.Slug,
			"apiVersion": apiVersion,
			"status":     nil,
			"protected":  a.Protected,
			"created":    document.Time(a.CreatedAt),
			"updated":    document.Time(a.UpdatedAt),
		},
		Relationships: rels,
		Links:         &jsonapi.Links{"self": base},
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
