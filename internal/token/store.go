package token

import (
	"context"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
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

// Find returns a token of the account by id, restricted to one bearer when
// bearerType is not empty.
func (s *Store) Find(ctx context.Context, accountID, id, bearerType, bearerID string) (*Token, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id)
	if bearerType != "" {
		q = q.Where("bearer_type = ? AND bearer_id = ?", bearerType, bearerID)
	}
	return database.Take[Token](q, apperr.NotFoundResource("token", id))
}

// List returns a page of the account's tokens, restricted to one bearer
// when bearerType is not empty.
func (s *Store) List(ctx context.Context, accountID, bearerType, bearerID string, p page.Request) ([]Token, int64, error) {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	if bearerType != "" {
		q = q.Where("bearer_type = ? AND bearer_id = ?", bearerType, bearerID)
	}
	return database.Paginate[Token](q, p)
}

// Save writes a changed token.
func (s *Store) Save(ctx context.Context, t *Token) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", t.AccountID).Save(t).Error)
}

// Delete removes a token.
func (s *Store) Delete(ctx context.Context, t *Token) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", t.AccountID).Delete(t).Error)
}

// DeleteForBearer removes every token of a bearer (when it is deleted).
func (s *Store) DeleteForBearer(ctx context.Context, accountID, bearerType, bearerID string) error {
	err := s.db.Conn(ctx).Where("account_id = ? AND bearer_type = ? AND bearer_id = ?", accountID, bearerType, bearerID).Delete(&Token{}).Error
	return database.Error(err)
}
