// Package account is relkey's tenant: every other record belongs to one
// account, reached under /v1/accounts/<id-or-slug>. An account owns an
// Ed25519 key pair that signs its responses and a secret that digests its
// tokens; both are stored encrypted with the master key.
package account

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/optional"
)

// Account is the stored tenant.
type Account struct {
	ID                string  `gorm:"column:id;primaryKey"`
	Slug              string  `gorm:"column:slug"`
	Name              string  `gorm:"column:name"`
	Protected         bool    `gorm:"column:protected"`
	Ed25519PublicKey  string  `gorm:"column:ed25519_public_key"`  // hex
	Ed25519PrivateKey string  `gorm:"column:ed25519_private_key"` // sealed
	SecretKey         string  `gorm:"column:secret_key"`          // sealed
	RSAPrivateKey     *string `gorm:"column:rsa_private_key"`     // sealed PKCS#1, made on first use
	RSAPublicKey      *string `gorm:"column:rsa_public_key"`      // PEM
	ECDSAPrivateKey   *string `gorm:"column:ecdsa_private_key"`   // sealed SEC 1, made on first use
	ECDSAPublicKey    *string `gorm:"column:ecdsa_public_key"`    // PEM
	// APIVersion is the Keygen API version of requests that pin none
	// ("1.0" … "1.8"); nil = the latest.
	APIVersion *string   `gorm:"column:api_version"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

// Keys is an account's decrypted key material.
type Keys struct {
	Signing ed25519.PrivateKey
	// Secret keys the HMAC digests of the account's tokens.
	Secret []byte
}

// Tenant is a resolved account with its keys, as requests use it.
type Tenant struct {
	*Account
	Keys Keys
	// Defaults are the account's default permissions of license and user
	// bearers, by role, where its settings replace the built-in ones.
	Defaults map[access.Role]access.Set
}

// DefaultsLoader reads an account's default permissions (its settings).
type DefaultsLoader interface {
	Defaults(ctx context.Context, accountID string) (map[access.Role]access.Set, error)
}

// SetDefaults sets what reads accounts' default permissions.
func (s *Service) SetDefaults(l DefaultsLoader) { s.defaults = l }

// Forget drops what the service caches of an account, so that the next
// request reads it again (its settings changed).
func (s *Service) Forget(accountID string) { s.cache.forget(accountID) }

// Transactor runs functions in one database transaction.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Emitter records account.updated in the transaction of the change (the
// event outbox, which itself knows accounts, so it is handed in).
type Emitter func(ctx context.Context, who *access.Principal, a *Account) error

// SetEmitter sets what records account changes.
func (s *Service) SetEmitter(e Emitter) { s.emit = e }

// Service holds the account rules.
type Service struct {
	store    *Store
	tx       Transactor
	keyring  *keyring.Keyring
	cache    tenantCache
	parsed   parsedKeys
	emit     Emitter
	defaults DefaultsLoader
}

// NewService returns the account rules over store.
func NewService(store *Store, tx Transactor, kr *keyring.Keyring) *Service {
	return &Service{store: store, tx: tx, keyring: kr, cache: tenantCache{ttl: 30 * time.Second, entries: map[string]cacheEntry{}}}
}

// Params creates an account.
type Params struct {
	Slug string
	Name string
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// reservedAliases can never be slugs, codes or keys: they are route words.
var reservedAliases = map[string]bool{"actions": true, "action": true}

// Validate checks the account parameters.
func (p Params) Validate() error {
	switch {
	case p.Slug == "":
		return apperr.Attribute("slug", "MISSING", "can't be blank")
	case len(p.Slug) > 255:
		return apperr.Attribute("slug", "TOO_LONG", "is too long (maximum is 255 characters)")
	case !slugPattern.MatchString(p.Slug) || IsUUID(p.Slug):
		return apperr.Attribute("slug", "INVALID", "can only contain lowercase letters, numbers and dashes, and cannot be a UUID")
	case reservedAliases[p.Slug]:
		return apperr.Attribute("slug", "NOT_ALLOWED", "is reserved")
	case strings.TrimSpace(p.Name) == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case len(p.Name) > 255:
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	return nil
}

// IsUUID reports whether s has the shape of a UUID.
func IsUUID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}

// CreateWith stores a new account with fresh keys and, in the same
// transaction, runs then on it as a tenant (onboarding creates its first
// administrator so): either both succeed or the account is rolled back.
func (s *Service) CreateWith(ctx context.Context, p Params, then func(ctx context.Context, t *Tenant) error) (*Tenant, error) {
	var t *Tenant
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		a, err := s.create(ctx, p)
		if err != nil {
			return err
		}
		if t, err = s.open(a); err != nil {
			return err
		}
		return then(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// create stores a new account with fresh keys.
func (s *Service) create(ctx context.Context, p Params) (*Account, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	sealedPriv, err := s.keyring.Seal(priv)
	if err != nil {
		return nil, err
	}
	sealedSecret, err := s.keyring.Seal(secret)
	if err != nil {
		return nil, err
	}
	a := &Account{
		ID:                id.New(),
		Slug:              p.Slug,
		Name:              strings.TrimSpace(p.Name),
		Ed25519PublicKey:  hex.EncodeToString(pub),
		Ed25519PrivateKey: sealedPriv,
		SecretKey:         sealedSecret,
	}
	if err := s.store.Create(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Show returns the request's account, if who may read it.
func (s *Service) Show(ctx context.Context, who *access.Principal, t *Tenant) (*Account, error) {
	if err := who.Require("account.read"); err != nil {
		return nil, err
	}
	return s.WithKeyPairs(ctx, t)
}

// Changes are the attributes of an account update (PATCH /v1/accounts/:id);
// absent ones stay.
type Changes struct {
	Name       optional.Value[string]  `json:"name"`
	Slug       optional.Value[string]  `json:"slug"`
	Protected  optional.Value[bool]    `json:"protected"`
	APIVersion optional.Value[*string] `json:"api_version"`
}

// APIVersions are the Keygen API versions an account may default to.
var APIVersions = []string{"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"}

// Update changes the request's account: admins and developers of it, as
// Keygen's account policy. The event is account.updated.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *Tenant, c Changes) (*Account, error) {
	if err := who.Require("account.update"); err != nil {
		return nil, err
	}
	if who.Role != access.RoleAdmin && who.Role != access.RoleDeveloper {
		return nil, access.Denied("only admins and developers may update the account")
	}
	a := *t.Account
	if c.Name.Set {
		a.Name = c.Name.V
	}
	if c.Slug.Set {
		a.Slug = c.Slug.V
	}
	if err := (Params{Slug: a.Slug, Name: a.Name}).Validate(); err != nil {
		return nil, err
	}
	if c.Protected.Set {
		a.Protected = c.Protected.V
	}
	if c.APIVersion.Set {
		if v := c.APIVersion.V; v != nil && !slices.Contains(APIVersions, *v) {
			return nil, apperr.Attribute("api_version", "NOT_ALLOWED", "must be one of "+strings.Join(APIVersions, ", "))
		}
		a.APIVersion = c.APIVersion.V
	}
	a.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Save(ctx, &a); err != nil {
			return err
		}
		if s.emit == nil {
			return nil
		}
		return s.emit(ctx, who, &a)
	})
	if err != nil {
		return nil, err
	}
	s.cache.forget(a.ID)
	return &a, nil
}

// Resolve finds an account by UUID or slug and decrypts its keys. Results
// are cached briefly: every request resolves its account.
func (s *Service) Resolve(ctx context.Context, ref string) (*Tenant, error) {
	if t, ok := s.cache.get(ref); ok {
		return t, nil
	}
	a, err := s.store.Find(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.remember(ctx, a, ref)
}

// Default resolves the account served under bare /v1/...: the configured
// one, or else the only account there is. The implicit choice is checked on
// every call (a LIMIT 2 query on a tiny table), so creating a second account
// makes the bare layout ambiguous at once; keys stay cached by id.
func (s *Service) Default(ctx context.Context, configured string) (*Tenant, error) {
	if configured != "" {
		return s.Resolve(ctx, configured)
	}
	ids, err := s.store.FirstTwoIDs(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) != 1 {
		return nil, apperr.New(apperr.NotFound, "NOT_FOUND",
			"No default account: use /v1/accounts/<account>/... or set RELKEY_ACCOUNT")
	}
	return s.Resolve(ctx, ids[0])
}

func (s *Service) remember(ctx context.Context, a *Account, ref string) (*Tenant, error) {
	t, err := s.open(a)
	if err != nil {
		return nil, err
	}
	if s.defaults != nil {
		if t.Defaults, err = s.defaults.Defaults(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	s.cache.put(ref, t)
	return t, nil
}

// open decrypts an account's keys.
func (s *Service) open(a *Account) (*Tenant, error) {
	priv, err := s.keyring.Open(a.Ed25519PrivateKey)
	if err != nil {
		return nil, &apperr.Error{Kind: apperr.Internal, Code: "INTERNAL_SERVER_ERROR", Detail: "account keys are unreadable", Err: err}
	}
	secret, err := s.keyring.Open(a.SecretKey)
	if err != nil {
		return nil, &apperr.Error{Kind: apperr.Internal, Code: "INTERNAL_SERVER_ERROR", Detail: "account keys are unreadable", Err: err}
	}
	return &Tenant{Account: a, Keys: Keys{Signing: ed25519.PrivateKey(priv), Secret: secret}}, nil
}

type cacheEntry struct {
	tenant  *Tenant
	expires time.Time
}

type tenantCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]cacheEntry
}

func (c *tenantCache) get(ref string) (*Tenant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[ref]
	if !ok || time.Now().After(e.expires) {
		delete(c.entries, ref)
		return nil, false
	}
	return e.tenant, true
}

func (c *tenantCache) put(ref string, t *Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 10_000 {
		clear(c.entries)
	}
	c.entries[ref] = cacheEntry{tenant: t, expires: time.Now().Add(c.ttl)}
}

// forget drops every cached entry of an account.
func (c *tenantCache) forget(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref, e := range c.entries {
		if e.tenant.ID == accountID {
			delete(c.entries, ref)
		}
	}
}
