package setting

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists settings.
type Store struct{ db *database.DB }

// NewStore returns the setting store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var errKeyTaken = apperr.Attribute("key", "TAKEN", "has already been taken")

// Create inserts a setting; a key the account has is KEY_TAKEN.
func (s *Store) Create(ctx context.Context, st *Setting) error {
	return database.Insert(s.db.Conn(ctx), st, errKeyTaken)
}

// Save writes a changed setting.
func (s *Store) Save(ctx context.Context, st *Setting) error {
	return database.Save(s.db.Conn(ctx), st.AccountID, st, errKeyTaken)
}

// Delete removes a setting.
func (s *Store) Delete(ctx context.Context, st *Setting) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", st.AccountID).Delete(&Setting{ID: st.ID}).Error)
}

// Find returns a setting of the account by id or key.
func (s *Store) Find(ctx context.Context, accountID, ref string) (*Setting, error) {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	if uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("key = ?", ref)
	}
	return database.Take[Setting](q, apperr.NotFoundResource("setting", ref))
}

// List returns a page of the account's settings.
func (s *Store) List(ctx context.Context, accountID string, p page.Request) ([]Setting, int64, error) {
	return database.Paginate[Setting](s.db.Conn(ctx).Model(&Setting{}).Where("account_id = ?", accountID), p)
}

// Defaults reads the account's default permissions by role (nil without
// any): what its default permission settings hold.
func (s *Store) Defaults(ctx context.Context, accountID string) (map[access.Role]access.Set, error) {
	var rows []Setting
	if err := s.db.Conn(ctx).Where("account_id = ?", accountID).Find(&rows).Error; err != nil {
		return nil, database.Error(err)
	}
	var defaults map[access.Role]access.Set
	for _, row := range rows {
		var perms []string
		role, ok := roles[row.Key]
		if !ok || json.Unmarshal(row.Value, &perms) != nil {
			continue
		}
		if defaults == nil {
			defaults = map[access.Role]access.Set{}
		}
		defaults[role] = access.NewSet(perms...)
	}
	return defaults, nil
}
