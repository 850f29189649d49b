package license

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/policy"
)

// Authentication strategies that admit each credential.
var (
	keyAuth   = map[string]bool{policy.AuthLicense: true, policy.AuthMixed: true}
	tokenAuth = map[string]bool{policy.AuthToken: true, policy.AuthMixed: true}
)

// AuthenticateLicense turns a license key into the license's principal,
// failing in Keygen's order: LICENSE_INVALID (401), then LICENSE_BANNED,
// LICENSE_SUSPENDED, LICENSE_EXPIRED (REVOKE_ACCESS only) and
// LICENSE_NOT_ALLOWED (403). With keep, the whole license and policy are
// read and kept in the principal for the request's rules (a request that
// acts on the bearer's own license); without, only what authentication
// and the license's sight of releases need, and a rule that wants the
// license reads it.
func (s *Service) AuthenticateLicense(ctx context.Context, t *account.Tenant, key string, keep bool) (*access.Principal, error) {
	find := s.store.FindBearerByDigest
	if keep {
		find = s.store.FindByDigestWithPolicy
	}
	l, pol, err := find(ctx, t.ID, Digest(t.Keys.Secret, key))
	who, err := s.usablePrincipal(l, pol, err, keep)
	if err != nil {
		return nil, err
	}
	if !keyAuth[pol.AuthenticationStrategy] {
		return nil, apperr.New(apperr.Forbidden, "LICENSE_NOT_ALLOWED", "License key authentication is not allowed by policy")
	}
	return who, nil
}

// usablePrincipal is the principal of the license a lookup found (kept in
// it with keep), refusing a missing license (LICENSE_INVALID) and an
// unusable one.
func (s *Service) usablePrincipal(l *License, pol *policy.Policy, err error, keep bool) (*access.Principal, error) {
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.Unauthenticated, "LICENSE_INVALID", "License key is invalid")
	}
	if err != nil {
		return nil, err
	}
	if err := usable(l, pol, s.now()); err != nil {
		return nil, err
	}
	return principal(l, pol, "", nil, keep), nil
}

// Reach is what the license's sight of releases depends on, when it was
// read with its product (authentication's reads, and a validation's scoped
// to a release); nil otherwise, and the release rules read it themselves.
func (l *License) Reach(pol *policy.Policy) *access.LicenseReach {
	if l.ProductDistribution == "" {
		return nil
	}
	return &access.LicenseReach{Expiry: l.Expiry, ExpirationStrategy: pol.ExpirationStrategy,
		DistributionStrategy: l.ProductDistribution, AnyOpen: l.AnyOpenProduct}
}

// Scope is the release scope of the license as a bearer.
func (l *License) Scope(pol *policy.Policy) access.Scope {
	return access.Scope{LicenseID: l.ID, LicensePolicyID: l.PolicyID, LicenseProductID: l.ProductID, Reach: l.Reach(pol)}
}

// bearerRecord is a license bearer's license and policy as authentication
// read them.
type bearerRecord struct {
	license License
	policy  policy.Policy
}

// own is the bearer's license and policy when ref names the bearer's own
// license by id (else false): what authentication kept, so the request's
// rules reuse it, or one read of both.
func (s *Service) own(ctx context.Context, who *access.Principal, accountID, ref string) (*License, *policy.Policy, bool, error) {
	if who.BearerType != access.BearerLicense || who.BearerID != ref || who.AccountID != accountID {
		return nil, nil, false, nil
	}
	if rec, ok := who.Record.(*bearerRecord); ok {
		l, pol := rec.license, rec.policy
		return &l, &pol, true, nil
	}
	l, pol, err := s.store.FindWithPolicy(ctx, accountID, ref)
	return l, pol, true, err
}

// usable refuses banned, suspended and revoke-expired licenses.
func usable(l *License, pol *policy.Policy, now time.Time) error {
	switch {
	case l.OwnerBanned:
		return apperr.New(apperr.Forbidden, "LICENSE_BANNED", "License is banned")
	case l.Suspended:
		return apperr.New(apperr.Forbidden, "LICENSE_SUSPENDED", "License is suspended")
	case pol.ExpirationStrategy == policy.RevokeAccess && l.Expired(now):
		return apperr.New(apperr.Forbidden, "LICENSE_EXPIRED", "License is expired")
	}
	return nil
}

// PrincipalForToken is the principal of a license's activation token.
func (s *Service) PrincipalForToken(ctx context.Context, accountID, licenseID, tokenID string, perms []string) (*access.Principal, error) {
	l, pol, err := s.store.FindWithPolicy(ctx, accountID, licenseID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")
	}
	if err != nil {
		return nil, err
	}
	if !tokenAuth[pol.AuthenticationStrategy] {
		return nil, apperr.New(apperr.Forbidden, "TOKEN_NOT_ALLOWED", "Token authentication is not allowed by policy")
	}
	return principal(l, pol, tokenID, perms, true), nil
}

// principal is the license's principal; with keep, l and pol are its
// Record.
func principal(l *License, pol *policy.Policy, tokenID string, perms []string, keep bool) *access.Principal {
	p := access.NewPrincipal(l.AccountID, access.RoleLicense, access.BearerLicense, l.ID, tokenID, perms)
	if keep {
		p.Record = &bearerRecord{license: *l, policy: *pol}
	}
	p.Reach = l.Reach(pol)
	p.ProductID, p.PolicyID = l.ProductID, l.PolicyID
	p.LicenseSuspended, p.LicenseBanned = l.Suspended, l.OwnerBanned
	if l.Expiry == nil && pol.Duration != nil {
		p.ExpiryStartsOn = pol.ExpirationBasis
	}
	if l.OwnerID != nil {
		p.OwnerID = *l.OwnerID
	}
	return p
}

// PrincipalForPortal is the principal of a license whose customer portal
// session (opened by its key, or by a vendor's one-time link) is in use:
// refused while the license is unusable.
func (s *Service) PrincipalForPortal(ctx context.Context, accountID, licenseID string) (*access.Principal, error) {
	l, pol, err := s.store.FindWithPolicy(ctx, accountID, licenseID)
	return s.usablePrincipal(l, pol, err, true)
}
