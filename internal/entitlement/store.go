package entitlement

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// Store persists entitlements and their attachments.
type Store struct{ db *database.DB }

// NewStore returns the entitlement store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var errCodeTaken = apperr.Attribute("code", "TAKEN", "has already been taken")

// Create inserts an entitlement; a used code is CODE_TAKEN.
func (s *Store) Create(ctx context.Context, e *Entitlement) error {
	return database.Insert(s.db.Conn(ctx), e, errCodeTaken)
}

// Save writes a changed entitlement.
func (s *Store) Save(ctx context.Context, e *Entitlement) error {
	return database.Save(s.db.Conn(ctx), e.AccountID, e, errCodeTaken)
}

// Delete removes an entitlement; its attachments and release constraints
// go with it through their foreign keys.
func (s *Store) Delete(ctx context.Context, e *Entitlement) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", e.AccountID).Delete(&Entitlement{ID: e.ID}).Error)
}

// heldBy restricts entitlements to those a license, or a user's licenses
// (owned or held), hold directly or through their policies.
func heldBy(q *gorm.DB, accountID, licenseID, ownerID string) *gorm.DB {
	licenses, args := "SELECT id FROM licenses WHERE account_id = ? AND id = ?", []any{accountID, licenseID}
	if licenseID == "" {
		licenses, args = database.LicensesOfUser, []any{accountID, ownerID, ownerID}
	}
	return q.Where(`id IN (SELECT entitlement_id FROM license_entitlements WHERE license_id IN (`+licenses+`))
		OR id IN (SELECT entitlement_id FROM policy_entitlements WHERE policy_id IN (SELECT policy_id FROM licenses WHERE id IN (`+licenses+`)))`,
		append(args, args...)...)
}

// scoped reaches every entitlement for staff and products (the catalog is
// the account's), else those the license or user holds.
func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Entitlement{}).Where("account_id = ?", accountID)
	if sc.All || sc.ProductID != "" {
		return q
	}
	return heldBy(q, accountID, sc.LicenseID, sc.UserID)
}

// Find returns an entitlement by id or code within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Entitlement, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("code = ?", ref)
	}
	return database.Take[Entitlement](q, apperr.NotFoundResource("entitlement", ref))
}

// List returns a page of entitlements within the scope.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, p page.Request) ([]Entitlement, int64, error) {
	return database.Paginate[Entitlement](s.scoped(ctx, accountID, sc), p)
}

// Existing reports which ids are entitlements of the account.
func (s *Store) Existing(ctx context.Context, accountID string, ids []string) (map[string]bool, error) {
	var found []string
	var valid []string
	for _, id := range ids {
		if uuid.Validate(id) == nil {
			valid = append(valid, id)
		}
	}
	err := s.db.Conn(ctx).Model(&Entitlement{}).Where("account_id = ? AND id IN ?", accountID, valid).Pluck("id", &found).Error
	out := map[string]bool{}
	for _, id := range found {
		out[id] = true
	}
	return out, database.Error(err)
}

// AttachedIDs returns the ids of the entitlements attached to a target.
func (s *Store) AttachedIDs(ctx context.Context, t Target) (map[string]bool, error) {
	var ids []string
	err := s.db.Conn(ctx).Table(t.Table).Where(t.Column+" = ?", t.ID).Pluck("entitlement_id", &ids).Error
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, database.Error(err)
}

// Attach inserts the attachments in one transaction; a repeated one is taken.
func (s *Store) Attach(ctx context.Context, t Target, attachments []Attachment) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for i, a := range attachments {
			err := s.db.Conn(ctx).Exec("INSERT INTO "+t.Table+" (id, account_id, "+t.Column+", entitlement_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
				a.ID, a.AccountID, a.OwnerID, a.EntitlementID, a.CreatedAt, a.UpdatedAt).Error
			if database.IsUniqueViolation(err) {
				return apperr.At(apperr.Unprocessable, t.Code+"ENTITLEMENT_TAKEN", "already attached", t.field(i))
			}
			if err != nil {
				return database.Error(err)
			}
		}
		return nil
	})
}

// Detach deletes the attachments, all or none.
func (s *Store) Detach(ctx context.Context, t Target, ids []string) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for i, id := range ids {
			if uuid.Validate(id) != nil {
				return apperr.At(apperr.Unprocessable, "ENTITLEMENT_NOT_FOUND", "entitlement is not attached", t.field(i))
			}
			res := s.db.Conn(ctx).Exec("DELETE FROM "+t.Table+" WHERE "+t.Column+" = ? AND (entitlement_id = ? OR id = ?)", t.ID, id, id)
			if res.Error != nil {
				return database.Error(res.Error)
			}
			if res.RowsAffected == 0 {
				return apperr.At(apperr.Unprocessable, "ENTITLEMENT_NOT_FOUND", "entitlement is not attached", t.field(i))
			}
		}
		return nil
	})
}

func unionOf(q *gorm.DB, licenseID, policyID string) *gorm.DB {
	return q.Where(`id IN (SELECT entitlement_id FROM license_entitlements WHERE license_id = ?)
		OR id IN (SELECT entitlement_id FROM policy_entitlements WHERE policy_id = ?)`, licenseID, policyID)
}

// Of returns a license's own and its policy's entitlements.
func (s *Store) Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error) {
	var out []Entitlement
	err := unionOf(s.db.Conn(ctx).Where("account_id = ?", accountID), licenseID, policyID).Order("created_at, id").Find(&out).Error
	return out, database.Error(err)
}

// Attachments returns a target's attachments, oldest first.
func (s *Store) Attachments(ctx context.Context, accountID string, t Target) ([]Attachment, error) {
	var out []Attachment
	err := s.db.Conn(ctx).Table(t.Table).
		Select("id, account_id, "+t.Column+" AS owner_id, entitlement_id, created_at, updated_at").
		Where("account_id = ? AND "+t.Column+" = ?", accountID, t.ID).Order("created_at, id").Scan(&out).Error
	return out, database.Error(err)
}

// Attached returns the entitlements attached to a target.
func (s *Store) Attached(ctx context.Context, accountID string, t Target) ([]Entitlement, error) {
	var out []Entitlement
	err := s.db.Conn(ctx).Where("account_id = ? AND id IN (SELECT entitlement_id FROM "+t.Table+" WHERE "+t.Column+" = ?)", accountID, t.ID).
		Order("created_at, id").Find(&out).Error
	return out, database.Error(err)
}

// CountCodes counts the distinct codes among a license's entitlements.
func (s *Store) CountCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (int64, error) {
	var n int64
	err := unionOf(s.db.Conn(ctx).Model(&Entitlement{}).Where("account_id = ? AND code IN ?", accountID, codes), licenseID, policyID).
		Distinct("code").Count(&n).Error
	return n, database.Error(err)
}
