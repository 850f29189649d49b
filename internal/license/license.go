// Package license is what a customer holds: a key tied to a policy (and so
// a product), optionally owned by a user, that software validates and
// activates machines with. Keys are credentials: they are stored sealed,
// and found by an HMAC digest.
package license

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/user"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// License is a stored license.
type License struct {
	ID                   string `gorm:"primaryKey"`
	AccountID            string
	ProductID            string
	PolicyID             string
	OwnerID              *string
	GroupID              *string `gorm:"<-:create"` // changed only through the group rules
	Name                 *string
	KeyDigest            string
	KeySealed            string
	Expiry               *time.Time
	Suspended            bool
	Protected            *bool
	Uses                 int64
	MaxMachines          *int64
	MaxProcesses         *int64
	MaxUsers             *int64
	MaxCores             *int64
	MaxMemory            *int64
	MaxDisk              *int64
	MaxUses              *int64
	LastValidatedAt      *time.Time
	LastValidatedVersion *string
	LastCheckInAt        *time.Time
	LastCheckOutAt       *time.Time
	Metadata             map[string]any `gorm:"serializer:json"`
	CreatedAt            time.Time
	UpdatedAt            time.Time

	// Read with the license, never written.
	OwnerBanned bool `gorm:"->;-:migration"`
	// Read with the license for authentication (its sight of releases).
	ProductDistribution string `gorm:"->;-:migration"`
	AnyOpenProduct      bool   `gorm:"->;-:migration"`
	// Key is the opened key; the store fills it.
	Key string `gorm:"-"`
	// Totals are the license's machine totals when they were read with it.
	Totals *Totals `gorm:"-"`
}

// Statuses, by precedence.
const (
	StatusBanned    = "BANNED"
	StatusSuspended = "SUSPENDED"
	StatusExpired   = "EXPIRED"
	StatusExpiring  = "EXPIRING"
	StatusInactive  = "INACTIVE"
	StatusActive    = "ACTIVE"
)

// Status derives the license's status at now.
func (l *License) Status(now time.Time) string {
	switch {
	case l.OwnerBanned:
		return StatusBanned
	case l.Suspended:
		return StatusSuspended
	case l.Expired(now):
		return StatusExpired
	case l.Expiry != nil && l.Expiry.After(now) && l.Expiry.Sub(now) < expiringWindow:
		return StatusExpiring
	case l.inactive(now):
		return StatusInactive
	}
	return StatusActive
}

// activeWindow is how recently a license must have been created, validated,
// checked out or checked in to be ACTIVE rather than INACTIVE.
const activeWindow = 90 * 24 * time.Hour

// expiringWindow is how near its expiry a license is EXPIRING.
const expiringWindow = 3 * 24 * time.Hour

// inactive reports whether nothing happened to the license within the
// active window: neither its creation nor its last validation, check-out or
// check-in.
func (l *License) inactive(now time.Time) bool {
	since := now.Add(-activeWindow)
	for _, at := range []*time.Time{&l.CreatedAt, l.LastValidatedAt, l.LastCheckOutAt, l.LastCheckInAt} {
		if at != nil && !at.Before(since) {
			return false
		}
	}
	return true
}

// Expired reports whether the license has expired at now.
func (l *License) Expired(now time.Time) bool { return l.Expiry != nil && l.Expiry.Before(now) }

// Effective returns the license override of a limit, else the policy's.
func Effective(override, fromPolicy *int64) *int64 {
	if override != nil {
		return override
	}
	return fromPolicy
}

// Sealer encrypts keys at rest.
type Sealer interface {
	Seal([]byte) (string, error)
	Open(string) ([]byte, error)
}

// Policies gives the rules the policies licenses belong to.
type Policies interface {
	Get(ctx context.Context, accountID, policyID string) (*policy.Policy, error)
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*policy.Policy, error)
}

// Owners resolves users that may own licenses, and lists a license's users.
type Owners interface {
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
	OfLicense(ctx context.Context, accountID, licenseID string, ownerID *string, p page.Request) ([]user.User, int64, error)
	Bearer(ctx context.Context, accountID, id string) (*user.User, error)
	LicenseUserID(ctx context.Context, accountID, licenseID, ref string) (string, error)
}

// Groups keeps new licenses within their group's license limit.
type Groups interface {
	// Admit checks, inside the caller's transaction, that the group
	// (nil: none) has room for one more license.
	Admit(ctx context.Context, accountID string, groupID *string) error
	// UserGroup is a user's group, which its new licenses join when given
	// none.
	UserGroup(ctx context.Context, accountID, userID string) (*string, error)
}

// Pool gives the keys of policies that use a pool.
type Pool interface {
	// Take removes the oldest key of the policy's pool inside the
	// caller's transaction: POLICY_POOL_EMPTY when there is none.
	Take(ctx context.Context, accountID, policyID string) (string, error)
}

