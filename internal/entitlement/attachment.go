package entitlement

import (
	"context"
	"fmt"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
)

// Kind is the kind of record entitlements attach to, as its JSON:API type.
type Kind string

// The kinds of record entitlements attach to.
const (
	OnPolicy  Kind = "policies"
	OnLicense Kind = "licenses"
	OnRelease Kind = "releases" // its attachments are constraints
)

// changePermissions prefixes the .attach and .detach permissions of each kind.
var changePermissions = map[Kind]string{
	OnPolicy:  "policy.entitlements",
	OnLicense: "license.entitlements",
	OnRelease: "release.constraints",
}

// Ref names the policy, license or release of a request: its id (or a
// license's key, a release's version or tag) and, for a release named by
// version or tag, the product (an id) and package (an id or key; "" for
// releases without a package; nil for any) that narrow the lookup.
type Ref struct {
	ID      string
	Product string
	Package *string
}

// Targets finds the records entitlements attach to as who sees them: one
// missing or out of sight is NOT_FOUND.
type Targets interface {
	// Policy returns the id of a policy who may see.
	Policy(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
	// License returns the id and the policy of a license who may see, by id or key.
	License(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (id, policyID string, err error)
	// Release returns the id of a release who may read, by id, version or tag.
	Release(ctx context.Context, who *access.Principal, t *account.Tenant, ref Ref) (string, error)
}

// Attachment joins an entitlement to a policy, a license or a release.
type Attachment struct {
	ID            string
	AccountID     string
	OwnerID       string // the policy, license or release
	EntitlementID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Target is what entitlements are attached to.
type Target struct {
	Table    string // policy_entitlements, license_entitlements or release_entitlement_constraints
	Column   string // policy_id, license_id or release_id
	ID       string
	PolicyID string // for licenses: their policy, whose entitlements conflict
	// Field holds the attached items in the request (apperr.Record() when
	// zero) and Code prefixes the error codes about them.
	Field apperr.Field
	Code  string
}

// field locates attached item i in the request.
func (t Target) field(i int) apperr.Field {
	if t.Field == (apperr.Field{}) {
		return apperr.Record().Item(i)
	}
	return t.Field.Item(i)
}

// attachField is where an attach error of item i points: Keygen's
// /data/relationships/entitlement for policies and licenses, the target's
// own field (a release's embedded constraints) otherwise.
func (t Target) attachField(i int) apperr.Field {
	if t.Field == (apperr.Field{}) {
		return apperr.Rel("entitlement")
	}
	return t.Field.Item(i)
}

// PolicyTarget is a policy, whose entitlements every license of it holds.
func PolicyTarget(policyID string) Target {
	return Target{Table: "policy_entitlements", Column: "policy_id", ID: policyID}
}

// LicenseTarget is a license, whose policy's entitlements it may not repeat.
func LicenseTarget(licenseID, policyID string) Target {
	return Target{Table: "license_entitlements", Column: "license_id", ID: licenseID, PolicyID: policyID}
}

// ReleaseTarget is a release, whose attached entitlements are constraints:
// a license must hold all of them to reach the release.
func ReleaseTarget(releaseID string) Target {
	return Target{Table: "release_entitlement_constraints", Column: "release_id", ID: releaseID}
}

// target finds the record of a request as who sees it in the account t.
func (s *Service) target(ctx context.Context, who *access.Principal, t *account.Tenant, on Kind, ref Ref) (Target, error) {
	if who == nil {
		return Target{}, access.ErrTokenMissing
	}
	switch on {
	case OnPolicy:
		policyID, err := s.targets.Policy(ctx, who, t, ref.ID)
		return PolicyTarget(policyID), err
	case OnLicense:
		licenseID, policyID, err := s.targets.License(ctx, who, t, ref.ID)
		return LicenseTarget(licenseID, policyID), err
	case OnRelease:
		releaseID, err := s.targets.Release(ctx, who, t, ref)
		return ReleaseTarget(releaseID), err
	}
	return Target{}, fmt.Errorf("entitlements do not attach to %q", on)
}

// oldestFirst is the order of every list of attachments and of what they
// attach, whatever order the page asks for.
func oldestFirst(p page.Request) page.Request {
	p.Ascending = true
	return p
}

// permitted finds the record of a request as who sees it, then requires
// the permission: out of sight is a 404 whatever who may do.
func (s *Service) permitted(ctx context.Context, who *access.Principal, t *account.Tenant, on Kind, ref Ref, permission string) (Target, error) {
	target, err := s.target(ctx, who, t, on, ref)
	if err != nil {
		return Target{}, err
	}
	return target, who.Require(permission)
}

// Attached returns a page of the entitlements of a policy or release who
// may see, or of a license's own and its policy's, oldest first.
func (s *Service) Attached(ctx context.Context, who *access.Principal, t *account.Tenant, on Kind, ref Ref, p page.Request) ([]Entitlement, int64, error) {
	target, err := s.permitted(ctx, who, t, on, ref, "entitlement.read")
	if err != nil {
		return nil, 0, err
	}
	return s.store.Held(ctx, t.ID, target, oldestFirst(p))
}

// Constraints returns a page of the constraints of a release who may see,
// oldest first.
func (s *Service) Constraints(ctx context.Context, who *access.Principal, t *account.Tenant, release Ref, p page.Request) ([]Attachment, int64, error) {
	target, err := s.permitted(ctx, who, t, OnRelease, release, "constraint.read")
	if err != nil {
		return nil, 0, err
	}
	return s.store.Attachments(ctx, t.ID, target, oldestFirst(p))
}

// AttachTo attaches entitlements to a policy, license or release who may
// see, as Attach does with the kind's permission.
func (s *Service) AttachTo(ctx context.Context, who *access.Principal, t *account.Tenant, on Kind, ref Ref, ids []string) ([]Attachment, error) {
	target, err := s.target(ctx, who, t, on, ref)
	if err != nil {
		return nil, err
	}
	var attachments []Attachment
	err = s.events.Change(ctx, func(ctx context.Context) error {
		attachments, err = s.Attach(ctx, who, t, changePermissions[on]+".attach", target, ids)
		return err
	}, relationshipChange(who, t, on, target, ids, attached))
	if err != nil {
		return nil, err
	}
	return attachments, nil
}

// The events of attachments, by kind: attached, then detached.
var (
	attached = map[Kind]string{OnPolicy: event.PolicyEntitlementsAttached, OnLicense: event.LicenseEntitlementsAttached,
		OnRelease: event.ReleaseConstraintsAttached}
	detached = map[Kind]string{OnPolicy: event.PolicyEntitlementsDetached, OnLicense: event.LicenseEntitlementsDetached,
		OnRelease: event.ReleaseConstraintsDetached}
)

// relationshipChange is the event of entitlements attached to or detached
// from a target: about the target, naming the entitlements in its metadata.
func relationshipChange(who *access.Principal, t *account.Tenant, on Kind, target Target, ids []string, names map[Kind]string) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: names[on], AccountID: t.ID, Who: who,
			Resource: event.Ref{Type: string(on), AccountID: t.ID, ID: target.ID}, Metadata: map[string]any{"entitlements": ids}}
	}
}

