package machine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Component is a hardware part of a machine (a disk, a GPU), identified by
// its own fingerprint, that validation can require.
type Component struct {
	ID          string `gorm:"primaryKey"`
	AccountID   string
	MachineID   string
	LicenseID   string
	PolicyID    string
	ProductID   string
	Fingerprint string
	Name        string
	Metadata    map[string]any `gorm:"serializer:json"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ComponentParams are a component's writable attributes.
type ComponentParams struct {
	Fingerprint optional.Value[string]         `json:"fingerprint"`
	Name        optional.Value[string]         `json:"name"`
	Metadata    optional.Value[map[string]any] `json:"metadata"`
}

// MaxComponents is how many components one activation may carry.
const MaxComponents = 20

// activated locates attribute attr of component i of an activation, in the
// machine's components relationship.
func activated(i int, attr string) apperr.Field {
	return apperr.Rel("components").Item(i).Member(attr)
}

// alone locates attribute attr of a component created by itself.
func alone(_ int, attr string) apperr.Field { return apperr.Attr(attr) }

// newComponents builds the components of machine m, checking each.
func newComponents(m *Machine, params []ComponentParams, at func(i int, attr string) apperr.Field) ([]Component, error) {
	if len(params) > MaxComponents {
		return nil, apperr.At(apperr.Unprocessable, "COMPONENTS_TOO_MANY", fmt.Sprintf("a machine may have at most %d components", MaxComponents), apperr.Rel("components"))
	}
	out := make([]Component, len(params))
	seen := map[string]bool{}
	for i, p := range params {
		fp, name := strings.TrimSpace(p.Fingerprint.V), strings.TrimSpace(p.Name.V)
		switch {
		case fp == "":
			return nil, apperr.At(apperr.Unprocessable, "COMPONENTS_FINGERPRINT_MISSING", "can't be blank", at(i, "fingerprint"))
		case name == "":
			return nil, apperr.At(apperr.Unprocessable, "COMPONENTS_NAME_MISSING", "can't be blank", at(i, "name"))
		case seen[fp]:
			return nil, apperr.At(apperr.Unprocessable, "COMPONENTS_FINGERPRINT_CONFLICT", "is duplicated", at(i, "fingerprint"))
		}
		seen[fp] = true
		metadata := p.Metadata.V
		if metadata == nil {
			metadata = map[string]any{}
		}
		out[i] = Component{ID: id.New(), AccountID: m.AccountID, MachineID: m.ID, LicenseID: m.LicenseID, PolicyID: m.PolicyID,
			ProductID: m.ProductID, Fingerprint: fp, Name: name, Metadata: metadata, CreatedAt: m.CreatedAt}
	}
	return out, nil
}

var componentUniqueness = map[string]struct{ column, suffix string }{
	policy.UniquePerMachine: {"machine_id", ""},
	policy.UniquePerLicense: {"license_id", " for this license"},
	policy.UniquePerPolicy:  {"policy_id", " for this policy"},
	policy.UniquePerProduct: {"product_id", " for this product"},
	policy.UniquePerAccount: {"account_id", " for this account"},
}

// addComponents stores components under the policy's uniqueness strategy;
// the caller holds the activation lock.
func (s *Service) addComponents(ctx context.Context, components []Component, pol *policy.Policy, at func(i int, attr string) apperr.Field) error {
	u, ok := componentUniqueness[pol.ComponentUniquenessStrategy]
	if !ok {
		u = componentUniqueness[policy.UniquePerMachine]
	}
	for i, c := range components {
		value := map[string]string{"machine_id": c.MachineID, "license_id": c.LicenseID, "policy_id": c.PolicyID,
			"product_id": c.ProductID, "account_id": c.AccountID}[u.column]
		taken, err := s.store.ComponentTaken(ctx, c.AccountID, u.column, value, c.Fingerprint)
		if err != nil {
			return err
		}
		if taken {
			return apperr.At(apperr.Unprocessable, "COMPONENTS_FINGERPRINT_TAKEN", "has already been taken"+u.suffix, at(i, "fingerprint"))
		}
	}
	return s.store.CreateComponents(ctx, components)
}

// Components returns all the components of a machine who may see (for
// machine files).
func (s *Service) Components(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string) ([]Component, error) {
	m, err := s.visible(ctx, who, t, machineRef, "component.read")
	if err != nil {
		return nil, err
	}
	return s.store.ComponentsOf(ctx, m.ID, nil)
}

// ListComponents returns a page of the components of a machine who may
// see, oldest first.
func (s *Service) ListComponents(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string, p page.Request) ([]Component, int64, error) {
	m, err := s.visible(ctx, who, t, machineRef, "component.read")
	if err != nil {
		return nil, 0, err
	}
	return s.store.ListComponents(ctx, m.ID, p)
}

// AddComponent adds one component to the machine its machine relationship
// names (machineRef), which who must see: else MACHINE_NOT_FOUND.
func (s *Service) AddComponent(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string, p ComponentParams) (*Component, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	m, err := linkedMachine(machineRef, func(ref string) (*Machine, error) { return s.visible(ctx, who, t, ref, "component.create") })
	if err != nil {
		return nil, err
	}
	_, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return nil, err
	}
	m.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	components, err := newComponents(m, []ComponentParams{p}, alone)
	if err != nil {
		return nil, err
	}
	components[0].CreatedAt = m.CreatedAt
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, m.LicenseID); err != nil {
			return err
		}
		if err := s.addComponents(ctx, components, pol, alone); err != nil {
			return err
		}
		return s.tx.Emit(ctx, componentOccurred(who, event.ComponentCreated, &components[0]))
	})
	if err != nil {
		return nil, err
	}
	return &components[0], nil
}

// RemoveComponent deletes a component of a machine who may see.
func (s *Service) RemoveComponent(ctx context.Context, who *access.Principal, t *account.Tenant, componentID string) error {
	if err := who.Require("component.delete"); err != nil {
		return err
	}
	c, err := s.store.FindComponent(ctx, t.ID, componentID)
	if err != nil {
		return err
	}
	if _, err := s.visible(ctx, who, t, c.MachineID, "component.delete"); err != nil {
		return err
	}
	return s.tx.Change(ctx, func(ctx context.Context) error { return s.store.DeleteComponent(ctx, c) },
		func() event.Occurrence { return componentOccurred(who, event.ComponentDeleted, c) })
}

func componentOccurred(who *access.Principal, name string, c *Component) event.Occurrence {
	return event.Occurrence{Event: name, AccountID: c.AccountID, Resource: c, Who: who}
}
