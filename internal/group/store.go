package group

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/user"
)

// Store persists groups, their owners and their members' group.
type Store struct{ db *database.DB }

// NewStore returns the group store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// InTx runs fn in one transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

// Create inserts a group.
func (s *Store) Create(ctx context.Context, g *Group) error {
	return database.Insert(s.db.Conn(ctx), g, nil)
}

// Save writes a changed group.
func (s *Store) Save(ctx context.Context, g *Group) error {
	return database.Save(s.db.Conn(ctx), g.AccountID, g, nil)
}

// Delete removes a group: its members' group_id is cleared and its owners
// deleted through their foreign keys.
func (s *Store) Delete(ctx context.Context, g *Group) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", g.AccountID).Delete(&Group{ID: g.ID}).Error)
}

// scoped reaches every group for staff and products, a user's own group
// and those it owns, a license's own group.
func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Group{}).Where("account_id = ?", accountID)
	switch {
	case sc.All || sc.ProductID != "":
		return q
	case sc.LicenseID != "":
		return q.Where("id = (SELECT group_id FROM licenses WHERE id = ?)", sc.LicenseID)
	case sc.UserID != "":
		return q.Where("id = (SELECT group_id FROM users WHERE id = ?) OR id IN (SELECT group_id FROM group_owners WHERE user_id = ?)", sc.UserID, sc.UserID)
	}
	return q.Where("1 = 0")
}

// Find returns a group by id within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Group, error) {
	if uuid.Validate(ref) != nil {
		return nil, apperr.NotFoundResource("group", ref)
	}
	return database.Take[Group](s.scoped(ctx, accountID, sc).Where("id = ?", ref), apperr.NotFoundResource("group", ref))
}

// List returns a page of groups within the scope.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, p page.Request) ([]Group, int64, error) {
	return database.Paginate[Group](s.scoped(ctx, accountID, sc), p)
}

// Lock reads a group of the account and, on PostgreSQL, locks its row for
// the rest of the transaction (SQLite's write transactions are already
// serial), so that admissions to it count one another.
func (s *Store) Lock(ctx context.Context, accountID, groupID string) (*Group, error) {
	notFound := apperr.At(apperr.Unprocessable, "GROUP_NOT_FOUND", "must exist", apperr.Rel("group"))
	if uuid.Validate(groupID) != nil {
		return nil, notFound
	}
	q := s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, groupID)
	if s.db.Engine == database.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return database.Take[Group](q, notFound)
}

// Count counts a group's members of a kind.
func (s *Store) Count(ctx context.Context, m Member, groupID string) (int64, error) {
	var n int64
	err := s.db.Conn(ctx).Table(m.Table).Where("group_id = ?", groupID).Count(&n).Error
	return n, database.Error(err)
}

// memberScope restricts members of a kind to those the scope reaches.
func memberScope(q *gorm.DB, m Member, accountID string, sc access.Scope) *gorm.DB {
	switch {
	case sc.All:
		return q
	case m == Users && sc.ProductID != "":
		return q.Where("id IN (SELECT owner_id FROM licenses WHERE account_id = ? AND product_id = ?)", accountID, sc.ProductID)
	case sc.ProductID != "":
		return q.Where("product_id = ?", sc.ProductID)
	case m == Users && sc.LicenseID != "":
		return q.Where("id = (SELECT owner_id FROM licenses WHERE id = ?)", sc.LicenseID)
	case m == Licenses && sc.LicenseID != "":
		return q.Where("id = ?", sc.LicenseID)
	case sc.LicenseID != "":
		return q.Where("license_id = ?", sc.LicenseID)
	case m == Users && sc.UserID != "":
		return q.Where("id = ?", sc.UserID)
	case m == Licenses && sc.UserID != "":
		return q.Where("id IN ("+database.LicensesOfUser+")", accountID, sc.UserID, sc.UserID)
	case sc.UserID != "":
		return q.Where("owner_id = ? OR license_id IN ("+database.LicensesOfUser+")", sc.UserID, accountID, sc.UserID, sc.UserID)
	}
	return q.Where("1 = 0")
}

// MemberGroup returns the id and group of a member of a kind, by id or
// by the value of its alias column, within the scope.
func (s *Store) MemberGroup(ctx context.Context, m Member, accountID, ref, alias string, sc access.Scope) (string, *string, error) {
	q := memberScope(s.db.Conn(ctx).Table(m.Table).Where("account_id = ?", accountID), m, accountID, sc)
	if uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where(m.alias+" = ?", alias)
	}
	var row struct {
		ID      string
		GroupID *string
	}
	res := q.Select("id, group_id").Limit(1).Scan(&row)
	if res.Error != nil {
		return "", nil, database.Error(res.Error)
	}
	if res.RowsAffected == 0 {
		return "", nil, apperr.NotFoundResource(m.Singular, ref)
	}
	return row.ID, row.GroupID, nil
}

