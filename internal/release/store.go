package release

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Store persists releases.
type Store struct{ db *database.DB }

// NewStore returns the release store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Sight is the part of an account's releases a scope sees, resolved once
// per request: a license's facts are read here, so that every query of the
// request filters with plain comparisons instead of a subquery per release.
type Sight struct {
	accountID string
	where     string // empty: every release of the account
	args      []any
}

// Sight resolves what the scope sees.
func (s *Store) Sight(ctx context.Context, accountID string, sc access.Scope, now time.Time) (Sight, error) {
	v := Sight{accountID: accountID}
	switch {
	case sc.All:
		return v, nil
	case sc.ProductID != "":
		v.where, v.args = "releases.product_id = ?", []any{sc.ProductID}
		return v, nil
	}
	published := "releases.status = '" + Published + "' AND "
	open := "releases.product_id IN (SELECT id FROM products WHERE account_id = ? AND distribution_strategy = 'OPEN') AND " + unconstrained
	switch {
	case sc.LicenseID != "":
		window, args, anyOpen, err := s.licenseWindow(ctx, accountID, sc, now)
		if err != nil {
			return v, err
		}
		// Without OPEN products the window alone is the sight, and its
		// product equality lets releases_latest_idx drive every lookup.
		v.where, v.args = published+"("+window+")", args
		if anyOpen {
			v.where, v.args = published+"("+open+" OR ("+window+"))", append([]any{accountID}, args...)
		}
	case sc.UserID != "":
		licensed := `EXISTS (SELECT 1 FROM licenses l JOIN policies p ON p.id = l.policy_id JOIN products pr ON pr.id = l.product_id
			WHERE l.id IN (` + database.LicensesOfUser + `) AND l.product_id = releases.product_id AND pr.distribution_strategy <> 'CLOSED'
			AND (l.expiry IS NULL OR p.expiration_strategy = 'ALLOW_ACCESS'
				OR (p.expiration_strategy = 'REVOKE_ACCESS' AND l.expiry > ?)
				OR (p.expiration_strategy IN ('RESTRICT_ACCESS', 'MAINTAIN_ACCESS')
					AND (releases.created_at <= l.expiry OR releases.backdated_to <= l.expiry)))
			AND ` + entitled("l.id", "l.policy_id") + `)`
		v.where, v.args = published+"("+open+" OR "+licensed+")", []any{accountID, accountID, sc.UserID, sc.UserID, now}
	default:
		v.where, v.args = published+open, []any{accountID}
	}
	return v, nil
}

// in is the query of the releases in sight.
func (s *Store) in(ctx context.Context, v Sight) *gorm.DB {
	p := v.seen()
	return s.db.Conn(ctx).Model(&Release{}).Where(p.SQL, p.Args...)
}

// scoped is the query of the releases the scope sees.
func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope, now time.Time) *gorm.DB {
	v, err := s.Sight(ctx, accountID, sc, now)
	q := s.in(ctx, v)
	if err != nil {
		_ = q.AddError(err)
	}
	return q
}

// unconstrained holds for releases without entitlement constraints.
const unconstrained = "NOT EXISTS (SELECT 1 FROM release_entitlement_constraints c WHERE c.release_id = releases.id)"

// entitled holds when the license (and its policy) named by the two SQL
// expressions holds every entitlement the release is constrained by.
func entitled(license, policy string) string {
	return `NOT EXISTS (SELECT 1 FROM release_entitlement_constraints c WHERE c.release_id = releases.id
		AND c.entitlement_id NOT IN (SELECT entitlement_id FROM license_entitlements WHERE license_id = ` + license + `)
		AND c.entitlement_id NOT IN (SELECT entitlement_id FROM policy_entitlements WHERE policy_id = ` + policy + `))`
}