// Records is what the rules need of the license store; *Store is it (and
// the tests' in-memory fake models its documented contracts).
type Records interface {
	Create(ctx context.Context, l *License) error
	Save(ctx context.Context, l *License) error
	Delete(ctx context.Context, l *License) error
	Find(ctx context.Context, accountID, ref, digest string, sc access.Scope) (*License, error)
	List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]License, int64, error)
	FindByDigestWithPolicy(ctx context.Context, accountID, digest string) (*License, *policy.Policy, error)
	FindBearerByDigest(ctx context.Context, accountID, digest string) (*License, *policy.Policy, error)
	FindForValidation(ctx context.Context, accountID, digest string, reach bool) (*License, *policy.Policy, error)
	FindWithPolicy(ctx context.Context, accountID, id string) (*License, *policy.Policy, error)
	ChangeUses(ctx context.Context, l *License, delta int64, reset bool, max *int64) (int64, error)
	StartExpiry(ctx context.Context, l *License, at time.Time) (bool, error)
	Transfer(ctx context.Context, l *License) error
	AttachUsers(ctx context.Context, l *License, userIDs []string, max *int64) error
	DetachUsers(ctx context.Context, l *License, userIDs []string) error
	// Licensees counts the users attached to each license (its owner
	// aside).
	Licensees(ctx context.Context, licenseIDs []string) (map[string]int64, error)
}

var _ Records = (*Store)(nil)

// Service holds the license rules.
type Service struct {
	store    Records
	policies Policies
	owners   Owners
	sealer   Sealer
	keys     SigningKeys
	machines MachineTotals
	groups   Groups
	pool     Pool
	events   event.Changer
	now      func() time.Time
}

// NewService returns the license rules.
// groups (nil: groups are not kept) admits new licenses into groups; pool
// (nil: no pools) gives the keys of policies that use a pool.
func NewService(store Records, policies Policies, owners Owners, sealer Sealer, keys SigningKeys, machines MachineTotals, groups Groups, pool Pool, events event.Changer) *Service {
	return &Service{store: store, policies: policies, owners: owners, sealer: sealer, keys: keys, machines: machines, groups: groups, pool: pool, events: events, now: time.Now}
}

func (s *Service) occurred(who *access.Principal, name string, l *License) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: l.AccountID, Resource: l, Who: who}
	}
}

// Digest is how a key is found: hex HMAC-SHA256 keyed with the account secret.
func Digest(secret []byte, key string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("license\x00" + key))
	return hex.EncodeToString(mac.Sum(nil))
}

// Params are the writable attributes; absent ones are left unchanged.
type Params struct {
	Name         optional.Value[*string]        `json:"name"`
	Key          optional.Value[string]         `json:"key"`
	Expiry       optional.Value[*time.Time]     `json:"expiry"`
	Suspended    optional.Value[bool]           `json:"suspended"`
	Protected    optional.Value[*bool]          `json:"protected"`
	MaxMachines  optional.Value[*int64]         `json:"max_machines"`
	MaxProcesses optional.Value[*int64]         `json:"max_processes"`
	MaxUsers     optional.Value[*int64]         `json:"max_users"`
	MaxCores     optional.Value[*int64]         `json:"max_cores"`
	MaxMemory    optional.Value[*int64]         `json:"max_memory"`
	MaxDisk      optional.Value[*int64]         `json:"max_disk"`
	MaxUses      optional.Value[*int64]         `json:"max_uses"`
	Metadata     optional.Value[map[string]any] `json:"metadata"`
}

// privileged reports the first attribute only staff and products may set.
func (p Params) privileged() string {
	switch {
	case p.Expiry.Set:
		return "expiry"
	case p.Suspended.Set:
		return "suspended"
	case p.Protected.Set:
		return "protected"
	}
	for _, limit := range []struct {
		attr string
		set  bool
	}{
		{"max_machines", p.MaxMachines.Set}, {"max_processes", p.MaxProcesses.Set}, {"max_users", p.MaxUsers.Set},
		{"max_cores", p.MaxCores.Set}, {"max_memory", p.MaxMemory.Set}, {"max_disk", p.MaxDisk.Set}, {"max_uses", p.MaxUses.Set},
	} {
		if limit.set {
			return limit.attr
		}
	}
	return ""
}

// Relationships of a new license: Group is a group id, which only staff
// and products may give.
type Relationships struct {
	Policy string
	Owner  string
	Group  string
}

func privilegedBearer(who *access.Principal) bool {
	return who.Staff() || who.BearerType == access.BearerProduct
}

// Create issues a license under a policy who may see. Users may create
// licenses only for themselves, under unprotected policies.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, rel Relationships, p Params) (*License, error) {
	return s.create(ctx, who, t, rel, p, false)
}

