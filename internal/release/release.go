// Package release is a published version of a product, in a channel, that
// entitled licenses can see and upgrade to. Versions are stored in sortable
// semver columns so "latest" and "upgrade" are single indexed queries.
package release

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Release statuses.
const (
	Draft     = "DRAFT"
	Published = "PUBLISHED"
	Yanked    = "YANKED"
)

// Release is a stored release.
type Release struct {
	ID              string `gorm:"primaryKey"`
	AccountID       string
	ProductID       string
	PackageID       *string
	Name            *string
	Description     *string
	Channel         string
	Status          string
	Version         string
	Tag             *string
	SemverMajor     int64
	SemverMinor     int64
	SemverPatch     int64
	SemverPreWord   *string
	SemverPreNum    *int64
	SemverBuildWord *string
	SemverBuildNum  *int64
	BackdatedTo     *time.Time
	YankedAt        *time.Time
	DownloadCount   int64
	Metadata        map[string]any `gorm:"serializer:json"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Params are the writable attributes of a release.
type Params struct {
	Name        optional.Value[*string]        `json:"name"`
	Description optional.Value[*string]        `json:"description"`
	Channel     optional.Value[string]         `json:"channel"`
	Status      optional.Value[string]         `json:"status"`
	Version     optional.Value[string]         `json:"version"`
	Tag         optional.Value[*string]        `json:"tag"`
	Backdated   optional.Value[*time.Time]     `json:"backdated"`
	Metadata    optional.Value[map[string]any] `json:"metadata"`
}

// Products resolves the product a release is created for, as who sees it.
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, ref string) (string, error)
}

// Service holds the release rules.
type Service struct {
	store        *Store
	products     Products
	entitlements *entitlement.Service
	now          func() time.Time
}

// NewService returns the release rules.
func NewService(store *Store, products Products, entitlements *entitlement.Service) *Service {
	return &Service{store: store, products: products, entitlements: entitlements, now: time.Now}
}

// accountOf is the account of the request; anonymous callers name it.
func accountOf(who *access.Principal, accountID string) string {
	if who != nil {
		return who.AccountID
	}
	return accountID
}

// mayRead admits anonymous callers (scope limits them to open products)
// and principals with the permission.
func mayRead(who *access.Principal, permission string) error {
	if who == nil {
		return nil
	}
	return who.Require(permission)
}

// Create adds a release to a product who may see.
func (s *Service) Create(ctx context.Context, who *access.Principal, productRef string, p Params, constraints []string) (*Release, error) {
	if err := who.Require("release.create"); err != nil {
		return nil, err
	}
	if len(constraints) > 0 {
		if err := who.Require("release.constraints.attach"); err != nil {
			return nil, err
		}
	}
	notFound := apperr.AtPointer(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", "/data/relationships/product")
	if productRef == "" {
		return nil, notFound
	}
	productID, err := s.products.VisibleID(ctx, who, productRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if !p.Channel.Set || !slices.Contains(channels, p.Channel.V) {
		return nil, apperr.Attribute("channel", "NOT_ALLOWED", "must be one of stable, rc, beta, alpha, dev")
	}
	if !p.Version.Set {
		return nil, apperr.Attribute("version", "MISSING", "can't be blank")
	}
	version, sv, err := ParseVersion(p.Version.V, p.Channel.V)
	if err != nil {
		return nil, err
	}
	status := p.Status.Or(Draft)
	if status != Draft && status != Published {
		return nil, apperr.Attribute("status", "NOT_ALLOWED", "must be DRAFT or PUBLISHED")
	}
	r := &Release{
		ID: id.New(), AccountID: who.AccountID, ProductID: productID, Channel: p.Channel.V, Status: status, Version: version,
		SemverMajor: sv.Major, SemverMinor: sv.Minor, SemverPatch: sv.Patch, SemverPreWord: sv.PreWord, SemverPreNum: sv.PreNum,
		SemverBuildWord: sv.BuildWord, SemverBuildNum: sv.BuildNum, Metadata: map[string]any{},
	}
	if err := s.apply(r, p); err != nil {
		return nil, err
	}
	return r, s.store.Create(ctx, r, func(ctx context.Context) error {
		if len(constraints) == 0 {
			return nil
		}
		t := entitlement.ReleaseTarget(r.ID)
		t.Pointer, t.Code = "/data/relationships/constraints/data", "CONSTRAINTS_"
		_, err := s.entitlements.Attach(ctx, who, "release.constraints.attach", t, constraints)
		return err
	})
}

func (s *Service) apply(r *Release, p Params) error {
	p.Name.Apply(&r.Name)
	p.Description.Apply(&r.Description)
	if r.Description != nil && len(*r.Description) > 16<<10 {
		return apperr.Attribute("description", "TOO_LONG", "is too long (maximum is 16384 characters)")
	}
	if p.Tag.Set {
		r.Tag = p.Tag.V
		if r.Tag != nil {
			tag := strings.TrimSpace(*r.Tag)
			if tag == "" || len(tag) > 255 {
				return apperr.Attribute("tag", "INVALID", "must be 1 to 255 characters")
			}
			r.Tag = &tag
		}
	}
	if p.Backdated.Set {
		if p.Backdated.V != nil && p.Backdated.V.After(s.now()) {
			return apperr.Attribute("backdated", "INVALID", "must be in the past")
		}
		r.BackdatedTo = p.Backdated.V
	}
	if p.Metadata.Set {
		r.Metadata = p.Metadata.V
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
	}
	return nil
}

// Find returns a release by id, version or tag (the oldest match), of one
// product when productRef is given, that who may see.
func (s *Service) Find(ctx context.Context, who *access.Principal, accountID, ref, productRef string) (*Release, error) {
	r, err := s.store.Find(ctx, accountOf(who, accountID), ref, productRef, access.ScopeOf(who), s.now())
	if err != nil {
		return nil, err
	}
	return r, mayRead(who, "release.read")
}

// Filter narrows a release list.
type Filter struct {
	ProductID, Channel, Status string
}

// List returns a page of the releases who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, accountID string, f Filter, p page.Request) ([]Release, int64, error) {
	if err := mayRead(who, "release.read"); err != nil {
		return nil, 0, err
	}
	if f.Channel != "" && Includes(f.Channel) == nil {
		return nil, 0, nil
	}
	return s.store.List(ctx, accountOf(who, accountID), access.ScopeOf(who), f, s.now(), p)
}

// change loads a release who may see and requires the permission.
func (s *Service) change(ctx context.Context, who *access.Principal, ref, permission string) (*Release, error) {
	return access.Visible(who, permission, func() (*Release, error) {
		return s.store.Find(ctx, who.AccountID, ref, "", access.ScopeOf(who), s.now())
	})
}

// Update changes a release; version and channel are fixed.
func (s *Service) Update(ctx context.Context, who *access.Principal, ref string, p Params) (*Release, error) {
	r, err := s.change(ctx, who, ref, "release.update")
	if err != nil {
		return nil, err
	}
	for attr, set := range map[string]bool{"version": p.Version.Set, "channel": p.Channel.Set, "status": p.Status.Set} {
		if set {
			return nil, apperr.AtPointer(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", "/data/attributes/"+attr)
		}
	}
	if err := s.apply(r, p); err != nil {
		return nil, err
	}
	return r, s.store.Save(ctx, r)
}

// Delete removes a release.
func (s *Service) Delete(ctx context.Context, who *access.Principal, ref string) error {
	r, err := s.change(ctx, who, ref, "release.delete")
	if err != nil {
		return err
	}
	return s.store.Delete(ctx, r)
}

// Publish makes a release visible to licenses; Yank withdraws it.
func (s *Service) Publish(ctx context.Context, who *access.Principal, ref string) (*Release, error) {
	r, err := s.change(ctx, who, ref, "release.publish")
	if err != nil {
		return nil, err
	}
	r.Status, r.YankedAt = Published, nil
	return r, s.store.Save(ctx, r)
}

// Yank withdraws a release.
func (s *Service) Yank(ctx context.Context, who *access.Principal, ref string) (*Release, error) {
	r, err := s.change(ctx, who, ref, "release.yank")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r.Status, r.YankedAt = Yanked, &now
	return r, s.store.Save(ctx, r)
}

// Upgrade finds the newest published release who may see that is greater
// than the current one: same product and package, in the current release's
// channel unless another is given, within the constraint. None is a 404.
func (s *Service) Upgrade(ctx context.Context, who *access.Principal, accountID, ref, productRef, channel, constraint string) (current, next *Release, err error) {
	c, err := ParseConstraint(constraint)
	if err != nil {
		return nil, nil, err
	}
	current, err = s.store.Find(ctx, accountOf(who, accountID), ref, productRef, access.ScopeOf(who), s.now())
	if err != nil {
		return nil, nil, err
	}
	if err := mayRead(who, "release.upgrade"); err != nil {
		return nil, nil, err
	}
	if channel == "" {
		channel = current.Channel
	}
	included := Includes(channel)
	if included == nil {
		return nil, nil, ErrNoUpgrade
	}
	next, err = s.store.Next(ctx, current, included, c, access.ScopeOf(who), s.now())
	return current, next, err
}

// ErrNoUpgrade is the 404 of an upgrade request with no newer release.
var ErrNoUpgrade = apperr.New(apperr.NotFound, "NOT_FOUND", "upgrade not available")

// Catalog answers validation's version and checksum scopes.
type Catalog struct{ store *Store }

// NewCatalog returns the catalog over the release store.
func NewCatalog(store *Store) *Catalog { return &Catalog{store: store} }

// HasVersion reports whether the license can see a published release of
// its product with exactly this version.
func (c *Catalog) HasVersion(ctx context.Context, accountID, licenseID, productID, version string) (bool, error) {
	_, err := c.store.Find(ctx, accountID, version, productID, access.Scope{LicenseID: licenseID}, time.Now())
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Checksum returns the version of the newest release the license can see
// with an uploaded artifact of this checksum ("" when none).
func (c *Catalog) Checksum(ctx context.Context, accountID, licenseID, productID, checksum string) (string, error) {
	var versions []string
	err := c.store.scoped(ctx, accountID, access.Scope{LicenseID: licenseID}, time.Now()).
		Where("releases.product_id = ? AND releases.id IN (SELECT release_id FROM artifacts WHERE account_id = ? AND checksum = ? AND status = 'UPLOADED')",
			productID, accountID, checksum).
		Order(latest).Limit(1).Pluck("releases.version", &versions).Error
	if err != nil || len(versions) == 0 {
		return "", database.Error(err)
	}
	return versions[0], nil
}
