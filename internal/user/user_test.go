package user_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

func TestCreateAndAuthenticate(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			acct := uuid.NewString()
			if err := db.Gorm.Exec(`INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at)
				VALUES (?, 'acme', 'A', 'pk', 'sk', 'sec', ?, ?)`, acct, database.Now(), database.Now()).Error; err != nil {
				t.Fatal(err)
			}
			tokenStore := token.NewStore(db)
			svc := user.NewService(user.NewStore(db), testenv.Unrecorded{DB: db}, tokenStore, &event.Bus{}, password.NewHasher(password.MinCost, 0), nil)
			ctx := context.Background()
			prepared, err := svc.Prepare(ctx, "Jane@Example.com", "secret123", user.RoleAdmin)
			if err != nil {
				t.Fatal(err)
			}
			u, err := svc.Register(ctx, acct, prepared)
			if err != nil {
				t.Fatal(err)
			}
			if u.PasswordDigest == nil || strings.Contains(*u.PasswordDigest, "secret123") || !strings.HasPrefix(*u.PasswordDigest, "$2") {
				t.Fatal("password is not stored as a bcrypt digest")
			}
			creates := []struct {
				email, password, code string
			}{
				{"jane@example.com", "secret123", "EMAIL_TAKEN"},
				{"", "secret123", "EMAIL_MISSING"},
				{"not-an-email", "secret123", "EMAIL_INVALID"},
				{"b@example.com", "12345", "PASSWORD_TOO_SHORT"},
				{"b@example.com", strings.Repeat("p", 73), "PASSWORD_TOO_LONG"},
			}
			admin := access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, u.ID, "", nil)
			for _, tt := range creates {
				p := user.Params{Email: optional.Of(tt.email), Password: optional.Of(&tt.password)}
				if _, err := svc.Create(ctx, admin, &account.Tenant{Account: &account.Account{ID: acct}}, p); apperr.As(err).Code != tt.code {
					t.Errorf("create %q/%d bytes: %v, want %s", tt.email, len(tt.password), err, tt.code)
				}
			}
			logins := []struct {
				email, password, code string
			}{
				{"", "x", "EMAIL_REQUIRED"},
				{"nobody@example.com", "secret123", "EMAIL_INVALID"},
				{"jane@example.com", "", "PASSWORD_REQUIRED"},
				{"jane@example.com", "wrong", "PASSWORD_INVALID"},
				{"JANE@EXAMPLE.COM", "secret123", ""},
			}
			for _, tt := range logins {
				got, err := svc.Authenticate(ctx, acct, tt.email, tt.password, nil)
				if tt.code == "" {
					if err != nil || got.ID != u.ID {
						t.Errorf("login %q: %v", tt.email, err)
					}
					continue
				}
				e := apperr.As(err)
				if err == nil || e.Code != tt.code || e.Kind != apperr.Unauthenticated || e.Source == nil || e.Source.Header != "Authorization" {
					t.Errorf("login %q: %v, want 401 %s about Authorization", tt.email, err, tt.code)
				}
			}
			if _, err := svc.Authenticate(ctx, uuid.NewString(), "jane@example.com", "secret123", nil); apperr.As(err).Code != "EMAIL_INVALID" {
				t.Errorf("login in another account: %v", err)
			}
		})
	}
}