// Import stores a license copied from another Keygen server as Create
// does, but with its key exactly as that server issued it: a signed key
// (ED25519_SIGN, RSA_2048_JWT_RS256) is kept, not signed again, so that
// the keys in customers' hands keep validating.
func (s *Service) Import(ctx context.Context, who *access.Principal, t *account.Tenant, rel Relationships, p Params) (*License, error) {
	if !p.Key.Set {
		return nil, apperr.Attribute("key", "MISSING", "can't be blank")
	}
	return s.create(ctx, who, t, rel, p, true)
}

func (s *Service) create(ctx context.Context, who *access.Principal, t *account.Tenant, rel Relationships, p Params, verbatim bool) (*License, error) {
	if err := who.Require("license.create"); err != nil {
		return nil, err
	}
	if attr := p.privileged(); attr != "" && !privilegedBearer(who) {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr(attr))
	}
	if rel.Group != "" && !privilegedBearer(who) {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Rel("group"))
	}
	notFound := apperr.At(apperr.Unprocessable, "POLICY_NOT_FOUND", "must exist", apperr.Rel("policy"))
	if rel.Policy == "" {
		return nil, notFound
	}
	pol, err := s.policies.Visible(ctx, who, t, rel.Policy)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	l := &License{ID: id.New(), AccountID: t.ID, ProductID: pol.ProductID, PolicyID: pol.ID, Metadata: map[string]any{}}
	if rel.Owner != "" {
		ownerID, err := s.owners.VisibleID(ctx, who, t, rel.Owner)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.At(apperr.Unprocessable, "OWNER_NOT_FOUND", "must exist", apperr.Rel("owner"))
		}
		if err != nil {
			return nil, err
		}
		l.OwnerID = &ownerID
	}
	if who.BearerType == access.BearerUser && !who.Staff() {
		if pol.Protected || l.OwnerID == nil || *l.OwnerID != who.BearerID {
			return nil, access.Denied("users may only create licenses they own, under unprotected policies")
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	l.CreatedAt = now
	if pol.Duration != nil && pol.ExpirationBasis == policy.FromCreation {
		at := now.Add(time.Duration(*pol.Duration) * time.Second)
		l.Expiry = &at
	}
	if pol.RequireCheckIn {
		l.LastCheckInAt = &now
	}
	if err := apply(l, p); err != nil {
		return nil, err
	}
	// A pooled policy's license without a key of its own takes the
	// oldest key of the pool, in the creating transaction.
	pooled := pol.UsePool && !p.Key.Set && !verbatim && s.pool != nil
	if !pooled {
		if err := s.setKey(ctx, l, t, pol, p.Key, verbatim); err != nil {
			return nil, err
		}
	}
	if rel.Group != "" {
		l.GroupID = &rel.Group
	}
	if err := s.events.Change(ctx, func(ctx context.Context) error {
		if pooled {
			key, err := s.pool.Take(ctx, t.ID, pol.ID)
			if err != nil {
				return err
			}
			if err := s.setKey(ctx, l, t, pol, optional.Of(key), true); err != nil {
				return err
			}
		}
		if err := s.joinGroup(ctx, l); err != nil {
			return err
		}
		return s.store.Create(ctx, l)
	}, s.occurred(who, event.LicenseCreated, l)); err != nil {
		return nil, err
	}
	return l, nil
}

// joinGroup admits a new license into its group, inside the creating
// transaction: the group given, else its owner's group, as Keygen's
// licenses inherit their owner's.
func (s *Service) joinGroup(ctx context.Context, l *License) error {
	if s.groups == nil {
		l.GroupID = nil
		return nil
	}
	if l.GroupID == nil && l.OwnerID != nil {
		g, err := s.groups.UserGroup(ctx, l.AccountID, *l.OwnerID)
		if err != nil {
			return err
		}
		l.GroupID = g
	}
	return s.groups.Admit(ctx, l.AccountID, l.GroupID)
}

// setKey makes the license's key: the given one, one encrypted or signed
// by the policy's scheme, else a random XXXXXX-XXXXXX-XXXXXX-XXXXXX-XXXXXX-V3.
func (s *Service) setKey(ctx context.Context, l *License, t *account.Tenant, pol *policy.Policy, given optional.Value[string], verbatim bool) error {
	key := given.V
	switch {
	case verbatim:
		if err := checkGivenKey(key); err != nil {
			return err
		}
	case pol.Scheme != nil:
		var seed *string
		if given.Set {
			seed = &given.V
		}
		signed, err := s.schemeKey(ctx, l, t, pol, seed)
		if err != nil {
			return err
		}
		key = signed
	case given.Set:
		if err := checkGivenKey(key); err != nil {
			return err
		}
	default:
		key = randomKey()
	}
	sealed, err := s.sealer.Seal([]byte(key))
	if err != nil {
		return err
	}
	l.Key, l.KeySealed, l.KeyDigest = key, sealed, Digest(t.Keys.Secret, key)
	return nil
}

// checkGivenKey refuses a key given as is that is too short or long, or
// that could be taken for an id or a route.
func checkGivenKey(key string) error {
	switch {
	case len(key) < 6:
		return apperr.Attribute("key", "TOO_SHORT", "is too short (minimum is 6 characters)")
	case len(key) > 16<<10:
		return apperr.Attribute("key", "TOO_LONG", "is too long (maximum is 16384 characters)")
	case uuid.Validate(key) == nil && len(key) == 36, key == "actions", key == "action":
		return apperr.Attribute("key", "NOT_ALLOWED", "is reserved or has the shape of an id")
	}
	return nil
}

// randomKey is Keygen's default: 16 random bytes in hex, the last two
// characters replaced by "v3", upper-cased, in groups of six.
func randomKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	raw := strings.ToUpper(hex.EncodeToString(b)[:30] + "v3")
	var groups []string
	for i := 0; i < len(raw); i += 6 {
		groups = append(groups, raw[i:min(i+6, len(raw))])
	}
	return strings.Join(groups, "-")
}

