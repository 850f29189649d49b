package license

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Store persists licenses.
type Store struct{ db *database.DB }

// NewStore returns the license store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create inserts a license; a key used in the account is KEY_TAKEN.
func (s *Store) Create(ctx context.Context, l *License) error {
	return database.Insert(s.db.Conn(ctx).Omit("OwnerBanned"), l, apperr.Attribute("key", "TAKEN", "has already been taken"))
}

// Save writes a changed license.
func (s *Store) Save(ctx context.Context, l *License) error {
	return database.Error(s.db.Conn(ctx).Omit("OwnerBanned").Where("account_id = ?", l.AccountID).Save(l).Error)
}

// Delete removes a license.
func (s *Store) Delete(ctx context.Context, l *License) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", l.AccountID).Delete(&License{ID: l.ID}).Error)
}

// withOwner adds the owner's ban to a license query, in the same query.
func withOwner(q *gorm.DB) *gorm.DB {
	return q.Select("licenses.*, users.banned_at IS NOT NULL AS owner_banned").
		Joins("LEFT JOIN users ON users.id = licenses.owner_id")
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Model(&License{}).Where("licenses.account_id = ?", accountID)
	switch {
	case sc.All:
	case sc.ProductID != "":
		q = q.Where("licenses.product_id = ?", sc.ProductID)
	case sc.LicenseID != "":
		q = q.Where("licenses.id = ?", sc.LicenseID)
	case sc.UserID != "":
		q = q.Where("licenses.id IN ("+database.LicensesOfUser+")", accountID, sc.UserID, sc.UserID)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// Find returns a license by id, else by key digest, within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref, digest string, sc access.Scope) (*License, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("licenses.id = ?", ref)
	} else {
		q = q.Where("licenses.key_digest = ?", digest)
	}
	return database.Take[License](withOwner(q), apperr.NotFoundResource("license", ref))
}

// List returns a page of licenses within the scope and filter.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]License, int64, error) {
	q := s.filtered(s.scoped(ctx, accountID, sc), accountID, f)
	return database.PaginateIn[License](q, "licenses", p, withOwner)
}

// machineCount is the number of a license's machines, for the activation
// filters.
const machineCount = "(SELECT COUNT(*) FROM machines WHERE machines.license_id = licenses.id)"

// assignedCondition holds for a license with an owner or a licensee.
const assignedCondition = "(licenses.owner_id IS NOT NULL OR EXISTS (SELECT 1 FROM license_users WHERE license_users.license_id = licenses.id))"

