// Package validation answers "may this license be used here, now?": the
// ordered checks of Keygen's license validation, with the same codes and
// details, over a bounded number of indexed queries.
package validation

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// Scope is what a client asserts about where the license is used.
type Scope struct {
	Product      optional.Value[string]   `json:"product"`
	Policy       optional.Value[string]   `json:"policy"`
	User         optional.Value[*string]  `json:"user"`
	Machine      optional.Value[string]   `json:"machine"`
	Fingerprint  optional.Value[string]   `json:"fingerprint"`
	Fingerprints optional.Value[[]string] `json:"fingerprints"`
	Components   optional.Value[[]string] `json:"components"`
	Entitlements optional.Value[[]string] `json:"entitlements"`
	Checksum     optional.Value[string]   `json:"checksum"`
	Version      optional.Value[string]   `json:"version"`
	Environment  optional.Value[*string]  `json:"environment"`
}

// Result is a validation's verdict.
type Result struct {
	Valid  bool
	Detail string
	Code   string
	// Machines holds the license's machine totals when the checks loaded them.
	Machines *machine.Stats
	// Version is the release version a version scope matched.
	Version string
}

func fail(detail, code string) Result { return Result{Detail: detail, Code: code} }
func verdict(valid bool, detail, code string) Result {
	return Result{Valid: valid, Detail: detail, Code: code}
}

var valid = Result{Valid: true, Detail: "is valid", Code: "VALID"}

// NotFound is the result for a key that matches no license.
var NotFound = fail("does not exist", "NOT_FOUND")

// Machines reads the machines a validation looks at.
type Machines interface {
	Stats(ctx context.Context, licenseID string, perUser bool, ownerID string) (machine.Stats, error)
	OfLicense(ctx context.Context, licenseID string, fingerprints []string) ([]machine.Machine, error)
	OnLicense(ctx context.Context, licenseID, id string) (*machine.Machine, error)
	ComponentsOf(ctx context.Context, machineID string, fingerprints []string) ([]machine.Component, error)
	CountAliveProcesses(ctx context.Context, f machine.ProcessFilter, alive time.Time) (int64, error)
}

// Entitlements tells whether a license (with its policy) holds codes.
type Entitlements interface {
	HasCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (bool, error)
}

// Owners knows a license's users: its owner and its licensees.
type Owners interface {
	LicenseUserID(ctx context.Context, accountID, licenseID, ref string) (string, error)
	CountLicenseUsers(ctx context.Context, licenseID string) (int64, error)
}

// Catalog finds the releases and artifacts a license may reach (version
// and checksum scopes).
type Catalog interface {
	HasVersion(ctx context.Context, accountID string, sc access.Scope, version string) (bool, error)
	Checksum(ctx context.Context, accountID string, sc access.Scope, checksum string) (version string, err error)
}

// Validator runs validations.
type Validator struct {
	machines     Machines
	entitlements Entitlements
	owners       Owners
	catalog      Catalog
	now          func() time.Time
}

// New returns a validator.
func New(machines Machines, entitlements Entitlements, owners Owners, catalog Catalog) *Validator {
	return &Validator{machines: machines, entitlements: entitlements, owners: owners, catalog: catalog, now: time.Now}
}

type run struct {
	version string
	v       *Validator
	ctx     context.Context
	l       *license.License
	pol     *policy.Policy
	now     time.Time
	stats   *machine.Stats
	user    string // the user a user scope named, as its id
}

// stats loads the license's machine totals once.
func (r *run) machineStats() (machine.Stats, error) {
	if r.stats == nil {
		st, err := r.v.machines.Stats(r.ctx, r.l.ID, false, "")
		if err != nil {
			return machine.Stats{}, err
		}
		r.stats = &st
	}
	return *r.stats, nil
}

// Validate checks l in Keygen's order. quick skips every scope check.
func (v *Validator) Validate(ctx context.Context, l *license.License, pol *policy.Policy, sc Scope, quick bool) (Result, error) {
	r := &run{v: v, ctx: ctx, l: l, pol: pol, now: v.now(), stats: l.Totals}
	res, err := r.validate(sc, quick)
	res.Machines, res.Version = r.stats, r.version
	return res, err
}