func apply(l *License, p Params) error {
	if p.Name.Set {
		if p.Name.V != nil && len(*p.Name.V) > 1024 {
			return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 1024 characters)")
		}
		l.Name = p.Name.V
	}
	p.Expiry.Apply(&l.Expiry)
	if l.Expiry != nil {
		at := l.Expiry.UTC().Truncate(time.Millisecond)
		l.Expiry = &at
	}
	p.Suspended.Apply(&l.Suspended)
	p.Protected.Apply(&l.Protected)
	for _, o := range []struct {
		attr    string
		v       optional.Value[*int64]
		minimum int64
		dst     **int64
	}{
		{"max_machines", p.MaxMachines, 0, &l.MaxMachines}, {"max_processes", p.MaxProcesses, 1, &l.MaxProcesses},
		{"max_users", p.MaxUsers, 1, &l.MaxUsers}, {"max_cores", p.MaxCores, 1, &l.MaxCores},
		{"max_memory", p.MaxMemory, 1, &l.MaxMemory}, {"max_disk", p.MaxDisk, 1, &l.MaxDisk},
		{"max_uses", p.MaxUses, 0, &l.MaxUses},
	} {
		if !o.v.Set {
			continue
		}
		if o.v.V != nil && *o.v.V < o.minimum {
			return apperr.Attribute(o.attr, "INVALID", "must be greater than or equal to "+itoa(o.minimum))
		}
		*o.dst = o.v.V
	}
	if p.Metadata.Set {
		l.Metadata = p.Metadata.V
		if l.Metadata == nil {
			l.Metadata = map[string]any{}
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Find returns a license by id or key that who may read.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*License, error) {
	return s.visible(ctx, who, t, ref, "license.read")
}

// InGroup returns a page of a group's licenses within the scope the group
// rules gave for the group's bearer (Keygen's Groups::LicensePolicy).
func (s *Service) InGroup(ctx context.Context, t *account.Tenant, groupID string, sc access.Scope, p page.Request) ([]License, int64, error) {
	return s.listOpened(ctx, t.ID, sc, Filter{GroupID: groupID, Now: s.now().UTC()}, p)
}

// FindInGroup returns a group's license by id or key within the scope the
// group rules gave; a license of another group is NOT_FOUND.
func (s *Service) FindInGroup(ctx context.Context, t *account.Tenant, groupID string, sc access.Scope, ref string) (*License, error) {
	l, err := s.store.Find(ctx, t.ID, ref, Digest(t.Keys.Secret, ref), sc)
	if err != nil {
		return nil, err
	}
	if l.GroupID == nil || *l.GroupID != groupID {
		return nil, apperr.NotFoundResource("license", ref)
	}
	return l, s.open(l)
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*License, error) {
	l, err := access.Visible(who, permission, func() (*License, error) {
		return s.store.Find(ctx, t.ID, ref, Digest(t.Keys.Secret, ref), access.ScopeOf(who))
	})
	if err != nil {
		return nil, err
	}
	return l, s.open(l)
}

func (s *Service) open(l *License) error {
	key, err := s.sealer.Open(l.KeySealed)
	if err != nil {
		return err
	}
	l.Key = string(key)
	return nil
}

// Filter narrows a license list.
type Filter struct {
	ProductID string
	PolicyID  string
	OwnerID   string
	UserID    string // owned by the user or licensed to them
	MachineID string
	GroupID   string
	// Status is one of the statuses; any other matches nothing, as in Keygen.
	Status string
	// Metadata holds snake_case keys and query-string values (Keygen's
	// search_metadata reads "1" as 1 or "1", "true" as true or "true").
	Metadata    map[string]string
	Suspended   *bool
	Expiring    *bool
	Expired     *bool
	Assigned    *bool // owned by or licensed to anyone
	Activated   *bool // at least one machine
	Activations *Comparison
	// Expires narrows to licenses yet to expire (expires[within|in|before|
	// after|on]), ExpiredWithin to expired ones (expired[…], the same
	// keys), Activity to active or inactive ones (activity[inside|outside|
	// before|after]), as Keygen's scopes.
	Expires, ExpiredWithin, Activity *document.Window
	// Now is the time statuses are read at (the service sets it).
	Now time.Time
}

// Comparison is an integer filter: Op is eq, gt, gte, lt or lte.
type Comparison struct {
	Op string
	N  int64
}

// List returns a page of the licenses who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]License, int64, error) {
	if err := who.Require("license.read"); err != nil {
		return nil, 0, err
	}
	f.Now = s.now().UTC()
	return s.listOpened(ctx, t.ID, access.ScopeOf(who), f, p)
}