// licenseWindow is the predicate of the releases a license reaches through
// its product (from the scope's reach, else read): none for CLOSED products or revoked expired licenses, those
// created (or backdated) up to the expiry under RESTRICT and MAINTAIN, all
// otherwise; and of those, only the ones whose constraints it is entitled to.
// anyOpen tells whether the account has OPEN products, whose releases the
// license sees as well.
func (s *Store) licenseWindow(ctx context.Context, accountID string, sc access.Scope, now time.Time) (window string, args []any, anyOpen bool, err error) {
	reach, policyID, productID := sc.Reach, sc.LicensePolicyID, sc.LicenseProductID
	if reach == nil {
		var facts struct {
			ProductID, PolicyID string
			access.LicenseReach `gorm:"embedded"`
		}
		err = s.db.Conn(ctx).Table("licenses l").
			Select("l.product_id, l.policy_id, l.expiry, p.expiration_strategy, pr.distribution_strategy, "+
				database.AnyOpenProduct("l.account_id")+" AS any_open").
			Joins("JOIN policies p ON p.id = l.policy_id").Joins("JOIN products pr ON pr.id = l.product_id").
			Where("l.account_id = ? AND l.id = ?", accountID, sc.LicenseID).Take(&facts).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return "1 = 0", nil, true, nil
		case err != nil:
			return "", nil, false, err
		}
		reach, policyID, productID = &facts.LicenseReach, facts.PolicyID, facts.ProductID
	}
	if reach.DistributionStrategy == "CLOSED" ||
		reach.Expiry != nil && reach.ExpirationStrategy == policy.RevokeAccess && !reach.Expiry.After(now) {
		return "1 = 0", nil, reach.AnyOpen, nil
	}
	window = "releases.product_id = ? AND " + entitled("?", "?")
	args = []any{productID, sc.LicenseID, policyID}
	if reach.Expiry != nil && (reach.ExpirationStrategy == policy.RestrictAccess || reach.ExpirationStrategy == policy.MaintainAccess) {
		window += " AND (releases.created_at <= ? OR releases.backdated_to <= ?)"
		args = append(args, *reach.Expiry, *reach.Expiry)
	}
	return window, args, reach.AnyOpen, nil
}

func taken(err error) error {
	if !database.IsUniqueViolation(err) {
		return database.Error(err)
	}
	if strings.Contains(err.Error(), "tag") {
		return apperr.Attribute("tag", "TAKEN", "has already been taken")
	}
	return apperr.Attribute("version", "TAKEN", "has already been taken")
}

// Create inserts a release, then runs then in the same transaction;
// VERSION_TAKEN and TAG_TAKEN per product and package.
func (s *Store) Create(ctx context.Context, r *Release, then func(ctx context.Context) error) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := taken(s.db.Conn(ctx).Create(r).Error); err != nil {
			return err
		}
		return then(ctx)
	})
}

// Save writes a changed release.
func (s *Store) Save(ctx context.Context, r *Release) error {
	return taken(s.db.Conn(ctx).Where("account_id = ?", r.AccountID).Save(r).Error)
}

// Delete removes a release.
func (s *Store) Delete(ctx context.Context, r *Release) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", r.AccountID).Delete(&Release{ID: r.ID}).Error)
}

// inPackage narrows q to the releases of a package by id or key, or to
// those without a package when ref is "".
func inPackage(q *gorm.DB, accountID, ref string) *gorm.DB {
	p := packaged(accountID, ref)
	return q.Where(p.SQL, p.Args...)
}

// packaged is the condition of inPackage.
func packaged(accountID, ref string) piece {
	switch {
	case ref == "":
		return piece{SQL: "releases.package_id IS NULL", Args: nil}
	case len(ref) == 36 && uuid.Validate(ref) == nil:
		return piece{SQL: "releases.package_id = ?", Args: []any{ref}}
	}
	return piece{SQL: "releases.package_id IN (SELECT id FROM packages WHERE account_id = ? AND key = ?)", Args: []any{accountID, ref}}
}

// seen is the condition of the releases in sight.
func (v Sight) seen() piece {
	p := piece{SQL: "releases.account_id = ?", Args: []any{v.accountID}}
	if v.where == "" {
		return p
	}
	return and(p, piece{SQL: v.where, Args: v.args})
}

// found is the statement of the release Find returns, or false when the
// narrowing rules every release out.
func (s *Store) found(v Sight, ref string, n Narrowing) (piece, bool) {
	var from piece
	conds := []piece{v.seen()}
	if n.Product != "" {
		if uuid.Validate(n.Product) != nil {
			return piece{}, false
		}
		conds = append(conds, piece{SQL: "releases.product_id = ?", Args: []any{n.Product}})
	}
	if n.Package != nil {
		conds = append(conds, packaged(v.accountID, *n.Package))
	}
	order := ""
	candidates := []any{v.accountID, ref, v.accountID, ref}
	switch {
	case len(ref) == 36 && uuid.Validate(ref) == nil:
		from = piece{SQL: "releases", Args: nil}
		conds = append(conds, piece{SQL: "releases.id = ?", Args: []any{ref}})
	case s.db.Engine == database.Postgres:
		// The candidates by the version and tag indexes, behind a fence
		// (OFFSET 0) that keeps the sight's conditions out of their scan:
		// without statistics (a bulk load, a new account) the planner took
		// releases_latest_idx, or the creation order, and walked the
		// product's releases instead.
		from = piece{SQL: "(SELECT candidates.* FROM releases candidates WHERE candidates.id IN (" + versionOrTag + ") OFFSET 0) AS releases", Args: candidates}
		order = " ORDER BY releases.created_at, releases.id"
	default:
		// SQLite keeps a CROSS JOIN's order: the candidates lead.
		from = piece{SQL: "(" + versionOrTag + ") AS candidates CROSS JOIN releases", Args: candidates}
		conds = append(conds, piece{SQL: "releases.id = candidates.id", Args: nil})
		order = " ORDER BY releases.created_at, releases.id"
	}
	where := and(conds...)
	return piece{SQL: "SELECT releases.* FROM " + from.SQL + " WHERE " + where.SQL + order + " LIMIT 1", Args: append(from.Args, where.Args...)}, true
}

