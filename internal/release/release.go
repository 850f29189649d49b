// Package release is a published version of a product, in a channel, that
// entitled licenses can see and upgrade to. Versions are stored in sortable
// semver columns so "latest" and "upgrade" are single indexed queries.
package release

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
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

// Critical reports whether the release's metadata marks it critical
// (metadata critical: true), as feeds and the upgrade's meta tell clients.
func (r *Release) Critical() bool {
	v, _ := r.Metadata["critical"].(bool)
	return v
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
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// Packages resolves the package of a product a release belongs to.
type Packages interface {
	IDOf(ctx context.Context, who *access.Principal, t *account.Tenant, productID, ref string) (string, error)
}

// Downloads starts the clocks that count from a license's first download
// (an upgrade counts as one).
type Downloads interface {
	Downloaded(ctx context.Context, who *access.Principal, t *account.Tenant) error
}

// Records is the store the release rules read and write through (*Store).
// Sight, Find, Upgrade, Next and List decide visibility in SQL; the rules
// here only pass them the scope and the clock.
type Records interface {
	Sight(ctx context.Context, accountID string, sc access.Scope, now time.Time) (Sight, error)
	Find(ctx context.Context, v Sight, ref string, n Narrowing) (*Release, error)
	Upgrade(ctx context.Context, v Sight, ref string, n Narrowing, channel string, c *Constraint) (current, next *Release, err error)
	Next(ctx context.Context, v Sight, current *Release, channels []string, c *Constraint, files *Files) (*Release, error)
	List(ctx context.Context, accountID string, sc access.Scope, f Filter, now time.Time, p page.Request) ([]Release, int64, error)
	Create(ctx context.Context, r *Release, then func(ctx context.Context) error) error
	Save(ctx context.Context, r *Release) error
	Delete(ctx context.Context, r *Release) error
	OnlySuspended(ctx context.Context, accountID, userID, productID string) (bool, error)
}

var _ Records = (*Store)(nil)

// Constraints attaches the entitlements a new release is constrained by
// (*entitlement.Service).
type Constraints interface {
	Attach(ctx context.Context, who *access.Principal, t *account.Tenant, permission string, target entitlement.Target, ids []string) ([]entitlement.Attachment, error)
}

var _ Constraints = (*entitlement.Service)(nil)

// Service holds the release rules.
type Service struct {
	store        Records
	products     Products
	packages     Packages
	downloads    Downloads
	entitlements Constraints
	catalog      catalog.Recorder
	events       event.Changer
	upgrades     Hot
	now          func() time.Time
}

// Hot records the events of hot paths (upgrades) off the request path.
type Hot interface {
	Emit(event.Occurrence)
}

// NewService returns the release rules; events records their changes,
// upgrades the upgrades they find.
func NewService(store Records, products Products, packages Packages, downloads Downloads, entitlements Constraints, recorder catalog.Recorder, events event.Changer, upgrades Hot) *Service {
	return &Service{store: store, products: products, packages: packages, downloads: downloads, entitlements: entitlements, catalog: recorder,
		events: events, upgrades: upgrades, now: time.Now}
}

// Upgraded records release.upgraded, about the release upgraded to, as
// Keygen's upgrade routes do (feeds call it for the updates they offer).
func (s *Service) Upgraded(who *access.Principal, current, next *Release) {
	meta := map[string]any{"product": next.ProductID, "package": next.PackageID, "next": next.Version}
	if current != nil {
		meta["prev"] = current.Version
	}
	s.upgrades.Emit(event.Occurrence{Event: event.ReleaseUpgraded, AccountID: next.AccountID, Resource: next, Who: who, Metadata: meta})
}

// record makes a change to r and records its event in one transaction.
func (s *Service) record(ctx context.Context, who *access.Principal, name string, r *Release, change func(ctx context.Context) error) error {
	return s.events.Change(ctx, change, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: r.AccountID, Resource: r, Who: who}
	})
}

func (s *Service) save(ctx context.Context, who *access.Principal, name string, r *Release) error {
	return s.record(ctx, who, name, r, func(ctx context.Context) error { return s.store.Save(ctx, r) })
}

// Relations are the related resources a release is created with: its
// product and package (by id or key) and the entitlements it is
// constrained by.
type Relations struct {
	Product, Package string
	Constraints      []string
}

