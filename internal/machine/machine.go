// Package machine is a device a license is activated on, identified by a
// fingerprint. Activation enforces the policy's uniqueness strategy and the
// machine, core, memory and disk limits (with overage allowances) under a
// lock, so concurrent activations never exceed them; heartbeats tell alive
// machines from dead ones.
package machine

import (
	"context"
	"fmt"
	"github.com/relkey/relkey/internal/user"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Machine is a stored machine.
type Machine struct {
	ID              string `gorm:"primaryKey"`
	AccountID       string
	LicenseID       string
	PolicyID        string
	ProductID       string
	OwnerID         *string
	GroupID         *string `gorm:"<-:create"` // changed only through the group rules
	Fingerprint     string
	Name            *string
	Hostname        *string
	IP              *string `gorm:"column:ip"`
	Platform        *string
	Cores           *int64
	Memory          *int64
	Disk            *int64
	LastHeartbeatAt *time.Time
	// ResurrectedAt is set by the ping that revived a dead machine and
	// cleared by the next one.
	ResurrectedAt *time.Time
	Metadata      map[string]any `gorm:"serializer:json"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Heartbeat statuses.
const (
	NotStarted  = "NOT_STARTED"
	Alive       = "ALIVE"
	Dead        = "DEAD"
	Resurrected = "RESURRECTED"
)

// HeartbeatStatus derives the machine's heartbeat status under its policy.
func (m *Machine) HeartbeatStatus(pol *policy.Policy, now time.Time) string {
	duration := time.Duration(pol.HeartbeatSeconds()) * time.Second
	switch {
	case m.LastHeartbeatAt == nil && (!pol.RequireHeartbeat || now.Sub(m.CreatedAt) <= duration):
		return NotStarted
	case m.LastHeartbeatAt != nil && !m.LastHeartbeatAt.Add(duration).Before(now):
		if m.ResurrectedAt != nil {
			return Resurrected
		}
		return Alive
	}
	return Dead
}

// NextHeartbeat is when the next ping is due (nil before the first).
func (m *Machine) NextHeartbeat(pol *policy.Policy) *time.Time {
	if m.LastHeartbeatAt == nil {
		return nil
	}
	next := m.LastHeartbeatAt.Add(time.Duration(pol.HeartbeatSeconds()) * time.Second)
	return &next
}

// Params are the writable attributes of a machine.
type Params struct {
	Fingerprint optional.Value[string]         `json:"fingerprint"`
	Name        optional.Value[*string]        `json:"name"`
	Hostname    optional.Value[*string]        `json:"hostname"`
	IP          optional.Value[*string]        `json:"ip"`
	Platform    optional.Value[*string]        `json:"platform"`
	Cores       optional.Value[*int64]         `json:"cores"`
	Memory      optional.Value[*int64]         `json:"memory"`
	Disk        optional.Value[*int64]         `json:"disk"`
	Metadata    optional.Value[map[string]any] `json:"metadata"`
	// Group is the group relationship of a new machine (a group id),
	// which only staff and products may give.
	Group string `json:"-"`
}

// Licenses gives the licenses machines belong to.
type Licenses interface {
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, *policy.Policy, error)
	StartExpiry(ctx context.Context, l *license.License, pol *policy.Policy, basis string) error
}

// Policies gives the policies of machines and processes the service
// already holds.
type Policies interface {
	Get(ctx context.Context, accountID, policyID string) (*policy.Policy, error)
}

// WithPolicy is an item of a list with its license's policy, which its
// rendering needs (heartbeat attributes).
type WithPolicy[T any] struct {
	Item   T
	Policy *policy.Policy
}

// withPolicies pairs each item with the policy ref names, loading each
// distinct policy once.
func withPolicies[T any](ctx context.Context, policies Policies, items []T, ref func(*T) (accountID, policyID string)) ([]WithPolicy[T], error) {
	loaded := map[string]*policy.Policy{}
	out := make([]WithPolicy[T], len(items))
	for i := range items {
		accountID, policyID := ref(&items[i])
		pol, ok := loaded[policyID]
		if !ok {
			var err error
			if pol, err = policies.Get(ctx, accountID, policyID); err != nil {
				return nil, err
			}
			loaded[policyID] = pol
		}
		out[i] = WithPolicy[T]{Item: items[i], Policy: pol}
	}
	return out, nil
}

// policyRef names the machine's policy.
func (m *Machine) policyRef() (accountID, policyID string) { return m.AccountID, m.PolicyID }

// Counters consume an activation token's (de)activation allowance.
type Counters interface {
	Consume(ctx context.Context, accountID, tokenID string, deactivation bool) error
}

// Transactor runs functions in one database transaction, and records
// the events of the changes made in it.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Emit records an event in the transaction of ctx (or its own).
	Emit(ctx context.Context, occ event.Occurrence) error
	event.Changer
}

// Activations records machine.created off the activation path, which may
// not gain a statement.
type Activations interface {
	Emit(event.Occurrence)
}

// Service holds the machine rules.
type Service struct {
	store       *Store
	tx          Transactor
	licenses    Licenses
	policies    Policies
	users       Users
	counters    Counters
	activations Activations
	groups      Groups
	now         func() time.Time
}

// Groups keeps new machines within their group's machine limit.
type Groups interface {
	// Admit checks, inside the caller's transaction, that the group
	// (nil: none) has room for one more machine.
	Admit(ctx context.Context, accountID string, groupID *string) error
	// UserGroup is a user's group, which the new machines it owns join
	// when given none and their license has none.
	UserGroup(ctx context.Context, accountID, userID string) (*string, error)
}

// NewService returns the machine rules; groups (nil: groups are not kept)
// admits new machines into groups.
func NewService(store *Store, tx Transactor, licenses Licenses, policies Policies, users Users, counters Counters, activations Activations, groups Groups) *Service {
	return &Service{store: store, tx: tx, licenses: licenses, policies: policies, users: users, counters: counters, activations: activations, groups: groups, now: time.Now}
}

func occurred(who *access.Principal, name string, m *Machine, pol *policy.Policy) event.Occurrence {
	return event.Occurrence{Event: name, AccountID: m.AccountID, Resource: &WithPolicy[Machine]{Item: *m, Policy: pol}, Who: who}
}

// Users finds the users machines belong to.
type Users interface {
	Bearer(ctx context.Context, accountID, id string) (*user.User, error)
	LicenseUsers
}

// Owner returns the owner of a machine who may read, nil when it has none.
func (s *Service) Owner(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*user.User, error) {
	m, err := s.visible(ctx, who, t, ref, "machine.read")
	if err != nil || m.OwnerID == nil {
		return nil, err
	}
	return s.users.Bearer(ctx, m.AccountID, *m.OwnerID)
}

func checkAttributes(p Params, creating bool) error {
	if creating {
		if !p.Fingerprint.Set || strings.TrimSpace(p.Fingerprint.V) == "" {
			return apperr.Attribute("fingerprint", "MISSING", "can't be blank")
		}
	} else if p.Fingerprint.Set {
		return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("fingerprint"))
	}
	if len(p.Fingerprint.V) > 4096 {
		return apperr.Attribute("fingerprint", "TOO_LONG", "is too long (maximum is 4096 characters)")
	}
	for attr, v := range map[string]optional.Value[*string]{"name": p.Name, "hostname": p.Hostname, "ip": p.IP, "platform": p.Platform} {
		if v.V != nil && len(*v.V) > 255 {
			return apperr.Attribute(attr, "TOO_LONG", "is too long (maximum is 255 characters)")
		}
	}
	for attr, v := range map[string]optional.Value[*int64]{"cores": p.Cores, "memory": p.Memory, "disk": p.Disk} {
		if v.V != nil && *v.V < 1 {
			return apperr.Attribute(attr, "INVALID", "must be greater than or equal to 1")
		}
	}
	return nil
}

func apply(m *Machine, p Params) {
	p.Name.Apply(&m.Name)
	p.Hostname.Apply(&m.Hostname)
	p.IP.Apply(&m.IP)
	p.Platform.Apply(&m.Platform)
	p.Cores.Apply(&m.Cores)
	p.Memory.Apply(&m.Memory)
	p.Disk.Apply(&m.Disk)
	if p.Metadata.Set {
		m.Metadata = p.Metadata.V
		if m.Metadata == nil {
			m.Metadata = map[string]any{}
		}
	}
}

// protected refuses user-role bearers machine changes on protected licenses.
func protected(who *access.Principal, l *license.License, pol *policy.Policy) error {
	if who.BearerType != access.BearerUser || who.Staff() {
		return nil
	}
	if (l.Protected != nil && *l.Protected) || (l.Protected == nil && pol.Protected) {
		return access.Denied("license is protected")
	}
	return nil
}

// Activate adds a machine to a license who may see.
func (s *Service) Activate(ctx context.Context, who *access.Principal, t *account.Tenant, licenseRef string, p Params, components []ComponentParams) (*Machine, *policy.Policy, error) {
	if err := who.Require("machine.create"); err != nil {
		return nil, nil, err
	}
	if err := checkAttributes(p, true); err != nil {
		return nil, nil, err
	}
	if p.Group != "" && !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Rel("group"))
	}
	if licenseRef == "" {
		return nil, nil, apperr.At(apperr.Unprocessable, "LICENSE_NOT_FOUND", "must exist", apperr.Rel("license"))
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, licenseRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, apperr.At(apperr.Unprocessable, "LICENSE_NOT_FOUND", "must exist", apperr.Rel("license"))
	}
	if err != nil {
		return nil, nil, err
	}
	if err := protected(who, l, pol); err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	m := &Machine{
		ID: id.New(), AccountID: l.AccountID, LicenseID: l.ID, PolicyID: l.PolicyID, ProductID: l.ProductID,
		OwnerID: l.OwnerID, Fingerprint: strings.TrimSpace(p.Fingerprint.V), Metadata: map[string]any{}, CreatedAt: now,
	}
	apply(m, p)
	if pol.HeartbeatBasis == policy.HeartbeatFromCreation {
		m.LastHeartbeatAt = &now
	}
	parts, err := newComponents(m, components, activated)
	if err != nil {
		return nil, nil, err
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		st, err := s.occupancy(ctx, m, l, pol, len(parts) > 0)
		if err != nil {
			return err
		}
		if err := checkLimits(m, l, pol, st); err != nil {
			return err
		}
		if err := s.joinGroup(ctx, m, l, p.Group); err != nil {
			return err
		}
		if who.BearerType == access.BearerLicense && who.TokenID != "" {
			if err := s.counters.Consume(ctx, m.AccountID, who.TokenID, false); err != nil {
				return err
			}
		}
		if err := s.store.Create(ctx, m); err != nil {
			return err
		}
		if err := s.addComponents(ctx, parts, pol, activated); err != nil {
			return err
		}
		return s.licenses.StartExpiry(ctx, l, pol, policy.FromFirstActivation)
	})
	if err != nil {
		return nil, nil, err
	}
	s.activations.Emit(occurred(who, event.MachineCreated, m, pol))
	return m, pol, nil
}

// joinGroup admits a new machine into its group, inside the activating
// transaction: the group given, else its license's, else its owner's, as
// Keygen's machines inherit them.
func (s *Service) joinGroup(ctx context.Context, m *Machine, l *license.License, given string) error {
	if s.groups == nil {
		return nil
	}
	switch {
	case given != "":
		m.GroupID = &given
	case l.GroupID != nil:
		m.GroupID = l.GroupID
	case m.OwnerID != nil:
		g, err := s.groups.UserGroup(ctx, m.AccountID, *m.OwnerID)
		if err != nil {
			return err
		}
		m.GroupID = g
	}
	return s.groups.Admit(ctx, m.AccountID, m.GroupID)
}

// uniqueness is where each strategy looks for a taken fingerprint: the
// machines column and the suffix of the refusal.
type uniqueness struct{ column, suffix string }

var uniquenesses = map[string]uniqueness{
	policy.UniquePerLicense: {"license_id", ""},
	policy.UniquePerPolicy:  {"policy_id", " for this policy"},
	policy.UniquePerProduct: {"product_id", " for this product"},
	policy.UniquePerAccount: {"account_id", " for this account"},
}

// uniquenessOf is the policy's uniqueness (per license by default).
func uniquenessOf(pol *policy.Policy) uniqueness {
	if u, ok := uniquenesses[pol.MachineUniquenessStrategy]; ok {
		return u
	}
	return uniquenesses[policy.UniquePerLicense]
}

// value is the machine's value of the uniqueness column.
func (u uniqueness) value(m *Machine) string {
	return map[string]string{"license_id": m.LicenseID, "policy_id": m.PolicyID, "product_id": m.ProductID, "account_id": m.AccountID}[u.column]
}

// taken refuses a fingerprint already taken.
func (u uniqueness) taken() error {
	return apperr.Attribute("fingerprint", "TAKEN", "has already been taken"+u.suffix)
}

// occupancy takes the activation's lock (after the license's row when
// components come too, which adding components serializes on: always in
// this order), refuses a fingerprint already taken where the policy's
// uniqueness looks, and reads the totals the machine limits apply to: the
// license's, kept in one row, or the owner's machines' under per-user
// leasing.
func (s *Service) occupancy(ctx context.Context, m *Machine, l *license.License, pol *policy.Policy, withLicense bool) (Stats, error) {
	u := uniquenessOf(pol)
	accountFingerprint := ""
	if u.column != "license_id" {
		accountFingerprint = m.AccountID + "/" + m.Fingerprint // the license's lock covers its own machines only
	}
	if withLicense {
		if err := s.store.Lock(ctx, l.ID); err != nil {
			return Stats{}, err
		}
	}
	st, taken, err := s.store.Claim(ctx, l.ID, m.Fingerprint, accountFingerprint)
	if err == nil && !taken && u.column != "license_id" {
		taken, err = s.store.FingerprintTaken(ctx, m.AccountID, u.column, u.value(m), m.Fingerprint)
	}
	switch {
	case err != nil:
		return Stats{}, err
	case taken:
		return Stats{}, u.taken()
	case pol.MachineLeasingStrategy != policy.PerUser:
		return st, nil
	}
	owner := ""
	if m.OwnerID != nil {
		owner = *m.OwnerID
	}
	return s.store.Stats(ctx, l.ID, true, owner)
}

// overage is how far a limit may be exceeded under a strategy.
func overage(strategy string) float64 {
	switch strategy {
	case policy.AlwaysAllowOverage:
		return math.Inf(1)
	case policy.Allow125xOverage:
		return 1.25
	case policy.Allow15xOverage:
		return 1.5
	case policy.Allow2xOverage:
		return 2
	}
	return 1
}

// Exceeds reports whether total passes limit beyond the overage strategy.
func Exceeds(total, limit int64, strategy string) bool {
	return float64(total) > float64(limit)*overage(strategy)
}

func limitError(code, what string, limit int64, per string) error {
	return apperr.At(apperr.Unprocessable, code, fmt.Sprintf("%s has exceeded maximum allowed for %s (%d)", what, per, limit), apperr.Record())
}

// checkLimits refuses a machine that takes the totals st past the limits.
func checkLimits(m *Machine, l *license.License, pol *policy.Policy, st Stats) error {
	per := "license"
	if pol.MachineLeasingStrategy == policy.PerUser {
		per = "user"
	}
	// The first activation always passes the machine count, as in Keygen.
	if max := license.Effective(l.MaxMachines, pol.MaxMachines); max != nil && st.Count > 0 && Exceeds(st.Count+1, *max, pol.OverageStrategy) {
		return limitError("MACHINE_LIMIT_EXCEEDED", "machine count", *max, per)
	}
	for _, c := range []struct {
		code, what string
		max        *int64
		used       int64
		add        *int64
	}{
		{"MACHINE_CORE_LIMIT_EXCEEDED", "machine core count", license.Effective(l.MaxCores, pol.MaxCores), st.Cores, m.Cores},
		{"MACHINE_MEMORY_LIMIT_EXCEEDED", "machine memory", license.Effective(l.MaxMemory, pol.MaxMemory), st.Memory, m.Memory},
		{"MACHINE_DISK_LIMIT_EXCEEDED", "machine disk", license.Effective(l.MaxDisk, pol.MaxDisk), st.Disk, m.Disk},
	} {
		if c.max != nil && c.add != nil && Exceeds(c.used+*c.add, *c.max, pol.OverageStrategy) {
			return limitError(c.code, c.what, *c.max, per)
		}
	}
	return nil
}

// StatsOf totals the machines of licenses the caller already holds.
func (s *Service) StatsOf(ctx context.Context, licenseIDs []string) (map[string]Stats, error) {
	return s.store.StatsOf(ctx, licenseIDs)
}

// Visible returns a machine who may see, whatever who's permissions.
func (s *Service) Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Machine, error) {
	return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
}

// Find returns a machine by id or fingerprint that who may read, with its
// policy.
// InGroup returns a page of a group's machines within the scope the group
// rules gave for the group's bearer (Keygen's Groups::MachinePolicy).
func (s *Service) InGroup(ctx context.Context, t *account.Tenant, groupID string, sc access.Scope, p page.Request) ([]WithPolicy[Machine], int64, error) {
	machines, total, err := s.store.List(ctx, t.ID, sc, Filter{GroupID: groupID}, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := withPolicies(ctx, s.policies, machines, (*Machine).policyRef)
	return out, total, err
}

// FindInGroup returns a group's machine by id or fingerprint within the
// scope the group rules gave; a machine of another group is NOT_FOUND.
func (s *Service) FindInGroup(ctx context.Context, t *account.Tenant, groupID string, sc access.Scope, ref string) (*Machine, *policy.Policy, error) {
	m, err := s.store.Find(ctx, t.ID, ref, sc)
	if err != nil {
		return nil, nil, err
	}
	if m.GroupID == nil || *m.GroupID != groupID {
		return nil, nil, apperr.NotFoundResource("machine", ref)
	}
	return s.withPolicy(ctx, m)
}

func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Machine, *policy.Policy, error) {
	m, err := s.visible(ctx, who, t, ref, "machine.read")
	if err != nil {
		return nil, nil, err
	}
	return s.withPolicy(ctx, m)
}

// withPolicy returns m with its policy.
func (s *Service) withPolicy(ctx context.Context, m *Machine) (*Machine, *policy.Policy, error) {
	pol, err := s.policies.Get(ctx, m.AccountID, m.PolicyID)
	if err != nil {
		return nil, nil, err
	}
	return m, pol, nil
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Machine, error) {
	return access.Visible(who, permission, func() (*Machine, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
}

// Filter narrows a machine list.
type Filter struct {
	LicenseID   string
	Fingerprint string
	ProductID   string
	PolicyID    string
	OwnerID     string
	UserID      string // owned by the user or of a license the user holds
	IP          string
	Hostname    string
	GroupID     string
	// Metadata holds snake_case keys and query-string values, matched as
	// Keygen's search_metadata does.
	Metadata map[string]string
	// LicenseKey picks the machines of the license with that key (Keygen's
	// key scope); the service turns it into the key's digest.
	LicenseKey       string
	licenseKeyDigest string
	// Status is ALIVE (NOT_STARTED included) or DEAD by the heartbeat, as
	// Keygen's with_status; any other matches nothing.
	Status string
	// Now is the time statuses are read at (the service sets it).
	Now time.Time
}

// List returns a page of the machines who may see, each with its policy.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]WithPolicy[Machine], int64, error) {
	if err := who.Require("machine.read"); err != nil {
		return nil, 0, err
	}
	if f.LicenseKey != "" {
		f.licenseKeyDigest = license.Digest(t.Keys.Secret, f.LicenseKey)
	}
	f.Now = s.now().UTC()
	machines, total, err := s.store.List(ctx, t.ID, access.ScopeOf(who), f, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := withPolicies(ctx, s.policies, machines, (*Machine).policyRef)
	return out, total, err
}

// Update changes a machine's descriptive attributes; staff and products
// may also change cores, memory, disk and metadata. It returns the machine
// with its policy.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Machine, *policy.Policy, error) {
	m, err := s.visible(ctx, who, t, ref, "machine.update")
	if err != nil {
		return nil, nil, err
	}
	if err := checkAttributes(p, false); err != nil {
		return nil, nil, err
	}
	if (p.Cores.Set || p.Memory.Set || p.Disk.Set || p.Metadata.Set) && !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("cores"))
	}
	apply(m, p)
	return s.saveEmitting(ctx, who, event.MachineUpdated, m)
}

// saveEmitting saves a changed machine and records name about it, with its
// policy, in one transaction.
func (s *Service) saveEmitting(ctx context.Context, who *access.Principal, name string, m *Machine) (*Machine, *policy.Policy, error) {
	var pol *policy.Policy
	err := s.tx.Change(ctx, func(ctx context.Context) error {
		if err := s.store.Save(ctx, m); err != nil {
			return err
		}
		var err error
		pol, err = s.policies.Get(ctx, m.AccountID, m.PolicyID)
		return err
	}, func() event.Occurrence { return occurred(who, name, m, pol) })
	if err != nil {
		return nil, nil, err
	}
	return m, pol, nil
}

// Deactivate removes a machine, counting a deactivation token's allowance.
func (s *Service) Deactivate(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	m, err := s.visible(ctx, who, t, ref, "machine.delete")
	if err != nil {
		return err
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return err
	}
	if err := protected(who, l, pol); err != nil {
		return err
	}
	return s.tx.Change(ctx, func(ctx context.Context) error {
		if who.BearerType == access.BearerLicense && who.TokenID != "" {
			if err := s.counters.Consume(ctx, m.AccountID, who.TokenID, true); err != nil {
				return err
			}
		}
		return s.store.Delete(ctx, m)
	}, func() event.Occurrence { return occurred(who, event.MachineDeleted, m, pol) })
}

// Heartbeat pings (reset false) or resets a machine's heartbeat. A dead
// machine is revived only within its policy's resurrection window.
func (s *Service) Heartbeat(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, reset bool) (*Machine, *policy.Policy, error) {
	permission := "machine.heartbeat.ping"
	if reset {
		permission = "machine.heartbeat.reset"
	}
	m, err := s.visible(ctx, who, t, ref, permission)
	if err != nil {
		return nil, nil, err
	}
	_, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	m.ResurrectedAt = nil
	name := event.MachineHeartbeatPing
	if reset {
		m.LastHeartbeatAt, name = nil, event.MachineHeartbeatReset
	} else {
		if m.HeartbeatStatus(pol, now) == Dead {
			if !revivable(m, pol, now) {
				return nil, nil, apperr.At(apperr.Unprocessable, "MACHINE_HEARTBEAT_DEAD", "is dead", apperr.Record())
			}
			m.ResurrectedAt, name = &now, event.MachineHeartbeatResurrected
		}
		m.LastHeartbeatAt = &now
	}
	err = s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, m) },
		func() event.Occurrence { return occurred(who, name, m, pol) })
	if err != nil {
		return nil, nil, err
	}
	return m, pol, nil
}

// CheckedOut records that a machine file was issued.
func (s *Service) CheckedOut(ctx context.Context, who *access.Principal, m *Machine, pol *policy.Policy) error {
	return s.tx.Emit(ctx, occurred(who, event.MachineCheckedOut, m, pol))
}

// revivalWindow is how long after dying an N_MINUTE_REVIVE strategy revives
// (read by its number); zero for every other strategy.
func revivalWindow(strategy string) time.Duration {
	minutes, ok := strings.CutSuffix(strategy, "_MINUTE_REVIVE")
	n, err := strconv.Atoi(minutes)
	if !ok || err != nil || n < 1 {
		return 0
	}
	return time.Duration(n) * time.Minute
}

func revivable(m *Machine, pol *policy.Policy, now time.Time) bool {
	if pol.HeartbeatResurrectionStrategy == policy.AlwaysRevive {
		return true
	}
	window := revivalWindow(pol.HeartbeatResurrectionStrategy)
	if window == 0 || m.LastHeartbeatAt == nil {
		return false
	}
	deadSince := m.LastHeartbeatAt.Add(time.Duration(pol.HeartbeatSeconds()) * time.Second)
	return now.Sub(deadSince) <= window
}