// listOpened is a page of the licenses within sc that f matches, their
// keys unsealed.
func (s *Service) listOpened(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]License, int64, error) {
	licenses, total, err := s.store.List(ctx, accountID, sc, f, p)
	if err != nil {
		return nil, 0, err
	}
	for i := range licenses {
		if err := s.open(&licenses[i]); err != nil {
			return nil, 0, err
		}
	}
	return licenses, total, nil
}

// Update changes the given attributes (staff and products).
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*License, error) {
	l, err := s.visible(ctx, who, t, ref, "license.update")
	if err != nil {
		return nil, err
	}
	if p.Key.Set {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("key"))
	}
	if err := apply(l, p); err != nil {
		return nil, err
	}
	return l, s.save(ctx, who, event.LicenseUpdated, l)
}

// Revoke deletes a license.
func (s *Service) Revoke(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) error {
	l, err := s.visible(ctx, who, t, ref, permission)
	if err != nil {
		return err
	}
	if err := s.protectedFromUser(ctx, who, l); err != nil {
		return err
	}
	name := event.LicenseDeleted
	if permission == "license.revoke" {
		name = event.LicenseRevoked
	}
	return s.events.Change(ctx, func(ctx context.Context) error { return s.store.Delete(ctx, l) }, s.occurred(who, name, l))
}

// protectedFromUser refuses user-role bearers changes to licenses they do
// not own (licensees only use them) and to protected licenses.
func (s *Service) protectedFromUser(ctx context.Context, who *access.Principal, l *License) error {
	if who.BearerType != access.BearerUser || who.Staff() {
		return nil
	}
	if l.OwnerID == nil || *l.OwnerID != who.BearerID {
		return access.Denied("only the license's owner may change it")
	}
	if l.Protected != nil {
		if *l.Protected {
			return access.Denied("license is protected")
		}
		return nil
	}
	pol, err := s.policies.Get(ctx, l.AccountID, l.PolicyID)
	if err != nil {
		return err
	}
	if pol.Protected {
		return access.Denied("license is protected")
	}
	return nil
}

// SetSuspended suspends or reinstates a license.
func (s *Service) SetSuspended(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, suspended bool) (*License, error) {
	permission := "license.reinstate"
	if suspended {
		permission = "license.suspend"
	}
	l, err := s.visible(ctx, who, t, ref, permission)
	if err != nil {
		return nil, err
	}
	if l.Suspended == suspended {
		detail := "is not suspended"
		if suspended {
			detail = "is already suspended"
		}
		return nil, apperr.Attribute("suspended", "INVALID", detail)
	}
	l.Suspended = suspended
	name := event.LicenseReinstated
	if suspended {
		name = event.LicenseSuspended
	}
	return l, s.save(ctx, who, name, l)
}

// save writes the license and records the event in one transaction.
func (s *Service) save(ctx context.Context, who *access.Principal, name string, l *License) error {
	return s.events.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, l) }, s.occurred(who, name, l))
}

