package serializer

import (
	"time"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
)

// License renders a license as the license rules show it: with its policy
// (which fills the attributes a license inherits) and its machine totals.
func License(shown *license.Shown) *jsonapi.Node {
	l, pol, machines := shown.License, shown.Policy, shown.Machines
	base := document.AccountPath(l.AccountID)
	self := base + "/licenses/" + l.ID
	now := time.Now()
	protected := pol.Protected
	if l.Protected != nil {
		protected = *l.Protected
	}
	return &jsonapi.Node{
		Type: "licenses",
		ID:   l.ID,
		Attributes: map[string]any{
			"name":             l.Name,
			"key":              l.Key,
			"expiry":           document.OptionalTime(l.Expiry),
			"status":           l.Status(now),
			"uses":             l.Uses,
			"suspended":        l.Suspended,
			"scheme":           pol.Scheme,
			"encrypted":        false,
			"strict":           pol.Strict,
			"floating":         pol.Floating,
			"protected":        protected,
			"version":          l.LastValidatedVersion,
			"maxMachines":      license.Effective(l.MaxMachines, pol.MaxMachines),
			"maxProcesses":     license.Effective(l.MaxProcesses, pol.MaxProcesses),
			"maxUsers":         license.Effective(l.MaxUsers, pol.MaxUsers),
			"maxCores":         license.Effective(l.MaxCores, pol.MaxCores),
			"maxMemory":        license.Effective(l.MaxMemory, pol.MaxMemory),
			"maxDisk":          license.Effective(l.MaxDisk, pol.MaxDisk),
			"maxUses":          license.Effective(l.MaxUses, pol.MaxUses),
			"requireHeartbeat": pol.RequireHeartbeat,
			"requireCheckIn":   pol.RequireCheckIn,
			"lastValidated":    document.OptionalTime(l.LastValidatedAt),
			"lastCheckIn":      document.OptionalTime(l.LastCheckInAt),
			"nextCheckIn":      document.OptionalTime(license.NextCheckIn(l, pol)),
			"lastCheckOut":     document.OptionalTime(l.LastCheckOutAt),
			"metadata":         document.Metadata(l.Metadata),
			"created":          document.Time(l.CreatedAt),
			"updated":          document.Time(l.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", l.AccountID, base),
			"product": document.ToOne("products", l.ProductID, base+"/products/"+l.ProductID),
			"policy":  document.ToOne("policies", l.PolicyID, base+"/policies/"+l.PolicyID),
			"owner":   owner(l.OwnerID, self),
			"group":   memberGroup(l.GroupID, self),
			"machines": document.ToMany(self+"/machines").Counted(document.Count{Name: "count", N: machines.Count},
				document.Count{Name: "cores", N: machines.Cores}, document.Count{Name: "memory", N: machines.Memory}, document.Count{Name: "disk", N: machines.Disk}),
			"users":        document.ToMany(self + "/users").Counted(document.Count{Name: "count", N: shown.Users}),
			"tokens":       document.ToMany(self + "/tokens"),
			"entitlements": document.ToMany(self + "/entitlements"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}

// memberGroup renders the group relationship of a group member, or data null.
func memberGroup(groupID *string, self string) document.Relationship {
	var id string
	if groupID != nil {
		id = *groupID
	}
	return document.ToOne("groups", id, self+"/group")
}

// owner is the owner of a license or machine at self: a user
// or null, related through self/owner.
func owner(ownerID *string, self string) document.Relationship {
	var id string
	if ownerID != nil {
		id = *ownerID
	}
	return document.ToOne("users", id, self+"/owner")
}
