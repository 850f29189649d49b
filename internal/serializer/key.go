package serializer

import (
	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/key"
)

// Key renders a pooled key, as Keygen's key serializer.
func Key(k *key.Key) *jsonapi.Node {
	base := document.AccountPath(k.AccountID)
	self := base + "/keys/" + k.ID
	return &jsonapi.Node{
		Type: "keys",
		ID:   k.ID,
		Attributes: map[string]any{
			"key":     k.Key,
			"created": document.Time(k.CreatedAt),
			"updated": document.Time(k.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", k.AccountID, base),
			"product": document.ToOne("products", k.ProductID, self+"/product"),
			"policy":  document.ToOne("policies", k.PolicyID, self+"/policy"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}
