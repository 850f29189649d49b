// Package releasepackage groups a product's releases under a key (a CLI and
// its plugins, an app and its helper…): versions are unique per product and
// package, and upgrades stay within a package. Keygen calls these packages.
package releasepackage

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Package is a stored package.
type Package struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	ProductID string
	Name      string
	Key       string
	Engine    *string
	Metadata  map[string]any `gorm:"serializer:json"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Params are the writable attributes.
type Params struct {
	Name     optional.Value[string]         `json:"name"`
	Key      optional.Value[string]         `json:"key"`
	Engine   optional.Value[*string]        `json:"engine"`
	Metadata optional.Value[map[string]any] `json:"metadata"`
}

// Engines are the package managers a package may be served through.
var Engines = []string{"pypi", "tauri", "raw", "rubygems", "npm", "oci", "electron", "squirrel", "sparkle", "faynosync", "velopack", "composer"}

// Products resolves the product a package is created for, as who sees it.
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// Service holds the package rules.
type Service struct {
	store    *Store
	products Products
	catalog  catalog.Recorder
	events   event.Emitter
}

// NewService returns the package rules; events records what they change.
func NewService(store *Store, products Products, recorder catalog.Recorder, events event.Emitter) *Service {
	return &Service{store: store, products: products, catalog: recorder, events: events}
}

// pypiSeparators are collapsed in PyPI keys, as PEP 503 normalizes names.
var pypiSeparators = regexp.MustCompile(`[-_.]+`)

func apply(p *Package, in Params) error {
	in.Name.Apply(&p.Name)
	in.Key.Apply(&p.Key)
	if in.Engine.Set {
		p.Engine = nil
		if in.Engine.V != nil && strings.TrimSpace(*in.Engine.V) != "" {
			engine := strings.ToLower(strings.TrimSpace(*in.Engine.V))
			if !slices.Contains(Engines, engine) {
				return apperr.Attribute("engine", "NOT_ALLOWED", "must be one of "+strings.Join(Engines, ", "))
			}
			p.Engine = &engine
		}
	}
	p.Name, p.Key = strings.TrimSpace(p.Name), strings.TrimSpace(p.Key)
	if p.Engine != nil && *p.Engine == "pypi" {
		p.Key = pypiSeparators.ReplaceAllString(strings.ToLower(p.Key), "-")
	}
	switch {
	case p.Name == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case len(p.Name) > 255:
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	case p.Key == "":
		return apperr.Attribute("key", "MISSING", "can't be blank")
	case len(p.Key) > 255:
		return apperr.Attribute("key", "TOO_LONG", "is too long (maximum is 255 characters)")
	case uuid.Validate(p.Key) == nil:
		return apperr.Attribute("key", "INVALID", "must not be a UUID")
	}
	if in.Metadata.Set {
		p.Metadata = in.Metadata.V
		if p.Metadata == nil {
			p.Metadata = map[string]any{}
		}
	}
	return nil
}

// Create adds a package to a product who may see.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, productRef string, in Params) (*Package, error) {
	if err := who.Require("package.create"); err != nil {
		return nil, err
	}
	notFound := apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", apperr.Rel("product"))
	if productRef == "" {
		return nil, notFound
	}
	productID, err := s.products.VisibleID(ctx, who, t, productRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	p := &Package{ID: id.New(), AccountID: t.ID, ProductID: productID, Metadata: map[string]any{}}
	if err := apply(p, in); err != nil {
		return nil, err
	}
	return p, s.store.Create(ctx, p, s.recorded(who, event.PackageCreated))
}

// recorded returns what a package's creation or update does in its
// transaction: register its engine and record the event name.
func (s *Service) recorded(who *access.Principal, name string) func(ctx context.Context, p *Package) error {
	return func(ctx context.Context, p *Package) error {
		if err := s.useEngine(ctx, p); err != nil {
			return err
		}
		return s.events.Emit(ctx, occurred(who, name, p))
	}
}

func occurred(who *access.Principal, name string, p *Package) event.Occurrence {
	return event.Occurrence{Event: name, AccountID: p.AccountID, Resource: p, Who: who}
}

func (s *Service) useEngine(ctx context.Context, p *Package) error {
	if p.Engine == nil {
		return nil
	}
	return s.catalog.Use(ctx, p.AccountID, catalog.Engines, *p.Engine)
}

// Find returns a package by id or key that who may see.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Package, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	p, err := s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	if err != nil {
		return nil, err
	}
	return p, access.MayReadPublic(who, "package.read")
}

// Filter narrows a package list.
type Filter struct {
	ProductID, Engine string
}

// List returns a page of the packages who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, pr page.Request) ([]Package, int64, error) {
	if err := who.In(t.ID); err != nil {
		return nil, 0, err
	}
	if err := access.MayReadPublic(who, "package.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), f, pr)
}

// MaxListed is how many packages a registry's list of names holds.
const MaxListed = 1000

// ByEngine returns the packages of an engine who may see, by key, at most
// MaxListed (a package registry's list of names).
func (s *Service) ByEngine(ctx context.Context, who *access.Principal, t *account.Tenant, engine string) ([]Package, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	if err := access.MayReadPublic(who, "package.read"); err != nil {
		return nil, err
	}
	return s.store.ByEngine(ctx, t.ID, access.ScopeOf(who), engine, MaxListed)
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Package, error) {
	return access.Visible(who, permission, func() (*Package, error) {
		return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	})
}

// Update changes a package; its product is fixed.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, in Params) (*Package, error) {
	p, err := s.visible(ctx, who, t, ref, "package.update")
	if err != nil {
		return nil, err
	}
	if err := apply(p, in); err != nil {
		return nil, err
	}
	return p, s.store.Save(ctx, p, s.recorded(who, event.PackageUpdated))
}

// Delete removes a package and, as in Keygen, its releases.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	p, err := s.visible(ctx, who, t, ref, "package.delete")
	if err != nil {
		return err
	}
	return s.events.Change(ctx, func(ctx context.Context) error { return s.store.Delete(ctx, p) },
		func() event.Occurrence { return occurred(who, event.PackageDeleted, p) })
}

// IDOf resolves a package of the product by id or key, as who sees it, for
// a release to belong to; a package the product lacks is PACKAGE_NOT_FOUND.
func (s *Service) IDOf(ctx context.Context, who *access.Principal, t *account.Tenant, productID, ref string) (string, error) {
	p, err := s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	if apperr.Is(err, apperr.NotFound) || err == nil && p.ProductID != productID {
		return "", apperr.At(apperr.Unprocessable, "PACKAGE_NOT_FOUND", "must exist", apperr.Rel("package"))
	}
	if err != nil {
		return "", err
	}
	return p.ID, nil
}
