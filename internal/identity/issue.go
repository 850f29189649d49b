package identity

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// Issuer issues tokens.
type Issuer interface {
	Generate(ctx context.Context, who *access.Principal, t *account.Tenant, target token.Target, o token.Options) (*token.Token, string, error)
	IssueFor(ctx context.Context, accountID string, secret []byte, target token.Target, o token.Options) (*token.Token, string, error)
}

// Finder finds a record of type T who may see, to issue it a token.
type Finder[T any] interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*T, error)
}

// Issuing is the token-issuing use case.
type Issuing struct {
	issuer   Issuer
	users    Finder[user.User]
	products Finder[product.Product]
	licenses Finder[license.License]
}

// NewIssuing returns the token-issuing use case.
func NewIssuing(issuer Issuer, users Finder[user.User], products Finder[product.Product], licenses Finder[license.License]) *Issuing {
	return &Issuing{issuer: issuer, users: users, products: products, licenses: licenses}
}

// For names whom a token is for: a user, product or license (by id, or
// email and key) who may see; the zero value is who itself.
type For struct {
	Type string // token.BearerUser, token.BearerProduct or token.BearerLicense
	Ref  string
}

// Issue issues a token on behalf of who, for who itself or for a bearer
// it may see (the token rules decide whether it may issue it).
func (s *Issuing) Issue(ctx context.Context, who *access.Principal, t *account.Tenant, to For, o token.Options) (*token.Token, string, error) {
	if who == nil {
		return nil, "", access.ErrTokenMissing
	}
	target := token.Target{Type: who.BearerType, ID: who.BearerID, Role: who.Role}
	switch to.Type {
	case token.BearerProduct:
		p, err := s.products.Find(ctx, who, t, to.Ref)
		if err != nil {
			return nil, "", err
		}
		target = ProductTarget(p)
	case token.BearerUser:
		u, err := s.users.Find(ctx, who, t, to.Ref)
		if err != nil {
			return nil, "", err
		}
		target = UserTarget(u)
	case token.BearerLicense:
		l, err := s.licenses.Find(ctx, who, t, to.Ref)
		if err != nil {
			return nil, "", err
		}
		target = LicenseTarget(l)
	}
	return s.issuer.Generate(ctx, who, t, target, o)
}

// IssueToUser issues a token to a user who proved itself with a password.
func (s *Issuing) IssueToUser(ctx context.Context, t *account.Tenant, u *user.User, o token.Options) (*token.Token, string, error) {
	return s.issuer.IssueFor(ctx, t.ID, t.Keys.Secret, UserTarget(u), o)
}

// UserTarget is a user as the bearer of a token.
func UserTarget(u *user.User) token.Target {
	return token.Target{Type: token.BearerUser, ID: u.ID, Role: u.Role}
}

// ProductTarget is a product as the bearer of a token.
func ProductTarget(p *product.Product) token.Target {
	return token.Target{Type: token.BearerProduct, ID: p.ID, Role: access.RoleProduct}
}

// LicenseTarget is a license as the bearer of (activation) tokens.
func LicenseTarget(l *license.License) token.Target {
	return token.Target{Type: token.BearerLicense, ID: l.ID, Role: access.RoleLicense}
}
