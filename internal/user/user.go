// Package user is the people of an account: administrators and staff who
// manage it, and customers (Anystack's contacts, Unlock's licensees) who own
// licenses. Passwords and reset tokens are stored as digests only.
package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/password"
)

// Role is a user's role, in its API spelling.
type Role = access.Role

// User roles.
const (
	RoleUser         = access.RoleUser
	RoleAdmin        = access.RoleAdmin
	RoleDeveloper    = access.RoleDeveloper
	RoleSalesAgent   = access.RoleSalesAgent
	RoleSupportAgent = access.RoleSupportAgent
	RoleReadOnly     = access.RoleReadOnly
)

// User is a stored user.
type User struct {
	ID                  string         `gorm:"column:id;primaryKey"`
	AccountID           string         `gorm:"column:account_id"`
	Email               string         `gorm:"column:email"`
	FirstName           *string        `gorm:"column:first_name"`
	LastName            *string        `gorm:"column:last_name"`
	PasswordDigest      *string        `gorm:"column:password_digest"`
	Role                Role           `gorm:"column:role"`
	BannedAt            *time.Time     `gorm:"column:banned_at"`
	PasswordResetDigest *string        `gorm:"column:password_reset_digest"`
	PasswordResetExpiry *time.Time     `gorm:"column:password_reset_expiry"`
	GroupID             *string        `gorm:"column:group_id;<-:create"` // changed only through the group rules
	Metadata            map[string]any `gorm:"column:metadata;serializer:json"`
	CreatedAt           time.Time      `gorm:"column:created_at"`
	UpdatedAt           time.Time      `gorm:"column:updated_at"`
}

// Statuses.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
	StatusBanned   = "BANNED"
)

// activeWindow is how long a user without other activity counts as active.
const activeWindow = 90 * 24 * time.Hour

// Status is BANNED, ACTIVE (created within 90 days) or INACTIVE.
func (u *User) Status(now time.Time) string {
	switch {
	case u.BannedAt != nil:
		return StatusBanned
	case now.Sub(u.CreatedAt) <= activeWindow:
		return StatusActive
	}
	return StatusInactive
}

// FullName joins the first and last names; nil when both are missing.
func (u *User) FullName() *string {
	var parts []string
	for _, p := range []*string{u.FirstName, u.LastName} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	full := strings.Join(parts, " ")
	return &full
}

// PasswordResetLifetime is how long a reset token works.
const PasswordResetLifetime = 24 * time.Hour

// TokenRevoker deletes the tokens of a bearer that goes away, or whose
// password changed.
type TokenRevoker interface {
	DeleteForBearer(ctx context.Context, accountID, bearerType, bearerID string) error
	DeleteForBearerExcept(ctx context.Context, accountID, bearerType, bearerID, keepID string) error
}

// Transactor runs functions in one database transaction, and records
// the events of the changes made in it.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	event.Changer
}

// Service holds the user rules.
type Service struct {
	store     *Store
	tx        Transactor
	tokens    TokenRevoker
	events    *event.Bus
	passwords *password.Hasher
	groups    Groups
	factors   SecondFactors
	mailer    ResetMailer
	now       func() time.Time
}

// Groups keeps new users within their group's user limit.
type Groups interface {
	// Admit checks, inside the caller's transaction, that the group
	// (nil: none) has room for one more user.
	Admit(ctx context.Context, accountID string, groupID *string) error
}

// SecondFactors is the second factor step of a password sign-in: nil when
// the user has no enabled factor or otp is one of its codes.
type SecondFactors interface {
	Check(ctx context.Context, accountID, userID string, otp *string) error
}

// SetClock replaces the clock of reset token expiries and bans (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetSecondFactors makes password sign-ins ask for the users' second
// factors (they are built over the users, so they come after).
func (s *Service) SetSecondFactors(f SecondFactors) { s.factors = f }

// PasswordMatches checks a user's password; a user without one matches none.
func (s *Service) PasswordMatches(ctx context.Context, u *User, plain string) (bool, error) {
	if u.PasswordDigest == nil {
		return false, nil
	}
	return s.passwords.Matches(ctx, *u.PasswordDigest, plain)
}

