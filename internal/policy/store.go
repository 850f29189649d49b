package policy

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists policies.
type Store struct{ db *database.DB }

// NewStore returns the policy store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts a policy.
func (s *Store) Create(ctx context.Context, p *Policy) error {
	return database.Insert(s.db.Conn(ctx), p, nil)
}

// Save writes a changed policy.
func (s *Store) Save(ctx context.Context, p *Policy) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", p.AccountID).Save(p).Error)
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	switch {
	case sc.All:
	case sc.ProductID != "":
		q = q.Where("product_id = ?", sc.ProductID)
	case sc.LicenseID != "":
		q = q.Where("id = ?", sc.LicensePolicyID)
	case sc.UserID != "":
		q = q.Where("id IN (SELECT policy_id FROM licenses WHERE id IN ("+database.LicensesOfUser+"))", accountID, sc.UserID, sc.UserID)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// Find returns a policy by id within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Policy, error) {
	if uuid.Validate(ref) != nil {
		return nil, apperr.NotFoundResource("policy", ref)
	}
	return database.Take[Policy](s.scoped(ctx, accountID, sc).Where("id = ?", ref), apperr.NotFoundResource("policy", ref))
}

// List returns a page of policies within the scope, of one product if given.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, productID string, p page.Request) ([]Policy, int64, error) {
	q := s.scoped(ctx, accountID, sc)
	if productID != "" {
		q = q.Where("product_id = ?", productID)
	}
	return database.Paginate[Policy](q, p)
}

// DeleteUnused removes a policy unless licenses use it, atomically, and
// reports whether it did.
func (s *Store) DeleteUnused(ctx context.Context, p *Policy) (bool, error) {
	res := s.db.Conn(ctx).Exec(`DELETE FROM policies WHERE id = ? AND account_id = ?
		AND NOT EXISTS (SELECT 1 FROM licenses WHERE licenses.policy_id = policies.id)`, p.ID, p.AccountID)
	return res.RowsAffected > 0, database.Error(res.Error)
}
