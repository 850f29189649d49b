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

// attachmentTypes are, per kind of record, the type of its attachments
// and their relationship to it.
var attachmentTypes = map[entitlement.Kind]struct{ typ, owner string }{
	entitlement.OnPolicy:  {"policy-entitlements", "policy"},
	entitlement.OnLicense: {"license-entitlements", "license"},
	entitlement.OnRelease: {"constraints", "release"},
}

// Attachment renders the attachments of entitlements to a kind of record:
// policy or license entitlements, or release constraints.
func Attachment(on entitlement.Kind) func(*entitlement.Attachment) *jsonapi.Node {
	kind, names := string(on), attachmentTypes[on]
	return func(a *entitlement.Attachment) *jsonapi.Node {
		base := document.AccountPath(a.AccountID)
		return &jsonapi.Node{
			Type: names.typ, ID: a.ID,
			Attributes: map[string]any{"created": document.Time(a.CreatedAt), "updated": document.Time(a.UpdatedAt)},
			Relationships: map[string]any{
				"account":     document.ToOne("accounts", a.AccountID, base),
				"entitlement": document.ToOne("entitlements", a.EntitlementID, base+"/entitlements/"+a.EntitlementID),
				names.owner:   document.ToOne(kind, a.OwnerID, base+"/"+kind+"/"+a.OwnerID),
			},
		}
	}
}