// NewService returns the user rules over store, hashing passwords with
// passwords; groups (nil: groups are not kept) admits new users into
// groups.
func NewService(store *Store, tx Transactor, tokens TokenRevoker, events *event.Bus, passwords *password.Hasher, groups Groups) *Service {
	return &Service{store: store, tx: tx, tokens: tokens, events: events, passwords: passwords, groups: groups, now: time.Now}
}

// Params are the writable attributes; absent ones are left unchanged.
type Params struct {
	FirstName optional.Value[*string]        `json:"first_name"`
	LastName  optional.Value[*string]        `json:"last_name"`
	Email     optional.Value[string]         `json:"email"`
	Password  optional.Value[*string]        `json:"password"`
	Role      optional.Value[string]         `json:"role"`
	Metadata  optional.Value[map[string]any] `json:"metadata"`
	// Group is the group relationship of a new user (a group id), which
	// only staff and products may give.
	Group string `json:"-"`
}

// Registration is a user checked and hashed, ready to be stored by Register.
type Registration struct{ user *User }

// Prepare checks and hashes a user created without a principal, the first
// admin of a new account. It runs before the account's transaction: hashing
// is slow and must not hold a write lock.
func (s *Service) Prepare(ctx context.Context, email, password string, role Role) (*Registration, error) {
	u, err := s.build(ctx, Params{Email: optional.Of(email), Password: optional.Of(&password), Role: optional.Of(string(role))})
	if err != nil {
		return nil, err
	}
	return &Registration{user: u}, nil
}

// Register stores a prepared user in the account.
func (s *Service) Register(ctx context.Context, accountID string, r *Registration) (*User, error) {
	u := *r.user
	u.AccountID = accountID
	if err := s.store.Create(ctx, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Create adds a user on behalf of who. Anonymous sign-up creates a user-role
// user, and only while the account is not protected.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*User, error) {
	role := Role(p.Role.Or(string(RoleUser)))
	switch {
	case who == nil && (t.Protected || role != RoleUser):
		return nil, access.ErrTokenMissing
	case who != nil:
		if err := who.Require("user.create"); err != nil {
			return nil, err
		}
		if role != RoleUser {
			if err := who.Require("admin.create"); err != nil {
				return nil, err
			}
		}
	}
	if p.Group != "" && !who.Staff() && (who == nil || who.BearerType != access.BearerProduct) {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Rel("group"))
	}
	return s.insert(ctx, who, t.ID, p)
}

func (s *Service) insert(ctx context.Context, who *access.Principal, accountID string, p Params) (*User, error) {
	u, err := s.build(ctx, p)
	if err != nil {
		return nil, err
	}
	u.AccountID = accountID
	if p.Group != "" && s.groups != nil {
		u.GroupID = &p.Group
	}
	if err := s.tx.Change(ctx, func(ctx context.Context) error {
		if s.groups != nil {
			if err := s.groups.Admit(ctx, accountID, u.GroupID); err != nil {
				return err
			}
		}
		return s.store.Create(ctx, u)
	}, occurred(who, event.UserCreated, u)); err != nil {
		return nil, err
	}
	return u, nil
}

func occurred(who *access.Principal, name string, u *User) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: u.AccountID, Resource: u, Who: who}
	}
}

// build makes a new, unsaved user of the attributes.
func (s *Service) build(ctx context.Context, p Params) (*User, error) {
	if !p.Email.Set {
		return nil, apperr.Attribute("email", "MISSING", "can't be blank")
	}
	u := &User{ID: id.New(), Role: RoleUser, Metadata: map[string]any{}}
	if err := s.apply(ctx, u, p); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) apply(ctx context.Context, u *User, p Params) error {
	if p.Email.Set {
		email := strings.TrimSpace(p.Email.V)
		if email == "" {
			return apperr.Attribute("email", "MISSING", "can't be blank")
		}
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
			return apperr.Attribute("email", "INVALID", "must be a valid email")
		}
		u.Email = email
	}
	p.FirstName.Apply(&u.FirstName)
	p.LastName.Apply(&u.LastName)
	if p.Role.Set {
		role := Role(p.Role.V)
		if !access.ValidUserRole(role) {
			return apperr.Attribute("role", "NOT_ALLOWED", "must be one of user, admin, developer, sales-agent, support-agent, read-only")
		}
		u.Role = role
	}
	if p.Password.Set {
		if p.Password.V == nil {
			u.PasswordDigest = nil
		} else {
			digest, err := s.hashPassword(ctx, *p.Password.V, apperr.Attr("password"))
			if err != nil {
				return err
			}
			u.PasswordDigest = &digest
		}
	}
	if p.Metadata.Set {
		u.Metadata = p.Metadata.V
		if u.Metadata == nil {
			u.Metadata = map[string]any{}
		}
	}
	return nil
}