// batchSize checks that a request changes 1 to 100 attachments.
func batchSize(verb string, ids []string) error {
	if len(ids) == 0 || len(ids) > 100 {
		return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must "+verb+" 1 to 100 entitlements", apperr.Record())
	}
	return nil
}

// Attach attaches entitlements (by id) to a target who may change: 1 to 100
// at once, all or none. Unknown → ENTITLEMENT_NOT_FOUND, already attached →
// ENTITLEMENT_TAKEN, already on the license's policy → ENTITLEMENT_CONFLICT.
func (s *Service) Attach(ctx context.Context, who *access.Principal, t *account.Tenant, permission string, target Target, ids []string) ([]Attachment, error) {
	if err := who.Require(permission); err != nil {
		return nil, err
	}
	if err := batchSize("attach", ids); err != nil {
		return nil, err
	}
	found, err := s.store.Existing(ctx, t.ID, ids)
	if err != nil {
		return nil, err
	}
	attachments := make([]Attachment, len(ids))
	now := s.now().UTC().Truncate(time.Millisecond)
	for i, eid := range ids {
		if !found[eid] {
			return nil, apperr.At(apperr.Unprocessable, target.Code+"ENTITLEMENT_NOT_FOUND", "entitlement must exist", target.attachField(i))
		}
		attachments[i] = Attachment{ID: id.New(), AccountID: t.ID, OwnerID: target.ID, EntitlementID: eid, CreatedAt: now, UpdatedAt: now}
	}
	if target.PolicyID != "" {
		onPolicy, err := s.store.AttachedIDs(ctx, PolicyTarget(target.PolicyID))
		if err != nil {
			return nil, err
		}
		for i, eid := range ids {
			if onPolicy[eid] {
				return nil, apperr.At(apperr.Unprocessable, "ENTITLEMENT_CONFLICT", "already exists (entitlement is attached through policy)", target.attachField(i))
			}
		}
	}
	taken, err := s.store.Attach(ctx, target, attachments)
	if err != nil {
		return nil, err
	}
	if taken >= 0 {
		return nil, apperr.At(apperr.Unprocessable, target.Code+"ENTITLEMENT_TAKEN", "already exists", target.attachField(taken))
	}
	return attachments, nil
}

// DetachFrom removes attachments from a policy, license or release who may
// see, named by entitlement id or by their own id: 1 to 100 at once, all or
// none; any not attached is ENTITLEMENT_NOT_FOUND, and one a license holds
// through its policy is a 403, as in Keygen.
func (s *Service) DetachFrom(ctx context.Context, who *access.Principal, t *account.Tenant, on Kind, ref Ref, ids []string) error {
	target, err := s.permitted(ctx, who, t, on, ref, changePermissions[on]+".detach")
	if err != nil {
		return err
	}
	if err := batchSize("detach", ids); err != nil {
		return err
	}
	if target.PolicyID != "" {
		onPolicy, err := s.store.AttachedIDs(ctx, PolicyTarget(target.PolicyID))
		if err != nil {
			return err
		}
		for i, eid := range ids {
			if onPolicy[eid] {
				return apperr.At(apperr.Forbidden, "ACCESS_DENIED", "cannot detach entitlement '"+eid+"' (entitlement is attached through policy)", target.field(i))
			}
		}
	}
	return s.events.Change(ctx, func(ctx context.Context) error {
		missing, err := s.store.Detach(ctx, target, ids)
		if err != nil {
			return err
		}
		if missing >= 0 {
			return apperr.At(apperr.Unprocessable, "ENTITLEMENT_NOT_FOUND", "entitlement is not attached", target.field(missing))
		}
		return nil
	}, relationshipChange(who, t, on, target, ids, detached))
}

// Of returns the entitlements of a license, its own and its policy's, for
// rules that have already authorized the license.
func (s *Service) Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error) {
	return s.store.Of(ctx, accountID, licenseID, policyID)
}

// HasCodes reports whether the license (with its policy) holds every code.
func (s *Service) HasCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (bool, error) {
	n, err := s.store.CountCodes(ctx, accountID, licenseID, policyID, codes)
	return n == int64(len(codes)), err
}
