package validation

import (
	"github.com/relkey/relkey/internal/machine"
)

// noMachines is the result for a scope that names machines of a license
// that has none.
func (r *run) noMachines(subject string) Result {
	if r.pol.Floating {
		return fail(subject+" is not activated (has no associated machines)", "NO_MACHINES")
	}
	return fail(subject+" is not activated (has no associated machine)", "NO_MACHINE")
}

// scopes runs the scope checks in Keygen's order; nil means they passed.
func (r *run) scopes(sc Scope) (*Result, error) {
	l, pol := r.l, r.pol
	if sc.Environment.Set && sc.Environment.V != nil {
		return ptr(fail("environment scope does not match", "ENVIRONMENT_SCOPE_MISMATCH")), nil
	}
	switch {
	case sc.Product.Set && sc.Product.V != l.ProductID:
		return ptr(fail("product scope does not match", "PRODUCT_SCOPE_MISMATCH")), nil
	case !sc.Product.Set && pol.RequireProductScope:
		return ptr(fail("product scope is required", "PRODUCT_SCOPE_REQUIRED")), nil
	case sc.Policy.Set && sc.Policy.V != l.PolicyID:
		return ptr(fail("policy scope does not match", "POLICY_SCOPE_MISMATCH")), nil
	case !sc.Policy.Set && pol.RequirePolicyScope:
		return ptr(fail("policy scope is required", "POLICY_SCOPE_REQUIRED")), nil
	}
	if sc.User.Set {
		if sc.User.V != nil {
			var err error
			if r.user, err = r.v.owners.LicenseUserID(r.ctx, l.AccountID, l.ID, *sc.User.V); err != nil {
				return nil, err
			}
		}
		if r.user == "" {
			return ptr(fail("user scope does not match", "USER_SCOPE_MISMATCH")), nil
		}
	} else if pol.RequireUserScope {
		return ptr(fail("user scope is required", "USER_SCOPE_REQUIRED")), nil
	}
	if sc.Entitlements.Set {
		codes := compactUnique(sc.Entitlements.V)
		if len(codes) == 0 {
			return ptr(fail("entitlements scope is empty", "ENTITLEMENTS_SCOPE_EMPTY")), nil
		}
		ok, err := r.v.entitlements.HasCodes(r.ctx, l.AccountID, l.ID, l.PolicyID, codes)
		if err != nil {
			return nil, err
		}
		if !ok {
			return ptr(fail("is missing one or more required entitlements", "ENTITLEMENTS_MISSING")), nil
		}
	}
	if res, err := r.machineScope(sc, r.user); err != nil || res != nil {
		return res, err
	}
	if res, err := r.fingerprintScope(sc, r.user); err != nil || res != nil {
		return res, err
	}
	if sc.Components.Set {
		components := compactUnique(sc.Components.V)
		switch {
		case !sc.Fingerprint.Set:
			return ptr(fail("fingerprint scope is required when using the components scope", "FINGERPRINT_SCOPE_REQUIRED")), nil
		case len(components) == 0:
			return ptr(fail("components scope is empty", "COMPONENTS_SCOPE_EMPTY")), nil
		}
		matched := 0
		if machines, err := r.v.machines.OfLicense(r.ctx, l.ID, []string{sc.Fingerprint.V}); err != nil {
			return nil, err
		} else if len(machines) > 0 {
			found, err := r.v.machines.ComponentsOf(r.ctx, machines[0].ID, components)
			if err != nil {
				return nil, err
			}
			matched = len(found)
		}
		if matched == 0 || matched < required(pol.ComponentMatchingStrategy, len(components)) {
			return ptr(fail("one or more component is not activated (does not match enough associated components)", "COMPONENTS_SCOPE_MISMATCH")), nil
		}
	} else if pol.RequireComponentsScope {
		return ptr(fail("components scope is required", "COMPONENTS_SCOPE_REQUIRED")), nil
	}
	if sc.Checksum.Set {
		version, err := r.v.catalog.Checksum(r.ctx, l.AccountID, l.Scope(r.pol), sc.Checksum.V)
		if err != nil {
			return nil, err
		}
		if version == "" {
			return ptr(fail("checksum scope is not valid (does not match any accessible artifacts)", "CHECKSUM_SCOPE_MISMATCH")), nil
		}
		r.version = version
	} else if pol.RequireChecksumScope {
		return ptr(fail("checksum scope is required", "CHECKSUM_SCOPE_REQUIRED")), nil
	}
	if sc.Version.Set {
		ok, err := r.v.catalog.HasVersion(r.ctx, l.AccountID, l.Scope(r.pol), sc.Version.V)
		if err != nil {
			return nil, err
		}
		if !ok {
			return ptr(fail("version scope is not valid (does not match any accessible releases)", "VERSION_SCOPE_MISMATCH")), nil
		}
		r.version = sc.Version.V
	} else if pol.RequireVersionScope {
		return ptr(fail("version scope is required", "VERSION_SCOPE_REQUIRED")), nil
	}
	return nil, nil
}

