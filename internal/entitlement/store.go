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
	return s.db.Existing(ctx, "entitlements", accountID, ids)
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

// Attach inserts the attachments in one transaction, all or none: it
// reports the position of the first that was already attached, or -1 once
// all are.
func (s *Store) Attach(ctx context.Context, t Target, attachments []Attachment) (int, error) {
	return s.db.Batch(ctx, len(attachments), func(ctx context.Context, i int) (bool, error) {
		a := attachments[i]
		err := s.db.Conn(ctx).Exec("INSERT INTO "+t.Table+" (id, account_id, "+t.Column+", entitlement_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			a.ID, a.AccountID, a.OwnerID, a.EntitlementID, a.CreatedAt, a.UpdatedAt).Error
		if database.IsUniqueViolation(err) {
			return false, nil
		}
		return true, database.Error(err)
	})
}

// Detach deletes the attachments named by entitlement id or by their own
// id in one transaction, all or none: it reports the position of the
// first that is not attached, or -1 once all are deleted.
func (s *Store) Detach(ctx context.Context, t Target, ids []string) (int, error) {
	return s.db.Batch(ctx, len(ids), func(ctx context.Context, i int) (bool, error) {
		if uuid.Validate(ids[i]) != nil {
			return false, nil
		}
		res := s.db.Conn(ctx).Exec("DELETE FROM "+t.Table+" WHERE "+t.Column+" = ? AND (entitlement_id = ? OR id = ?)", t.ID, ids[i], ids[i])
		return res.RowsAffected > 0, database.Error(res.Error)
	})
}

func unionOf(q *gorm.DB, licenseID, policyID string) *gorm.DB {
	return q.Where(`(id IN (SELECT entitlement_id FROM license_entitlements WHERE license_id = ?)
		OR id IN (SELECT entitlement_id FROM policy_entitlements WHERE policy_id = ?))`, licenseID, policyID)
}

// Of returns a license's own and its policy's entitlements.
func (s *Store) Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error) {
	var out []Entitlement
	err := unionOf(s.db.Conn(ctx).Where("account_id = ?", accountID), licenseID, policyID).Order("created_at, id").Find(&out).Error
	return out, database.Error(err)
}

// Held returns a page of the entitlements a target holds: those attached
// to it and, for a license, its policy's too.
func (s *Store) Held(ctx context.Context, accountID string, t Target, p page.Request) ([]Entitlement, int64, error) {
	q := s.db.Conn(ctx).Model(&Entitlement{}).Where("account_id = ?", accountID)
	if t.PolicyID != "" {
		q = unionOf(q, t.ID, t.PolicyID)
	} else {
		q = q.Where("id IN (SELECT entitlement_id FROM "+t.Table+" WHERE "+t.Column+" = ?)", t.ID)
	}
	return database.Paginate[Entitlement](q, p)
}

// Attachments returns a page of a target's attachments.
func (s *Store) Attachments(ctx context.Context, accountID string, t Target, p page.Request) ([]Attachment, int64, error) {
	q := s.db.Conn(ctx).Table(t.Table).Where("account_id = ? AND "+t.Column+" = ?", accountID, t.ID)
	return database.PaginateIn[Attachment](q, "", p, func(q *gorm.DB) *gorm.DB {
		return q.Select("id, account_id, " + t.Column + " AS owner_id, entitlement_id, created_at, updated_at")
	})
}

// CountCodes counts the distinct codes among a license's entitlements.
func (s *Store) CountCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (int64, error) {
	var n int64
	err := unionOf(s.db.Conn(ctx).Model(&Entitlement{}).Where("account_id = ? AND code IN ?", accountID, codes), licenseID, policyID).
		Distinct("code").Count(&n).Error
	return n, database.Error(err)
}