// Find returns a release in sight by id, else the oldest with the version
// or tag, within the narrowing.
func (s *Store) Find(ctx context.Context, v Sight, ref string, n Narrowing) (*Release, error) {
	notFound := apperr.NotFoundResource("release", ref)
	q, ok := s.found(v, ref, n)
	if !ok {
		return nil, notFound
	}
	return database.TakeRaw[Release](ctx, s.db, notFound, q.SQL, q.Args...)
}

// versionOrTag lists the releases of an account with a version or a tag.
const versionOrTag = `SELECT id FROM releases WHERE account_id = ? AND version = ?
	UNION ALL SELECT id FROM releases WHERE account_id = ? AND tag = ?`

// upgradeRow is a row of Upgrade's statement: the current release (place
// 0), then the next one (place 1).
type upgradeRow struct {
	Place int
	Release
}

// Upgrade returns the release Find returns and, in the same statement, the
// newest release in sight greater than it on its line: its product and
// package, in the channels the channel includes (its own channel's when
// channel is ""), within the constraint; next is nil when there is none.
// The next release is an index walk of releases_latest_idx from the
// newest down to the current version, run once for the current row.
func (s *Store) Upgrade(ctx context.Context, v Sight, ref string, n Narrowing, channel string, c *Constraint) (current, next *Release, err error) {
	notFound := apperr.NotFoundResource("release", ref)
	cur, ok := s.found(v, ref, n)
	if !ok {
		return nil, nil, notFound
	}
	channels := curChannels
	if channel != "" {
		channels = inChannels(Includes(channel))
	}
	newer := and(v.seen(), piece{SQL: "releases.id <> cur.id", Args: nil}, onLine(columns("cur"), channels, aboveCur, c, nil))
	rows := make([]upgradeRow, 0, 2)
	// cur is MATERIALIZED, or SQLite computes it for each of its two uses.
	// The next release is read by its primary key, as a scalar: joined to
	// cur, the planner without statistics walked the product's releases.
	err = database.FindRaw(ctx, s.db, &rows, `WITH cur AS MATERIALIZED (SELECT cur.*, (SELECT releases.id FROM releases WHERE `+newer.SQL+` ORDER BY `+LatestFirst+` LIMIT 1) AS next_id
			FROM (`+cur.SQL+`) AS cur)
		SELECT 0 AS place, cur.* FROM cur
		UNION ALL SELECT 1, releases.*, NULL FROM releases WHERE releases.id = (SELECT next_id FROM cur) AND releases.account_id = ?`,
		slices.Concat(newer.Args, cur.Args, []any{v.accountID})...)
	if err != nil {
		return nil, nil, err
	}
	for i := range rows {
		switch rows[i].Place {
		case 0:
			current = &rows[i].Release
		case 1:
			next = &rows[i].Release
		}
	}
	if current == nil {
		return nil, nil, notFound
	}
	return current, next, nil
}

// List returns a page of releases within the scope and filter.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, now time.Time, p page.Request) ([]Release, int64, error) {
	q := s.scoped(ctx, accountID, sc, now)
	if f.ProductID != "" {
		q = q.Where("releases.product_id = ?", f.ProductID)
	}
	if f.Channel != "" {
		q = q.Where("releases.channel IN ?", Includes(f.Channel))
	}
	if f.Status != "" {
		q = q.Where("releases.status = ?", f.Status)
	}
	if f.Package != nil {
		q = inPackage(q, accountID, *f.Package)
	}
	if f.Yanked != nil {
		if *f.Yanked {
			q = q.Where("releases.status = ?", Yanked)
		} else {
			q = q.Where("releases.status IN ?", []string{Draft, Published})
		}
	}
	if f.Engine != nil {
		if *f.Engine == "" {
			q = q.Where("(releases.package_id IS NULL OR releases.package_id IN (SELECT id FROM packages WHERE account_id = ? AND engine IS NULL))", accountID)
		} else {
			q = q.Where("releases.package_id IN (SELECT id FROM packages WHERE account_id = ? AND engine = ?)", accountID, *f.Engine)
		}
	}
	if f.Entitlements != nil {
		if len(*f.Entitlements) == 0 {
			q = q.Where(unconstrained)
		} else {
			q = q.Where(`NOT EXISTS (SELECT 1 FROM release_entitlement_constraints c JOIN entitlements e ON e.id = c.entitlement_id
				WHERE c.release_id = releases.id AND e.code NOT IN ?)`, *f.Entitlements)
		}
	}
	return database.PaginateIn[Release](q, "releases", p, nil)
}

