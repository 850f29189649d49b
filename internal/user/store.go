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
	err := s.db.Conn(ctx).Create(u).Error
	if database.IsUniqueViolation(err) {
		return apperr.Attribute("email", "TAKEN", "has already been taken")
	}
	return database.Error(err)
}

// Find returns a user of the account by id.
func (s *Store) Find(ctx context.Context, accountID, id string) (*User, error) {
	var u User
	err := s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id).Take(&u).Error
	if database.IsNotFound(err) {
		return nil, apperr.NotFoundResource("user", id)
	}
	if err != nil {
		return nil, database.Error(err)
	}
	return &u, nil
}

// FindByEmail returns a user of the account by email, ignoring letter case.
func (s *Store) FindByEmail(ctx context.Context, accountID, email string) (*User, error) {
	var u User
	err := s.db.Conn(ctx).Where("account_id = ? AND lower(email) = lower(?)", accountID, email).Take(&u).Error
	if database.IsNotFound(err) {
		return nil, apperr.NotFoundResource("user", email)
	}
	if err != nil {
		return nil, database.Error(err)
	}
	return &u, nil
}
