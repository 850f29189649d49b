// Package session keeps the web console's and portal's browser sessions on
// the server, and the one-time links into the portal that a vendor hands a
// customer (POST /portal-sessions) with what the customer may do there.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// Session kinds: a vendor's staff in the console, a customer in the portal.
const (
	KindConsole = "console"
	KindPortal  = "portal"
	// KindPortalLink is a one-time link into the portal that a vendor
	// hands a customer: redeemed once, it opens a portal session.
	KindPortalLink = "portal-link"
)

// Session is a signed-in browser, kept on the server: the cookie holds
// only a secret whose digest finds the row.
type Session struct {
	ID         string `gorm:"primaryKey"`
	AccountID  string
	Kind       string
	BearerType string // users (console) or licenses (portal)
	BearerID   string
	Digest     string
	CSRF       string `gorm:"column:csrf"`
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
	// Grant is what a portal session (or link) lets the customer do; nil
	// for console sessions and for portal sign-ins by license key, which
	// get DefaultSignInGrant.
	Grant *Grant `gorm:"column:portal_grant;serializer:json"`
}

// TableName is the sessions table.
func (Session) TableName() string { return "console_sessions" }

// ErrGone is what an unknown, expired or revoked session is.
var ErrGone = apperr.New(apperr.Unauthenticated, "SESSION_INVALID", "Your session has ended: sign in again")

// Sessions starts, opens and revokes sessions.
type Sessions struct {
	db  *database.DB
	now func() time.Time
}

// NewSessions returns the session rules over db.
func NewSessions(db *database.DB) *Sessions { return &Sessions{db: db, now: time.Now} }

// Now is the sessions' clock.
func (s *Sessions) Now() time.Time { return s.now() }

// SetClock makes the sessions read the time from now.
func (s *Sessions) SetClock(now func() time.Time) { s.now = now }

// randomSecret is 32 random bytes, URL-safe.
func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Start opens a session of kind for the bearer, lasting ttl, with what it
// grants (nil: see Session.Grant), and returns it with the secret for the
// cookie (never stored).
func (s *Sessions) Start(ctx context.Context, accountID, kind, bearerType, bearerID string, ttl time.Duration, grant *Grant) (*Session, string, error) {
	return s.startUntil(ctx, accountID, kind, bearerType, bearerID, s.now().UTC().Add(ttl), grant)
}

func (s *Sessions) startUntil(ctx context.Context, accountID, kind, bearerType, bearerID string, expires time.Time, grant *Grant) (*Session, string, error) {
	raw, now := randomSecret(), s.now().UTC()
	sess := &Session{
		ID: uuid.NewString(), AccountID: accountID, Kind: kind, BearerType: bearerType, BearerID: bearerID,
		Digest: digest(raw), CSRF: randomSecret(), ExpiresAt: expires.UTC(), CreatedAt: now, Grant: grant,
	}
	if err := database.Insert(s.db.Conn(ctx), sess, nil); err != nil {
		return nil, "", err
	}
	return sess, raw, nil
}

// Open finds the live session of kind in the account whose secret is raw.
func (s *Sessions) Open(ctx context.Context, accountID, kind, raw string) (*Session, error) {
	if raw == "" {
		return nil, ErrGone
	}
	q := s.db.Conn(ctx).Where("digest = ? AND account_id = ? AND kind = ?", digest(raw), accountID, kind)
	sess, err := database.Take[Session](q, ErrGone)
	if err != nil {
		return nil, err
	}
	if sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return nil, ErrGone
	}
	return sess, nil
}

// Revoke ends one session.
func (s *Sessions) Revoke(ctx context.Context, sess *Session) error {
	now := s.now().UTC()
	return database.Error(s.db.Conn(ctx).Model(&Session{}).
		Where("id = ? AND account_id = ?", sess.ID, sess.AccountID).Update("revoked_at", now).Error)
}

// RevokeBearer ends every session of a bearer (signing out everywhere).
func (s *Sessions) RevokeBearer(ctx context.Context, accountID, bearerType, bearerID string) error {
	now := s.now().UTC()
	return database.Error(s.db.Conn(ctx).Model(&Session{}).
		Where("account_id = ? AND bearer_type = ? AND bearer_id = ? AND revoked_at IS NULL", accountID, bearerType, bearerID).
		Update("revoked_at", now).Error)
}

// Redeem uses up a live one-time link of the account whose secret is raw:
// of two concurrent redemptions only one gets the link.
func (s *Sessions) Redeem(ctx context.Context, accountID, raw string) (*Session, error) {
	link, err := s.Open(ctx, accountID, KindPortalLink, raw)
	if err != nil {
		return nil, err
	}
	res := s.db.Conn(ctx).Model(&Session{}).Where("id = ? AND account_id = ? AND revoked_at IS NULL", link.ID, accountID).
		Update("revoked_at", s.now().UTC())
	if res.Error != nil {
		return nil, database.Error(res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, ErrGone
	}
	return link, nil
}

// Prune deletes the sessions and links that ended (expired or revoked)
// more than a day before now, and reports how many went.
func (s *Sessions) Prune(ctx context.Context, now time.Time) (int64, error) {
	cutoff := now.UTC().Add(-24 * time.Hour)
	res := s.db.Conn(ctx).Where("expires_at < ? OR revoked_at < ?", cutoff, cutoff).Delete(&Session{})
	return res.RowsAffected, database.Error(res.Error)
}