func (s *Service) hashPassword(ctx context.Context, plain string, field apperr.Field) (string, error) {
	switch n := len(plain); {
	case n < password.MinBytes:
		return "", apperr.At(apperr.Unprocessable, "PASSWORD_TOO_SHORT", fmt.Sprintf("is too short (minimum is %d characters)", password.MinBytes), field)
	case n > password.MaxBytes:
		return "", apperr.At(apperr.Unprocessable, "PASSWORD_TOO_LONG", fmt.Sprintf("is too long (maximum is %d bytes)", password.MaxBytes), field)
	}
	return s.passwords.Hash(ctx, plain)
}

// Filter picks users (Keygen's users index has_scope filters): by role,
// by a product or license they hold, by metadata, by owning a license.
type Filter struct {
	Roles     []Role
	ProductID string
	LicenseID string
	GroupID   string
	// Metadata holds snake_case keys and query-string values, matched as
	// Keygen's search_metadata does.
	Metadata map[string]string
	Assigned *bool // owns a license
	// Status is one of the statuses users render; any other matches none.
	Status string
	// Now is the time statuses are read at (the service sets it).
	Now time.Time
}

// List returns a page of the users f picks (roles default to user).
// Staff and products may list; users and licenses may only see themselves.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]User, int64, error) {
	if err := who.Require("user.read"); err != nil {
		return nil, 0, err
	}
	if !who.Staff() && who.Role != access.RoleProduct {
		return nil, 0, access.Denied("only staff and products may list users")
	}
	if len(f.Roles) == 0 {
		f.Roles = []Role{RoleUser}
	}
	for _, r := range f.Roles {
		if !access.ValidUserRole(r) {
			return nil, 0, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "unknown role "+string(r), "roles[]")
		}
	}
	f.Now = s.now()
	return s.store.List(ctx, t.ID, access.ScopeOf(who), f, p)
}

// OfProduct returns a page of the users who own or hold a license of the
// product (products/:id/users): staff and products, as List.
func (s *Service) OfProduct(ctx context.Context, who *access.Principal, t *account.Tenant, productID string, p page.Request) ([]User, int64, error) {
	if err := who.Require("user.read"); err != nil {
		return nil, 0, err
	}
	if !who.Staff() && who.Role != access.RoleProduct {
		return nil, 0, access.Denied("only staff and products may list users")
	}
	return s.store.ListOfProduct(ctx, t.ID, access.ScopeOf(who), productID, p)
}

// Find returns a user by id or email that who may read.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*User, error) {
	return s.visible(ctx, who, t, ref, "user.read")
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*User, error) {
	return access.Visible(who, permission, func() (*User, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
}

// VisibleID returns the id of a user who may see, whatever its permissions
// (to make it a license owner).
func (s *Service) VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error) {
	u, err := s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// OfLicense returns a page of a license's users (owner first, then
// licensees), for the license rules once they have authorized the read.
func (s *Service) OfLicense(ctx context.Context, accountID, licenseID string, ownerID *string, p page.Request) ([]User, int64, error) {
	return s.store.OfLicense(ctx, accountID, licenseID, ownerID, p)
}

// Bearer returns the user a token belongs to, without visibility rules.
func (s *Service) Bearer(ctx context.Context, accountID, id string) (*User, error) {
	return s.store.Find(ctx, accountID, id, access.Scope{All: true})
}

// Update changes the given attributes. Staff users are changed only with
// admin.update, roles only by admins, passwords only by staff (users use
// the update-password action).
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*User, error) {
	u, err := s.visible(ctx, who, t, ref, "user.update")
	if err != nil {
		return nil, err
	}
	if u.Role.Staff() || (p.Role.Set && Role(p.Role.V) != u.Role) {
		if err := who.Require("admin.update"); err != nil {
			return nil, err
		}
	}
	if p.Password.Set && !who.Staff() {
		return nil, access.Denied("use the update-password action to change a password")
	}
	if err := s.apply(ctx, u, p); err != nil {
		return nil, err
	}
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, u) }, occurred(who, event.UserUpdated, u)); err != nil {
		return nil, err
	}
	return u, nil
}

