// Package entitlement is a named feature a license grants (PRO, SUPPORT…):
// attached to policies (every license of the policy has it) or to single
// licenses. Validation and release access require entitlements by code.
package entitlement

import (
	"context"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Entitlement is a stored entitlement.
type Entitlement struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	Name      string
	Code      string
	Metadata  map[string]any `gorm:"serializer:json"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Attachment joins an entitlement to a policy or a license.
type Attachment struct {
	ID            string
	AccountID     string
	OwnerID       string // the policy, license or release
	EntitlementID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Params are the writable attributes.
type Params struct {
	Name     optional.Value[string]         `json:"name"`
	Code     optional.Value[string]         `json:"code"`
	Metadata optional.Value[map[string]any] `json:"metadata"`
}

// Service holds the entitlement rules.
type Service struct{ store *Store }

// NewService returns the entitlement rules.
func NewService(store *Store) *Service { return &Service{store: store} }

func apply(e *Entitlement, p Params) error {
	p.Name.Apply(&e.Name)
	p.Code.Apply(&e.Code)
	e.Name, e.Code = strings.TrimSpace(e.Name), strings.TrimSpace(e.Code)
	switch {
	case e.Name == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case e.Code == "":
		return apperr.Attribute("code", "MISSING", "can't be blank")
	case len(e.Name) > 255 || len(e.Code) > 255:
		return apperr.Attribute("code", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	if p.Metadata.Set {
		e.Metadata = p.Metadata.V
		if e.Metadata == nil {
			e.Metadata = map[string]any{}
		}
	}
	return nil
}

// Create adds an entitlement.
func (s *Service) Create(ctx context.Context, who *access.Principal, p Params) (*Entitlement, error) {
	if err := who.Require("entitlement.create"); err != nil {
		return nil, err
	}
	e := &Entitlement{ID: id.New(), AccountID: who.AccountID, Metadata: map[string]any{}}
	if err := apply(e, p); err != nil {
		return nil, err
	}
	return e, s.store.Create(ctx, e)
}

// scope: staff and products see every entitlement; licenses and users
// those their licenses hold.
// Find returns an entitlement by id or code that who may read.
func (s *Service) Find(ctx context.Context, who *access.Principal, ref string) (*Entitlement, error) {
	return s.visible(ctx, who, ref, "entitlement.read")
}

func (s *Service) visible(ctx context.Context, who *access.Principal, ref, permission string) (*Entitlement, error) {
	return access.Visible(who, permission, func() (*Entitlement, error) {
		return s.store.Find(ctx, who.AccountID, ref, access.ScopeOf(who))
	})
}

// List returns a page of the entitlements who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, p page.Request) ([]Entitlement, int64, error) {
	if err := who.Require("entitlement.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, who.AccountID, access.ScopeOf(who), p)
}

// Update changes an entitlement.
func (s *Service) Update(ctx context.Context, who *access.Principal, ref string, p Params) (*Entitlement, error) {
	e, err := s.visible(ctx, who, ref, "entitlement.update")
	if err != nil {
		return nil, err
	}
	if err := apply(e, p); err != nil {
		return nil, err
	}
	return e, s.store.Save(ctx, e)
}

// Delete removes an entitlement and its attachments.
func (s *Service) Delete(ctx context.Context, who *access.Principal, ref string) error {
	e, err := s.visible(ctx, who, ref, "entitlement.delete")
	if err != nil {
		return err
	}
	return s.store.Delete(ctx, e)
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

// PolicyTarget and LicenseTarget name attachment targets.
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

// Attach attaches entitlements (by id) to a target who may change: 1 to 100
// at once, all or none. Unknown → ENTITLEMENT_NOT_FOUND, already attached →
// ENTITLEMENT_TAKEN, already on the license's policy → ENTITLEMENT_CONFLICT.
func (s *Service) Attach(ctx context.Context, who *access.Principal, permission string, t Target, ids []string) ([]Attachment, error) {
	if err := who.Require(permission); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > 100 {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must attach 1 to 100 entitlements", apperr.Record())
	}
	found, err := s.store.Existing(ctx, who.AccountID, ids)
	if err != nil {
		return nil, err
	}
	attachments := make([]Attachment, len(ids))
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i, eid := range ids {
		if !found[eid] {
			return nil, apperr.At(apperr.Unprocessable, t.Code+"ENTITLEMENT_NOT_FOUND", "entitlement must exist", t.field(i))
		}
		attachments[i] = Attachment{ID: id.New(), AccountID: who.AccountID, OwnerID: t.ID, EntitlementID: eid, CreatedAt: now, UpdatedAt: now}
	}
	if t.PolicyID != "" {
		onPolicy, err := s.store.AttachedIDs(ctx, PolicyTarget(t.PolicyID))
		if err != nil {
			return nil, err
		}
		for i, eid := range ids {
			if onPolicy[eid] {
				return nil, apperr.At(apperr.Unprocessable, "ENTITLEMENT_CONFLICT", "already attached through the license's policy", t.field(i))
			}
		}
	}
	return attachments, s.store.Attach(ctx, t, attachments)
}

// Detach removes attachments, named by entitlement id or by their own id;
// any not attached fails the whole request with ENTITLEMENT_NOT_FOUND.
func (s *Service) Detach(ctx context.Context, who *access.Principal, permission string, t Target, ids []string) error {
	if err := who.Require(permission); err != nil {
		return err
	}
	if len(ids) == 0 || len(ids) > 100 {
		return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must detach 1 to 100 entitlements", apperr.Record())
	}
	return s.store.Detach(ctx, t, ids)
}

// Of returns the entitlements of a license: its own and its policy's.
func (s *Service) Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error) {
	return s.store.Of(ctx, accountID, licenseID, policyID)
}

// Attachments returns a target's attachments, oldest first.
func (s *Service) Attachments(ctx context.Context, accountID string, t Target) ([]Attachment, error) {
	return s.store.Attachments(ctx, accountID, t)
}

// Attached returns the entitlements attached to a target.
func (s *Service) Attached(ctx context.Context, accountID string, t Target) ([]Entitlement, error) {
	return s.store.Attached(ctx, accountID, t)
}

// HasCodes reports whether the license (with its policy) holds every code.
func (s *Service) HasCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (bool, error) {
	n, err := s.store.CountCodes(ctx, accountID, licenseID, policyID, codes)
	return n == int64(len(codes)), err
}
