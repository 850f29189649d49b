// Package catalog is the read-only list of the channels, platforms, arches
// and engines an account's releases, artifacts and packages use. Entries
// are recorded the first time something uses their key and never edited;
// a bearer sees the ones used by what it may see.
package catalog

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/page"
)

// Kinds of entries, named as their resources.
const (
	Channels  = "channels"
	Platforms = "platforms"
	Arches    = "arches"
	Engines   = "engines"
)

// Kinds lists every kind.
var Kinds = []string{Channels, Platforms, Arches, Engines}

// Singular names one entry of a kind ("platform"), as permissions and
// errors do.
func Singular(kind string) string {
	if kind == Arches {
		return "arch"
	}
	return kind[:len(kind)-1]
}

// Recorder records the keys releases, artifacts and packages use (the
// store; their services take it as this).
type Recorder interface {
	Use(ctx context.Context, accountID, kind string, keys ...string) error
}

// Entry is one recorded key.
type Entry struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	Kind      string
	Key       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the entries' table.
func (Entry) TableName() string { return "catalog_entries" }

// Service reads the catalog.
type Service struct {
	store *Store
	now   func() time.Time
}

// NewService returns the catalog reader.
func NewService(store *Store) *Service { return &Service{store: store, now: time.Now} }

// mayRead admits whom MayReadPublic does, in the request's account t.
func mayRead(who *access.Principal, t *account.Tenant, kind string) error {
	if err := who.In(t.ID); err != nil {
		return err
	}
	return access.MayReadPublic(who, Singular(kind)+".read")
}

// List returns a page of the entries of a kind who may see; a product id
// narrows them to the ones its releases, artifacts or packages use ("" for
// every product).
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, kind, productID string, p page.Request) ([]Entry, int64, error) {
	if err := mayRead(who, t, kind); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, kind, productID, who, s.now(), p)
}

// Find returns an entry of a kind by id or key that who may see, among a
// product's when productID is not "".
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, kind, productID, ref string) (*Entry, error) {
	if err := mayRead(who, t, kind); err != nil {
		return nil, err
	}
	return s.store.Find(ctx, t.ID, kind, productID, ref, who, s.now())
}
