// Package token is relkey's API tokens in Keygen's v3 format
// (<prefix>-<hex>v3). Only an HMAC-SHA256 digest keyed with the account's
// secret is stored; the raw token is shown once, when it is issued.
package token

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
)

// Kind is a token's kind as the API shows it.
type Kind string

const (
	KindAdmin      Kind = "admin-token"
	KindDeveloper  Kind = "developer-token"
	KindSales      Kind = "sales-token"
	KindSupport    Kind = "support-token"
	KindReadOnly   Kind = "read-only-token"
	KindUser       Kind = "user-token"
	KindProduct    Kind = "product-token"
	KindActivation Kind = "activation-token"
)

// format is how a kind's raw token looks: prefix, then random hex bytes.
type format struct {
	prefix   string
	hexBytes int
}

var formats = map[Kind]format{
	KindAdmin:      {"admin", 32},
	KindDeveloper:  {"dev", 32},
	KindSales:      {"sales", 32},
	KindSupport:    {"spprt", 32},
	KindReadOnly:   {"read", 32},
	KindUser:       {"user", 32},
	KindProduct:    {"prod", 32},
	KindActivation: {"activ", 16},
}

// Bearer types: what a token authenticates as.
const (
	BearerUser    = access.BearerUser
	BearerProduct = access.BearerProduct
	BearerLicense = access.BearerLicense
)

