package machine

import (
	"context"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/policy"
)

// LicenseUsers tells which users hold a license (its owner and licensees).
type LicenseUsers interface {
	// LicenseUserID returns the id of the user ref names who owns or holds
	// the license, "" when none does.
	LicenseUserID(ctx context.Context, accountID, licenseID, ref string) (string, error)
	// VisibleID returns the id of a user who may see, NotFound otherwise.
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// ChangeOwner gives the machine to the user ownerID names, who must own or
// hold the machine's license, or takes its owner away (ownerID nil): staff
// and the machine's product (machine.owner.update), as Keygen's
// Machines::OwnerPolicy#update?. It returns the machine with its policy.
func (s *Service) ChangeOwner(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, ownerID *string) (*Machine, *policy.Policy, error) {
	m, err := s.visible(ctx, who, t, ref, "machine.owner.update")
	if err != nil {
		return nil, nil, err
	}
	if !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, nil, access.Denied("only staff and the machine's product may change its owner")
	}
	m.OwnerID = nil
	if ownerID != nil {
		if uuid.Validate(*ownerID) != nil || len(*ownerID) != 36 {
			return nil, nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "type mismatch (received string expected UUID string)", apperr.Record().Member("id"))
		}
		if _, err := s.users.VisibleID(ctx, who, t, *ownerID); apperr.Is(err, apperr.NotFound) {
			return nil, nil, apperr.At(apperr.Unprocessable, "OWNER_NOT_FOUND", "must exist", apperr.Rel("owner"))
		} else if err != nil {
			return nil, nil, err
		}
		holder, err := s.users.LicenseUserID(ctx, m.AccountID, m.LicenseID, *ownerID)
		if err != nil {
			return nil, nil, err
		}
		if holder == "" {
			return nil, nil, apperr.At(apperr.Unprocessable, "OWNER_INVALID", "must be a valid license user", apperr.Rel("owner"))
		}
		m.OwnerID = &holder
	}
	return s.saveEmitting(ctx, who, event.MachineOwnerUpdated, m)
}
