// Package key is the pooled keys of policies that use a pool (Keygen's
// keys): a license created under such a policy without a key of its own
// takes the oldest key of the pool, and the pool can be popped directly.
// Keys are sealed at rest and found by their digest, as licenses' are.
package key

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

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

// Key is a stored pooled key.
type Key struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	PolicyID  string
	ProductID string
	KeyDigest string
	KeySealed string
	CreatedAt time.Time
	UpdatedAt time.Time

	// Key is the opened key; the rules fill it.
	Key string `gorm:"-"`
}

// Params are the writable attributes.
type Params struct {
	Key optional.Value[string] `json:"key"`
}

// Filter picks keys (Keygen's keys index has_scope filters).
type Filter struct {
	ProductID string
	PolicyID  string
}

// Sealer encrypts keys at rest, as license keys are.
type Sealer = license.Sealer

// Policies gives the policies keys belong to, as a bearer may see them.
type Policies interface {
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*policy.Policy, error)
}

// Records is the storage the key rules need; *Store is it.
type Records interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Create(ctx context.Context, k *Key) error
	Save(ctx context.Context, k *Key) error
	Delete(ctx context.Context, k *Key) error
	Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Key, error)
	List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]Key, int64, error)
	Oldest(ctx context.Context, accountID, policyID string) (*Key, error)
	LicenseKeyTaken(ctx context.Context, accountID, digest, ref string) (bool, error)
}

// Service holds the key rules.
type Service struct {
	store    Records
	policies Policies
	sealer   Sealer
	events   event.Changer
	now      func() time.Time
}

// NewService returns the key rules.
func NewService(store Records, policies Policies, sealer Sealer, events event.Changer) *Service {
	return &Service{store: store, policies: policies, sealer: sealer, events: events, now: time.Now}
}

func (s *Service) change(ctx context.Context, who *access.Principal, name string, k *Key, fn func(ctx context.Context) error) error {
	return s.events.Change(ctx, fn, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: k.AccountID, Resource: k, Who: who}
	})
}

// manage admits the bearers Keygen lets create, change and delete keys:
// staff with the permission and products (their own policies' keys).
func manage(who *access.Principal, permission string) error {
	if err := who.Require(permission); err != nil {
		return err
	}
	if !who.Staff() && who.BearerType != access.BearerProduct {
		return access.Denied("bearer lacks permission to perform action: " + permission)
	}
	return nil
}

// setKey checks and seals the key given, which must not be another
// pooled key's nor a license's key or id.
func (s *Service) setKey(ctx context.Context, t *account.Tenant, k *Key, given string) error {
	switch {
	case strings.TrimSpace(given) == "":
		return apperr.Attribute("key", "MISSING", "can't be blank")
	case len(given) < 8:
		return apperr.Attribute("key", "TOO_SHORT", "is too short (minimum is 8 characters)")
	case len(given) > 1<<10:
		return apperr.Attribute("key", "TOO_LONG", "is too long (maximum is 1024 characters)")
	}
	digest := license.Digest(t.Keys.Secret, given)
	taken, err := s.store.LicenseKeyTaken(ctx, t.ID, digest, given)
	if err != nil {
		return err
	}
	if taken {
		return apperr.Attribute("key", "CONFLICT", "is already being used as a license's key")
	}
	sealed, err := s.sealer.Seal([]byte(given))
	if err != nil {
		return err
	}
	k.Key, k.KeyDigest, k.KeySealed = given, digest, sealed
	return nil
}

var errTaken = apperr.Attribute("key", "TAKEN", "has already been taken")

// Create adds a key to the pool of a policy who may see, which must use a
// pool.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef string, p Params) (*Key, error) {
	if err := manage(who, "key.create"); err != nil {
		return nil, err
	}
	notFound := apperr.At(apperr.Unprocessable, "POLICY_NOT_FOUND", "must exist", apperr.Rel("policy"))
	if policyRef == "" {
		return nil, notFound
	}
	pol, err := s.policies.Visible(ctx, who, t, policyRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if !pol.UsePool {
		return nil, apperr.At(apperr.Unprocessable, "POLICY_NOT_SUPPORTED", "cannot be added to an unpooled policy", apperr.Rel("policy"))
	}
	now := s.now().UTC()
	k := &Key{ID: id.New(), AccountID: t.ID, PolicyID: pol.ID, ProductID: pol.ProductID, CreatedAt: now, UpdatedAt: now}
	if err := s.setKey(ctx, t, k, p.Key.V); err != nil {
		return nil, err
	}
	return k, s.change(ctx, who, event.KeyCreated, k, func(ctx context.Context) error { return s.store.Create(ctx, k) })
}

// Find returns a key who may read: staff see every key, products their
// policies' keys.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Key, error) {
	k, err := access.Visible(who, "key.read", func() (*Key, error) { return s.store.Find(ctx, t.ID, ref, scope(who)) })
	if err != nil {
		return nil, err
	}
	return k, s.open(k)
}

// scope is what a bearer may see of keys: staff all, products theirs,
// others none.
func scope(who *access.Principal) access.Scope {
	if who.Staff() || who.BearerType == access.BearerProduct {
		return access.ScopeOf(who)
	}
	return access.Scope{}
}

