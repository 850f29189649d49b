// Package secondfactor is users' TOTP second factors (Keygen's
// second-factors): one per user, created with the password, enabled with a
// first code, then asked for at password sign-in. Secrets are sealed with
// the master key and shown only while the factor is not yet enabled.
package secondfactor

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/totp"
	"github.com/relkey/relkey/internal/user"
)

// Issuer labels relkey's factors in authenticator apps.
const Issuer = "relkey"

// Drift is how long a code stays good after its step ends (Keygen's
// drift_behind).
const Drift = 10 * time.Second

// SecondFactor is a stored second factor.
type SecondFactor struct {
	ID               string    `gorm:"column:id;primaryKey"`
	AccountID        string    `gorm:"column:account_id"`
	UserID           string    `gorm:"column:user_id"`
	SecretSealed     string    `gorm:"column:secret_sealed"`
	Enabled          bool      `gorm:"column:enabled"`
	LastVerifiedStep int64     `gorm:"column:last_verified_step"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	UpdatedAt        time.Time `gorm:"column:updated_at"`

	// Secret and URI are filled in for the API while the factor is not
	// enabled (Keygen shows them until then); never stored in the clear.
	Secret string `gorm:"-"`
	URI    string `gorm:"-"`
}

// TableName implements gorm's tabler.
func (SecondFactor) TableName() string { return "second_factors" }

// Public is the factor without its secret, as events carry it.
func (f *SecondFactor) Public() *SecondFactor {
	c := *f
	c.Secret, c.URI = "", ""
	return &c
}

// Sealer encrypts secrets at rest (the keyring).
type Sealer interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// Users finds the user whose factors a request names, and checks passwords.
type Users interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*user.User, error)
	PasswordMatches(ctx context.Context, u *user.User, plain string) (bool, error)
}

// Transactor runs functions in one transaction and records their events.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	event.Changer
}

// Service holds the second factor rules.
type Service struct {
	store  *Store
	tx     Transactor
	sealer Sealer
	users  Users
	now    func() time.Time
}

// NewService returns the rules over store.
func NewService(store *Store, tx Transactor, sealer Sealer, users Users) *Service {
	return &Service{store: store, tx: tx, sealer: sealer, users: users, now: time.Now}
}

// SetClock replaces the clock codes are checked against (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

var (
	errOTPInvalid      = apperr.At(apperr.Unauthenticated, "OTP_INVALID", "second factor must be valid", apperr.Meta("otp"))
	errOTPRequired     = apperr.At(apperr.Unauthenticated, "OTP_REQUIRED", "second factor is required", apperr.Meta("otp"))
	errPasswordInvalid = apperr.At(apperr.Unauthenticated, "PASSWORD_INVALID", "password must be valid", apperr.Meta("password"))
	errExists          = apperr.New(apperr.Conflict, "CONFLICT", "The request could not be completed because of a conflict")
)

// owner finds the user of the path and checks that who may act on its
// factors: admins on anyone's, other staff and users on their own only.
func (s *Service) owner(ctx context.Context, who *access.Principal, t *account.Tenant, userRef, permission string) (*user.User, error) {
	u, err := s.users.Find(ctx, who, t, userRef)
	if err != nil {
		return nil, err
	}
	if err := who.Require(permission); err != nil {
		return nil, err
	}
	switch {
	case who.Role == access.RoleAdmin:
	case who.BearerType == access.BearerUser && who.BearerID == u.ID:
	default:
		return nil, access.Denied("only the user or an admin may manage its second factors")
	}
	if permission != "user.second-factors.read" && who.Role == access.RoleReadOnly {
		return nil, access.Denied("read-only users may not change second factors")
	}
	return u, nil
}

// List returns a page of a user's factors (one at most).
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, userRef string, p page.Request) ([]SecondFactor, int64, error) {
	u, err := s.owner(ctx, who, t, userRef, "user.second-factors.read")
	if err != nil {
		return nil, 0, err
	}
	fs, total, err := s.store.List(ctx, t.ID, u.ID, p)
	if err != nil {
		return nil, 0, err
	}
	for i := range fs {
		if err := s.reveal(&fs[i], u); err != nil {
			return nil, 0, err
		}
	}
	return fs, total, nil
}

// Find returns one factor of a user.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, userRef, ref string) (*SecondFactor, error) {
	u, err := s.owner(ctx, who, t, userRef, "user.second-factors.read")
	if err != nil {
		return nil, err
	}
	return s.found(ctx, t, u, ref)
}

func (s *Service) found(ctx context.Context, t *account.Tenant, u *user.User, ref string) (*SecondFactor, error) {
	f, err := s.store.Find(ctx, t.ID, u.ID, ref)
	if err != nil {
		return nil, err
	}
	return f, s.reveal(f, u)
}

// reveal fills in the secret and URI of a factor not yet enabled.
func (s *Service) reveal(f *SecondFactor, u *user.User) error {
	if f.Enabled {
		return nil
	}
	secret, err := s.sealer.Open(f.SecretSealed)
	if err != nil {
		return err
	}
	f.Secret = string(secret)
	f.URI = totp.URI(f.Secret, Issuer, u.Email)
	return nil
}

// Credentials are what a change proves itself with: the password (to
// create the first factor) or a code.
type Credentials struct {
	Password *string
	OTP      *string
}

// Create adds the user's factor, disabled: with the password while the user
// has no enabled factor, else with a code of that factor (Keygen's order).
// A user has one factor: a second one is a 409.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, userRef string, c Credentials) (*SecondFactor, error) {
	u, err := s.owner(ctx, who, t, userRef, "user.second-factors.create")
	if err != nil {
		return nil, err
	}
	enabled, err := s.store.EnabledOf(ctx, t.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if enabled != nil {
		if err := s.verify(ctx, enabled, c.OTP); err != nil {
			return nil, err
		}
	} else {
		ok := false
		if c.Password != nil && u.PasswordDigest != nil {
			if ok, err = s.users.PasswordMatches(ctx, u, *c.Password); err != nil {
				return nil, err
			}
		}
		if !ok {
			return nil, errPasswordInvalid
		}
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal([]byte(secret))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	f := &SecondFactor{ID: id.New(), AccountID: t.ID, UserID: u.ID, SecretSealed: sealed, CreatedAt: now, UpdatedAt: now}
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Create(ctx, f, errExists) },
		occurred(who, event.SecondFactorCreated, f)); err != nil {
		return nil, err
	}
	return f, s.reveal(f, u)
}

func occurred(who *access.Principal, name string, f *SecondFactor) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: f.AccountID, Resource: f.Public(), Who: who}
	}
}

// Update enables or disables a factor with a code of that factor.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, userRef, ref string, enabled bool, otp *string) (*SecondFactor, error) {
	u, err := s.owner(ctx, who, t, userRef, "user.second-factors.update")
	if err != nil {
		return nil, err
	}
	f, err := s.store.Find(ctx, t.ID, u.ID, ref)
	if err != nil {
		return nil, err
	}
	if err := s.verify(ctx, f, otp); err != nil {
		return nil, err
	}
	name := event.SecondFactorDisabled
	if enabled {
		name = event.SecondFactorEnabled
	}
	f.Enabled, f.UpdatedAt = enabled, s.now().UTC().Truncate(time.Millisecond)
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.SetEnabled(ctx, f) }, occurred(who, name, f)); err != nil {
		return nil, err
	}
	return f, s.reveal(f, u)
}

// Delete removes a factor; while the user has one enabled, with its code.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, userRef, ref string, otp *string) error {
	u, err := s.owner(ctx, who, t, userRef, "user.second-factors.delete")
	if err != nil {
		return err
	}
	f, err := s.store.Find(ctx, t.ID, u.ID, ref)
	if err != nil {
		return err
	}
	enabled, err := s.store.EnabledOf(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	if enabled != nil {
		if err := s.verify(ctx, enabled, otp); err != nil {
			return err
		}
	}
	return s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Delete(ctx, f) }, occurred(who, event.SecondFactorDeleted, f))
}

// verify accepts a code of f once: the step it matched is recorded with a
// conditional write, so that two requests (on any replicas) racing with
// the same code see one success.
func (s *Service) verify(ctx context.Context, f *SecondFactor, otp *string) error {
	if otp == nil {
		return errOTPInvalid
	}
	secret, err := s.sealer.Open(f.SecretSealed)
	if err != nil {
		return err
	}
	step, ok, err := totp.Match(string(secret), *otp, s.now(), Drift, f.LastVerifiedStep)
	if err != nil {
		return err
	}
	if !ok {
		return errOTPInvalid
	}
	won, err := s.store.MarkVerified(ctx, f.ID, step)
	if err != nil {
		return err
	}
	if !won {
		return errOTPInvalid
	}
	f.LastVerifiedStep = step
	return nil
}

// Check is the second factor step of a password sign-in: nothing to do for
// a user without an enabled factor, else otp is required and must be
// valid (OTP_REQUIRED, OTP_INVALID at /meta/otp).
func (s *Service) Check(ctx context.Context, accountID, userID string, otp *string) error {
	f, err := s.store.EnabledOf(ctx, accountID, userID)
	if err != nil || f == nil {
		return err
	}
	if otp == nil {
		return errOTPRequired
	}
	return s.verify(ctx, f, otp)
}
