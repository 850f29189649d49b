package token

import (
	"context"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// Store persists tokens.
type Store struct{ db *database.DB }

// NewStore returns the token store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts the token.
func (s *Store) Create(ctx context.Context, t *Token) error {
	return database.Insert(s.db.Conn(ctx), t, nil)
}

// FindByDigest returns the account's token with the digest (one indexed lookup).
func (s *Store) FindByDigest(ctx context.Context, accountID, digest string) (*Token, error) {
	q := s.db.Conn(ctx).Where("digest = ? AND account_id = ?", digest, accountID)
	return database.Take[Token](q, apperr.NotFoundResource("token", ""))
}