// Token is a stored token.
type Token struct {
	ID         string     `gorm:"column:id;primaryKey"`
	AccountID  string     `gorm:"column:account_id"`
	BearerType string     `gorm:"column:bearer_type"`
	BearerID   string     `gorm:"column:bearer_id"`
	Kind       Kind       `gorm:"column:kind"`
	Digest     string     `gorm:"column:digest"`
	Name       *string    `gorm:"column:name"`
	Expiry     *time.Time `gorm:"column:expiry"`
	// Permissions narrow the bearer's; nil defers to the bearer ("*").
	Permissions []string `gorm:"column:permissions;serializer:json"`
	// Activation tokens (license bearers) may cap machine (de)activations.
	MaxActivations   *int64    `gorm:"column:max_activations"`
	Activations      int64     `gorm:"column:activations"`
	MaxDeactivations *int64    `gorm:"column:max_deactivations"`
	Deactivations    int64     `gorm:"column:deactivations"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	UpdatedAt        time.Time `gorm:"column:updated_at"`
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool { return t.Expiry != nil && !now.Before(*t.Expiry) }

// Service holds the token rules.
type Service struct {
	store  *Store
	events event.Changer
	now    func() time.Time
}

// NewService returns the token rules over store; events records what they change.
func NewService(store *Store, events event.Changer) *Service {
	return &Service{store: store, events: events, now: time.Now}
}

// record makes a change of tok and records its event in one transaction.
func (s *Service) record(ctx context.Context, who *access.Principal, name string, tok *Token, change func(ctx context.Context) error) error {
	return s.events.Change(ctx, change, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: tok.AccountID, Resource: tok, Who: who}
	})
}

// Issue describes a token to issue.
type Issue struct {
	AccountID   string
	Secret      []byte // the account's token secret
	BearerType  string
	BearerID    string
	Kind        Kind
	Name        *string
	Expiry      *time.Time
	Permissions []string   // nil: defer to the bearer
	Allowed     access.Set // the bearer's permissions; Permissions must stay within them

	MaxActivations, MaxDeactivations *int64
}

// Issue stores a new token and returns it with its raw value, which is
// never stored and cannot be recovered.
func (s *Service) Issue(ctx context.Context, in Issue) (*Token, string, error) {
	f, ok := formats[in.Kind]
	if !ok {
		return nil, "", apperr.New(apperr.Internal, "INTERNAL_SERVER_ERROR", "unknown token kind "+string(in.Kind))
	}
	if in.Expiry != nil && !in.Expiry.After(s.now()) {
		return nil, "", apperr.Attribute("expiry", "INVALID", "must be in the future")
	}
	if err := validatePermissions(in.Permissions, in.Allowed); err != nil {
		return nil, "", err
	}
	for attr, v := range map[string]*int64{"max_activations": in.MaxActivations, "max_deactivations": in.MaxDeactivations} {
		if v != nil && *v < 0 {
			return nil, "", apperr.Attribute(attr, "INVALID", "must be greater than or equal to 0")
		}
	}
	raw, err := newRaw(f)
	if err != nil {
		return nil, "", err
	}
	t := &Token{
		ID: id.New(), AccountID: in.AccountID,
		BearerType: in.BearerType, BearerID: in.BearerID, Kind: in.Kind,
		Digest: Digest(in.Secret, raw), Name: in.Name, Expiry: in.Expiry, Permissions: in.Permissions,
		MaxActivations: in.MaxActivations, MaxDeactivations: in.MaxDeactivations,
	}
	if err := s.store.Create(ctx, t); err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

func newRaw(f format) (string, error) {
	random := make([]byte, f.hexBytes)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	return f.prefix + "-" + hex.EncodeToString(random) + "v3", nil
}

// validatePermissions accepts known permissions within the bearer's own.
func validatePermissions(perms []string, allowed access.Set) error {
	for _, p := range perms {
		if !access.Known(p) || (p != access.Wildcard && allowed != nil && !allowed.Has(p)) {
			return apperr.Attribute("permissions", "NOT_ALLOWED", "unsupported permissions (must be known and held by the bearer): "+p)
		}
	}
	return nil
}

// Digest is the stored form of a raw token: hex HMAC-SHA256 keyed with the
// account secret, so a token of one account never matches in another.
func Digest(secret []byte, raw string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(raw))
	return hex.EncodeToString(mac.Sum(nil))
}

// Authenticate finds the token a raw value belongs to within the account.
// The lookup is by digest, so the raw value is never compared as such.
func (s *Service) Authenticate(ctx context.Context, accountID string, secret []byte, raw string) (*Token, error) {
	raw = strings.TrimSpace(raw)
	if uuid.Validate(raw) == nil && len(raw) == 36 {
		return nil, apperr.New(apperr.Unauthenticated, "TOKEN_FORMAT_INVALID",
			"Token format is invalid (make sure that you're providing a token value, not a token's UUID identifier)")
	}
	t, err := s.store.FindByDigest(ctx, accountID, Digest(secret, raw))
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")
	}
	if err != nil {
		return nil, err
	}
	if t.Expired(s.now()) {
		return nil, apperr.New(apperr.Unauthenticated, "TOKEN_EXPIRED", "Token is expired")
	}
	return t, nil
}

// DefaultUserTokenLifetime is how long a user-role token lives unless an
// expiry is given; tokens of every other kind never expire by default.
const DefaultUserTokenLifetime = 14 * 24 * time.Hour

// KindForRole is the kind of token a user of the role gets.
func KindForRole(role string) Kind {
	switch role {
	case "admin":
		return KindAdmin
	case "developer":
		return KindDeveloper
	case "sales-agent":
		return KindSales
	case "support-agent":
		return KindSupport
	case "read-only":
		return KindReadOnly
	}
	return KindUser
}

// Target is the bearer a token is generated for.
type Target struct {
	Type string
	ID   string
	Role access.Role
}

// KindFor is the kind of token a bearer gets.
func KindFor(t Target) Kind {
	switch t.Type {
	case BearerProduct:
		return KindProduct
	case BearerLicense:
		return KindActivation
	}
	return KindForRole(string(t.Role))
}

// Options are the writable attributes of a new token.
type Options struct {
	Name        *string
	Expiry      *time.Time
	ExpirySet   bool
	Permissions []string
	// Only for license (activation) tokens.
	MaxActivations, MaxDeactivations *int64
}

// Generate issues a token for target on behalf of who: for itself with
// token.generate, for a user with user.tokens.generate (admins' tokens only
// by admins), for a product with product.tokens.generate. The caller has
// already made sure target is visible to who.
func (s *Service) Generate(ctx context.Context, who *access.Principal, t *account.Tenant, target Target, o Options) (*Token, string, error) {
	switch {
	case who.Is(target.Type, target.ID):
		if err := who.Require("token.generate"); err != nil {
			return nil, "", err
		}
	case target.Type == BearerUser:
		if err := who.Require("user.tokens.generate"); err != nil {
			return nil, "", err
		}
		if target.Role.Staff() && who.Role != access.RoleAdmin {
			return nil, "", access.Denied("only admins may generate tokens for staff users")
		}
	case target.Type == BearerProduct:
		if err := who.Require("product.tokens.generate"); err != nil {
			return nil, "", err
		}
	case target.Type == BearerLicense:
		if err := who.Require("license.tokens.generate"); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", access.Denied("cannot generate tokens for this bearer")
	}
	return s.generated(ctx, who, t.ID, t.Keys.Secret, target, o)
}

// IssueFor issues a token to a bearer that proved itself another way (an
// email and password).
func (s *Service) IssueFor(ctx context.Context, accountID string, secret []byte, target Target, o Options) (*Token, string, error) {
	return s.generated(ctx, &access.Principal{BearerType: target.Type, BearerID: target.ID, Role: target.Role}, accountID, secret, target, o)
}

// IssueFirst issues the first admin token of an account being created:
// no event, as Keygen's account creation emits none.
func (s *Service) IssueFirst(ctx context.Context, accountID string, secret []byte, target Target) (*Token, string, error) {
	return s.issueFor(ctx, accountID, secret, target, Options{})
}

// generated issues a token and records token.generated in one transaction.
func (s *Service) generated(ctx context.Context, who *access.Principal, accountID string, secret []byte, target Target, o Options) (*Token, string, error) {
	var (
		tok *Token
		raw string
	)
	err := s.events.Change(ctx, func(ctx context.Context) error {
		var err error
		tok, raw, err = s.issueFor(ctx, accountID, secret, target, o)
		return err
	}, func() event.Occurrence {
		return event.Occurrence{Event: event.TokenGenerated, AccountID: accountID, Resource: tok, Who: who}
	})
	if err != nil {
		return nil, "", err
	}
	return tok, raw, nil
}

// issueFor issues a token of target's kind; only activation tokens take
// activation limits.
func (s *Service) issueFor(ctx context.Context, accountID string, secret []byte, target Target, o Options) (*Token, string, error) {
	kind := KindFor(target)
	if kind != KindActivation {
		for attr, v := range map[string]*int64{"max_activations": o.MaxActivations, "max_deactivations": o.MaxDeactivations} {
			if v != nil {
				return nil, "", apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr(attr))
			}
		}
	}
	expiry := o.Expiry
	if !o.ExpirySet && kind == KindUser {
		at := s.now().UTC().Add(DefaultUserTokenLifetime).Truncate(time.Millisecond)
		expiry = &at
	}
	return s.Issue(ctx, Issue{
		AccountID: accountID, Secret: secret, BearerType: target.Type, BearerID: target.ID, Kind: kind,
		Name: o.Name, Expiry: expiry, Permissions: o.Permissions, Allowed: access.Defaults(target.Role),
		MaxActivations: o.MaxActivations, MaxDeactivations: o.MaxDeactivations,
	})
}

// scope restricts token queries to what who may see: staff see every token
// of the account, other bearers their own.
func scope(who *access.Principal) (bearerType, bearerID string) {
	if who.Staff() {
		return "", ""
	}
	return who.BearerType, who.BearerID
}

// List returns a page of the tokens who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Token, int64, error) {
	return s.ListWhere(ctx, who, t, Filter{}, p)
}

// Filter narrows a token list (Keygen's bearer[type], bearer[id] and
// bearer[role] scope): BearerType is a bearer type as relkey stores it
// ("users"), BearerRole a role (admin, sales-agent, product, license…).
type Filter struct {
	BearerType, BearerID, BearerRole string
}

// ListWhere is List narrowed by f.
func (s *Service) ListWhere(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]Token, int64, error) {
	if err := who.Require("token.read"); err != nil {
		return nil, 0, err
	}
	bearerType, bearerID := scope(who)
	return s.store.ListWhere(ctx, t.ID, bearerType, bearerID, f, p)
}

// Find returns a token who may see (404 otherwise), if who may read tokens.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, id string) (*Token, error) {
	return s.visible(ctx, who, t, id, "token.read")
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, id, permission string) (*Token, error) {
	return access.Visible(who, permission, func() (*Token, error) {
		bearerType, bearerID := scope(who)
		return s.store.Find(ctx, t.ID, id, bearerType, bearerID)
	})
}

// Regenerate replaces a token's raw value; an expiring token gets a new
// two-week lifetime. The old value stops working at once.
func (s *Service) Regenerate(ctx context.Context, who *access.Principal, t *account.Tenant, id string) (*Token, string, error) {
	tok, err := s.visible(ctx, who, t, id, "token.regenerate")
	if err != nil {
		return nil, "", err
	}
	raw, err := newRaw(formats[tok.Kind])
	if err != nil {
		return nil, "", err
	}
	tok.Digest = Digest(t.Keys.Secret, raw)
	if tok.Expiry != nil {
		at := s.now().UTC().Add(DefaultUserTokenLifetime).Truncate(time.Millisecond)
		tok.Expiry = &at
	}
	if err := s.record(ctx, who, event.TokenRegenerated, tok, func(ctx context.Context) error { return s.store.Save(ctx, tok) }); err != nil {
		return nil, "", err
	}
	return tok, raw, nil
}

// Revoke deletes a token; it answers 401 from then on.
func (s *Service) Revoke(ctx context.Context, who *access.Principal, t *account.Tenant, id string) error {
	tok, err := s.visible(ctx, who, t, id, "token.revoke")
	if err != nil {
		return err
	}
	return s.record(ctx, who, event.TokenRevoked, tok, func(ctx context.Context) error { return s.store.Delete(ctx, tok) })
}

// ListForBearer returns a page of one bearer's tokens: staff may list
// anyone's, other principals only their own.
func (s *Service) ListForBearer(ctx context.Context, who *access.Principal, t *account.Tenant, target Target, p page.Request) ([]Token, int64, error) {
	if err := who.Require("token.read"); err != nil {
		return nil, 0, err
	}
	if !who.Staff() && !who.Is(target.Type, target.ID) {
		return nil, 0, access.Denied("only staff may list another bearer's tokens")
	}
	return s.store.List(ctx, t.ID, target.Type, target.ID, p)
}
