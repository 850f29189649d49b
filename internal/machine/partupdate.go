package machine

import (
	"context"
	"strings"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// unpermitted is Keygen's typed_params refusal of an attribute the action
// (or the bearer) may not write.
func unpermitted(attr string) error {
	return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr(attr))
}

// metadataWriter reports whether who may write a part's metadata: staff
// and products, as Keygen's update typed_params allow.
func metadataWriter(who *access.Principal) bool {
	return who.Staff() || who.BearerType == access.BearerProduct
}

// applyMetadata sets a part's metadata when p sets it (null empties it).
func applyMetadata(into *map[string]any, v optional.Value[map[string]any]) {
	if v.Set {
		*into = v.V
		if *into == nil {
			*into = map[string]any{}
		}
	}
}

// partLicense loads the license of a part who may change, refusing users
// on protected licenses, as Keygen's component and process policies.
func (s *Service) partLicense(ctx context.Context, who *access.Principal, t *account.Tenant, licenseID string) (*policy.Policy, error) {
	l, pol, err := s.licenses.Visible(ctx, who, t, licenseID)
	if err != nil {
		return nil, err
	}
	return pol, protected(who, l, pol)
}

// UpdateComponent changes a component's name, and for staff and products
// its metadata (Keygen's machine_components#update: the fingerprint is
// not writable); it emits component.updated.
func (s *Service) UpdateComponent(ctx context.Context, who *access.Principal, t *account.Tenant, componentID string, p ComponentParams) (*Component, error) {
	c, err := partInSight(ctx, s, who, t, "component", componentID, "component.update", s.store.FindComponent, func(c *Component) string { return c.MachineID })
	if err != nil {
		return nil, err
	}
	switch {
	case p.Fingerprint.Set:
		return nil, unpermitted("fingerprint")
	case p.Metadata.Set && !metadataWriter(who):
		return nil, unpermitted("metadata")
	case p.Name.Set && strings.TrimSpace(p.Name.V) == "":
		return nil, apperr.Attribute("name", "MISSING", "can't be blank")
	}
	if _, err := s.partLicense(ctx, who, t, c.LicenseID); err != nil {
		return nil, err
	}
	if p.Name.Set {
		c.Name = strings.TrimSpace(p.Name.V)
	}
	applyMetadata(&c.Metadata, p.Metadata)
	err = s.tx.Change(ctx, func(ctx context.Context) error { return s.store.SaveComponent(ctx, c) },
		func() event.Occurrence {
			return event.Occurrence{Event: event.ComponentUpdated, AccountID: c.AccountID, Resource: c, Who: who}
		})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateProcess changes a process's metadata, which only staff and
// products may write (Keygen's machine_processes#update: the pid is not
// writable); it emits process.updated and returns the process with its
// policy.
func (s *Service) UpdateProcess(ctx context.Context, who *access.Principal, t *account.Tenant, processID string, p ProcessParams) (*Process, *policy.Policy, error) {
	proc, err := s.visibleProcess(ctx, who, t, processID, "process.update")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.PID.Set:
		return nil, nil, unpermitted("pid")
	case p.Metadata.Set && !metadataWriter(who):
		return nil, nil, unpermitted("metadata")
	}
	pol, err := s.partLicense(ctx, who, t, proc.LicenseID)
	if err != nil {
		return nil, nil, err
	}
	applyMetadata(&proc.Metadata, p.Metadata)
	err = s.tx.Change(ctx, func(ctx context.Context) error { return s.store.SaveProcess(ctx, proc) },
		func() event.Occurrence {
			return event.Occurrence{Event: event.ProcessUpdated, AccountID: proc.AccountID, Resource: &WithPolicy[Process]{Item: *proc, Policy: pol}, Who: who}
		})
	if err != nil {
		return nil, nil, err
	}
	return proc, pol, nil
}