// Renew extends the expiry by the policy's duration, per its renewal basis.
func (s *Service) Renew(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*License, error) {
	l, err := s.visible(ctx, who, t, ref, "license.renew")
	if err != nil {
		return nil, err
	}
	if err := s.protectedFromUser(ctx, who, l); err != nil {
		return nil, err
	}
	pol, err := s.policies.Get(ctx, l.AccountID, l.PolicyID)
	if err != nil {
		return nil, err
	}
	if pol.Duration == nil {
		return nil, apperr.At(apperr.Unprocessable, "LICENSE_NOT_RENEWABLE", "cannot be renewed because its policy does not have a duration", apperr.Record())
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	from := now
	switch {
	case pol.RenewalBasis == policy.RenewFromExpiry && l.Expiry != nil:
		from = *l.Expiry
	case pol.RenewalBasis == policy.RenewFromNowIfExpired && l.Expiry != nil && !l.Expired(now):
		from = *l.Expiry
	}
	at := from.Add(time.Duration(*pol.Duration) * time.Second)
	l.Expiry = &at
	return l, s.save(ctx, who, event.LicenseRenewed, l)
}

// CheckIn records a check-in of a policy that requires them.
func (s *Service) CheckIn(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*License, error) {
	l, err := s.visible(ctx, who, t, ref, "license.check-in")
	if err != nil {
		return nil, err
	}
	if err := s.protectedFromUser(ctx, who, l); err != nil {
		return nil, err
	}
	pol, err := s.policies.Get(ctx, l.AccountID, l.PolicyID)
	if err != nil {
		return nil, err
	}
	if !pol.RequireCheckIn {
		return nil, apperr.At(apperr.Unprocessable, "LICENSE_NOT_CHECK_IN_REQUIRED", "cannot be checked in because the policy does not require it", apperr.Record())
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	l.LastCheckInAt = &now
	return l, s.save(ctx, who, event.LicenseCheckedIn, l)
}

// NextCheckIn is when the license must check in next (nil if never).
func NextCheckIn(l *License, pol *policy.Policy) *time.Time {
	if !pol.RequireCheckIn || l.LastCheckInAt == nil || pol.CheckInInterval == nil || pol.CheckInIntervalCount == nil {
		return nil
	}
	n := int(*pol.CheckInIntervalCount)
	var next time.Time
	switch *pol.CheckInInterval {
	case "day":
		next = l.LastCheckInAt.AddDate(0, 0, n)
	case "week":
		next = l.LastCheckInAt.AddDate(0, 0, 7*n)
	case "month":
		next = addMonths(*l.LastCheckInAt, n)
	default:
		next = addMonths(*l.LastCheckInAt, 12*n)
	}
	return &next
}

// addMonths adds calendar months as Keygen (ActiveSupport) does: a day the
// target month lacks becomes its last day (Jan 31 + 1 month = Feb 28), where
// time.AddDate would spill into the next month (Mar 3).
func addMonths(t time.Time, n int) time.Time {
	next := t.AddDate(0, n, 0)
	if next.Day() != t.Day() {
		next = next.AddDate(0, 0, -next.Day()) // the last day of the month before the spill
	}
	return next
}

// UsageAction is what a usage change does.
type UsageAction string

// The usage actions, named as their permissions and meta members.
const (
	Increment UsageAction = "increment"
	Decrement UsageAction = "decrement"
	Reset     UsageAction = "reset"
)

// UsageChange is an increment or decrement By a positive amount (absent:
// 1), or a reset.
type UsageChange struct {
	Action UsageAction
	By     optional.Value[int64]
}

// ChangeUsage changes the license's uses, within 0 and the effective
// maxUses, atomically.
func (s *Service) ChangeUsage(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, change UsageChange) (*License, error) {
	delta, reset := int64(1), change.Action == Reset
	if change.By.Set && !reset {
		if change.By.V < 1 {
			return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must be greater than 0", apperr.Meta(string(change.Action)))
		}
		delta = change.By.V
	}
	if change.Action == Decrement {
		delta = -delta
	}
	l, err := s.visible(ctx, who, t, ref, "license.usage."+string(change.Action))
	if err != nil {
		return nil, err
	}
	pol, err := s.policies.Get(ctx, l.AccountID, l.PolicyID)
	if err != nil {
		return nil, err
	}
	name := map[UsageAction]string{Increment: event.LicenseUsageIncremented, Decrement: event.LicenseUsageDecremented, Reset: event.LicenseUsageReset}[change.Action]
	err = s.events.Change(ctx, func(ctx context.Context) error {
		uses, err := s.store.ChangeUses(ctx, l, delta, reset, Effective(l.MaxUses, pol.MaxUses))
		if err != nil {
			return err
		}
		l.Uses = uses
		if delta > 0 && !reset {
			return s.StartExpiry(ctx, l, pol, policy.FromFirstUse)
		}
		return nil
	}, s.occurred(who, name, l))
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Visible returns a license who may see and its policy, whatever who's
// permissions (to act on its machines).
func (s *Service) Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*License, *policy.Policy, error) {
	if who == nil {
		return nil, nil, access.ErrTokenMissing
	}
	if l, pol, ok, err := s.own(ctx, who, t.ID, ref); ok {
		if err != nil {
			return nil, nil, err
		}
		return l, pol, s.open(l)
	}
	l, err := s.store.Find(ctx, t.ID, ref, Digest(t.Keys.Secret, ref), access.ScopeOf(who))
	if err != nil {
		return nil, nil, err
	}
	pol, err := s.policies.Get(ctx, l.AccountID, l.PolicyID)
	if err != nil {
		return nil, nil, err
	}
	return l, pol, s.open(l)
}

// StartExpiry starts a license's clock when its policy counts from the
// given event (FROM_FIRST_ACTIVATION, ...) and it has not started yet. It
// writes once: the conditional update does nothing afterwards.
func (s *Service) StartExpiry(ctx context.Context, l *License, pol *policy.Policy, basis string) error {
	if pol.ExpirationBasis != basis || pol.Duration == nil || l.Expiry != nil {
		return nil
	}
	at := s.now().UTC().Truncate(time.Millisecond).Add(time.Duration(*pol.Duration) * time.Second)
	started, err := s.store.StartExpiry(ctx, l, at)
	if started {
		l.Expiry = &at
	}
	return err
}

// ForValidation finds the license with a key, and its policy, for
// validate-key: anonymous callers may validate any key; a license only
// itself, a user its own licenses, a product its product's. Out of sight
// is reported as not found (nil license). releaseScoped reads the
// license's sight of releases with it (License.Reach), for the checksum
// and version scopes.
func (s *Service) ForValidation(ctx context.Context, who *access.Principal, t *account.Tenant, key string, releaseScoped bool) (*License, *policy.Policy, error) {
	l, pol, err := s.store.FindForValidation(ctx, t.ID, Digest(t.Keys.Secret, key), releaseScoped)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if who != nil && !who.Staff() {
		sc := access.ScopeOf(who)
		visible := (sc.LicenseID != "" && sc.LicenseID == l.ID) || (sc.ProductID != "" && sc.ProductID == l.ProductID) ||
			(sc.UserID != "" && l.OwnerID != nil && *l.OwnerID == sc.UserID)
		if !visible && sc.UserID != "" {
			// Keygen lets a user validate the licenses it holds too.
			holder, err := s.owners.LicenseUserID(ctx, t.ID, l.ID, sc.UserID)
			if err != nil {
				return nil, nil, err
			}
			visible = holder != ""
		}
		if !visible {
			return nil, nil, nil
		}
	}
	return l, pol, s.open(l)
}

// CheckedOut records that a license file was issued.
func (s *Service) CheckedOut(ctx context.Context, who *access.Principal, l *License) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	l.LastCheckOutAt = &now
	return s.save(ctx, who, event.LicenseCheckedOut, l)
}

// ChangeOwner gives the license to the user ownerRef names (id or email),
// or takes its owner away when ownerRef is nil: staff and the license's
// product (license.owner.update), as Keygen's Licenses::OwnerPolicy.
func (s *Service) ChangeOwner(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, ownerRef *string) (*License, error) {
	l, err := s.visible(ctx, who, t, ref, "license.owner.update")
	if err != nil {
		return nil, err
	}
	l.OwnerID = nil
	if ownerRef != nil {
		ownerID, err := s.owners.VisibleID(ctx, who, t, *ownerRef)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.At(apperr.Unprocessable, "OWNER_NOT_FOUND", "must exist", apperr.Record().Member("id"))
		}
		if err != nil {
			return nil, err
		}
		l.OwnerID = &ownerID
	}
	if err := s.save(ctx, who, event.LicenseOwnerUpdated, l); err != nil {
		return nil, err
	}
	return s.visible(ctx, who, t, l.ID, "license.read")
}

