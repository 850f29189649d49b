package token

import (
	"context"

	"strconv"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
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
	if uuid.Validate(id) != nil {
		return nil, apperr.NotFoundResource("token", id)
	}
	q := s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id)
	if bearerType != "" {
		q = q.Where("bearer_type = ? AND bearer_id = ?", bearerType, bearerID)
	}
	return database.Take[Token](q, apperr.NotFoundResource("token", id))
}

// List returns a page of the account's tokens, restricted to one bearer
// when bearerType is not empty.
func (s *Store) List(ctx context.Context, accountID, bearerType, bearerID string, p page.Request) ([]Token, int64, error) {
	return s.ListWhere(ctx, accountID, bearerType, bearerID, Filter{}, p)
}

// ListWhere is List narrowed by f.
func (s *Store) ListWhere(ctx context.Context, accountID, bearerType, bearerID string, f Filter, p page.Request) ([]Token, int64, error) {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	if bearerType != "" {
		q = q.Where("bearer_type = ? AND bearer_id = ?", bearerType, bearerID)
	}
	if f.BearerType != "" {
		q = q.Where("bearer_type = ?", f.BearerType)
	}
	if f.BearerID != "" {
		q = q.Where("bearer_id = ?", f.BearerID)
	}
	switch role := access.Role(f.BearerRole); {
	case role == "":
	case role == access.RoleProduct:
		q = q.Where("bearer_type = ?", BearerProduct)
	case role == access.RoleLicense:
		q = q.Where("bearer_type = ?", BearerLicense)
	default:
		q = q.Where("bearer_type = ? AND bearer_id IN (SELECT id FROM users WHERE account_id = ? AND role = ?)", BearerUser, accountID, string(role))
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

// DeleteForBearerExcept revokes the bearer's tokens but keepID ("" = all).
func (s *Store) DeleteForBearerExcept(ctx context.Context, accountID, bearerType, bearerID, keepID string) error {
	q := s.db.Conn(ctx).Where("account_id = ? AND bearer_type = ? AND bearer_id = ?", accountID, bearerType, bearerID)
	if keepID != "" {
		q = q.Where("id <> ?", keepID)
	}
	return database.Error(q.Delete(&Token{}).Error)
}

// Consume counts one activation (or deactivation) against an activation
// token's maximum, atomically: ACTIVATIONS_LIMIT_EXCEEDED (or the
// deactivation analog) when the maximum is reached.
func (s *Store) Consume(ctx context.Context, accountID, tokenID string, deactivation bool) error {
	counter, max, attr := "activations", "max_activations", "activations"
	if deactivation {
		counter, max, attr = "deactivations", "max_deactivations", "deactivations"
	}
	res := s.db.Conn(ctx).Exec(`UPDATE tokens SET `+counter+` = `+counter+` + 1
		WHERE id = ? AND account_id = ? AND (`+max+` IS NULL OR `+counter+` < `+max+`)`, tokenID, accountID)
	if res.Error != nil {
		return database.Error(res.Error)
	}
	if res.RowsAffected == 0 {
		var t Token
		s.db.Conn(ctx).Where("id = ?", tokenID).Take(&t)
		limit := t.MaxActivations
		if deactivation {
			limit = t.MaxDeactivations
		}
		n := int64(0)
		if limit != nil {
			n = *limit
		}
		return apperr.Attribute(attr, "LIMIT_EXCEEDED", "exceeds maximum allowed ("+strconv.FormatInt(n, 10)+")")
	}
	return nil
}
