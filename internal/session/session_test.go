package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/testenv"
)

func TestSessionsOpenRedeemAndPrune(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := b.OpenDB(t)
			now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
			accountID := id.New()
			if err := db.Gorm.Exec(`INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at) VALUES (?, 'acme', 'A', 'pk', 'sk', 'sec', ?, ?)`, accountID, now, now).Error; err != nil {
				t.Fatal(err)
			}
			s := session.NewSessions(db)
			s.SetClock(func() time.Time { return now })
			grant := &session.Grant{Permissions: []string{session.MachineRead}, ReturnURL: "https://vendor.test"}
			link, raw, err := s.Start(ctx, accountID, session.KindPortalLink, access.BearerLicense, accountID, time.Minute, grant)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Open(ctx, accountID, session.KindPortal, raw); !apperr.Is(err, apperr.Unauthenticated) {
				t.Fatalf("a link opened as a portal session: %v", err)
			}
			got, err := s.Redeem(ctx, accountID, raw)
			if err != nil || got.ID != link.ID || got.Grant == nil || got.Grant.ReturnURL != "https://vendor.test" || got.Grant.Allows(session.MachineDelete) {
				t.Fatalf("redeem: %+v %v", got, err)
			}
			if _, err := s.Redeem(ctx, accountID, raw); !apperr.Is(err, apperr.Unauthenticated) {
				t.Fatalf("second redemption: %v", err)
			}
			_, live, _ := s.Start(ctx, accountID, session.KindPortal, access.BearerLicense, accountID, 48*time.Hour, nil)
			now = now.Add(25 * time.Hour)
			if n, err := s.Prune(ctx, now); err != nil || n != 1 {
				t.Fatalf("prune: %d %v", n, err)
			}
			if sess, err := s.Open(ctx, accountID, session.KindPortal, live); err != nil || !sess.Grant.Allows(session.ReleaseDownload) {
				t.Fatalf("the live session went: %v", err)
			}
			var left int64
			db.Gorm.Table("console_sessions").Count(&left)
			if left != 1 {
				t.Fatalf("%d sessions left", left)
			}
		})
	}
}