// List returns a page of the keys who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]Key, int64, error) {
	if err := who.Require("key.read"); err != nil {
		return nil, 0, err
	}
	if !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, 0, access.Denied("bearer lacks permission to perform action: key.read")
	}
	keys, total, err := s.store.List(ctx, t.ID, scope(who), f, p)
	if err != nil {
		return nil, 0, err
	}
	for i := range keys {
		if err := s.open(&keys[i]); err != nil {
			return nil, 0, err
		}
	}
	return keys, total, nil
}

func (s *Service) open(k *Key) error {
	plain, err := s.sealer.Open(k.KeySealed)
	if err != nil {
		return err
	}
	k.Key = string(plain)
	return nil
}

// Update changes a key.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Key, error) {
	k, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if err := manage(who, "key.update"); err != nil {
		return nil, err
	}
	if p.Key.Set && p.Key.V != k.Key {
		if err := s.setKey(ctx, t, k, p.Key.V); err != nil {
			return nil, err
		}
	}
	k.UpdatedAt = s.now().UTC()
	return k, s.change(ctx, who, event.KeyUpdated, k, func(ctx context.Context) error { return s.store.Save(ctx, k) })
}

// Delete removes a key from its pool.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	k, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return err
	}
	if err := manage(who, "key.delete"); err != nil {
		return err
	}
	return s.change(ctx, who, event.KeyDeleted, k, func(ctx context.Context) error { return s.store.Delete(ctx, k) })
}

// poolPolicy finds a policy whose pool who may read: staff and products
// (their own policies); to others the policy is NOT_FOUND, as in Keygen.
func (s *Service) poolPolicy(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef string) (*policy.Policy, error) {
	return access.Visible(who, "key.read", func() (*policy.Policy, error) { return s.poolOf(ctx, who, t, policyRef) })
}

func (s *Service) poolOf(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef string) (*policy.Policy, error) {
	if !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, apperr.NotFoundResource("policy", policyRef)
	}
	return s.policies.Visible(ctx, who, t, policyRef)
}

// Pool returns a page of a policy's pool (popped oldest first).
func (s *Service) Pool(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef string, p page.Request) ([]Key, int64, error) {
	pol, err := s.poolPolicy(ctx, who, t, policyRef)
	if err != nil {
		return nil, 0, err
	}
	return s.List(ctx, who, t, Filter{PolicyID: pol.ID}, p)
}

// PoolKey returns a key of a policy's pool; another policy's key is
// NOT_FOUND.
func (s *Service) PoolKey(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef, ref string) (*Key, error) {
	pol, err := s.poolPolicy(ctx, who, t, policyRef)
	if err != nil {
		return nil, err
	}
	k, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if k.PolicyID != pol.ID {
		return nil, apperr.NotFoundResource("key", ref)
	}
	return k, nil
}

// Pop removes and returns the oldest key of a policy's pool (DELETE
// /policies/:id/pool): 422 when the policy does not use a pool or its
// pool is empty.
func (s *Service) Pop(ctx context.Context, who *access.Principal, t *account.Tenant, policyRef string) (*Key, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	pol, err := s.poolOf(ctx, who, t, policyRef)
	if err != nil {
		return nil, err
	}
	if err := manage(who, "policy.pool.pop"); err != nil {
		return nil, err
	}
	if !pol.UsePool {
		return nil, apperr.At(apperr.Unprocessable, "UNPROCESSABLE_ENTITY", "pool is not supported", apperr.Rel("pool"))
	}
	var k *Key
	err = s.events.Change(ctx, func(ctx context.Context) error {
		k, err = s.take(ctx, t.ID, pol.ID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.At(apperr.Unprocessable, "UNPROCESSABLE_ENTITY", "pool is empty", apperr.Rel("pool"))
		}
		return err
	}, func() event.Occurrence {
		return event.Occurrence{Event: event.PolicyPoolPopped, AccountID: t.ID, Resource: k, Who: who}
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// take removes the oldest key of a pool inside the caller's transaction
// (NOT_FOUND when the pool is empty): concurrent takers each get another
// key, or find the pool empty.
func (s *Service) take(ctx context.Context, accountID, policyID string) (*Key, error) {
	for {
		k, err := s.store.Oldest(ctx, accountID, policyID)
		if err != nil {
			return nil, err
		}
		if err := s.store.Delete(ctx, k); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				continue // taken meanwhile
			}
			return nil, err
		}
		return k, s.open(k)
	}
}

// Take removes the oldest key of a policy's pool inside the caller's
// transaction, for a license created under the policy: POLICY_POOL_EMPTY
// when there is none.
func (s *Service) Take(ctx context.Context, accountID, policyID string) (string, error) {
	k, err := s.take(ctx, accountID, policyID)
	if apperr.Is(err, apperr.NotFound) {
		return "", apperr.At(apperr.Unprocessable, "POLICY_POOL_EMPTY", "pool is empty", apperr.Rel("policy"))
	}
	if err != nil {
		return "", err
	}
	return k.Key, nil
}

// validRef reports whether ref may name a key by id.
func validRef(ref string) bool { return uuid.Validate(ref) == nil }
