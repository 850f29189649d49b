package serializer

import (
	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/group"
)

// Group renders a group.
func Group(g *group.Group) *jsonapi.Node {
	base := document.AccountPath(g.AccountID)
	self := base + "/groups/" + g.ID
	return &jsonapi.Node{
		Type: "groups",
		ID:   g.ID,
		Attributes: map[string]any{
			"name":        g.Name,
			"maxUsers":    g.MaxUsers,
			"maxLicenses": g.MaxLicenses,
			"maxMachines": g.MaxMachines,
			"metadata":    document.Metadata(g.Metadata),
			"created":     document.Time(g.CreatedAt),
			"updated":     document.Time(g.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":  document.ToOne("accounts", g.AccountID, base),
			"owners":   document.ToMany(self + "/owners"),
			"users":    document.ToMany(self + "/users"),
			"licenses": document.ToMany(self + "/licenses"),
			"machines": document.ToMany(self + "/machines"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}

// GroupOwner renders a group owner.
func GroupOwner(o *group.Owner) *jsonapi.Node {
	base := document.AccountPath(o.AccountID)
	return &jsonapi.Node{
		Type:       "group-owners",
		ID:         o.ID,
		Attributes: map[string]any{"created": document.Time(o.CreatedAt), "updated": document.Time(o.UpdatedAt)},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", o.AccountID, base),
			"group":   document.ToOne("groups", o.GroupID, base+"/groups/"+o.GroupID),
			"user":    document.ToOne("users", o.UserID, base+"/users/"+o.UserID),
		},
		Links: &jsonapi.Links{"self": base + "/groups/" + o.GroupID + "/owners/" + o.ID},
	}
}
