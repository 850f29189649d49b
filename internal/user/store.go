package user

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists users.
type Store struct{ db *database.DB }

// NewStore returns the user store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var errEmailTaken = apperr.Attribute("email", "TAKEN", "has already been taken")

// Create inserts the user; an email already used in the account (in any
// letter case) is a 422 EMAIL_TAKEN.
func (s *Store) Create(ctx context.Context, u *User) error {
	return database.Insert(s.db.Conn(ctx), u, errEmailTaken)
}

// Save writes a changed user.
func (s *Store) Save(ctx context.Context, u *User) error {
	return database.Save(s.db.Conn(ctx), u.AccountID, u, errEmailTaken)
}

// Delete removes a user.
func (s *Store) Delete(ctx context.Context, u *User) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", u.AccountID).Delete(u).Error)
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	switch {
	case sc.All:
	case sc.UserID != "":
		q = q.Where("id = ?", sc.UserID)
	case sc.ProductID != "":
		q = q.Where(`id IN (SELECT owner_id FROM licenses WHERE account_id = ? AND product_id = ?)
			OR id IN (SELECT user_id FROM license_users WHERE license_id IN (SELECT id FROM licenses WHERE account_id = ? AND product_id = ?))`,
			accountID, sc.ProductID, accountID, sc.ProductID)
	case sc.LicenseID != "":
		q = q.Where(`id IN (SELECT owner_id FROM licenses WHERE id = ?) OR id IN (SELECT user_id FROM license_users WHERE license_id = ?)`,
			sc.LicenseID, sc.LicenseID)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// Find returns a user of the account by id or email within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*User, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("lower(email) = lower(?)", ref)
	}
	return database.Take[User](q, apperr.NotFoundResource("user", ref))
}

// FindByEmail returns a user of the account by email, ignoring letter case.
func (s *Store) FindByEmail(ctx context.Context, accountID, email string) (*User, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND lower(email) = lower(?)", accountID, email)
	return database.Take[User](q, apperr.NotFoundResource("user", email))
}

// List returns a page of users with the roles, within the scope.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]User, int64, error) {
	q := s.scoped(ctx, accountID, sc).Where("role IN ?", f.Roles)
	if f.ProductID != "" {
		q = q.Where(productUsers, f.ProductID, f.ProductID)
	}
	if f.LicenseID != "" {
		q = q.Where(licenseUsers, f.LicenseID, f.LicenseID)
	}
	if f.GroupID != "" {
		q = q.Where("group_id = ?", f.GroupID)
	}
	for key, value := range f.Metadata {
		cond, args := s.db.MetadataMatch("metadata", key, value)
		q = q.Where(cond, args...)
	}
	if f.Assigned != nil {
		owns := "EXISTS (SELECT 1 FROM licenses WHERE licenses.owner_id = users.id)"
		if !*f.Assigned {
			owns = "NOT " + owns
		}
		q = q.Where(owns)
	}
	if f.Status != "" {
		since := f.Now.UTC().Add(-activeWindow)
		switch strings.ToUpper(f.Status) {
		case StatusBanned:
			q = q.Where("banned_at IS NOT NULL")
		case StatusActive:
			q = q.Where("banned_at IS NULL AND created_at >= ?", since)
		case StatusInactive:
			q = q.Where("banned_at IS NULL AND created_at < ?", since)
		default:
			q = q.Where("1 = 0")
		}
	}
	return database.Paginate[User](q, p)
}

// productUsers holds for the users who own or hold a license of a product
// (its arguments: the product id twice).
const productUsers = `(id IN (SELECT owner_id FROM licenses WHERE product_id = ?) OR ` +
	`id IN (SELECT license_users.user_id FROM license_users JOIN licenses ON licenses.id = license_users.license_id WHERE licenses.product_id = ?))`

// ListOfProduct returns a page of the users holding a license of the
// product, within the scope.
func (s *Store) ListOfProduct(ctx context.Context, accountID string, sc access.Scope, productID string, p page.Request) ([]User, int64, error) {
	return database.Paginate[User](s.scoped(ctx, accountID, sc).Where(productUsers, productID, productID), p)
}

// CountRole counts the account's users with a role.
func (s *Store) CountRole(ctx context.Context, accountID string, role Role) (int64, error) {
	var n int64
	err := s.db.Conn(ctx).Model(&User{}).Where("account_id = ? AND role = ?", accountID, role).Count(&n).Error
	return n, database.Error(err)
}

const licenseUsers = `(id IN (SELECT owner_id FROM licenses WHERE id = ?) OR id IN (SELECT user_id FROM license_users WHERE license_id = ?))`

// LicenseUserID returns the id of the user with id or email ref who owns
// or holds the license, "" when none does.
func (s *Store) LicenseUserID(ctx context.Context, accountID, licenseID, ref string) (string, error) {
	var ids []string
	q := s.db.Conn(ctx).Model(&User{}).Where("account_id = ?", accountID)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("lower(email) = lower(?)", ref)
	}
	err := q.Where(licenseUsers, licenseID, licenseID).Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return "", database.Error(err)
	}
	return ids[0], nil
}

// CountLicenseUsers counts a license's owner and licensees.
func (s *Store) CountLicenseUsers(ctx context.Context, licenseID string) (int64, error) {
	var n int64
	err := s.db.Conn(ctx).Model(&User{}).Where(licenseUsers, licenseID, licenseID).Count(&n).Error
	return n, database.Error(err)
}

// OfLicense returns a page of a license's users: its owner first, then its
// licensees in the order they were attached.
func (s *Store) OfLicense(ctx context.Context, accountID, licenseID string, ownerID *string, p page.Request) ([]User, int64, error) {
	// Without an owner the conditions on it are left out: users.id is a
	// uuid in PostgreSQL, which "" is not.
	held, ownerFirst := "license_users.license_id IS NOT NULL", clause.Expr{SQL: "license_users.created_at, users.id"}
	args := []any{accountID}
	if ownerID != nil {
		held = "(users.id = ? OR license_users.license_id IS NOT NULL)"
		args = append(args, *ownerID)
		ownerFirst = clause.Expr{SQL: "CASE WHEN users.id = ? THEN 0 ELSE 1 END, license_users.created_at, users.id", Vars: []any{*ownerID}}
	}
	q := s.db.Conn(ctx).Model(&User{}).
		Joins("LEFT JOIN license_users ON license_users.user_id = users.id AND license_users.license_id = ?", licenseID).
		Where("users.account_id = ? AND "+held, args...)
	if p.Only != "" {
		q = q.Where("users.id = ?", p.Only)
	}
	var total int64
	if p.Count {
		if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return nil, 0, database.Error(err)
		}
	}
	var users []User
	err := q.Select("users.*").
		Order(ownerFirst).
		Limit(p.Limit).Offset(p.Offset).Find(&users).Error
	return users, total, database.Error(err)
}
