package serializer

import (
	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/policy"
)

// Policy renders a policy.
func Policy(p *policy.Policy) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	self := base + "/policies/" + p.ID
	return &jsonapi.Node{
		Type: "policies",
		ID:   p.ID,
		Attributes: map[string]any{
			"name":                          p.Name,
			"duration":                      p.Duration,
			"strict":                        p.Strict,
			"floating":                      p.Floating,
			"scheme":                        p.Scheme,
			"usePool":                       p.UsePool,
			"encrypted":                     false,
			"protected":                     p.Protected,
			"maxMachines":                   p.MaxMachines,
			"maxProcesses":                  p.MaxProcesses,
			"maxUsers":                      p.MaxUsers,
			"maxCores":                      p.MaxCores,
			"maxMemory":                     p.MaxMemory,
			"maxDisk":                       p.MaxDisk,
			"maxUses":                       p.MaxUses,
			"requireProductScope":           p.RequireProductScope,
			"requirePolicyScope":            p.RequirePolicyScope,
			"requireMachineScope":           p.RequireMachineScope,
			"requireFingerprintScope":       p.RequireFingerprintScope,
			"requireComponentsScope":        p.RequireComponentsScope,
			"requireUserScope":              p.RequireUserScope,
			"requireChecksumScope":          p.RequireChecksumScope,
			"requireVersionScope":           p.RequireVersionScope,
			"requireCheckIn":                p.RequireCheckIn,
			"checkInInterval":               p.CheckInInterval,
			"checkInIntervalCount":          p.CheckInIntervalCount,
			"requireHeartbeat":              p.RequireHeartbeat,
			"heartbeatDuration":             p.HeartbeatDuration,
			"heartbeatBasis":                p.HeartbeatBasis,
			"heartbeatCullStrategy":         p.HeartbeatCullStrategy,
			"heartbeatResurrectionStrategy": p.HeartbeatResurrectionStrategy,
			"machineUniquenessStrategy":     p.MachineUniquenessStrategy,
			"machineMatchingStrategy":       p.MachineMatchingStrategy,
			"componentUniquenessStrategy":   p.ComponentUniquenessStrategy,
			"componentMatchingStrategy":     p.ComponentMatchingStrategy,
			"expirationStrategy":            p.ExpirationStrategy,
			"expirationBasis":               p.ExpirationBasis,
			"renewalBasis":                  p.RenewalBasis,
			"transferStrategy":              p.TransferStrategy,
			"authenticationStrategy":        p.AuthenticationStrategy,
			"machineLeasingStrategy":        p.MachineLeasingStrategy,
			"processLeasingStrategy":        p.ProcessLeasingStrategy,
			"overageStrategy":               p.OverageStrategy,
			"metadata":                      document.Metadata(p.Metadata),
			"created":                       document.Time(p.CreatedAt),
			"updated":                       document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":      document.ToOne("accounts", p.AccountID, base),
			"product":      document.ToOne("products", p.ProductID, base+"/products/"+p.ProductID),
			"pool":         document.ToMany(self + "/pool"),
			"licenses":     document.ToMany(self + "/licenses"),
			"entitlements": document.ToMany(self + "/entitlements"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}
