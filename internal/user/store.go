package user

import (
	"context"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// Store persists users.
type Store struct{ db *database.DB }

// NewStore returns the user store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts the user; an email already used in the account (in any
// letter case) is a 422 EMAIL_TAKEN.
func (s *Store) Create(ctx context.Context, u *User) error {
	return database.Insert(s.db.Conn(ctx), u, apperr.Attribute("email", "TAKEN", "has already been taken"))
}

// Find returns a user of the account by id.
func (s *Store) Find(ctx context.Context, accountID, id string) (*User, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id)
	return database.Take[User](q, apperr.NotFoundResource("user", id))
}

// FindByEmail returns a user of the account by email, ignoring letter case.
func (s *Store) FindByEmail(ctx context.Context, accountID, email string) (*User, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND lower(email) = lower(?)", accountID, email)
	return database.Take[User](q, apperr.NotFoundResource("user", email))
}