// Create adds a release to a product who may see.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, rel Relations, p Params) (*Release, error) {
	if err := who.Require("release.create"); err != nil {
		return nil, err
	}
	if len(rel.Constraints) > 0 {
		if err := who.Require("release.constraints.attach"); err != nil {
			return nil, err
		}
	}
	notFound := apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", apperr.Rel("product"))
	if rel.Product == "" {
		return nil, notFound
	}
	productID, err := s.products.VisibleID(ctx, who, t, rel.Product)
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
		// Keygen's typed params refuse any other status: a 400.
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "is invalid", apperr.Attr("status"))
	}
	r := &Release{
		ID: id.New(), AccountID: t.ID, ProductID: productID, Channel: p.Channel.V, Status: status, Version: version,
		SemverMajor: sv.Major, SemverMinor: sv.Minor, SemverPatch: sv.Patch, SemverPreWord: sv.PreWord, SemverPreNum: sv.PreNum,
		SemverBuildWord: sv.BuildWord, SemverBuildNum: sv.BuildNum, Metadata: map[string]any{},
	}
	if rel.Package != "" {
		packageID, err := s.packages.IDOf(ctx, who, t, productID, rel.Package)
		if err != nil {
			return nil, err
		}
		r.PackageID = &packageID
	}
	if err := s.apply(r, p); err != nil {
		return nil, err
	}
	err = s.record(ctx, who, event.ReleaseCreated, r, func(ctx context.Context) error {
		return s.store.Create(ctx, r, func(ctx context.Context) error {
			if err := s.catalog.Use(ctx, r.AccountID, catalog.Channels, r.Channel); err != nil || len(rel.Constraints) == 0 {
				return err
			}
			target := entitlement.ReleaseTarget(r.ID)
			target.Field, target.Code = apperr.Rel("constraints"), "CONSTRAINTS_"
			_, err := s.entitlements.Attach(ctx, who, t, "release.constraints.attach", target, rel.Constraints)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
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

// Narrowing limits a lookup by version or tag to one product (by id) and
// one package (by id or key; "" for releases without a package; nil for
// any package).
type Narrowing struct {
	Product string
	Package *string
}

// Find returns a release by id, version or tag (the oldest match) within
// the narrowing, that who may see.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n Narrowing) (*Release, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	r, err := s.find(ctx, t.ID, access.ScopeOf(who), ref, n)
	if err != nil {
		return nil, err
	}
	return r, access.MayReadPublic(who, "release.read")
}

// find looks a release up among those the scope sees.
func (s *Service) find(ctx context.Context, accountID string, sc access.Scope, ref string, n Narrowing) (*Release, error) {
	v, err := s.store.Sight(ctx, accountID, sc, s.now())
	if err != nil {
		return nil, err
	}
	return s.store.Find(ctx, v, ref, n)
}

// Show returns a release as Find does, refused (403) to a suspended or
// banned license.
func (s *Service) Show(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n Narrowing) (*Release, error) {
	r, err := s.Find(ctx, who, t, ref, n)
	if err != nil {
		return nil, err
	}
	return r, s.Refuse(ctx, who, t, r.ProductID)
}

var (
	errLicenseSuspended = apperr.New(apperr.Forbidden, "LICENSE_SUSPENDED", "You do not have permission to complete the request (license is suspended)")
	errLicenseBanned    = apperr.New(apperr.Forbidden, "LICENSE_BANNED", "You do not have permission to complete the request (license is banned)")
)

// Refuse is the 403 of a license bearer whose license is suspended or
// banned, and of a user all of whose licenses for the product are
// suspended: as in Keygen they may list a product's releases but not show,
// download or upgrade them (license-key authentication refuses such
// licenses outright; their activation tokens get this far).
func (s *Service) Refuse(ctx context.Context, who *access.Principal, t *account.Tenant, productID string) error {
	sc := access.ScopeOf(who)
	switch {
	case sc.LicenseID != "" && who.LicenseBanned:
		return errLicenseBanned
	case sc.LicenseID != "" && who.LicenseSuspended:
		return errLicenseSuspended
	case sc.UserID != "":
		suspended, err := s.store.OnlySuspended(ctx, t.ID, sc.UserID, productID)
		if err != nil || !suspended {
			return err
		}
		return errLicenseSuspended
	}
	return nil
}

// Filter narrows a release list; Package as in Narrowing. Entitlements,
// when set, keeps the releases whose constraints all are among these codes
// (Keygen's strict "within"), unconstrained ones included.
type Filter struct {
	ProductID, Channel, Status string
	Package                    *string
	Entitlements               *[]string
	// Yanked picks YANKED releases (true) or DRAFT and PUBLISHED ones.
	Yanked *bool
	// Engine picks releases whose package has the engine ("" for releases
	// without a package engine), as Keygen's for_engine.
	Engine *string
}

// List returns a page of the releases who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]Release, int64, error) {
	if err := who.In(t.ID); err != nil {
		return nil, 0, err
	}
	if err := access.MayReadPublic(who, "release.read"); err != nil {
		return nil, 0, err
	}
	if f.Channel != "" && Includes(f.Channel) == nil {
		return nil, 0, nil
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), f, s.now(), p)
}

// change loads a release who may see and requires the permission.
func (s *Service) change(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Release, error) {
	return access.Visible(who, permission, func() (*Release, error) {
		return s.find(ctx, t.ID, access.ScopeOf(who), ref, Narrowing{})
	})
}

// Update changes a release; version and channel are fixed.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Release, error) {
	r, err := s.change(ctx, who, t, ref, "release.update")
	if err != nil {
		return nil, err
	}
	// In a fixed order, so that the attribute named is the same every time.
	for _, fixed := range []struct {
		attr string
		set  bool
	}{{"version", p.Version.Set}, {"channel", p.Channel.Set}, {"status", p.Status.Set}} {
		if fixed.set {
			return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr(fixed.attr))
		}
	}
	if err := s.apply(r, p); err != nil {
		return nil, err
	}
	return r, s.save(ctx, who, event.ReleaseUpdated, r)
}