// LatestFirst orders releases newest version first (a release before its
// pre-releases, build metadata counting), then newest created. It matches
// the releases_latest_idx expressions exactly, so the order is an index walk.
const LatestFirst = `releases.semver_major DESC, releases.semver_minor DESC, releases.semver_patch DESC,
	(releases.semver_pre_word IS NULL) DESC, COALESCE(releases.semver_pre_word, '') DESC, COALESCE(releases.semver_pre_num, -1) DESC,
	COALESCE(releases.semver_build_word, '') DESC, COALESCE(releases.semver_build_num, -1) DESC, releases.created_at DESC`

// Next returns the newest release in sight of current's product and
// package greater than current (a release, or a version ClientVersion
// read), with a file of the kind when files is set
// (a 404 when there is none).
func (s *Store) Next(ctx context.Context, v Sight, current *Release, channels []string, c *Constraint, files *Files) (*Release, error) {
	line := values{current.ProductID, current.PackageID, current}
	conds := []piece{v.seen(), onLine(line, inChannels(channels), greater(line), c, files)}
	if current.ID != "" {
		conds = append(conds, piece{SQL: "releases.id <> ?", Args: []any{current.ID}})
	}
	q := and(conds...)
	return database.Take[Release](s.db.Conn(ctx).Raw("SELECT * FROM releases WHERE "+q.SQL+" ORDER BY "+LatestFirst+" LIMIT 1", q.Args...), ErrNoUpgrade)
}

// OnlySuspended reports whether the user holds licenses for a product that
// is not OPEN and every one of them is suspended.
func (s *Store) OnlySuspended(ctx context.Context, accountID, userID, productID string) (bool, error) {
	var counts struct{ Total, Usable int64 }
	err := s.db.Conn(ctx).Raw(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN l.suspended THEN 0 ELSE 1 END), 0) AS usable
		FROM licenses l JOIN products pr ON pr.id = l.product_id
		WHERE l.id IN (`+database.LicensesOfUser+`) AND l.product_id = ? AND pr.distribution_strategy <> 'OPEN'`,
		accountID, userID, userID, productID).Scan(&counts).Error
	return counts.Total > 0 && counts.Usable == 0, database.Error(err)
}

// SightOf is the condition (a WHERE over releases) of
// the releases who may see, for stores whose records belong to releases to
// probe in statements they write themselves.
func (s *Store) SightOf(ctx context.Context, accountID string, who *access.Principal, now time.Time) (database.Clause, error) {
	v, err := s.Sight(ctx, accountID, access.ScopeOf(who), now)
	if err != nil {
		return database.Clause{}, err
	}
	return v.seen(), nil
}

// PackagedIDs is the query of the ids of an account's releases in a
// package by id or key, or of those without one for "".
func PackagedIDs(accountID, ref string) database.Clause {
	p := and(piece{SQL: "releases.account_id = ?", Args: []any{accountID}}, packaged(accountID, ref))
	return piece{SQL: "SELECT releases.id FROM releases WHERE " + p.SQL, Args: p.Args}
}

// Scoped is the query of the releases who may see, for stores whose
// records belong to releases (artifacts) to join.
func (s *Store) Scoped(ctx context.Context, accountID string, who *access.Principal, now time.Time) *gorm.DB {
	return s.scoped(ctx, accountID, access.ScopeOf(who), now)
}

// VisibleIDs is the subquery of the ids of the releases who may see.
func (s *Store) VisibleIDs(ctx context.Context, accountID string, who *access.Principal, now time.Time) *gorm.DB {
	return s.Scoped(ctx, accountID, who, now).Select("releases.id")
}

// AddDownloads adds counted downloads to releases, in one transaction.
func (s *Store) AddDownloads(ctx context.Context, counts map[string]int64) error {
	return database.Error(s.db.Conn(ctx).Transaction(func(tx *gorm.DB) error {
		for id, n := range counts {
			if err := tx.Exec(`UPDATE releases SET download_count = download_count + ? WHERE id = ?`, n, id).Error; err != nil {
				return err
			}
		}
		return nil
	}))
}
