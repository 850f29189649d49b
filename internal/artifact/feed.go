package artifact

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/release"
)

// Pick is the artifacts an updater can install: uploaded, of one of the
// platforms and arches (any when empty), whose filename ends with one of
// Suffixes (any when empty) and with none of Excluded (case-insensitive).
type Pick struct {
	Platforms, Arches  []string
	Suffixes, Excluded []string
}

// Offering asks for releases on a line that have an artifact of the pick:
// the newest Limit of them, or (Oldest) the oldest; Intermediate keeps only
// those whose metadata marks them requiredIntermediate.
type Offering struct {
	Line         release.Line
	Pick         Pick
	Oldest       bool
	Intermediate bool
	Limit        int
}

// Offers answers the feeds' queries over the artifact store.
type Offers struct {
	store *Store
	now   func() time.Time
}

// NewOffers returns the feeds' queries.
func NewOffers(store *Store) *Offers { return &Offers{store: store, now: time.Now} }

// Offered returns the releases who may see that the offering asks for, in
// one query: a walk of the line in version order (releases_latest_idx),
// each release probed for a picked artifact (artifacts_release_filename_idx).
func (o *Offers) Offered(ctx context.Context, who *access.Principal, t *account.Tenant, of Offering) ([]release.Release, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	s := o.store
	q := s.releases.OnLine(ctx, t.ID, who, o.now(), of.Line).Where(s.probe(), s.picked(ctx, of.Pick))
	if of.Intermediate {
		q = q.Where(s.requiredIntermediate())
	}
	order := release.LatestFirst
	if of.Oldest {
		order = strings.ReplaceAll(order, "DESC", "ASC")
	}
	var out []release.Release
	err := database.Find(q.Order(order).Limit(max(of.Limit, 1)), &out)
	return out, err
}

// requiredIntermediate holds for releases whose metadata has
// requiredIntermediate: true (stored snake_cased, as all metadata keys).
func (s *Store) requiredIntermediate() string {
	if s.db.Engine == database.Postgres {
		return "releases.metadata->>'required_intermediate' = 'true'"
	}
	return "json_extract(releases.metadata, '$.required_intermediate') = 1"
}

// Files returns the uploaded artifacts of releases the caller found through
// Offered (so visible to it), oldest first, at most 100 per release: one
// lookup of artifacts_release_filename_idx per release (ofReleases), sorted
// here (with an ORDER BY the planner walked the account's artifacts in
// creation order).
func (o *Offers) Files(ctx context.Context, t *account.Tenant, releaseIDs []string) ([]Artifact, error) {
	if len(releaseIDs) == 0 {
		return nil, nil
	}
	var out []Artifact
	err := database.Find(o.store.ofReleases(ctx, releaseIDs).
		Where("artifacts.account_id = ? AND artifacts.status = ?", t.ID, Uploaded).
		Limit(100*len(releaseIDs)), &out)
	slices.SortFunc(out, func(a, b Artifact) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, err
}

// ofReleases is the artifacts of the releases with the ids, read by
// artifacts_release_filename_idx one release at a time: without statistics
// (a bulk load, a new account) SQLite took the account's index and
// PostgreSQL read the table whole for a list of releases. SQLite is told
// the index; PostgreSQL joins each release to its artifacts laterally,
// behind a fence (OFFSET 0) that keeps the other conditions out of the
// lookup.
func (s *Store) ofReleases(ctx context.Context, ids []string) *gorm.DB {
	if s.db.Engine == database.Postgres {
		return s.db.Conn(ctx).Table(`(SELECT a.* FROM releases r CROSS JOIN LATERAL
			(SELECT * FROM artifacts WHERE artifacts.release_id = r.id OFFSET 0) a WHERE r.id IN ?) AS artifacts`, ids)
	}
	return s.db.Conn(ctx).Table("artifacts INDEXED BY artifacts_release_filename_idx").Where("artifacts.release_id IN ?", ids)
}

// probe is the condition that a release has an artifact of the picked
// query. On PostgreSQL a fence (OFFSET 0) keeps it a subplan run per
// release of the walk, which stops at the limit: as a semi-join, the
// planner without statistics read every artifact of the table first.
func (s *Store) probe() string {
	if s.db.Engine == database.Postgres {
		return "EXISTS (? OFFSET 0)"
	}
	return "EXISTS (?)"
}

// picked is the probe of a release for an artifact of the pick.
func (s *Store) picked(ctx context.Context, p Pick) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Artifact{}).Select("1").
		Where("artifacts.release_id = releases.id AND artifacts.status = ?", Uploaded)
	if len(p.Platforms) > 0 {
		q = q.Where("artifacts.platform IN ?", p.Platforms)
	}
	if len(p.Arches) > 0 {
		q = q.Where("artifacts.arch IN ?", p.Arches)
	}
	if len(p.Suffixes) > 0 {
		conds, args := make([]string, len(p.Suffixes)), make([]any, len(p.Suffixes))
		for i, suffix := range p.Suffixes {
			conds[i], args[i] = "LOWER(artifacts.filename) LIKE ?", "%"+strings.ToLower(suffix)
		}
		q = q.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	for _, suffix := range p.Excluded {
		q = q.Where("LOWER(artifacts.filename) NOT LIKE ?", "%"+strings.ToLower(suffix))
	}
	return q
}
