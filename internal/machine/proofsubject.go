package machine

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/policy"
)

// ProofSubject returns a machine who may generate an offline proof for,
// with its license (key opened) and policy, as Keygen's
// Machines::V1x0::ProofPolicy#create?: staff and products, the license
// itself, and the license's owner unless the license is protected.
func (s *Service) ProofSubject(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Machine, *license.License, *policy.Policy, error) {
	m, err := s.visible(ctx, who, t, ref, "machine.proofs.generate")
	if err != nil {
		return nil, nil, nil, err
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return nil, nil, nil, err
	}
	if who.BearerType == access.BearerUser && !who.Staff() {
		if l.OwnerID == nil || *l.OwnerID != who.BearerID {
			return nil, nil, nil, access.Denied("only the license's owner may generate a proof")
		}
		if err := protected(who, l, pol); err != nil {
			return nil, nil, nil, err
		}
	}
	return m, l, pol, nil
}