var comparisonSQL = map[string]string{"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// filtered applies Keygen's license scopes (licenses_controller has_scope).
func (s *Store) filtered(q *gorm.DB, accountID string, f Filter) *gorm.DB {
	for column, value := range map[string]string{"licenses.product_id": f.ProductID, "licenses.policy_id": f.PolicyID, "licenses.owner_id": f.OwnerID, "licenses.group_id": f.GroupID} {
		if value != "" {
			q = q.Where(column+" = ?", value)
		}
	}
	if f.UserID != "" {
		q = q.Where("licenses.id IN ("+database.LicensesOfUser+")", accountID, f.UserID, f.UserID)
	}
	if f.MachineID != "" {
		q = q.Where("licenses.id IN (SELECT license_id FROM machines WHERE account_id = ? AND id = ?)", accountID, f.MachineID)
	}
	for key, value := range f.Metadata {
		cond, args := s.db.MetadataMatch("licenses.metadata", key, value)
		q = q.Where(cond, args...)
	}
	if f.Status != "" {
		q = statusIs(q, strings.ToUpper(f.Status), f.Now)
	}
	soon := f.Now.Add(expiringWindow)
	if f.Suspended != nil {
		q = q.Where("licenses.suspended = ?", *f.Suspended)
	}
	q = flag(q, f.Expiring, expiringCondition,
		"licenses.expiry IS NULL OR licenses.expiry < ? OR licenses.expiry > ?", f.Now, soon)
	q = flag(q, f.Expired, expiredCondition, "licenses.expiry IS NULL OR licenses.expiry >= ?", f.Now)
	q = flag(q, f.Assigned, assignedCondition, "NOT "+assignedCondition)
	q = flag(q, f.Activated, machineCount+" >= 1", machineCount+" <= 0")
	if c := f.Activations; c != nil {
		if op, ok := comparisonSQL[c.Op]; ok {
			q = q.Where(machineCount+" "+op+" ?", c.N)
		}
	}
	if w := f.Expires; w != nil {
		q = expiryWithin(q.Where("licenses.expiry IS NOT NULL AND licenses.expiry >= ?", f.Now), w, "licenses.expiry <= ?", f.Now.Add(w.Duration))
	}
	if w := f.ExpiredWithin; w != nil {
		q = expiryWithin(q.Where(expiredCondition, f.Now), w, "licenses.expiry >= ?", f.Now.Add(-w.Duration))
	}
	if w := f.Activity; w != nil {
		q = activity(q, w, f.Now)
	}
	return q
}

// expiryWithin narrows licenses with an expiry to a window: before or
// after its time, on its day, or for within and in the duration's bound
// (now plus or minus it) by the within condition.
func expiryWithin(q *gorm.DB, w *document.Window, within string, bound time.Time) *gorm.DB {
	switch w.Key {
	case "before":
		return q.Where("licenses.expiry <= ?", w.Time)
	case "after":
		return q.Where("licenses.expiry >= ?", w.Time)
	case "on":
		return q.Where("licenses.expiry >= ? AND licenses.expiry < ?", w.Time, w.Time.AddDate(0, 0, 1))
	}
	return q.Where(within, bound)
}

// activity narrows licenses (of owners not banned) to those active since
// a time (activity[inside] a duration, activity[after] a time) or not
// (outside, before), as Keygen's active and inactive scopes.
func activity(q *gorm.DB, w *document.Window, now time.Time) *gorm.DB {
	since, active := w.Time, w.Key == "after"
	if w.Key == "inside" || w.Key == "outside" {
		since, active = now.Add(-w.Duration), w.Key == "inside"
	}
	q = q.Where("NOT " + ownerBanned)
	if active {
		return q.Where(activeCondition, since, since, since, since)
	}
	return q.Where("NOT "+activeCondition, since, since, since, since)
}

// flag applies a boolean filter: whenTrue's condition for true, whenFalse's
// for false, both with args.
func flag(q *gorm.DB, v *bool, whenTrue, whenFalse string, args ...any) *gorm.DB {
	switch {
	case v == nil:
		return q
	case *v:
		return q.Where(whenTrue, args...)
	}
	return q.Where(whenFalse, args...)
}

const (
	expiredCondition  = "licenses.expiry IS NOT NULL AND licenses.expiry < ?"
	expiringCondition = "licenses.expiry IS NOT NULL AND licenses.expiry > ? AND licenses.expiry < ?"
	ownerBanned       = "licenses.owner_id IN (SELECT id FROM users WHERE banned_at IS NOT NULL)"
	// activeCondition holds for a license created, validated, checked out
	// or checked in since its argument (four times).
	activeCondition = "(licenses.created_at >= ? OR (licenses.last_validated_at IS NOT NULL AND licenses.last_validated_at >= ?) OR " +
		"(licenses.last_check_out_at IS NOT NULL AND licenses.last_check_out_at >= ?) OR (licenses.last_check_in_at IS NOT NULL AND licenses.last_check_in_at >= ?))"
)

// statusIs applies Keygen's with_status: its scopes, which unlike a
// license's one status may overlap (a suspended license may have expired);
// an unknown status matches nothing.
func statusIs(q *gorm.DB, status string, now time.Time) *gorm.DB {
	since := now.Add(-activeWindow)
	switch status {
	case StatusBanned:
		return q.Where(ownerBanned)
	case StatusSuspended:
		return q.Where("licenses.suspended = ?", true)
	case StatusExpired:
		return q.Where(expiredCondition, now)
	case StatusExpiring:
		return q.Where(expiringCondition, now, now.Add(expiringWindow))
	case StatusActive:
		return q.Where("NOT "+ownerBanned).Where(activeCondition, since, since, since, since)
	case StatusInactive:
		return q.Where("NOT "+ownerBanned).Where("NOT "+activeCondition, since, since, since, since)
	}
	return q.Where("1 = 0")
}

// FindByDigestWithPolicy returns the license with a key digest and its
// policy, whole, and its sight of releases in one indexed query (a key's
// authentication on a write).
func (s *Store) FindByDigestWithPolicy(ctx context.Context, accountID, digest string) (*License, *policy.Policy, error) {
	return s.findWithPolicy(ctx, readByDigest(), accountID, digest)
}

// FindBearerByDigest is FindByDigestWithPolicy reading only what a license
// key's authentication needs (bearerColumns) and the license's sight of
// releases; the other fields are left zero. A wide row's columns are most
// of the read.
func (s *Store) FindBearerByDigest(ctx context.Context, accountID, digest string) (*License, *policy.Policy, error) {
	return s.findWithPolicy(ctx, readBearerByDigest(), accountID, digest)
}

// FindWithPolicy returns a license by id with its policy, whole, and its
// sight of releases in one query.
func (s *Store) FindWithPolicy(ctx context.Context, accountID, id string) (*License, *policy.Policy, error) {
	return s.findWithPolicy(ctx, readByID(), accountID, id)
}

func (s *Store) findWithPolicy(ctx context.Context, read *database.Read[licenseAndPolicy], args ...any) (*License, *policy.Policy, error) {
	row, err := s.readWithPolicy(ctx, read, args...)
	if err != nil {
		return nil, nil, err
	}
	return &row.License, &row.Policy, nil
}

// FindForValidation is FindByDigestWithPolicy with the license's machine
// totals (License.Totals) read in the same statement, and its sight of
// releases only with reach (a validation scoped to a release).
func (s *Store) FindForValidation(ctx context.Context, accountID, digest string, reach bool) (*License, *policy.Policy, error) {
	read := readForValidation()
	if reach {
		read = readForReleaseValidation()
	}
	row, err := s.readWithPolicy(ctx, read, accountID, digest)
	if err != nil {
		return nil, nil, err
	}
	row.License.Totals = &row.Machines
	return &row.License, &row.Policy, nil
}

func (s *Store) readWithPolicy(ctx context.Context, read *database.Read[licenseAndPolicy], args ...any) (*licenseAndPolicy, error) {
	var row licenseAndPolicy
	if err := read.Take(ctx, s.db, &row, args...); err != nil {
		if database.IsNotFound(err) {
			return nil, apperr.NotFoundResource("license", "")
		}
		return nil, database.Error(err)
	}
	return &row, nil
}

// licenseRead is what a read of one license with its policy holds.
type licenseRead struct {
	// bearer: only the columns authentication reads (bearerColumns), else
	// all of both rows.
	bearer bool
	// reach: the license's sight of releases (License.Reach), from its
	// products; without it, the release rules read it themselves.
	reach bool
	// totals: its machine totals (License.Totals).
	totals bool
}

// licenseWithPolicy is the read r of one license with its policy under a
// condition on licenses.
func licenseWithPolicy(where string, r licenseRead) func() *database.Read[licenseAndPolicy] {
	return sync.OnceValue(func() *database.Read[licenseAndPolicy] {
		licenseColumns, policyColumns := []string{"licenses.*"}, policyColumnNames()
		if r.bearer {
			licenseColumns, policyColumns = bearerColumns()
		}
		cols, joins := append(licenseColumns, "users.banned_at IS NOT NULL AS owner_banned"), ""
		if r.reach {
			cols = append(cols, "products.distribution_strategy AS product_distribution",
				database.AnyOpenProduct("licenses.account_id")+" AS any_open_product")
			joins += `
			JOIN products ON products.id = licenses.product_id`
		}
		if r.totals {
			cols = append(cols, machineTotalsColumns)
			joins += machineTotalsJoin
		}
		for _, name := range policyColumns {
			cols = append(cols, "policies."+name+" AS policy__"+name)
		}
		return database.NewRead[licenseAndPolicy](`SELECT ` + strings.Join(cols, ", ") + ` FROM licenses
			LEFT JOIN users ON users.id = licenses.owner_id
			JOIN policies ON policies.id = licenses.policy_id AND policies.account_id = licenses.account_id` + joins + `
			WHERE ` + where + ` LIMIT 1`)
	})
}

const (
	byDigest = "licenses.account_id = ? AND licenses.key_digest = ?"
	byID     = "licenses.account_id = ? AND licenses.id = ?"
)

// The reads: a key's authentication on a read (the bearer's columns) and
// on a write (whole, kept for the rules acting on the license), and by id,
// all with the reach the release rules use; validate-key's, with its
// machine totals and, scoped to a release (checksum, version), the reach.
var (
	readBearerByDigest       = licenseWithPolicy(byDigest, licenseRead{bearer: true, reach: true})
	readByDigest             = licenseWithPolicy(byDigest, licenseRead{reach: true})
	readByID                 = licenseWithPolicy(byID, licenseRead{reach: true})
	readForValidation        = licenseWithPolicy(byDigest, licenseRead{totals: true})
	readForReleaseValidation = licenseWithPolicy(byDigest, licenseRead{reach: true, totals: true})
)

// machineTotalsColumns are the license's machine totals as
// licenseAndPolicy reads them, from the one row triggers keep (migration
// 0214) that machineTotalsJoin joins.
const (
	machineTotalsColumns = `mt.machines AS machines__count, mt.cores AS machines__cores, mt.memory AS machines__memory, mt.disk AS machines__disk`
	machineTotalsJoin    = `
			JOIN license_machine_totals mt ON mt.license_id = licenses.id`
)

// licenseAndPolicy is a license read in one statement with its policy,
// whose columns come prefixed.
type licenseAndPolicy struct {
	License
	Policy   policy.Policy `gorm:"embedded;embeddedPrefix:policy__"`
	Machines Totals        `gorm:"embedded;embeddedPrefix:machines__"`
}

// policyColumnNames are the policy's columns.
var policyColumnNames = sync.OnceValue(func() []string {
	sch, err := schema.Parse(&policy.Policy{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("license: the policy's columns: %v", err))
	}
	return sch.DBNames
})

// bearerColumns are the columns of the license and of its policy that
// authentication (usable, principal) reads.
func bearerColumns() (licenseColumns, policyColumns []string) {
	return []string{"licenses.id", "licenses.account_id", "licenses.product_id", "licenses.policy_id", "licenses.owner_id", "licenses.expiry", "licenses.suspended"},
		[]string{"authentication_strategy", "expiration_strategy", "expiration_basis", "duration"}
}

// ChangeUses adds delta to uses (or resets them to 0) in one conditional
// UPDATE, so concurrent changes never pass the limits: USES_LIMIT_EXCEEDED
// above max, USES_INVALID below 0; NOT_FOUND when the license is gone.
func (s *Store) ChangeUses(ctx context.Context, l *License, delta int64, reset bool, max *int64) (int64, error) {
	q := `UPDATE licenses SET uses = uses + ?, updated_at = ? WHERE id = ? AND account_id = ? AND uses + ? >= 0`
	args := []any{delta, database.Now(), l.ID, l.AccountID, delta}
	switch {
	case reset:
		q, args = `UPDATE licenses SET uses = 0, updated_at = ? WHERE id = ? AND account_id = ?`, []any{database.Now(), l.ID, l.AccountID}
	case max != nil:
		q += ` AND uses + ? <= ?`
		args = append(args, delta, *max)
	}
	var uses int64
	err := s.db.Conn(ctx).Raw(q+` RETURNING uses`, args...).Row().Scan(&uses)
	if !errors.Is(err, sql.ErrNoRows) {
		return uses, database.Error(err)
	}
	switch {
	case reset, delta >= 0 && max == nil: // nothing bounds the change: the license is gone
		return 0, apperr.NotFoundResource("license", l.ID)
	case delta < 0:
		return 0, apperr.Attribute("uses", "INVALID", "usage cannot be negative")
	}
	return 0, apperr.Attribute("uses", "LIMIT_EXCEEDED", "usage exceeds maximum allowed for license ("+itoa(*max)+")")
}

// StartExpiry sets the expiry if it is still unset; it reports whether it did.
func (s *Store) StartExpiry(ctx context.Context, l *License, at time.Time) (bool, error) {
	res := s.db.Conn(ctx).Exec(`UPDATE licenses SET expiry = ?, updated_at = ? WHERE id = ? AND account_id = ? AND expiry IS NULL`,
		at, database.Now(), l.ID, l.AccountID)
	return res.RowsAffected == 1, database.Error(res.Error)
}

// Transfer saves a license moved to another policy, and moves its
// machines, components and processes along, in one transaction.
func (s *Store) Transfer(ctx context.Context, l *License) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.Save(ctx, l); err != nil {
			return err
		}
		for _, table := range []string{"machines", "components", "processes"} {
			if err := s.db.Conn(ctx).Exec("UPDATE "+table+" SET policy_id = ? WHERE license_id = ?", l.PolicyID, l.ID).Error; err != nil {
				return database.Error(err)
			}
		}
		return nil
	})
}

