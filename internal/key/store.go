package key

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists pooled keys.
type Store struct{ db *database.DB }

// NewStore returns the key store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var _ Records = (*Store)(nil)

// InTx runs fn in one transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

// Create inserts a key; a key already pooled is KEY_TAKEN.
func (s *Store) Create(ctx context.Context, k *Key) error {
	return database.Insert(s.db.Conn(ctx), k, errTaken)
}

// Save writes a changed key.
func (s *Store) Save(ctx context.Context, k *Key) error {
	return database.Save(s.db.Conn(ctx), k.AccountID, k, errTaken)
}

// Delete removes a key: NOT_FOUND when it is gone already.
func (s *Store) Delete(ctx context.Context, k *Key) error {
	res := s.db.Conn(ctx).Where("account_id = ?", k.AccountID).Delete(&Key{ID: k.ID})
	if res.Error == nil && res.RowsAffected == 0 {
		return apperr.NotFoundResource("key", k.ID)
	}
	return database.Error(res.Error)
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Key{}).Where("account_id = ?", accountID)
	switch {
	case sc.All:
		return q
	case sc.ProductID != "":
		return q.Where("product_id = ?", sc.ProductID)
	}
	return q.Where("1 = 0")
}

// Find returns a key by id within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Key, error) {
	if !validRef(ref) {
		return nil, apperr.NotFoundResource("key", ref)
	}
	return database.Take[Key](s.scoped(ctx, accountID, sc).Where("id = ?", ref), apperr.NotFoundResource("key", ref))
}

// List returns a page of keys within the scope and filter.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]Key, int64, error) {
	q := s.scoped(ctx, accountID, sc)
	if f.ProductID != "" {
		q = q.Where("product_id = ?", f.ProductID)
	}
	if f.PolicyID != "" {
		q = q.Where("policy_id = ?", f.PolicyID)
	}
	return database.Paginate[Key](q, p)
}

// Oldest returns the oldest key of a pool, locking its row on PostgreSQL
// (skipping rows other transactions hold) for the rest of the
// transaction; NOT_FOUND when the pool is empty.
func (s *Store) Oldest(ctx context.Context, accountID, policyID string) (*Key, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND policy_id = ?", accountID, policyID).Order("created_at, id").Limit(1)
	if s.db.Engine == database.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return database.Take[Key](q, apperr.NotFoundResource("key", policyID))
}

// LicenseKeyTaken reports whether a license of the account has the key
// (by digest) or an id equal to it.
func (s *Store) LicenseKeyTaken(ctx context.Context, accountID, digest, ref string) (bool, error) {
	q := s.db.Conn(ctx).Table("licenses").Where("account_id = ?", accountID)
	if validRef(ref) {
		q = q.Where("key_digest = ? OR id = ?", digest, ref)
	} else {
		q = q.Where("key_digest = ?", digest)
	}
	var n int64
	err := q.Count(&n).Error
	return n > 0, database.Error(err)
}
