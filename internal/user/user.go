// Package user is the people of an account: administrators and staff who
// manage it, and customers (Anystack's contacts, Unlock's licensees) who own
// licenses. Passwords are stored as bcrypt digests only.
package user

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/relkey/relkey/internal/apperr"
)

// Role is a user's role, in its API spelling.
type Role string

const (
	RoleUser         Role = "user"
	RoleAdmin        Role = "admin"
	RoleDeveloper    Role = "developer"
	RoleSalesAgent   Role = "sales-agent"
	RoleSupportAgent Role = "support-agent"
	RoleReadOnly     Role = "read-only"
)

// User is a stored user.
type User struct {
	ID             string         `gorm:"column:id;primaryKey"`
	AccountID      string         `gorm:"column:account_id"`
	Email          string         `gorm:"column:email"`
	FirstName      *string        `gorm:"column:first_name"`
	LastName       *string        `gorm:"column:last_name"`
	PasswordDigest *string        `gorm:"column:password_digest"`
	Role           Role           `gorm:"column:role"`
	BannedAt       *time.Time     `gorm:"column:banned_at"`
	Metadata       map[string]any `gorm:"column:metadata;serializer:json"`
	CreatedAt      time.Time      `gorm:"column:created_at"`
	UpdatedAt      time.Time      `gorm:"column:updated_at"`
}

// Password length limits (bcrypt reads at most 72 bytes).
const (
	MinPasswordBytes = 6
	MaxPasswordBytes = 72
)

// Service holds the user rules.
type Service struct{ store *Store }

// NewService returns the user rules over store.
func NewService(store *Store) *Service { return &Service{store: store} }

// Params creates a user.
type Params struct {
	Email     string
	Password  string
	FirstName *string
	LastName  *string
	Role      Role
}

// Create validates and stores a user.
func (s *Service) Create(ctx context.Context, accountID string, p Params) (*User, error) {
	email := strings.TrimSpace(p.Email)
	if email == "" {
		return nil, apperr.Attribute("email", "MISSING", "can't be blank")
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return nil, apperr.Attribute("email", "INVALID", "must be a valid email")
	}
	if n := len(p.Password); n < MinPasswordBytes || n > MaxPasswordBytes {
		return nil, apperr.Attribute("password", "INVALID", "must be 6 to 72 bytes long")
	}
	digest, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	d := string(digest)
	role := p.Role
	if role == "" {
		role = RoleUser
	}
	u := &User{
		ID: uuid.NewString(), AccountID: accountID, Email: email,
		FirstName: p.FirstName, LastName: p.LastName, PasswordDigest: &d,
		Role: role, Metadata: map[string]any{},
	}
	if err := s.store.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func credentialError(code, detail string) error {
	return apperr.AtHeader(apperr.Unauthenticated, code, detail, "Authorization")
}

// Authenticate checks an email and password within the account, in
// Keygen's order of failures. Every failure is a 401 about the
// Authorization header.
func (s *Service) Authenticate(ctx context.Context, accountID, email, password string) (*User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, credentialError("EMAIL_REQUIRED", "email is required")
	}
	u, err := s.store.FindByEmail(ctx, accountID, email)
	if apperr.Is(err, apperr.NotFound) {
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
	if bcrypt.CompareHashAndPassword([]byte(*u.PasswordDigest), []byte(password)) != nil {
		return nil, credentialError("PASSWORD_INVALID", "password must be valid")
	}
	return u, nil
}

// Find returns a user of the account by id.
func (s *Service) Find(ctx context.Context, accountID, id string) (*User, error) {
	return s.store.Find(ctx, accountID, id)
}