// SetGroup writes a member's group.
func (s *Store) SetGroup(ctx context.Context, m Member, recordID string, groupID *string) error {
	return database.Error(s.db.Conn(ctx).Table(m.Table).Where("id = ?", recordID).Update("group_id", groupID).Error)
}

// GroupOf returns the group of a member of a kind (nil: none or no such
// member).
func (s *Store) GroupOf(ctx context.Context, m Member, accountID, recordID string) (*string, error) {
	var row struct{ GroupID *string }
	err := s.db.Conn(ctx).Table(m.Table).Select("group_id").Where("account_id = ? AND id = ?", accountID, recordID).Limit(1).Scan(&row).Error
	return row.GroupID, database.Error(err)
}

// Owners returns a page of a group's owners.
func (s *Store) Owners(ctx context.Context, accountID, groupID string, p page.Request) ([]Owner, int64, error) {
	return database.Paginate[Owner](s.db.Conn(ctx).Model(&Owner{}).Where("account_id = ? AND group_id = ?", accountID, groupID), p)
}

// Users returns a page of a group's users within the scope.
func (s *Store) Users(ctx context.Context, accountID, groupID string, sc access.Scope, p page.Request) ([]user.User, int64, error) {
	return database.Paginate[user.User](s.users(ctx, accountID, groupID, sc), p)
}

func (s *Store) users(ctx context.Context, accountID, groupID string, sc access.Scope) *gorm.DB {
	return memberScope(s.db.Conn(ctx).Table("users").Where("account_id = ? AND group_id = ?", accountID, groupID), Users, accountID, sc)
}

// User returns a group's user by id or email within the scope.
func (s *Store) User(ctx context.Context, accountID, groupID string, sc access.Scope, ref string) (*user.User, error) {
	q := s.users(ctx, accountID, groupID, sc)
	if uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("lower(email) = lower(?)", ref)
	}
	return database.Take[user.User](q, apperr.NotFoundResource("user", ref))
}

// Owner returns a group's owner by its id.
func (s *Store) Owner(ctx context.Context, accountID, groupID, ownerID string) (*Owner, error) {
	notFound := apperr.NotFoundResource("group owner", ownerID)
	if uuid.Validate(ownerID) != nil {
		return nil, notFound
	}
	return database.Take[Owner](s.db.Conn(ctx).Where("account_id = ? AND group_id = ? AND id = ?", accountID, groupID, ownerID), notFound)
}

// Owns reports whether the user owns the group.
func (s *Store) Owns(ctx context.Context, groupID, userID string) (bool, error) {
	var n int64
	err := s.db.Conn(ctx).Model(&Owner{}).Where("group_id = ? AND user_id = ?", groupID, userID).Count(&n).Error
	return n > 0, database.Error(err)
}

// KnownUsers reports which ids are users of the account.
func (s *Store) KnownUsers(ctx context.Context, accountID string, ids []string) (map[string]bool, error) {
	return s.db.Existing(ctx, "users", accountID, ids)
}

// AddOwners inserts owners in one transaction, all or none: it reports the
// position of the first that already owns the group, or -1.
func (s *Store) AddOwners(ctx context.Context, owners []Owner) (int, error) {
	return s.db.Batch(ctx, len(owners), func(ctx context.Context, i int) (bool, error) {
		err := s.db.Conn(ctx).Create(&owners[i]).Error
		if database.IsUniqueViolation(err) {
			return false, nil
		}
		return true, database.Error(err)
	})
}

// RemoveOwners deletes owners by user id or owner id in one transaction,
// all or none: it reports the position of the first that is not an owner,
// or -1.
func (s *Store) RemoveOwners(ctx context.Context, groupID string, ids []string) (int, error) {
	return s.db.Batch(ctx, len(ids), func(ctx context.Context, i int) (bool, error) {
		if uuid.Validate(ids[i]) != nil {
			return false, nil
		}
		res := s.db.Conn(ctx).Where("group_id = ? AND (user_id = ? OR id = ?)", groupID, ids[i], ids[i]).Delete(&Owner{})
		return res.RowsAffected > 0, database.Error(res.Error)
	})
}