// Delete removes a user and its tokens; the last admin stays.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	u, err := s.visible(ctx, who, t, ref, "user.delete")
	if err != nil {
		return err
	}
	if u.Role.Staff() {
		if err := who.Require("admin.delete"); err != nil {
			return err
		}
	}
	return s.tx.Change(ctx, func(ctx context.Context) error {
		if u.Role == RoleAdmin {
			admins, err := s.store.CountRole(ctx, u.AccountID, RoleAdmin)
			if err != nil {
				return err
			}
			if admins <= 1 {
				return apperr.At(apperr.Unprocessable, "ADMINS_REQUIRED", "the account must keep at least one admin", apperr.Record())
			}
		}
		if err := s.tokens.DeleteForBearer(ctx, u.AccountID, access.BearerUser, u.ID); err != nil {
			return err
		}
		return s.store.Delete(ctx, u)
	}, occurred(who, event.UserDeleted, u))
}

// SetBanned bans or unbans a user-role user.
func (s *Service) SetBanned(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, banned bool) (*User, error) {
	permission := "user.unban"
	if banned {
		permission = "user.ban"
	}
	u, err := s.visible(ctx, who, t, ref, permission)
	if err != nil {
		return nil, err
	}
	if u.Role != RoleUser {
		return nil, access.Denied("only users with the user role can be banned")
	}
	u.BannedAt = nil
	if banned {
		at := s.now().UTC().Truncate(time.Millisecond)
		u.BannedAt = &at
	}
	name := event.UserUnbanned
	if banned {
		name = event.UserBanned
	}
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, u) }, occurred(who, name, u)); err != nil {
		return nil, err
	}
	return u, nil
}

func credentialError(code, detail string) error {
	return apperr.AtHeader(apperr.Unauthenticated, code, detail, "Authorization")
}

// Authenticate checks an email and password within the account, and the
// code of the user's second factor when it has one enabled, in Keygen's
// order of failures (the code before the password, so that a wrong code
// tells nothing of the password). Every failure is a 401 about the
// Authorization header, or about /meta/otp.
func (s *Service) Authenticate(ctx context.Context, accountID, email, password string, otp *string) (*User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, credentialError("EMAIL_REQUIRED", "email is required")
	}
	u, err := s.store.FindByEmail(ctx, accountID, email)
	if apperr.Is(err, apperr.NotFound) {
		// Keygen's answer, after the work a known email's check costs.
		if password != "" {
			if err := s.passwords.MatchesNothing(ctx, password); err != nil {
				return nil, err
			}
		}
		return nil, credentialError("EMAIL_INVALID", "email must be valid")
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordDigest == nil {
		return nil, credentialError("PASSWORD_NOT_SUPPORTED", "password is not supported")
	}
	if password == "" {
		return nil, credentialError("PASSWORD_REQUIRED", "password is required")
	}
	if s.factors != nil {
		if err := s.factors.Check(ctx, accountID, u.ID, otp); err != nil {
			return nil, err
		}
	}
	ok, err := s.passwords.Matches(ctx, *u.PasswordDigest, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, credentialError("PASSWORD_INVALID", "password must be valid")
	}
	return u, nil
}

// UpdatePassword changes the principal's own password after checking the
// old one, and revokes the user's other tokens (Keygen's update-password).
func (s *Service) UpdatePassword(ctx context.Context, who *access.Principal, t *account.Tenant, ref, oldPassword, newPassword string) (*User, error) {
	u, err := s.visible(ctx, who, t, ref, "user.password.update")
	if err != nil {
		return nil, err
	}
	if !who.Is(access.BearerUser, u.ID) {
		return nil, access.Denied("only the user may update its own password")
	}
	ok, err := s.PasswordMatches(ctx, u, oldPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.At(apperr.Unauthenticated, "PASSWORD_INVALID", "is not valid", apperr.Meta("old_password"))
	}
	return s.setPassword(ctx, u, newPassword, who.TokenID)
}

