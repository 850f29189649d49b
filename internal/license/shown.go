package license

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/policy"
)

// Totals sum a license's machines.
type Totals struct {
	Count, Cores, Memory, Disk int64
}

// MachineTotals sums the machines of licenses.
type MachineTotals interface {
	StatsOf(ctx context.Context, licenseIDs []string) (map[string]Totals, error)
}

// Shown is a license as the API shows it: with its policy, which fills the
// attributes a license inherits, and the totals of its machines.
type Shown struct {
	License  *License
	Policy   *policy.Policy
	Machines Totals
	// Users is how many users hold the license: its owner and the users
	// attached to it (Keygen's users_count).
	Users int64
}

// Show completes licenses who was given for showing: pol, when not nil, is
// a policy the caller holds already; every other policy is loaded once,
// and the machine totals and user counts of all licenses in a query each.
func (s *Service) Show(ctx context.Context, who *access.Principal, t *account.Tenant, pol *policy.Policy, licenses ...*License) ([]Shown, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	policies := map[string]*policy.Policy{}
	if pol != nil {
		policies[pol.ID] = pol
	}
	ids := make([]string, len(licenses))
	for i, l := range licenses {
		ids[i] = l.ID
	}
	totals, err := s.machines.StatsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	licensees, err := s.store.Licensees(ctx, ids)
	if err != nil {
		return nil, err
	}
	shown := make([]Shown, len(licenses))
	for i, l := range licenses {
		p, ok := policies[l.PolicyID]
		if !ok {
			if p, err = s.policies.Get(ctx, t.ID, l.PolicyID); err != nil {
				return nil, err
			}
			policies[l.PolicyID] = p
		}
		users := licensees[l.ID]
		if l.OwnerID != nil {
			users++
		}
		shown[i] = Shown{License: l, Policy: p, Machines: totals[l.ID], Users: users}
	}
	return shown, nil
}
