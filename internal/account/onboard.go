package account

import (
	"context"

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
	Account   *Account
	Admin     *user.User
	Token     *token.Token
	RawToken  string
	PublicKey string // hex Ed25519, as Keygen SDKs take it
}

// Onboard creates the account, its admin user and an admin token in one
// transaction: either all exist afterwards or none does. The password is
// hashed before the transaction begins.
func (s *Service) Onboard(ctx context.Context, users *user.Service, tokens *token.Service, o Onboarding) (*Onboarded, error) {
	registration, err := users.Prepare(ctx, o.Email, o.Password, user.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out Onboarded
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		a, err := s.Create(ctx, Params{Slug: o.Slug, Name: o.Name})
		if err != nil {
			return err
		}
		admin, err := users.Register(ctx, a.ID, registration)
		if err != nil {
			return err
		}
		secret, err := s.keyring.Open(a.SecretKey)
		if err != nil {
			return err
		}
		t, raw, err := tokens.IssueFor(ctx, a.ID, secret, token.Target{Type: token.BearerUser, ID: admin.ID, Role: admin.Role}, token.Options{})
		if err != nil {
			return err
		}
		out = Onboarded{Account: a, Admin: admin, Token: t, RawToken: raw, PublicKey: a.Ed25519PublicKey}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
