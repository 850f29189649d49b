package artifact

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
)

// Store persists artifacts.
type Store struct {
	db        *database.DB
	releases  *release.Store
	downloads *release.DownloadTally
}

// NewStore returns the artifact store; visibility follows the releases'.
func NewStore(db *database.DB, releases *release.Store, downloads *release.DownloadTally) *Store {
	return &Store{db: db, releases: releases, downloads: downloads}
}

// Create inserts an artifact, then runs then in the same transaction; the
// same filename twice in a release is FILENAME_TAKEN.
func (s *Store) Create(ctx context.Context, a *Artifact, then func(context.Context) error) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := database.Insert(s.db.Conn(ctx), a, apperr.Attribute("filename", "TAKEN", "has already been taken")); err != nil {
			return err
		}
		return then(ctx)
	})
}

// waiting selects the waiting artifacts, spelled as artifacts_waiting_idx's
// predicate so that the planner may read that index (a bound status may
// not match it).
const waiting = "status = '" + Waiting + "'"

// WaitingByKey returns the waiting artifact stored under key, nil when
// none waits.
func (s *Store) WaitingByKey(ctx context.Context, key string) (*Artifact, error) {
	return database.Take[Artifact](s.db.Conn(ctx).Where("storage_key = ? AND "+waiting, key), nil)
}

// Settle moves a waiting artifact to UPLOADED, or to FAILED for failure.
func (s *Store) Settle(ctx context.Context, a *Artifact, failure string) error {
	if failure == "" {
		return s.setStatus(ctx, a, Waiting, Uploaded, nil)
	}
	return s.setStatus(ctx, a, Waiting, Failed, &failure)
}

// Refuse records why an upload of a waiting artifact was refused.
func (s *Store) Refuse(ctx context.Context, a *Artifact, reason string) error {
	return s.setStatus(ctx, a, Waiting, Waiting, &reason)
}

// Yank moves an artifact to YANKED.
func (s *Store) Yank(ctx context.Context, a *Artifact) error {
	return s.setStatus(ctx, a, a.Status, Yanked, a.Failure)
}

// Update writes an artifact's filesize, checksum, signature and metadata.
func (s *Store) Update(ctx context.Context, a *Artifact) error {
	a.UpdatedAt = database.Now()
	return database.Error(s.db.Conn(ctx).Model(&Artifact{}).Where("id = ? AND account_id = ?", a.ID, a.AccountID).
		Select("filesize", "checksum", "signature", "metadata", "updated_at").Updates(a).Error)
}

// setStatus changes the status (and the failure) only from the expected
// status, so concurrent settlers agree.
func (s *Store) setStatus(ctx context.Context, a *Artifact, from, to string, failure *string) error {
	res := s.db.Conn(ctx).Exec(`UPDATE artifacts SET status = ?, failure = ?, updated_at = ? WHERE id = ? AND status = ?`,
		to, failure, database.Now(), a.ID, from)
	if res.Error != nil {
		return database.Error(res.Error)
	}
	if res.RowsAffected == 1 {
		a.Status, a.Failure = to, failure
	}
	return nil
}

// sight is the condition of the artifacts of releases who may see, and
// the filter's (of uploaded ones when uploadedOnly), ANDed.
func (s *Store) sight(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time) (database.Clause, error) {
	seen, err := s.releases.SightOf(ctx, accountID, who, now)
	if err != nil {
		return database.Clause{}, err
	}
	// A correlated probe of the artifact's own release: an IN list would
	// gather every visible release of the account first.
	from := "releases"
	if s.db.Engine == database.Postgres {
		// By its primary key, behind a fence (OFFSET 0): without statistics
		// the planner took releases_latest_idx for the sight's product and
		// walked the product's releases to the artifact's.
		from = "(SELECT * FROM releases WHERE releases.id = artifacts.release_id OFFSET 0) AS releases"
	}
	return database.And(append([]database.Clause{
		{SQL: "artifacts.account_id = ?", Args: []any{accountID}},
		{SQL: "EXISTS (SELECT 1 FROM " + from + " WHERE (" + seen.SQL + ") AND releases.id = artifacts.release_id)", Args: seen.Args},
	}, filters(accountID, uploadedOnly, f)...)...), nil
}

// visible is the query of the artifacts sight admits.
func (s *Store) visible(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Artifact{})
	c, err := s.sight(ctx, accountID, who, uploadedOnly, f, now)
	if err != nil {
		_ = q.AddError(err)
		return q
	}
	return q.Where(c.SQL, c.Args...)
}