// setPassword stores a new password, forgets any reset token and revokes
// the user's tokens but keep (a token id, or "").
func (s *Service) setPassword(ctx context.Context, u *User, plain, keep string) (*User, error) {
	digest, err := s.hashPassword(ctx, plain, apperr.Attr("password"))
	if err != nil {
		return nil, err
	}
	u.PasswordDigest, u.PasswordResetDigest, u.PasswordResetExpiry = &digest, nil, nil
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Save(ctx, u); err != nil {
			return err
		}
		return s.tokens.DeleteForBearerExcept(ctx, u.AccountID, access.BearerUser, u.ID, keep)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func resetDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ResetMailer mails a reset token to its user (through the mail outbox,
// in the caller's transaction).
type ResetMailer interface {
	MailPasswordReset(ctx context.Context, t *account.Tenant, u *User, token string, expiry time.Time) error
}

// SetResetMailer makes RequestPasswordReset mail the tokens (RELKEY_SMTP_URL).
func (s *Service) SetResetMailer(m ResetMailer) { s.mailer = m }

// RequestPasswordReset issues a reset token for the account's user with
// that email and publishes it (event user.password-reset) for a hook to
// deliver; with a mailer and deliver, it is mailed too. An unknown email
// does nothing, so the answer reveals nothing.
func (s *Service) RequestPasswordReset(ctx context.Context, t *account.Tenant, email string, deliver bool) error {
	u, err := s.store.FindByEmail(ctx, t.ID, email)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	token := hex.EncodeToString(buf)
	digest := resetDigest(token)
	expiry := s.now().UTC().Add(PasswordResetLifetime).Truncate(time.Millisecond)
	u.PasswordResetDigest, u.PasswordResetExpiry = &digest, &expiry
	// Recorded without the token: the event log keeps no secrets.
	err = s.tx.Change(ctx, func(ctx context.Context) error {
		if err := s.store.Save(ctx, u); err != nil {
			return err
		}
		if deliver && s.mailer != nil {
			return s.mailer.MailPasswordReset(ctx, t, u, token, expiry)
		}
		return nil
	}, occurred(nil, event.UserPasswordReset, u))
	if err != nil {
		return err
	}
	s.events.Publish(ctx, event.Event{Type: event.UserPasswordReset, AccountID: t.ID, ResourceID: u.ID,
		Meta: map[string]any{"passwordResetToken": token, "expiry": expiry}})
	return nil
}

// ResetPassword sets a new password with a reset token, as Keygen's
// reset-password: anyone without a token, or the user itself, may; a user
// of a protected account who never had a password may not (403). A token
// that does not match is a 404, so that the answer tells nothing of the
// user; an expired one a 401. Every token of the user is revoked.
func (s *Service) ResetPassword(ctx context.Context, who *access.Principal, t *account.Tenant, ref, token, newPassword string) (*User, error) {
	u, err := s.store.Find(ctx, t.ID, ref, access.Scope{All: true})
	if err != nil {
		return nil, err
	}
	if who != nil {
		if err := who.Require("user.password.reset"); err != nil {
			return nil, err
		}
		if !who.Is(access.BearerUser, u.ID) {
			return nil, access.Denied("only the user may reset its own password")
		}
	}
	if u.Role == RoleUser && t.Protected && u.PasswordDigest == nil {
		return nil, access.Denied("users without a password may not set one on a protected account")
	}
	if u.PasswordResetDigest == nil || u.PasswordResetExpiry == nil ||
		subtle.ConstantTimeCompare([]byte(*u.PasswordResetDigest), []byte(resetDigest(token))) != 1 {
		return nil, apperr.NotFoundResource("user", ref)
	}
	if s.now().After(*u.PasswordResetExpiry) {
		return nil, apperr.At(apperr.Unauthenticated, "PASSWORD_RESET_TOKEN_EXPIRED", "is expired", apperr.Meta("password_reset_token"))
	}
	return s.setPassword(ctx, u, newPassword, "")
}

// LicenseUserID returns the id of the user (ref: an id or email) who owns
// or holds the license, "" when none does.
func (s *Service) LicenseUserID(ctx context.Context, accountID, licenseID, ref string) (string, error) {
	return s.store.LicenseUserID(ctx, accountID, licenseID, ref)
}

// CountLicenseUsers counts a license's owner and licensees.
func (s *Service) CountLicenseUsers(ctx context.Context, licenseID string) (int64, error) {
	return s.store.CountLicenseUsers(ctx, licenseID)
}
