// Package entitlement is a named feature a license grants (PRO, SUPPORT…):
// attached to policies (every license of the policy has it) or to single
// licenses. Validation and release access require entitlements by code.
package entitlement

import (
	"context"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
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

// Params are the writable attributes.
type Params struct {
	Name     optional.Value[string]         `json:"name"`
	Code     optional.Value[string]         `json:"code"`
	Metadata optional.Value[map[string]any] `json:"metadata"`
}

// Records is the storage the entitlement rules need; *Store is it.
type Records interface {
	Create(ctx context.Context, e *Entitlement) error
	Save(ctx context.Context, e *Entitlement) error
	Delete(ctx context.Context, e *Entitlement) error
	Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Entitlement, error)
	List(ctx context.Context, accountID string, sc access.Scope, p page.Request) ([]Entitlement, int64, error)
	Existing(ctx context.Context, accountID string, ids []string) (map[string]bool, error)
	AttachedIDs(ctx context.Context, t Target) (map[string]bool, error)
	Attach(ctx context.Context, t Target, attachments []Attachment) (taken int, err error)
	Detach(ctx context.Context, t Target, ids []string) (missing int, err error)
	Held(ctx context.Context, accountID string, t Target, p page.Request) ([]Entitlement, int64, error)
	Attachments(ctx context.Context, accountID string, t Target, p page.Request) ([]Attachment, int64, error)
	Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error)
	CountCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (int64, error)
}

// Service holds the entitlement rules.
type Service struct {
	store   Records
	targets Targets
	events  event.Changer
	now     func() time.Time
}

// NewService returns the entitlement rules over store, finding the records
// entitlements attach to through targets.
func NewService(store Records, targets Targets, events event.Changer) *Service {
	return &Service{store: store, targets: targets, events: events, now: time.Now}
}

func (s *Service) change(ctx context.Context, who *access.Principal, name string, e *Entitlement, change func(ctx context.Context) error) error {
	return s.events.Change(ctx, change, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: e.AccountID, Resource: e, Who: who}
	})
}

func apply(e *Entitlement, p Params) error {
	p.Name.Apply(&e.Name)
	p.Code.Apply(&e.Code)
	e.Name, e.Code = strings.TrimSpace(e.Name), strings.TrimSpace(e.Code)
	switch {
	case e.Name == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case e.Code == "":
		return apperr.Attribute("code", "MISSING", "can't be blank")
	case len(e.Name) > 255:
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	case len(e.Code) > 255:
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
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*Entitlement, error) {
	if err := who.Require("entitlement.create"); err != nil {
		return nil, err
	}
	e := &Entitlement{ID: id.New(), AccountID: t.ID, Metadata: map[string]any{}}
	if err := apply(e, p); err != nil {
		return nil, err
	}
	return e, s.change(ctx, who, event.EntitlementCreated, e, func(ctx context.Context) error { return s.store.Create(ctx, e) })
}

// Find returns an entitlement by id or code that who may read: staff and
// products see every entitlement, licenses and users those their licenses
// hold.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Entitlement, error) {
	return s.visible(ctx, who, t, ref, "entitlement.read")
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Entitlement, error) {
	return access.Visible(who, permission, func() (*Entitlement, error) {
		return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	})
}

// List returns a page of the entitlements who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Entitlement, int64, error) {
	if err := who.Require("entitlement.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), p)
}

// Update changes an entitlement.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Entitlement, error) {
	e, err := s.visible(ctx, who, t, ref, "entitlement.update")
	if err != nil {
		return nil, err
	}
	if err := apply(e, p); err != nil {
		return nil, err
	}
	return e, s.change(ctx, who, event.EntitlementUpdated, e, func(ctx context.Context) error { return s.store.Save(ctx, e) })
}

// Delete removes an entitlement and its attachments.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	e, err := s.visible(ctx, who, t, ref, "entitlement.delete")
	if err != nil {
		return err
	}
	return s.change(ctx, who, event.EntitlementDeleted, e, func(ctx context.Context) error { return s.store.Delete(ctx, e) })
}