// Delete removes a release.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	r, err := s.change(ctx, who, t, ref, "release.delete")
	if err != nil {
		return err
	}
	return s.record(ctx, who, event.ReleaseDeleted, r, func(ctx context.Context) error { return s.store.Delete(ctx, r) })
}

// SetPackage moves a release into a package of its product (by id or key),
// or out of any package when packageRef is nil.
func (s *Service) SetPackage(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, packageRef *string) (*Release, error) {
	r, err := s.change(ctx, who, t, ref, "release.package.update")
	if err != nil {
		return nil, err
	}
	r.PackageID = nil
	if packageRef != nil {
		packageID, err := s.packages.IDOf(ctx, who, t, r.ProductID, *packageRef)
		if err != nil {
			return nil, err
		}
		r.PackageID = &packageID
	}
	return r, s.save(ctx, who, event.ReleasePackageUpdated, r)
}

// Publish makes a release visible to licenses; Yank withdraws it.
func (s *Service) Publish(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Release, error) {
	r, err := s.change(ctx, who, t, ref, "release.publish")
	if err != nil {
		return nil, err
	}
	r.Status, r.YankedAt = Published, nil
	return r, s.save(ctx, who, event.ReleasePublished, r)
}

// Yank withdraws a release.
func (s *Service) Yank(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Release, error) {
	r, err := s.change(ctx, who, t, ref, "release.yank")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r.Status, r.YankedAt = Yanked, &now
	return r, s.save(ctx, who, event.ReleaseYanked, r)
}

// Upgrade finds the newest published release who may see that is greater
// than the current one (found within the narrowing): same product and
// package, in the current release's channel unless another is given,
// within the constraint. None is a 404.
func (s *Service) Upgrade(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n Narrowing, channel, constraint string) (current, next *Release, err error) {
	if err := who.In(t.ID); err != nil {
		return nil, nil, err
	}
	c, err := ParseConstraint(constraint)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.store.Sight(ctx, t.ID, access.ScopeOf(who), s.now())
	if err != nil {
		return nil, nil, err
	}
	// The current release and the next in one statement; who may find one
	// without being allowed the other, so the answer is checked after.
	current, next, err = s.store.Upgrade(ctx, v, ref, n, channel, c)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayUpgrade(ctx, who, t, current); err != nil {
		return nil, nil, err
	}
	if next == nil {
		return nil, nil, ErrNoUpgrade
	}
	if err := s.downloads.Downloaded(ctx, who, t); err != nil {
		return nil, nil, err
	}
	s.Upgraded(who, current, next)
	return current, next, nil
}

// mayUpgrade refuses who an upgrade from current without release.upgrade,
// or when its licenses are suspended or banned.
func (s *Service) mayUpgrade(ctx context.Context, who *access.Principal, t *account.Tenant, current *Release) error {
	if err := access.MayReadPublic(who, "release.upgrade"); err != nil {
		return err
	}
	return s.Refuse(ctx, who, t, current.ProductID)
}

// next is the newest release in sight above current in the channel (and
// the channels it includes), within the constraint, with a file of the
// kind when files is set.
func (s *Service) next(ctx context.Context, who *access.Principal, t *account.Tenant, v Sight, current *Release, channel string, c *Constraint, files *Files) (*Release, error) {
	if err := s.mayUpgrade(ctx, who, t, current); err != nil {
		return nil, err
	}
	included := Includes(channel)
	if included == nil {
		return nil, ErrNoUpgrade
	}
	return s.store.Next(ctx, v, current, included, c, files)
}

