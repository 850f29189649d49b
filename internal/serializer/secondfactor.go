package serializer

import (
	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/secondfactor"
)

// SecondFactor renders a user's second factor; its secret and
// provisioning URI only while it is not enabled and they were revealed
// (never in events).
func SecondFactor(f *secondfactor.SecondFactor) *jsonapi.Node {
	base := document.AccountPath(f.AccountID)
	userPath := base + "/users/" + f.UserID
	attrs := map[string]any{
		"enabled": f.Enabled,
		"created": document.Time(f.CreatedAt),
		"updated": document.Time(f.UpdatedAt),
	}
	if !f.Enabled && f.Secret != "" {
		attrs["uri"], attrs["secret"] = f.URI, f.Secret
	}
	return &jsonapi.Node{
		Type:       "second-factors",
		ID:         f.ID,
		Attributes: attrs,
		Relationships: map[string]any{
			"account": document.ToOne("accounts", f.AccountID, base),
			"user":    document.ToOne("users", f.UserID, userPath),
		},
		Links: &jsonapi.Links{"self": userPath + "/second-factors/" + f.ID},
	}
}
