package account_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

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

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		slug, name, code string
	}{
		{"acme", "Acme", ""},
		{"acme-2", "Acme", ""},
		{"", "Acme", "SLUG_MISSING"},
		{"Acme", "Acme", "SLUG_INVALID"},
		{"acme corp", "Acme", "SLUG_INVALID"},
		{"-acme", "Acme", "SLUG_INVALID"},
		{"1b4e28ba-2fa1-11d2-883f-0016d3cca427", "Acme", "SLUG_INVALID"},
		{"actions", "Acme", "SLUG_NOT_ALLOWED"},
		{strings.Repeat("a", 256), "Acme", "SLUG_TOO_LONG"},
		{"acme", " ", "NAME_MISSING"},
		{"acme", strings.Repeat("n", 256), "NAME_TOO_LONG"},
	}
	for _, tt := range tests {
		err := account.Params{Slug: tt.slug, Name: tt.name}.Validate()
		if tt.code == "" {
			if err != nil {
				t.Errorf("%q/%q: unexpected %v", tt.slug, tt.name, err)
			}
			continue
		}
		if e := apperr.As(err); err == nil || e.Code != tt.code || e.Kind != apperr.Unprocessable {
			t.Errorf("%q/%q: err = %v, want %s", tt.slug, tt.name, err, tt.code)
		}
	}
}

func TestServiceOnBothEngines(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			kr, _ := keyring.New(strings.Repeat("m", 32))
			accounts := account.NewService(account.NewStore(db), db, kr)
			tokenStore := token.NewStore(db)
			users := user.NewService(user.NewStore(db), testenv.Unrecorded{DB: db}, tokenStore, &event.Bus{}, password.NewHasher(password.MinCost, 0), nil)
			tokens := token.NewService(tokenStore, testenv.Unrecorded{})
			ctx := context.Background()

			out, err := onboard.Onboard(ctx, accounts, users, tokens, onboard.Onboarding{Slug: "acme", Name: "Acme", Email: "a@acme.test", Password: "secret123"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range []string{"acme", out.Account.ID} {
				tenant, err := accounts.Resolve(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				pub, _ := hex.DecodeString(tenant.Ed25519PublicKey)
				if !ed25519.PublicKey(pub).Equal(tenant.Keys.Signing.Public()) || len(tenant.Keys.Secret) != 32 {
					t.Fatal("resolved keys do not match the stored public key")
				}
				stored := tenant.Ed25519PrivateKey + tenant.SecretKey
				for _, secret := range [][]byte{tenant.Keys.Signing.Seed(), tenant.Keys.Secret} {
					if strings.Contains(stored, hex.EncodeToString(secret)) || strings.Contains(stored, base64.StdEncoding.EncodeToString(secret)) {
						t.Fatal("a key is stored in the clear")
					}
				}
			}
			if _, err := accounts.Resolve(ctx, "nobody"); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("unknown slug: %v", err)
			}
			if d, err := accounts.Default(ctx, ""); err != nil || d.ID != out.Account.ID {
				t.Fatalf("default with one account: %v", err)
			}

			if _, err := onboard.Onboard(ctx, accounts, users, tokens, onboard.Onboarding{Slug: "globex", Name: "Globex", Email: "g@globex.test", Password: "secret123"}); err != nil {
				t.Fatal(err)
			}
			if _, err := accounts.Default(ctx, ""); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("two accounts and no RELKEY_ACCOUNT must be ambiguous: %v", err)
			}
			if d, err := accounts.Default(ctx, "globex"); err != nil || d.Slug != "globex" {
				t.Fatalf("configured default: %v", err)
			}
		})
	}
}
