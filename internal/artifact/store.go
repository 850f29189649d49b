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
	db       *database.DB
	releases *release.Store
}

// NewStore returns the artifact store; visibility follows the releases'.
func NewStore(db *database.DB, releases *release.Store) *Store {
	return &Store{db: db, releases: releases}
}

// Create inserts an artifact; the same filename twice in a release is FILENAME_TAKEN.
func (s *Store) Create(ctx context.Context, a *Artifact) error {
	return database.Insert(s.db.Conn(ctx), a, apperr.Attribute("filename", "TAKEN", "has already been taken"))
}

// SettleByKey marks the waiting artifact stored under key uploaded (or
// failed when its size differs from the declared filesize).
func (s *Store) SettleByKey(ctx context.Context, key string, size int64) error {
	a, err := database.Take[Artifact](s.db.Conn(ctx).Where("storage_key = ? AND status = ?", key, Waiting), nil)
	if err != nil || a == nil {
		return err
	}
	return s.Settle(ctx, a, size)
}

// Settle moves a waiting artifact to UPLOADED, or FAILED on a size mismatch.
func (s *Store) Settle(ctx context.Context, a *Artifact, size int64) error {
	status := Uploaded
	if a.Filesize != nil && *a.Filesize != size {
		status = Failed
	}
	return s.setStatus(ctx, a, Waiting, status)
}

// Fail moves a waiting artifact to FAILED.
func (s *Store) Fail(ctx context.Context, a *Artifact) error {
	return s.setStatus(ctx, a, Waiting, Failed)
}

// Yank moves an artifact to YANKED.
func (s *Store) Yank(ctx context.Context, a *Artifact) error {
	return s.setStatus(ctx, a, a.Status, Yanked)
}

// setStatus changes the status only from the expected one, so concurrent
// settlers agree.
func (s *Store) setStatus(ctx context.Context, a *Artifact, from, to string) error {
	res := s.db.Conn(ctx).Exec(`UPDATE artifacts SET status = ?, updated_at = ? WHERE id = ? AND status = ?`, to, database.Now(), a.ID, from)
	if res.Error != nil {
		return database.Error(res.Error)
	}
	if res.RowsAffected == 1 {
		a.Status = to
	}
	return nil
}

// visible restricts artifacts to those of releases who may see; when
// uploadedOnly, to uploaded ones.
func (s *Store) visible(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Artifact{}).Where("artifacts.account_id = ?", accountID).
		Where("artifacts.release_id IN (?)", s.releases.VisibleIDs(ctx, accountID, who, now))
	if uploadedOnly {
		q = q.Where("artifacts.status = ?", Uploaded)
	}
	for column, value := range map[string]string{"artifacts.release_id": f.Release, "artifacts.product_id": f.Product,
		"artifacts.platform": strings.ToLower(f.Platform), "artifacts.arch": strings.ToLower(f.Arch)} {
		if value != "" {
			q = q.Where(column+" = ?", value)
		}
	}
	if f.Channel != "" {
		q = q.Where("artifacts.release_id IN (SELECT id FROM releases WHERE account_id = ? AND channel IN ?)", accountID, release.Includes(f.Channel))
	}
	return q
}

// byLatestRelease orders artifacts by their release's version, newest first.
const byLatestRelease = `releases.semver_major DESC, releases.semver_minor DESC, releases.semver_patch DESC,
	releases.semver_pre_word DESC NULLS FIRST, releases.semver_pre_num DESC NULLS LAST, releases.semver_build_word DESC NULLS LAST,
	releases.semver_build_num DESC NULLS LAST, artifacts.created_at DESC`

// Find returns an artifact by id, else the one with the filename in the
// newest visible release.
func (s *Store) Find(ctx context.Context, accountID, ref string, who *access.Principal, f Filter, now time.Time) (*Artifact, error) {
	q := s.visible(ctx, accountID, who, false, f, now)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("artifacts.id = ?", ref)
	} else {
		q = q.Where("artifacts.filename = ?", ref).Joins("JOIN releases ON releases.id = artifacts.release_id").
			Select("artifacts.*").Order(byLatestRelease)
		if who == nil || !(who.Staff() || who.BearerType == access.BearerProduct) {
			q = q.Where("artifacts.status = ?", Uploaded)
		}
	}
	return database.Take[Artifact](q, apperr.NotFoundResource("artifact", ref))
}

// List returns a page of visible artifacts.
func (s *Store) List(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time, p page.Request) ([]Artifact, int64, error) {
	return database.PaginateIn[Artifact](s.visible(ctx, accountID, who, uploadedOnly, f, now), "artifacts", p, nil)
}

// Waiting returns waiting artifacts created since, oldest first.
func (s *Store) Waiting(ctx context.Context, since time.Time, limit int) ([]Artifact, error) {
	var out []Artifact
	err := s.db.Conn(ctx).Where("status = ? AND created_at >= ?", Waiting, since).Order("created_at").Limit(limit).Find(&out).Error
	return out, database.Error(err)
}

// CountDownload adds one download to the artifact's release.
func (s *Store) CountDownload(ctx context.Context, releaseID string) error {
	return s.releases.CountDownload(ctx, releaseID)
}
