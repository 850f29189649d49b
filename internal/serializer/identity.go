package serializer

import (
	"time"

	"github.com/relkey/relkey/internal/user"

	"github.com/relkey/relkey/internal/token"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
)

// Token renders a token; raw is shown only when the token was just issued.
func Token(t *token.Token, raw string) *jsonapi.Node {
	base := document.AccountPath(t.AccountID)
	permissions := t.Permissions
	if permissions == nil {
		permissions = []string{access.Wildcard}
	}
	attrs := map[string]any{
		"kind":        t.Kind,
		"token":       nil,
		"name":        t.Name,
		"expiry":      document.OptionalTime(t.Expiry),
		"permissions": permissions,
		"created":     document.Time(t.CreatedAt),
		"updated":     document.Time(t.UpdatedAt),
	}
	if raw != "" {
		attrs["token"] = raw
	}
	if t.Kind == token.KindActivation {
		attrs["maxActivations"], attrs["activations"] = t.MaxActivations, t.Activations
		attrs["maxDeactivations"], attrs["deactivations"] = t.MaxDeactivations, t.Deactivations
	}
	return &jsonapi.Node{
		Type:       "tokens",
		ID:         t.ID,
		Attributes: attrs,
		Relationships: map[string]any{
			"account": document.ToOne("accounts", t.AccountID, base),
			"bearer":  document.ToOne(t.BearerType, t.BearerID, base+"/"+t.BearerType+"/"+t.BearerID),
		},
		Links: &jsonapi.Links{"self": base + "/tokens/" + t.ID},
	}
}

// User renders a user.
func User(u *user.User) *jsonapi.Node {
	base := document.AccountPath(u.AccountID)
	self := base + "/users/" + u.ID
	return &jsonapi.Node{
		Type: "users",
		ID:   u.ID,
		Attributes: map[string]any{
			"fullName":  u.FullName(),
			"firstName": u.FirstName,
			"lastName":  u.LastName,
			"email":     u.Email,
			"status":    u.Status(time.Now()),
			"role":      u.Role,
			"metadata":  document.Metadata(u.Metadata),
			"created":   document.Time(u.CreatedAt),
			"updated":   document.Time(u.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":  document.ToOne("accounts", u.AccountID, base),
			"products": document.ToMany(self + "/products"),
			"licenses": document.ToMany(self + "/licenses"),
			"machines": document.ToMany(self + "/machines"),
			"tokens":   document.ToMany(self + "/tokens"),
			"group":    memberGroup(u.GroupID, self),
		},
		Links: &jsonapi.Links{"self": self},
	}
}