// FileUpgrade is a Keygen-Version 1.0 upgrade check: from Version of
// Product (no release need have it) to the newest published release in
// Channel (stable when empty) within Constraint that has a file for
// Platform and Filetype.
type FileUpgrade struct {
	Product, Platform, Filetype, Version, Channel, Constraint string
}

// UpgradeFile finds the release a FileUpgrade leads to (ErrNoUpgrade when
// none), and the current release when one has the version. Missing or
// malformed parameters are 400 UPGRADE_<PARAMETER>_INVALID, as Keygen's.
// The caller records the upgrade (Upgraded) once it serves the file.
func (s *Service) UpgradeFile(ctx context.Context, who *access.Principal, t *account.Tenant, q FileUpgrade) (current, next *Release, err error) {
	if err := who.In(t.ID); err != nil {
		return nil, nil, err
	}
	invalid := func(parameter, detail string) error {
		return apperr.AtParameter(apperr.Invalid, "UPGRADE_"+strings.ToUpper(parameter)+"_INVALID", detail, parameter)
	}
	for _, p := range [][2]string{{"product", q.Product}, {"platform", q.Platform}, {"filetype", q.Filetype}, {"version", q.Version}} {
		if strings.TrimSpace(p[1]) == "" {
			return nil, nil, invalid(p[0], p[0]+" must be present")
		}
	}
	from, err := ClientVersion(q.Version)
	if err != nil {
		return nil, nil, invalid("version", "current version must be a valid semver: x.y.z or x.y.z-beta.1")
	}
	c, err := ParseConstraint(q.Constraint)
	if err != nil {
		return nil, nil, invalid("constraint", "version constraint must be valid: x, x.y, x.y.z")
	}
	if c != nil && (c.PreWord != nil || c.PreNum != nil || c.BuildWord != nil || c.BuildNum != nil) {
		return nil, nil, invalid("constraint", "version constraint cannot contain prerelease or build tags (use channel)")
	}
	if uuid.Validate(q.Product) != nil {
		return nil, nil, ErrNoUpgrade
	}
	v, err := s.store.Sight(ctx, t.ID, access.ScopeOf(who), s.now())
	if err != nil {
		return nil, nil, err
	}
	none := ""
	current, err = s.store.Find(ctx, v, from.Version, Narrowing{Product: q.Product, Package: &none})
	switch {
	case apperr.Is(err, apperr.NotFound):
		current, from.ProductID = nil, q.Product
	case err != nil:
		return nil, nil, err
	default:
		from = current
	}
	channel := q.Channel
	if channel == "" {
		channel = "stable"
	}
	next, err = s.next(ctx, who, t, v, from, channel, c, &Files{Platform: q.Platform, Filetype: q.Filetype})
	return current, next, err
}

// ErrNoUpgrade is the 404 of an upgrade request with no newer release.
var ErrNoUpgrade = apperr.New(apperr.NotFound, "NOT_FOUND", "upgrade not available")

// Catalog answers validation's version and checksum scopes.
type Catalog struct{ store *Store }

// NewCatalog returns the catalog over the release store.
func NewCatalog(store *Store) *Catalog { return &Catalog{store: store} }

// HasVersion reports whether the license of sc can see a published
// release of its product with exactly this version.
func (c *Catalog) HasVersion(ctx context.Context, accountID string, sc access.Scope, version string) (bool, error) {
	v, err := c.store.Sight(ctx, accountID, sc, time.Now())
	if err != nil {
		return false, err
	}
	_, err = c.store.Find(ctx, v, version, Narrowing{Product: sc.LicenseProductID})
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Checksum returns the version of the newest release the license of sc
// can see with an uploaded artifact of this checksum ("" when none).
func (c *Catalog) Checksum(ctx context.Context, accountID string, sc access.Scope, checksum string) (string, error) {
	var versions []string
	err := c.store.scoped(ctx, accountID, sc, time.Now()).
		Where("releases.product_id = ? AND releases.id IN (SELECT release_id FROM artifacts WHERE account_id = ? AND checksum = ? AND status = 'UPLOADED')",
			sc.LicenseProductID, accountID, checksum).
		Order(LatestFirst).Limit(1).Pluck("releases.version", &versions).Error
	if err != nil || len(versions) == 0 {
		return "", database.Error(err)
	}
	return versions[0], nil
}