func (r *run) machineScope(sc Scope, userScope string) (*Result, error) {
	if !sc.Machine.Set {
		if r.pol.RequireMachineScope {
			return ptr(fail("machine scope is required", "MACHINE_SCOPE_REQUIRED")), nil
		}
		return nil, nil
	}
	st, err := r.machineStats()
	if err != nil {
		return nil, err
	}
	if st.Count == 0 {
		return ptr(r.noMachines("machine")), nil
	}
	m, err := r.v.machines.OnLicense(r.ctx, r.l.ID, sc.Machine.V)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return ptr(fail("machine is not activated (does not match any associated machines)", "MACHINE_SCOPE_MISMATCH")), nil
	}
	if userScope != "" && (m.OwnerID == nil || *m.OwnerID != userScope) && (r.l.OwnerID == nil || *r.l.OwnerID != userScope) {
		return ptr(fail("user scope does not match (does not match associated machine owner)", "USER_SCOPE_MISMATCH")), nil
	}
	switch m.HeartbeatStatus(r.pol, r.now) {
	case machine.NotStarted:
		if r.pol.RequireHeartbeat {
			return ptr(fail("machine heartbeat is required", "HEARTBEAT_NOT_STARTED")), nil
		}
	case machine.Dead:
		return ptr(fail("machine heartbeat is dead", "HEARTBEAT_DEAD")), nil
	}
	return nil, nil
}

func (r *run) fingerprintScope(sc Scope, userScope string) (*Result, error) {
	if !sc.Fingerprint.Set && !sc.Fingerprints.Set {
		if r.pol.RequireFingerprintScope {
			return ptr(fail("fingerprint scope is required", "FINGERPRINT_SCOPE_REQUIRED")), nil
		}
		return nil, nil
	}
	fingerprints := compactUnique(append([]string{sc.Fingerprint.V}, sc.Fingerprints.V...))
	if len(fingerprints) == 0 {
		return ptr(fail("fingerprint scope is empty", "FINGERPRINT_SCOPE_EMPTY")), nil
	}
	st, err := r.machineStats()
	if err != nil {
		return nil, err
	}
	if st.Count == 0 {
		return ptr(r.noMachines("fingerprint")), nil
	}
	matches, err := r.v.machines.OfLicense(r.ctx, r.l.ID, fingerprints)
	if err != nil {
		return nil, err
	}
	var alive []machine.Machine
	for _, m := range matches {
		if m.HeartbeatStatus(r.pol, r.now) != machine.Dead {
			alive = append(alive, m)
		}
	}
	if len(matches) > 0 && len(alive) == 0 && len(matches) == len(fingerprints) {
		return ptr(fail("machine heartbeat is dead", "HEARTBEAT_DEAD")), nil
	}
	if len(alive) < required(r.pol.MachineMatchingStrategy, len(fingerprints)) || len(alive) == 0 {
		if len(fingerprints) == 1 {
			return ptr(fail("fingerprint is not activated (does not match any associated machines)", "FINGERPRINT_SCOPE_MISMATCH")), nil
		}
		return ptr(fail("one or more fingerprint is not activated (does not match enough associated machines)", "FINGERPRINT_SCOPE_MISMATCH")), nil
	}
	for _, m := range alive {
		if userScope != "" && m.OwnerID != nil && *m.OwnerID != userScope {
			return ptr(fail("user scope does not match (does not match associated machine owners)", "USER_SCOPE_MISMATCH")), nil
		}
	}
	if r.pol.RequireHeartbeat {
		for _, m := range alive {
			if m.HeartbeatStatus(r.pol, r.now) == machine.NotStarted {
				return ptr(fail("machine heartbeat is required", "HEARTBEAT_NOT_STARTED")), nil
			}
		}
	}
	return nil, nil
}
