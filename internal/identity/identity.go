// Package identity turns what a request presents — a token, a license key,
// or an email and password — into the principal it acts as, and finds the
// bearer a principal stands for.
package identity

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// Tokens authenticates raw tokens.
type Tokens interface {
	Authenticate(ctx context.Context, accountID string, secret []byte, raw string) (*token.Token, error)
}

// Users finds user bearers and checks passwords.
type Users interface {
	Bearer(ctx context.Context, accountID, id string) (*user.User, error)
	Authenticate(ctx context.Context, accountID, email, password string, otp *string) (*user.User, error)
}

// Products finds product bearers.
type Products interface {
	Bearer(ctx context.Context, accountID, id string) (*product.Product, error)
}

// Licenses authenticates license keys and license tokens, and finds a
// license bearer.
type Licenses interface {
	AuthenticateLicense(ctx context.Context, t *account.Tenant, key string, keep bool) (*access.Principal, error)
	PrincipalForToken(ctx context.Context, accountID, licenseID, tokenID string, perms []string) (*access.Principal, error)
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, error)
}

// Service authenticates requests.
type Service struct {
	tokens   Tokens
	users    Users
	products Products
	licenses Licenses
}

// NewService returns the identity service.
func NewService(tokens Tokens, users Users, products Products, licenses Licenses) *Service {
	return &Service{tokens: tokens, users: users, products: products, licenses: licenses}
}

// ErrTokenInvalid is the answer to a token that does not exist, has
// expired, or whose bearer is gone.
var ErrTokenInvalid = apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")

// ErrUserBanned refuses a banned user whatever the credentials.
var ErrUserBanned = apperr.New(apperr.Forbidden, "USER_BANNED", "User is banned")

// LicenseKey authenticates a license key; with keep, the principal keeps
// the whole license for rules that act on it (license.AuthenticateLicense).
func (s *Service) LicenseKey(ctx context.Context, t *account.Tenant, key string, keep bool) (*access.Principal, error) {
	who, err := s.licenses.AuthenticateLicense(ctx, t, key, keep)
	return ofTenant(t, who, nil, err)
}

// ofTenant refuses a principal of another account than the request's
// (the lookups behind it are scoped to t, so none should come back).
// ofTenant is who authenticated as a bearer of t, with t's default
// permissions (narrowed by its token's).
func ofTenant(t *account.Tenant, who *access.Principal, tokenPerms []string, err error) (*access.Principal, error) {
	if err == nil {
		err = who.In(t.ID)
	}
	if err != nil {
		return nil, err
	}
	who.Rebase(t.Defaults, tokenPerms)
	return who, nil
}

// Token authenticates a raw token as its bearer: a user (not banned), a
// product, or a license's activation token.
func (s *Service) Token(ctx context.Context, t *account.Tenant, raw string) (*access.Principal, error) {
	tok, err := s.tokens.Authenticate(ctx, t.ID, t.Keys.Secret, raw)
	if err != nil {
		return nil, err
	}
	var role access.Role
	switch tok.BearerType {
	case token.BearerUser:
		u, err := s.users.Bearer(ctx, t.ID, tok.BearerID)
		if err != nil {
			return nil, gone(err)
		}
		if u.BannedAt != nil {
			return nil, ErrUserBanned
		}
		role = u.Role
	case token.BearerProduct:
		if _, err := s.products.Bearer(ctx, t.ID, tok.BearerID); err != nil {
			return nil, gone(err)
		}
		role = access.RoleProduct
	case token.BearerLicense:
		who, err := s.licenses.PrincipalForToken(ctx, t.ID, tok.BearerID, tok.ID, tok.Permissions)
		return ofTenant(t, who, tok.Permissions, err)
	default:
		return nil, ErrTokenInvalid
	}
	return ofTenant(t, access.NewPrincipal(t.ID, role, tok.BearerType, tok.BearerID, tok.ID, tok.Permissions), tok.Permissions, nil)
}

// gone reports a token whose bearer no longer exists as an invalid token.
func gone(err error) error {
	if apperr.Is(err, apperr.NotFound) {
		return ErrTokenInvalid
	}
	return err
}

// Password checks an email and password (and otp, the code of the user's
// second factor when it has one) and returns the user, refusing a banned one.
func (s *Service) Password(ctx context.Context, t *account.Tenant, email, password string, otp *string) (*user.User, error) {
	u, err := s.users.Authenticate(ctx, t.ID, email, password, otp)
	if err != nil {
		return nil, err
	}
	if u.BannedAt != nil {
		return nil, ErrUserBanned
	}
	return u, nil
}

// Bearer is what a principal stands for: exactly one of its fields is set.
type Bearer struct {
	User    *user.User
	Product *product.Product
	License *license.License
}

// Me returns the principal's own bearer.
func (s *Service) Me(ctx context.Context, who *access.Principal, t *account.Tenant) (Bearer, error) {
	if who == nil {
		return Bearer{}, access.ErrTokenMissing
	}
	var b Bearer
	var err error
	switch who.BearerType {
	case access.BearerLicense:
		b.License, err = s.licenses.Find(ctx, who, t, who.BearerID)
	case access.BearerProduct:
		b.Product, err = s.products.Bearer(ctx, t.ID, who.BearerID)
	default:
		b.User, err = s.users.Bearer(ctx, t.ID, who.BearerID)
	}
	return b, err
}
