package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
)

// Releases gives the subquery of the ids of the releases who may see.
type Releases interface {
	VisibleIDs(ctx context.Context, accountID string, who *access.Principal, now time.Time) *gorm.DB
}

// Packages gives the subquery of the ids of the packages who may see.
type Packages interface {
	VisibleIDs(ctx context.Context, accountID string, who *access.Principal) *gorm.DB
}

// Store persists catalog entries.
type Store struct {
	db       *database.DB
	releases Releases
	packages Packages
}

// NewStore returns the catalog store; visibility follows the releases' and
// packages' stores.
func NewStore(db *database.DB, releases Releases, packages Packages) *Store {
	return &Store{db: db, releases: releases, packages: packages}
}

// Use records keys of a kind for the account; known keys are left as they are.
func (s *Store) Use(ctx context.Context, accountID, kind string, keys ...string) error {
	now := database.Now()
	for _, key := range keys {
		e := &Entry{ID: id.New(), AccountID: accountID, Kind: kind, Key: key, CreatedAt: now, UpdatedAt: now}
		err := s.db.Conn(ctx).Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "account_id"}, {Name: "kind"}, {Name: "key"}}, DoNothing: true,
		}).Create(e).Error
		if err != nil {
			return database.Error(err)
		}
	}
	return nil
}

// scoped reaches every entry for staff; others see the keys used by the
// releases, artifacts or packages they may see. A product narrows the
// entries to the keys its releases, artifacts or packages use.
func (s *Store) scoped(ctx context.Context, accountID, kind, productID string, who *access.Principal, now time.Time) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Entry{}).Where("account_id = ? AND kind = ?", accountID, kind)
	if productID != "" {
		q = q.Where("key IN ("+usedBy[kind]+" AND product_id = ?)", productID)
	}
	if access.ScopeOf(who).All {
		return q
	}
	switch kind {
	case Channels:
		return q.Where("key IN (SELECT channel FROM releases WHERE id IN (?))", s.releases.VisibleIDs(ctx, accountID, who, now))
	case Platforms, Arches:
		column := map[string]string{Platforms: "platform", Arches: "arch"}[kind]
		return q.Where("key IN (SELECT "+column+" FROM artifacts WHERE release_id IN (?))", s.releases.VisibleIDs(ctx, accountID, who, now))
	}
	return q.Where("key IN (SELECT engine FROM packages WHERE id IN (?))", s.packages.VisibleIDs(ctx, accountID, who))
}

// usedBy selects the keys of a kind the rows of a product use (the query
// ends in a WHERE its product condition extends).
var usedBy = map[string]string{
	Channels:  "SELECT channel FROM releases WHERE channel IS NOT NULL",
	Platforms: "SELECT platform FROM artifacts WHERE platform IS NOT NULL",
	Arches:    "SELECT arch FROM artifacts WHERE arch IS NOT NULL",
	Engines:   "SELECT engine FROM packages WHERE engine IS NOT NULL",
}

// Find returns an entry by id or key within the scope.
func (s *Store) Find(ctx context.Context, accountID, kind, productID, ref string, who *access.Principal, now time.Time) (*Entry, error) {
	q := s.scoped(ctx, accountID, kind, productID, who, now)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("key = ?", ref)
	}
	return database.Take[Entry](q, apperr.NotFoundResource(Singular(kind), ref))
}

// List returns a page of entries within the scope.
func (s *Store) List(ctx context.Context, accountID, kind, productID string, who *access.Principal, now time.Time, p page.Request) ([]Entry, int64, error) {
	return database.Paginate[Entry](s.scoped(ctx, accountID, kind, productID, who, now), p)
}