// filters are the conditions of an artifact filter (and of uploadedOnly),
// in a fixed order so that each combination is one statement text.
func filters(accountID string, uploadedOnly bool, f Filter) []database.Clause {
	var conds []database.Clause
	if uploadedOnly {
		conds = append(conds, database.Clause{SQL: "artifacts.status = ?", Args: []any{Uploaded}})
	}
	for _, c := range [...]struct{ column, value string }{{"artifacts.release_id", f.Release}, {"artifacts.product_id", f.Product},
		{"artifacts.platform", strings.ToLower(f.Platform)}, {"artifacts.arch", strings.ToLower(f.Arch)}} {
		if c.value != "" {
			conds = append(conds, database.Clause{SQL: c.column + " = ?", Args: []any{c.value}})
		}
	}
	if f.Channel != "" {
		conds = append(conds, database.Clause{SQL: "artifacts.release_id IN (SELECT id FROM releases WHERE account_id = ? AND channel IN ?)", Args: []any{accountID, release.Includes(f.Channel)}})
	}
	if f.Package != nil {
		ids := release.PackagedIDs(accountID, *f.Package)
		conds = append(conds, database.Clause{SQL: "artifacts.release_id IN (" + ids.SQL + ")", Args: ids.Args})
	}
	if f.Status != "" {
		conds = append(conds, database.Clause{SQL: "artifacts.status = ?", Args: []any{strings.ToUpper(f.Status)}})
	}
	if f.Filetype != "" {
		conds = append(conds, database.Clause{SQL: "artifacts.filetype = ?", Args: []any{strings.TrimPrefix(strings.ToLower(f.Filetype), ".")}})
	}
	switch {
	case f.Engine == nil:
	case *f.Engine == "":
		conds = append(conds, database.Clause{SQL: "artifacts.release_id NOT IN (SELECT releases.id FROM releases JOIN packages ON packages.id = releases.package_id " +
			"WHERE releases.account_id = ? AND packages.engine IS NOT NULL)", Args: []any{accountID}})
	default:
		conds = append(conds, database.Clause{SQL: "artifacts.release_id IN (SELECT releases.id FROM releases JOIN packages ON packages.id = releases.package_id " +
			"WHERE releases.account_id = ? AND packages.engine = ?)", Args: []any{accountID, strings.ToLower(*f.Engine)}})
	}
	return conds
}

// Find returns an artifact by id, else the one with the filename in the
// newest visible release (of the uploaded ones when uploadedOnly).
func (s *Store) Find(ctx context.Context, accountID, ref string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time) (*Artifact, error) {
	notFound := apperr.NotFoundResource("artifact", ref)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		// The download's lookup: a statement of its own, no GORM build.
		c, err := s.sight(ctx, accountID, who, false, f, now)
		if err != nil {
			return nil, database.Error(err)
		}
		return database.TakeRaw[Artifact](ctx, s.db, notFound, "SELECT artifacts.* FROM artifacts WHERE "+c.SQL+" AND artifacts.id = ? LIMIT 1", append(c.Args, ref)...)
	}
	if f.Release != "" {
		// The release was found within the product and package: its file
		// is one entry of artifacts_release_filename_idx (walked, the
		// planner went through the product's releases to it).
		f.Package = nil
		q := s.visible(ctx, accountID, who, uploadedOnly, f, now).Where("artifacts.filename = ?", ref)
		if s.db.Engine == database.Postgres {
			// Behind a fence (OFFSET 0): without statistics the planner
			// ANDed the account's index into the lookup.
			q = q.Table("(SELECT * FROM artifacts WHERE artifacts.release_id = ? AND artifacts.filename = ? OFFSET 0) AS artifacts", f.Release, ref)
		}
		return database.Take[Artifact](q, notFound)
	}
	// A walk of the visible releases newest first (releases_latest_idx),
	// each probed for the filename (artifacts_release_filename_idx), that
	// stops at the first match: no candidate list, no sort.
	q := s.releases.Scoped(ctx, accountID, who, now).
		Joins("JOIN artifacts ON artifacts.release_id = releases.id AND artifacts.filename = ?", ref).
		// The account lets a planner that leads with the filename (one
		// with statistics, when the name is rare) take
		// artifacts_account_filename_idx instead of reading every entry of
		// artifacts_release_filename_idx.
		Where("artifacts.account_id = ?", accountID).
		Select("artifacts.*").Order(release.LatestFirst)
	if f.Product != "" {
		q = q.Where("releases.product_id = ?", f.Product)
	}
	if f.Package != nil {
		// On the walked releases: as a list of the package's releases, the
		// narrowing read every one of them before the walk.
		q, f.Package = s.releases.InPackageOf(q, accountID, *f.Package), nil
	}
	for _, c := range filters(accountID, uploadedOnly, f) {
		q = q.Where(c.SQL, c.Args...)
	}
	return database.Take[Artifact](q, notFound)
}

// List returns a page of visible artifacts.
func (s *Store) List(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time, p page.Request) ([]Artifact, int64, error) {
	return database.PaginateIn[Artifact](s.visible(ctx, accountID, who, uploadedOnly, f, now), "artifacts", p, nil)
}

// Waiting returns waiting artifacts created since, oldest first.
func (s *Store) Waiting(ctx context.Context, since time.Time, limit int) ([]Artifact, error) {
	var out []Artifact
	err := s.db.Conn(ctx).Where(waiting+" AND created_at >= ?", since).Order("created_at").Limit(limit).Find(&out).Error
	return out, database.Error(err)
}

// CountDownload adds one download to the artifact's release (through the
// tally: written within a quarter of a second, not on the request path).
func (s *Store) CountDownload(_ context.Context, releaseID string) error {
	s.downloads.Count(releaseID)
	return nil
}