// uniquenessRank orders uniqueness strategies from loosest to strictest.
var uniquenessRank = map[string]int{
	policy.UniquePerMachine: 0, policy.UniquePerLicense: 1, policy.UniquePerPolicy: 2, policy.UniquePerProduct: 3, policy.UniquePerAccount: 4,
}

// Transfer moves a license to another policy of its product. The scheme
// cannot change and uniqueness cannot get stricter; the new policy's
// RESET_EXPIRY transfer strategy restarts the expiry.
func (s *Service) Transfer(ctx context.Context, who *access.Principal, t *account.Tenant, ref, policyRef string) (*License, *policy.Policy, error) {
	l, from, err := s.Visible(ctx, who, t, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := who.Require("license.policy.update"); err != nil {
		return nil, nil, err
	}
	if err := s.protectedFromUser(ctx, who, l); err != nil {
		return nil, nil, err
	}
	notFound := apperr.At(apperr.Unprocessable, "POLICY_NOT_FOUND", "must exist", apperr.Record().Member("id"))
	to, err := s.policies.Visible(ctx, who, t, policyRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	incompatible := func(detail string) error {
		return apperr.At(apperr.Unprocessable, "POLICY_NOT_COMPATIBLE", detail, apperr.Record().Member("id"))
	}
	switch {
	case to.ProductID != from.ProductID:
		return nil, nil, incompatible("cannot transfer a license to a policy of another product")
	case (to.Scheme == nil) != (from.Scheme == nil) || (to.Scheme != nil && *to.Scheme != *from.Scheme):
		return nil, nil, incompatible("cannot transfer a license to a policy with another scheme")
	case uniquenessRank[to.MachineUniquenessStrategy] > uniquenessRank[from.MachineUniquenessStrategy]:
		return nil, nil, incompatible("cannot transfer a license to a policy with a stricter machine uniqueness strategy")
	case uniquenessRank[to.ComponentUniquenessStrategy] > uniquenessRank[from.ComponentUniquenessStrategy]:
		return nil, nil, incompatible("cannot transfer a license to a policy with a stricter component uniqueness strategy")
	}
	l.PolicyID = to.ID
	if to.TransferStrategy == policy.ResetExpiry {
		l.Expiry = nil
		if to.Duration != nil {
			at := s.now().UTC().Truncate(time.Millisecond).Add(time.Duration(*to.Duration) * time.Second)
			l.Expiry = &at
		}
	}
	err = s.events.Change(ctx, func(ctx context.Context) error { return s.store.Transfer(ctx, l) }, func() event.Occurrence {
		return event.Occurrence{Event: event.LicensePolicyUpdated, AccountID: l.AccountID, Resource: &Shown{License: l, Policy: to}, Who: who}
	})
	if err != nil {
		return nil, nil, err
	}
	return l, to, nil
}

// AttachUsers makes users licensees of a license, all or none: unknown →
// USER_NOT_FOUND, the owner → USER_CONFLICT, attached → USER_TAKEN, beyond
// maxUsers (owner included) → USER_LIMIT_EXCEEDED.
func (s *Service) AttachUsers(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, userIDs []string) error {
	l, pol, err := s.Visible(ctx, who, t, ref)
	if err != nil {
		return err
	}
	if err := who.Require("license.users.attach"); err != nil {
		return err
	}
	if len(userIDs) == 0 || len(userIDs) > 100 {
		return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must attach 1 to 100 users", apperr.Record())
	}
	for i, uid := range userIDs {
		if l.OwnerID != nil && *l.OwnerID == uid {
			return apperr.At(apperr.Unprocessable, "USER_CONFLICT", "is the license's owner", apperr.Record().Item(i))
		}
	}
	return s.events.Change(ctx, func(ctx context.Context) error {
		return s.store.AttachUsers(ctx, l, userIDs, Effective(l.MaxUsers, pol.MaxUsers))
	}, s.usersOccurred(who, event.LicenseUsersAttached, l, pol, userIDs))
}

// usersOccurred is the event of licensees attached or detached: about the
// license, naming the users in its metadata.
func (s *Service) usersOccurred(who *access.Principal, name string, l *License, pol *policy.Policy, userIDs []string) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: l.AccountID, Resource: &Shown{License: l, Policy: pol}, Who: who,
			Metadata: map[string]any{"users": userIDs}}
	}
}