// AttachUsers adds licensees in one transaction, within max users (owner included).
func (s *Store) AttachUsers(ctx context.Context, l *License, userIDs []string, max *int64) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		q := s.db.Conn(ctx)
		now := database.Now()
		for i, uid := range userIDs {
			at := apperr.Record().Item(i)
			var n int64
			if uuid.Validate(uid) == nil {
				if err := q.Table("users").Where("account_id = ? AND id = ?", l.AccountID, uid).Count(&n).Error; err != nil {
					return database.Error(err)
				}
			}
			if n == 0 {
				return apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "user must exist", at)
			}
			err := q.Exec(`INSERT INTO license_users (id, account_id, license_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id.New(), l.AccountID, l.ID, uid, now, now).Error
			if database.IsUniqueViolation(err) {
				return apperr.At(apperr.Unprocessable, "USER_TAKEN", "is already attached", at)
			}
			if err != nil {
				return database.Error(err)
			}
		}
		if max == nil {
			return nil
		}
		users, err := s.countUsers(ctx, l)
		if err != nil {
			return err
		}
		if users > *max {
			return apperr.At(apperr.Unprocessable, "USER_LIMIT_EXCEEDED", "user count has exceeded maximum allowed for license ("+itoa(*max)+")", apperr.Record())
		}
		return nil
	})
}

// DetachUsers removes licensees, all or none.
func (s *Store) DetachUsers(ctx context.Context, l *License, userIDs []string) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for i, uid := range userIDs {
			res := s.db.Conn(ctx).Exec(`DELETE FROM license_users WHERE license_id = ? AND user_id = ?`, l.ID, uid)
			if res.Error != nil {
				return database.Error(res.Error)
			}
			if res.RowsAffected == 0 {
				return apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "user is not attached", apperr.Record().Item(i))
			}
		}
		return nil
	})
}

func (s *Store) countUsers(ctx context.Context, l *License) (int64, error) {
	var n int64
	if err := s.db.Conn(ctx).Table("license_users").Where("license_id = ?", l.ID).Count(&n).Error; err != nil {
		return 0, database.Error(err)
	}
	if l.OwnerID != nil {
		n++
	}
	return n, nil
}

// Reseal rewrites the license keys sealed with the master key through reseal.
func (s *Store) Reseal(ctx context.Context, reseal func(sealed string) (string, error)) (int64, error) {
	return s.db.Reseal(ctx, "licenses", "key_sealed", reseal)
}

// Licensees counts the users attached to each of the licenses, in one
// query.
func (s *Store) Licensees(ctx context.Context, licenseIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(licenseIDs))
	if len(licenseIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		LicenseID string
		N         int64
	}
	err := s.db.Conn(ctx).Table("license_users").Select("license_id, COUNT(*) AS n").Where("license_id IN ?", licenseIDs).Group("license_id").Scan(&rows).Error
	for _, r := range rows {
		out[r.LicenseID] = r.N
	}
	return out, database.Error(err)
}
