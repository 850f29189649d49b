package onboard_test

import (
	"context"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// TestOnboard: an account comes with an admin and an admin token that
// authenticates, or nothing is left behind.
func TestOnboard(t *testing.T) {
	tests := []struct {
		name     string
		in       onboard.Onboarding
		wantCode string // "" for success
	}{
		{"onboarded", onboard.Onboarding{Slug: "globex", Name: "Globex", Email: "g@globex.test", Password: "secret123"}, ""},
		{"short password", onboard.Onboarding{Slug: "initech", Name: "Initech", Email: "i@initech.test", Password: "x"}, "PASSWORD_TOO_SHORT"},
		{"taken slug", onboard.Onboarding{Slug: "acme", Name: "Again", Email: "b@acme.test", Password: "secret123"}, "SLUG_TAKEN"},
		{"bad slug", onboard.Onboarding{Slug: "Not A Slug", Name: "X", Email: "x@x.test", Password: "secret123"}, "SLUG_INVALID"},
	}
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			kr, _ := keyring.New(strings.Repeat("m", 32))
			accounts := account.NewService(account.NewStore(db), db, kr)
			tokenStore := token.NewStore(db)
			users := user.NewService(user.NewStore(db), testenv.Unrecorded{DB: db}, tokenStore, &event.Bus{}, password.NewHasher(password.MinCost, 0), nil)
			tokens := token.NewService(tokenStore, testenv.Unrecorded{})
			ctx := context.Background()
			if _, err := onboard.Onboard(ctx, accounts, users, tokens, onboard.Onboarding{Slug: "acme", Name: "Acme", Email: "a@acme.test", Password: "secret123"}); err != nil {
				t.Fatal(err)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					out, err := onboard.Onboard(ctx, accounts, users, tokens, tt.in)
					if tt.wantCode != "" {
						if e := apperr.As(err); err == nil || e.Code != tt.wantCode {
							t.Fatalf("error %v, want %s", err, tt.wantCode)
						}
						if tt.in.Slug != "acme" {
							if _, err := accounts.Resolve(ctx, tt.in.Slug); !apperr.Is(err, apperr.NotFound) {
								t.Fatalf("a failed onboarding left its account: %v", err)
							}
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if out.Admin.Role != access.RoleAdmin || out.Account.Slug != tt.in.Slug || out.PublicKey == "" || out.RawToken == "" {
						t.Fatalf("onboarded %+v", out)
					}
					tenant, err := accounts.Resolve(ctx, tt.in.Slug)
					if err != nil {
						t.Fatal(err)
					}
					tok, err := tokens.Authenticate(ctx, tenant.ID, tenant.Keys.Secret, out.RawToken)
					if err != nil || tok.BearerID != out.Admin.ID || tok.BearerType != token.BearerUser {
						t.Fatalf("the admin token does not authenticate its admin: %+v, %v", tok, err)
					}
				})
			}
		})
	}
}