// DetachUsers removes licensees, all or none (USER_NOT_FOUND when one is not attached).
func (s *Service) DetachUsers(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, userIDs []string) error {
	l, pol, err := s.Visible(ctx, who, t, ref)
	if err != nil {
		return err
	}
	if err := who.Require("license.users.detach"); err != nil {
		return err
	}
	if len(userIDs) == 0 || len(userIDs) > 100 {
		return apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "must detach 1 to 100 users", apperr.Record())
	}
	return s.events.Change(ctx, func(ctx context.Context) error { return s.store.DetachUsers(ctx, l, userIDs) },
		s.usersOccurred(who, event.LicenseUsersDetached, l, pol, userIDs))
}

// Users returns a page of the users of a license who may see: its owner,
// then its licensees.
func (s *Service) Users(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p page.Request) ([]user.User, int64, error) {
	l, err := s.visible(ctx, who, t, ref, "user.read")
	if err != nil {
		return nil, 0, err
	}
	return s.owners.OfLicense(ctx, l.AccountID, l.ID, l.OwnerID, p)
}

// Owner returns the owner of a license who may read, nil when it has none.
func (s *Service) Owner(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*user.User, error) {
	l, err := s.Find(ctx, who, t, ref)
	if err != nil || l.OwnerID == nil {
		return nil, err
	}
	return s.owners.Bearer(ctx, l.AccountID, *l.OwnerID)
}

// Policy returns the policy of a license who may see, with policy.read.
func (s *Service) Policy(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*policy.Policy, error) {
	_, pol, err := s.Visible(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	return pol, who.Require("policy.read")
}

// Downloaded starts the clock of a license bearer whose policy counts from
// its first download (downloads and upgrades call it).
func (s *Service) Downloaded(ctx context.Context, who *access.Principal, t *account.Tenant) error {
	if who == nil || who.BearerType != access.BearerLicense || who.ExpiryStartsOn != policy.FromFirstDownload {
		return nil
	}
	l, pol, err := s.store.FindWithPolicy(ctx, t.ID, who.BearerID)
	if err != nil {
		return err
	}
	return s.StartExpiry(ctx, l, pol, policy.FromFirstDownload)
}
