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

	"github.com/relkey/relkey/internal/apperr"
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
	BearerUser    = "users"
	BearerProduct = "products"
	BearerLicense = "licenses"
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
	CreatedAt  time.Time  `gorm:"column:created_at"`
	UpdatedAt  time.Time  `gorm:"column:updated_at"`
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool { return t.Expiry != nil && !now.Before(*t.Expiry) }

// Service holds the token rules.
type Service struct {
	store *Store
	now   func() time.Time
}

// NewService returns the token rules over store.
func NewService(store *Store) *Service { return &Service{store: store, now: time.Now} }

// Issue describes a token to issue.
type Issue struct {
	AccountID  string
	Secret     []byte // the account's token secret
	BearerType string
	BearerID   string
	Kind       Kind
	Name       *string
	Expiry     *time.Time
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
	random := make([]byte, f.hexBytes)
	if _, err := rand.Read(random); err != nil {
		return nil, "", err
	}
	raw := f.prefix + "-" + hex.EncodeToString(random) + "v3"
	t := &Token{
		ID: uuid.NewString(), AccountID: in.AccountID,
		BearerType: in.BearerType, BearerID: in.BearerID, Kind: in.Kind,
		Digest: Digest(in.Secret, raw), Name: in.Name, Expiry: in.Expiry,
	}
	if err := s.store.Create(ctx, t); err != nil {
		return nil, "", err
	}
	return t, raw, nil
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
