package secondfactor

import (
	"context"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists second factors.
type Store struct{ db *database.DB }

// NewStore returns the second factor store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts f; a user who has a factor already gets taken.
func (s *Store) Create(ctx context.Context, f *SecondFactor, taken error) error {
	return database.Insert(s.db.Conn(ctx), f, taken)
}

// List returns a page of a user's factors.
func (s *Store) List(ctx context.Context, accountID, userID string, p page.Request) ([]SecondFactor, int64, error) {
	q := s.db.Conn(ctx).Where("account_id = ? AND user_id = ?", accountID, userID)
	return database.Paginate[SecondFactor](q, p)
}

// Find returns a user's factor by id.
func (s *Store) Find(ctx context.Context, accountID, userID, ref string) (*SecondFactor, error) {
	notFound := apperr.NotFoundResource("second factor", ref)
	if uuid.Validate(ref) != nil {
		return nil, notFound
	}
	q := s.db.Conn(ctx).Where("account_id = ? AND user_id = ? AND id = ?", accountID, userID, ref)
	return database.Take[SecondFactor](q, notFound)
}

// EnabledOf returns the user's enabled factor, nil when it has none.
func (s *Store) EnabledOf(ctx context.Context, accountID, userID string) (*SecondFactor, error) {
	var fs []SecondFactor
	err := s.db.Conn(ctx).Where("account_id = ? AND user_id = ? AND enabled = ?", accountID, userID, true).Limit(1).Find(&fs).Error
	if err != nil || len(fs) == 0 {
		return nil, database.Error(err)
	}
	return &fs[0], nil
}

// SetEnabled writes f's enabled flag.
func (s *Store) SetEnabled(ctx context.Context, f *SecondFactor) error {
	return database.Error(s.db.Conn(ctx).Model(&SecondFactor{}).Where("account_id = ? AND id = ?", f.AccountID, f.ID).
		UpdateColumns(map[string]any{"enabled": f.Enabled, "updated_at": f.UpdatedAt}).Error)
}

// MarkVerified records that a code of step was accepted, unless a code of
// that step or a later one was already: it reports whether this call did.
func (s *Store) MarkVerified(ctx context.Context, id string, step int64) (bool, error) {
	res := s.db.Conn(ctx).Model(&SecondFactor{}).Where("id = ? AND last_verified_step < ?", id, step).
		UpdateColumn("last_verified_step", step)
	return res.RowsAffected == 1, database.Error(res.Error)
}

// Delete removes f.
func (s *Store) Delete(ctx context.Context, f *SecondFactor) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", f.AccountID).Delete(f).Error)
}

// Reseal rewrites every sealed secret (master key rotation).
func (s *Store) Reseal(ctx context.Context, reseal func(sealed string) (string, error)) (int64, error) {
	return s.db.Reseal(ctx, "second_factors", "secret_sealed", reseal)
}
