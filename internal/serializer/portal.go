package serializer

import (
	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/session"
)

// PortalSession renders a one-time portal link as POST /portal-sessions
// answers it; portal is the link's address, shown only in this answer
// (events render the session without it).
func PortalSession(l *session.PortalLink, portal string) *jsonapi.Node {
	base := document.AccountPath(l.AccountID)
	g := l.Grant.Effective()
	rel := map[string]any{"account": document.ToOne("accounts", l.AccountID, base)}
	if l.BearerType == access.BearerLicense {
		rel["license"] = document.ToOne("licenses", l.BearerID, base+"/licenses/"+l.BearerID)
	} else {
		rel["user"] = document.ToOne("users", l.BearerID, base+"/users/"+l.BearerID)
	}
	if g.ProductID != "" {
		rel["product"] = document.ToOne("products", g.ProductID, base+"/products/"+g.ProductID)
	}
	node := &jsonapi.Node{
		Type: "portal-sessions",
		ID:   l.ID,
		Attributes: map[string]any{
			"returnUrl":        g.ReturnURL,
			"permissions":      g.Permissions,
			"activationFields": g.ActivationFields,
			"fingerprintLabel": g.Label(),
			"expiry":           document.Time(l.ExpiresAt),
			"created":          document.Time(l.CreatedAt),
		},
		Relationships: rel,
	}
	if portal != "" {
		node.Links = &jsonapi.Links{"portal": portal}
	}
	return node
}
