package token_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/token"
)

func seedAccount(t *testing.T, db *database.DB) string {
	t.Helper()
	id := uuid.NewString()
	err := db.Gorm.Exec(`INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at)
		VALUES (?, ?, 'A', 'pk', 'sk', 'sec', ?, ?)`, id, "a"+id[:8], database.Now(), database.Now()).Error
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIssueAndAuthenticate(t *testing.T) {
	formats := map[token.Kind]*regexp.Regexp{
		token.KindAdmin:      regexp.MustCompile(`^admin-[0-9a-f]{64}v3$`),
		token.KindDeveloper:  regexp.MustCompile(`^dev-[0-9a-f]{64}v3$`),
		token.KindSales:      regexp.MustCompile(`^sales-[0-9a-f]{64}v3$`),
		token.KindSupport:    regexp.MustCompile(`^spprt-[0-9a-f]{64}v3$`),
		token.KindReadOnly:   regexp.MustCompile(`^read-[0-9a-f]{64}v3$`),
		token.KindUser:       regexp.MustCompile(`^user-[0-9a-f]{64}v3$`),
		token.KindProduct:    regexp.MustCompile(`^prod-[0-9a-f]{64}v3$`),
		token.KindActivation: regexp.MustCompile(`^activ-[0-9a-f]{32}v3$`),
	}
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			svc := token.NewService(token.NewStore(db), testenv.Unrecorded{})
			ctx := context.Background()
			acct, other := seedAccount(t, db), seedAccount(t, db)
			secret, otherSecret := []byte("secret-a"), []byte("secret-b")
			for kind, pattern := range formats {
				tok, raw, err := svc.Issue(ctx, token.Issue{AccountID: acct, Secret: secret, BearerType: token.BearerUser, BearerID: uuid.NewString(), Kind: kind})
				if err != nil {
					t.Fatal(err)
				}
				if !pattern.MatchString(raw) || tok.Digest == raw || tok.Digest != token.Digest(secret, raw) {
					t.Fatalf("%s: raw %q, digest %q", kind, raw, tok.Digest)
				}
				found, err := svc.Authenticate(ctx, acct, secret, raw)
				if err != nil || found.ID != tok.ID {
					t.Fatalf("%s: authenticate: %v", kind, err)
				}
				if _, err := svc.Authenticate(ctx, other, otherSecret, raw); apperr.As(err).Code != "TOKEN_INVALID" {
					t.Fatalf("%s: token works in another account: %v", kind, err)
				}
			}
			past := time.Now().Add(-time.Minute)
			if _, _, err := svc.Issue(ctx, token.Issue{AccountID: acct, Secret: secret, BearerType: token.BearerUser, BearerID: uuid.NewString(), Kind: token.KindUser, Expiry: &past}); apperr.As(err).Code != "EXPIRY_INVALID" {
				t.Fatalf("expiry in the past: %v", err)
			}
			soon := time.Now().Add(time.Hour)
			_, raw, err := svc.Issue(ctx, token.Issue{AccountID: acct, Secret: secret, BearerType: token.BearerUser, BearerID: uuid.NewString(), Kind: token.KindUser, Expiry: &soon})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, acct, secret, raw); err != nil {
				t.Fatalf("token before its expiry: %v", err)
			}
			token.SetClock(svc, func() time.Time { return soon })
			if _, err := svc.Authenticate(ctx, acct, secret, raw); apperr.As(err).Code != "TOKEN_EXPIRED" {
				t.Fatalf("expired token: %v", err)
			}
			token.SetClock(svc, time.Now)
			if _, err := svc.Authenticate(ctx, acct, secret, uuid.NewString()); apperr.As(err).Code != "TOKEN_FORMAT_INVALID" {
				t.Fatalf("uuid-shaped token: %v", err)
			}
			if _, err := svc.Authenticate(ctx, acct, secret, "garbage"); apperr.As(err).Code != "TOKEN_INVALID" {
				t.Fatalf("garbage token: %v", err)
			}
		})
	}
}

func TestKindForRole(t *testing.T) {
	for role, kind := range map[string]token.Kind{
		"admin": token.KindAdmin, "developer": token.KindDeveloper, "sales-agent": token.KindSales,
		"support-agent": token.KindSupport, "read-only": token.KindReadOnly, "user": token.KindUser,
	} {
		if got := token.KindForRole(role); got != kind {
			t.Errorf("KindForRole(%q) = %s, want %s", role, got, kind)
		}
	}
}
