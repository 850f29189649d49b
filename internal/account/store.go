package account

import (
	"context"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// Store persists accounts.
type Store struct{ db *database.DB }

// NewStore returns the account store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts the account; a taken slug is a 422 SLUG_TAKEN.
func (s *Store) Create(ctx context.Context, a *Account) error {
	return database.Insert(s.db.Conn(ctx), a, apperr.Attribute("slug", "TAKEN", "has already been taken"))
}

// Find looks an account up by UUID or slug.
func (s *Store) Find(ctx context.Context, ref string) (*Account, error) {
	column := "slug"
	if IsUUID(ref) {
		column = "id"
	}
	return database.Take[Account](s.db.Conn(ctx).Where(column+" = ?", ref), apperr.NotFoundResource("account", ref))
}

// Save writes a changed account; a taken slug is a 422 SLUG_TAKEN.
func (s *Store) Save(ctx context.Context, a *Account) error {
	err := s.db.Conn(ctx).Model(&Account{}).Where("id = ?", a.ID).UpdateColumns(map[string]any{
		"name": a.Name, "slug": a.Slug, "protected": a.Protected, "api_version": a.APIVersion, "updated_at": a.UpdatedAt}).Error
	if database.IsUniqueViolation(err) {
		return apperr.Attribute("slug", "TAKEN", "has already been taken")
	}
	return database.Error(err)
}

// FirstTwoIDs returns up to two account ids: enough to tell whether exactly one exists.
func (s *Store) FirstTwoIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.db.Conn(ctx).Model(&Account{}).Order("created_at").Limit(2).Pluck("id", &ids).Error
	return ids, database.Error(err)
}

// SetKeyPair stores a key pair in the given columns (constants of this
// package) unless the account already has one there.
func (s *Store) SetKeyPair(ctx context.Context, accountID, privateColumn, publicColumn, sealedPrivate, publicPEM string) error {
	err := s.db.Conn(ctx).Exec(`UPDATE accounts SET `+privateColumn+` = ?, `+publicColumn+` = ? WHERE id = ? AND `+privateColumn+` IS NULL`,
		sealedPrivate, publicPEM, accountID).Error
	return database.Error(err)
}

// Reseal rewrites the account keys sealed with the master key (the Ed25519
// private key, the token secret and the RSA and ECDSA private keys) through reseal.
func (s *Store) Reseal(ctx context.Context, reseal func(sealed string) (string, error)) (int64, error) {
	var total int64
	for _, column := range []string{"ed25519_private_key", "secret_key", "rsa_private_key", "ecdsa_private_key"} {
		n, err := s.db.Reseal(ctx, "accounts", column, reseal)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
