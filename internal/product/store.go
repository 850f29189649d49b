package product

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists products.
type Store struct{ db *database.DB }

// NewStore returns the product store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var errCodeTaken = apperr.Attribute("code", "TAKEN", "has already been taken")

// Create inserts a product; a code used in the account (any letter case) is CODE_TAKEN.
func (s *Store) Create(ctx context.Context, p *Product) error {
	return database.Insert(s.db.Conn(ctx), p, errCodeTaken)
}

// Save writes every column of an existing product.
func (s *Store) Save(ctx context.Context, p *Product) error {
	return database.Save(s.db.Conn(ctx), p.AccountID, p, errCodeTaken)
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	switch {
	case sc.All:
	case sc.ProductID != "":
		q = q.Where("id = ?", sc.ProductID)
	case sc.LicenseID != "":
		q = q.Where("id = ?", sc.LicenseProductID)
	case sc.UserID != "":
		q = q.Where("id IN (SELECT product_id FROM licenses WHERE id IN ("+database.LicensesOfUser+"))", accountID, sc.UserID, sc.UserID)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// Find looks a product up by id, else by code (case-insensitive), within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Product, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("lower(code) = lower(?)", ref)
	}
	return database.Take[Product](q, apperr.NotFoundResource("product", ref))
}

// List returns a page of the products in the scope, newest first by default.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, p page.Request) ([]Product, int64, error) {
	return database.Paginate[Product](s.scoped(ctx, accountID, sc), p)
}

// ListOfUser returns a page of the products of the licenses a user holds,
// within the scope.
func (s *Store) ListOfUser(ctx context.Context, accountID string, sc access.Scope, userID string, p page.Request) ([]Product, int64, error) {
	q := s.scoped(ctx, accountID, sc).Where("id IN (SELECT product_id FROM licenses WHERE id IN ("+database.LicensesOfUser+"))", accountID, userID, userID)
	return database.Paginate[Product](q, p)
}

// Delete removes the product.
func (s *Store) Delete(ctx context.Context, p *Product) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", p.AccountID).Delete(p).Error)
}
