package validation

import (
	"context"
	"slices"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

// ref points at v.
func ref[T any](v T) *T { return &v }

// clock is the fixed now of every test; at(d) is clock moved by d.
var clock = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { return ref(clock.Add(d)) }

// world is one license's machines, components, processes, users,
// entitlements and releases, in memory.
type world struct {
	machines   []machine.Machine
	components []machine.Component
	processes  []machine.Process
	holders    []string // refs LicenseUserID finds (as their own ids)
	users      int64
	codes      []string          // entitlement codes the license holds
	versions   []string          // release versions it may reach
	checksums  map[string]string // artifact checksum -> version

	counted []machine.ProcessFilter // what CountAliveProcesses was asked
}

func (w *world) Stats(_ context.Context, _ string, perUser bool, ownerID string) (machine.Stats, error) {
	var st machine.Stats
	for _, m := range w.machines {
		if perUser && (ownerID == "" && m.OwnerID != nil || ownerID != "" && (m.OwnerID == nil || *m.OwnerID != ownerID)) {
			continue
		}
		st.Count++
		for _, c := range []struct {
			total *int64
			v     *int64
		}{{&st.Cores, m.Cores}, {&st.Memory, m.Memory}, {&st.Disk, m.Disk}} {
			if c.v != nil {
				*c.total += *c.v
			}
		}
	}
	return st, nil
}

func (w *world) OfLicense(_ context.Context, _ string, fingerprints []string) ([]machine.Machine, error) {
	var out []machine.Machine
	for _, m := range w.machines {
		if fingerprints == nil || slices.Contains(fingerprints, m.Fingerprint) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (w *world) OnLicense(_ context.Context, _, id string) (*machine.Machine, error) {
	for _, m := range w.machines {
		if m.ID == id {
			return &m, nil
		}
	}
	return nil, nil
}

func (w *world) ComponentsOf(_ context.Context, machineID string, fingerprints []string) ([]machine.Component, error) {
	var out []machine.Component
	for _, c := range w.components {
		if c.MachineID == machineID && slices.Contains(fingerprints, c.Fingerprint) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (w *world) CountAliveProcesses(_ context.Context, f machine.ProcessFilter, alive time.Time) (int64, error) {
	w.counted = append(w.counted, f)
	var count int64
	for _, p := range w.processes {
		switch {
		case p.LicenseID != f.LicenseID, p.LastHeartbeatAt.Before(alive),
			f.PerOwner && (f.OwnerID == nil) != (p.OwnerID == nil),
			f.PerOwner && f.OwnerID != nil && *f.OwnerID != *p.OwnerID,
			f.MachineID != "" && p.MachineID != f.MachineID:
			continue
		}
		count++
	}
	return count, nil
}

func (w *world) HasCodes(_ context.Context, _, _, _ string, codes []string) (bool, error) {
	for _, c := range codes {
		if !slices.Contains(w.codes, c) {
			return false, nil
		}
	}
	return true, nil
}

func (w *world) LicenseUserID(_ context.Context, _, _, ref string) (string, error) {
	if slices.Contains(w.holders, ref) {
		return ref, nil
	}
	return "", nil
}

func (w *world) CountLicenseUsers(context.Context, string) (int64, error) { return w.users, nil }

func (w *world) HasVersion(_ context.Context, _ string, _ access.Scope, version string) (bool, error) {
	return slices.Contains(w.versions, version), nil
}

func (w *world) Checksum(_ context.Context, _ string, _ access.Scope, checksum string) (string, error) {
	return w.checksums[checksum], nil
}

// validator judges at clock over w.
func (w *world) validator() *Validator {
	v := New(w, w, w, w)
	v.now = func() time.Time { return clock }
	return v
}

// licenses is the Licenses a Service finds its one license with, as a
// principal of the license's account sees it.
type licenses struct {
	l       *license.License
	pol     *policy.Policy
	started []string // the bases StartExpiry was asked to start
	scoped  []bool   // whether each ForValidation asked for the reach too
}

func (f *licenses) Visible(_ context.Context, who *access.Principal, _ *account.Tenant, ref string) (*license.License, *policy.Policy, error) {
	if who.AccountID != f.l.AccountID || ref != f.l.ID {
		return nil, nil, apperr.NotFoundResource("license", ref)
	}
	return f.l, f.pol, nil
}

func (f *licenses) ForValidation(_ context.Context, _ *access.Principal, _ *account.Tenant, key string, releaseScoped bool) (*license.License, *policy.Policy, error) {
	f.scoped = append(f.scoped, releaseScoped)
	if key != f.l.Key {
		return nil, nil, nil
	}
	return f.l, f.pol, nil
}

func (f *licenses) StartExpiry(_ context.Context, l *license.License, pol *policy.Policy, basis string) error {
	f.started = append(f.started, basis)
	if pol.ExpirationBasis == basis && pol.Duration != nil && l.Expiry == nil {
		l.Expiry = at(time.Duration(*pol.Duration) * time.Second)
	}
	return nil
}

// touch is one recorded validation.
type touch struct {
	accountID, licenseID string
	at                   time.Time
	version              string
}

type touches []touch

func (t *touches) Touch(accountID, licenseID string, at time.Time, version string) {
	*t = append(*t, touch{accountID, licenseID, at, version})
}