func (r *run) validate(sc Scope, quick bool) (Result, error) {
	v, ctx, l, pol := r.v, r.ctx, r.l, r.pol
	expired := l.Expired(r.now)
	switch {
	case l.OwnerBanned:
		return fail("is banned", "BANNED"), nil
	case l.Suspended:
		return fail("is suspended", "SUSPENDED"), nil
	case pol.ExpirationStrategy == policy.RevokeAccess && expired:
		return fail("is expired", "EXPIRED"), nil
	}
	if next := license.NextCheckIn(l, pol); next != nil && r.now.After(*next) {
		return fail("is overdue for check in", "OVERDUE"), nil
	}
	if !quick {
		if res, err := r.scopes(sc); err != nil || res != nil {
			return deref(res), err
		}
	}
	keepsAccess := pol.ExpirationStrategy == policy.AllowAccess || pol.ExpirationStrategy == policy.MaintainAccess
	if max := license.Effective(l.MaxUsers, pol.MaxUsers); max != nil {
		users, err := v.owners.CountLicenseUsers(ctx, l.ID)
		if err != nil {
			return Result{}, err
		}
		if users > *max {
			return verdict(!machine.Exceeds(users, *max, pol.OverageStrategy), "has too many associated users", "TOO_MANY_USERS"), nil
		}
	}
	if !pol.Strict {
		if expired {
			return verdict(keepsAccess, "is expired", "EXPIRED"), nil
		}
		return valid, nil
	}
	if res, err := r.strict(sc); err != nil || res != nil {
		return deref(res), err
	}
	if expired {
		return verdict(keepsAccess, "is expired", "EXPIRED"), nil
	}
	return valid, nil
}

