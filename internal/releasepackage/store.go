package releasepackage

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists packages.
type Store struct{ db *database.DB }

// NewStore returns the package store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var errKeyTaken = apperr.Attribute("key", "TAKEN", "already exists")

// Create inserts a package, then runs then in the same transaction; a key
// used in the account is KEY_TAKEN.
func (s *Store) Create(ctx context.Context, p *Package, then func(context.Context, *Package) error) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := database.Insert(s.db.Conn(ctx), p, errKeyTaken); err != nil {
			return err
		}
		return then(ctx, p)
	})
}

// Save writes a changed package, then runs then in the same transaction.
func (s *Store) Save(ctx context.Context, p *Package, then func(context.Context, *Package) error) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := database.Save(s.db.Conn(ctx), p.AccountID, p, errKeyTaken); err != nil {
			return err
		}
		return then(ctx, p)
	})
}

// Delete removes a package; its releases go with it (a foreign key on
// PostgreSQL, a trigger on SQLite).
func (s *Store) Delete(ctx context.Context, p *Package) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", p.AccountID).Delete(&Package{ID: p.ID}).Error)
}

// scoped reaches, as Keygen scopes packages: every package for staff, its
// own for a product, and for licenses, users and anonymous callers the
// packages of OPEN products and of the non-CLOSED products they are
// licensed for.
func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Package{}).Where("packages.account_id = ?", accountID)
	switch {
	case sc.All:
		return q
	case sc.ProductID != "":
		return q.Where("packages.product_id = ?", sc.ProductID)
	}
	reachable := "SELECT id FROM products WHERE account_id = ? AND (distribution_strategy = 'OPEN'"
	args := []any{accountID}
	switch {
	case sc.LicenseID != "":
		reachable += " OR (distribution_strategy = 'LICENSED' AND id = ?)"
		args = append(args, sc.LicenseProductID)
	case sc.UserID != "":
		reachable += " OR (distribution_strategy = 'LICENSED' AND id IN (SELECT product_id FROM licenses WHERE id IN (" + database.LicensesOfUser + ")))"
		args = append(args, accountID, sc.UserID, sc.UserID)
	}
	return q.Where("packages.product_id IN ("+reachable+"))", args...)
}

// Find returns a package by id or key within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Package, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("packages.id = ?", ref)
	} else {
		q = q.Where("packages.key = ?", ref)
	}
	return database.Take[Package](q, apperr.NotFoundResource("package", ref))
}

// List returns a page of packages within the scope and filter.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]Package, int64, error) {
	q := s.scoped(ctx, accountID, sc)
	if f.ProductID != "" {
		q = q.Where("packages.product_id = ?", f.ProductID)
	}
	if f.Engine != "" {
		q = q.Where("packages.engine = ?", f.Engine)
	}
	return database.PaginateIn[Package](q, "packages", p, nil)
}

// ByEngine returns up to limit packages of an engine within the scope,
// by key (the account's key index).
func (s *Store) ByEngine(ctx context.Context, accountID string, sc access.Scope, engine string, limit int) ([]Package, error) {
	var out []Package
	err := s.scoped(ctx, accountID, sc).Where("packages.engine = ?", engine).Order("packages.key").Limit(limit).Find(&out).Error
	return out, database.Error(err)
}

// VisibleIDs is the subquery of the ids of the packages who may see.
func (s *Store) VisibleIDs(ctx context.Context, accountID string, who *access.Principal) *gorm.DB {
	return s.scoped(ctx, accountID, access.ScopeOf(who)).Select("packages.id")
}
