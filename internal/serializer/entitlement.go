package serializer

import (
	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/entitlement"
)

// Entitlement renders an entitlement.
func Entitlement(e *entitlement.Entitlement) *jsonapi.Node {
	base := document.AccountPath(e.AccountID)
	return &jsonapi.Node{
		Type: "entitlements",
		ID:   e.ID,
		Attributes: map[string]any{
			"name":     e.Name,
			"code":     e.Code,
			"metadata": document.Metadata(e.Metadata),
			"created":  document.Time(e.CreatedAt),
			"updated":  document.Time(e.UpdatedAt),
		},
		Relationships: map[string]any{"account": document.ToOne("accounts", e.AccountID, base)},
		Links:         &jsonapi.Links{"self": base + "/entitlements/" + e.ID},
	}
}
