// Package onboard creates an account with its first administrator and
// admin token, as `relkey account create` does. It sits above account,
// user and token: the account rules know nothing of users or tokens.
package onboard

import (
	"context"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// Onboarding creates an account with its first administrator.
type Onboarding struct {
	Slug, Name      string
	Email, Password string
}

// Onboarded is the result: the raw admin token is shown only here.
type Onboarded struct {
	Account   *account.Account
	Admin     *user.User
	Token     *token.Token
	RawToken  string
	PublicKey string // hex Ed25519, as Keygen SDKs take it
}

// Onboard creates the account, its admin user and an admin token in one
// transaction: either all exist afterwards or none does. The password is
// hashed before the transaction begins.
func Onboard(ctx context.Context, accounts *account.Service, users *user.Service, tokens *token.Service, o Onboarding) (*Onboarded, error) {
	registration, err := users.Prepare(ctx, o.Email, o.Password, user.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out Onboarded
	t, err := accounts.CreateWith(ctx, account.Params{Slug: o.Slug, Name: o.Name}, func(ctx context.Context, t *account.Tenant) error {
		admin, err := users.Register(ctx, t.ID, registration)
		if err != nil {
			return err
		}
		tok, raw, err := tokens.IssueFirst(ctx, t.ID, t.Keys.Secret, identity.UserTarget(admin))
		if err != nil {
			return err
		}
		out = Onboarded{Admin: admin, Token: tok, RawToken: raw}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Account, out.PublicKey = t.Account, t.Ed25519PublicKey
	return &out, nil
}