func deref(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

func ptr(r Result) *Result { return &r }

// strict runs the machine, core, memory and disk checks of strict policies.
func (r *run) strict(sc Scope) (*Result, error) {
	pol, l := r.pol, r.l
	var st machine.Stats
	var err error
	if pol.MachineLeasingStrategy == policy.PerUser {
		st, err = r.v.machines.Stats(r.ctx, l.ID, true, r.user)
	} else {
		st, err = r.machineStats()
	}
	if err != nil {
		return nil, err
	}
	maxMachines := license.Effective(l.MaxMachines, pol.MaxMachines)
	switch {
	case !pol.Floating && st.Count == 0:
		return ptr(fail("must have exactly 1 associated machine", "NO_MACHINE")), nil
	case !pol.Floating && st.Count > 1:
		limit := int64(1)
		if maxMachines != nil {
			limit = *maxMachines
		}
		if st.Count > limit {
			allowed := pol.OverageStrategy == policy.AlwaysAllowOverage || (pol.OverageStrategy == policy.Allow2xOverage && st.Count <= 2*limit)
			return ptr(verdict(allowed, "has too many associated machines", "TOO_MANY_MACHINES")), nil
		}
	case pol.Floating && st.Count == 0:
		return ptr(fail("must have at least 1 associated machine", "NO_MACHINES")), nil
	case pol.Floating && maxMachines != nil && st.Count > 1 && st.Count > *maxMachines:
		return ptr(verdict(!machine.Exceeds(st.Count, *maxMachines, pol.OverageStrategy), "has too many associated machines", "TOO_MANY_MACHINES")), nil
	}
	for _, c := range []struct {
		max          *int64
		used         int64
		detail, code string
	}{
		{license.Effective(l.MaxCores, pol.MaxCores), st.Cores, "has too many associated machine cores", "TOO_MANY_CORES"},
		{license.Effective(l.MaxMemory, pol.MaxMemory), st.Memory, "has too much associated machine memory", "TOO_MUCH_MEMORY"},
		{license.Effective(l.MaxDisk, pol.MaxDisk), st.Disk, "has too much associated machine disk", "TOO_MUCH_DISK"},
	} {
		if c.max != nil && c.used > *c.max {
			return ptr(verdict(!machine.Exceeds(c.used, *c.max, pol.OverageStrategy), c.detail, c.code)), nil
		}
	}
	return r.processes(sc)
}

// processes checks the process limit per the policy's leasing strategy.
// Per machine it needs a machine or fingerprint scope to know the machine.
func (r *run) processes(sc Scope) (*Result, error) {
	max := license.Effective(r.l.MaxProcesses, r.pol.MaxProcesses)
	if max == nil {
		return nil, nil
	}
	machineID := ""
	if r.pol.ProcessLeasingStrategy == policy.PerMachine {
		machineID = sc.Machine.V
		if machineID == "" && sc.Fingerprint.V != "" {
			machines, err := r.v.machines.OfLicense(r.ctx, r.l.ID, []string{sc.Fingerprint.V})
			if err != nil {
				return nil, err
			}
			if len(machines) > 0 {
				machineID = machines[0].ID
			}
		}
		if machineID == "" {
			return nil, nil
		}
	}
	var owner *string
	if r.user != "" {
		owner = &r.user
	}
	f := machine.LeasedProcesses(r.pol.ProcessLeasingStrategy, r.l.ID, owner, machineID)
	alive := r.now.Add(-time.Duration(r.pol.HeartbeatSeconds()) * time.Second)
	n, err := r.v.machines.CountAliveProcesses(r.ctx, f, alive)
	if err != nil {
		return nil, err
	}
	if n > *max {
		return ptr(verdict(!machine.Exceeds(n, *max, r.pol.OverageStrategy), "has too many associated processes", "TOO_MANY_PROCESSES")), nil
	}
	return nil, nil
}

// required is the number of matches a matching strategy needs of n.
func required(strategy string, n int) int {
	switch strategy {
	case policy.MatchAll:
		return n
	case policy.MatchMost:
		return int(math.Ceil(float64(n) / 2))
	case policy.MatchTwo:
		return min(2, n)
	}
	return 1
}

func compactUnique(values []string) []string {
	var out []string
	for _, v := range values {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Licenses finds the licenses a validation judges and starts their clocks.
type Licenses interface {
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, *policy.Policy, error)
	// ForValidation's releaseScoped asks for the license's sight of
	// releases too, which the checksum and version scopes judge by.
	ForValidation(ctx context.Context, who *access.Principal, t *account.Tenant, key string, releaseScoped bool) (*license.License, *policy.Policy, error)
	StartExpiry(ctx context.Context, l *license.License, pol *policy.Policy, basis string) error
}

// Touches records validations off the request path.
type Touches interface {
	Touch(accountID, licenseID string, at time.Time, version string)
}

// Events records validation events off the request path.
type Events interface {
	Emit(event.Occurrence)
}

// Service is the validation use case: find the license as the principal
// may see it, judge it, and record that it was validated.
type Service struct {
	licenses  Licenses
	validator *Validator
	touches   Touches
	events    Events
	now       func() time.Time
}

// NewService returns the validation use case.
func NewService(licenses Licenses, validator *Validator, touches Touches, events Events) *Service {
	return &Service{licenses: licenses, validator: validator, touches: touches, events: events, now: time.Now}
}

// Outcome is a validation's license (nil when validate-key found none),
// with its policy, as it stands after the validation, and the verdict.
type Outcome struct {
	License *license.License
	Policy  *policy.Policy
	Result  Result
}

// Validate validates the license ref names, which who must see (else not
// found) and may validate (else forbidden); quick skips every scope check
// and starts no clock.
func (s *Service) Validate(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, sc Scope, quick bool) (Outcome, error) {
	if who == nil {
		return Outcome{}, access.ErrTokenMissing
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, ref)
	if err != nil {
		return Outcome{}, err
	}
	if err := who.Require("license.validate"); err != nil {
		return Outcome{}, err
	}
	return s.judge(ctx, who, l, pol, sc, quick)
}

// ValidateKey validates the license with a key: anyone may ask, and a key
// out of who's sight is reported like an unknown one (Result NotFound).
func (s *Service) ValidateKey(ctx context.Context, who *access.Principal, t *account.Tenant, key string, sc Scope) (Outcome, error) {
	l, pol, err := s.licenses.ForValidation(ctx, who, t, key, sc.Checksum.Set || sc.Version.Set)
	if err != nil || l == nil {
		return Outcome{Result: NotFound}, err
	}
	return s.judge(ctx, who, l, pol, sc, false)
}

func (s *Service) judge(ctx context.Context, who *access.Principal, l *license.License, pol *policy.Policy, sc Scope, quick bool) (Outcome, error) {
	if !quick {
		if err := s.licenses.StartExpiry(ctx, l, pol, policy.FromFirstValidation); err != nil {
			return Outcome{}, err
		}
	}
	result, err := s.validator.Validate(ctx, l, pol, sc, quick)
	if err != nil {
		return Outcome{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	l.LastValidatedAt = &now
	if result.Version != "" {
		l.LastValidatedVersion = &result.Version
	}
	s.touches.Touch(l.AccountID, l.ID, now, result.Version)
	name := event.LicenseValidationFailed
	if result.Valid {
		name = event.LicenseValidationSucceeded
	}
	validated := *l
	s.events.Emit(event.Occurrence{Event: name, AccountID: l.AccountID, Resource: &license.Shown{License: &validated, Policy: pol}, Who: who,
		Metadata: map[string]any{"code": result.Code, "detail": result.Detail, "valid": result.Valid}})
	return Outcome{License: l, Policy: pol, Result: result}, nil
}
