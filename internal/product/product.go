// Package product is what a vendor sells and ships: licenses, policies and
// releases all belong to a product. Its distribution strategy decides who
// may download its releases.
package product

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Distribution strategies.
const (
	Licensed = "LICENSED" // releases need a license for the product
	Open     = "OPEN"     // anyone may download unconstrained releases
	Closed   = "CLOSED"   // only admins and the product itself
)

// Product is a stored product.
type Product struct {
	ID                   string         `gorm:"column:id;primaryKey"`
	AccountID            string         `gorm:"column:account_id"`
	Name                 string         `gorm:"column:name"`
	Code                 *string        `gorm:"column:code"`
	DistributionStrategy string         `gorm:"column:distribution_strategy"`
	URL                  *string        `gorm:"column:url"`
	Platforms            []string       `gorm:"column:platforms;serializer:json"`
	Metadata             map[string]any `gorm:"column:metadata;serializer:json"`
	CreatedAt            time.Time      `gorm:"column:created_at"`
	UpdatedAt            time.Time      `gorm:"column:updated_at"`
}

// Params are the writable attributes; absent ones are left unchanged.
type Params struct {
	Name                 optional.Value[string]         `json:"name"`
	Code                 optional.Value[*string]        `json:"code"`
	DistributionStrategy optional.Value[*string]        `json:"distribution_strategy"`
	URL                  optional.Value[*string]        `json:"url"`
	Platforms            optional.Value[[]string]       `json:"platforms"`
	Metadata             optional.Value[map[string]any] `json:"metadata"`
}

// TokenRevoker deletes the tokens of a bearer that goes away.
type TokenRevoker interface {
	DeleteForBearer(ctx context.Context, accountID, bearerType, bearerID string) error
}

// Transactor runs functions in one database transaction, and records
// the events of the changes made in it.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Change(ctx context.Context, change func(ctx context.Context) error, occurred func() event.Occurrence) error
}

// Service holds the product rules.
type Service struct {
	store  *Store
	tx     Transactor
	tokens TokenRevoker
}

// NewService returns the product rules over store.
func NewService(store *Store, tx Transactor, tokens TokenRevoker) *Service {
	return &Service{store: store, tx: tx, tokens: tokens}
}

// VisibleID returns the id of a product who may see, whatever its
// permissions (to attach policies or licenses to it).
func (s *Service) VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error) {
	p, err := s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// Create validates and stores a new product.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*Product, error) {
	if err := who.Require("product.create"); err != nil {
		return nil, err
	}
	if !p.Name.Set {
		return nil, apperr.Attribute("name", "MISSING", "can't be blank")
	}
	prod := &Product{ID: id.New(), AccountID: t.ID, DistributionStrategy: Licensed, Metadata: map[string]any{}}
	if err := apply(prod, p); err != nil {
		return nil, err
	}
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Create(ctx, prod) }, s.occurred(who, event.ProductCreated, prod)); err != nil {
		return nil, err
	}
	return prod, nil
}

// Update changes the given attributes of a product.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Product, error) {
	prod, err := s.visible(ctx, who, t, ref, "product.update")
	if err != nil {
		return nil, err
	}
	if err := apply(prod, p); err != nil {
		return nil, err
	}
	if err := s.tx.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, prod) }, s.occurred(who, event.ProductUpdated, prod)); err != nil {
		return nil, err
	}
	return prod, nil
}

// Find returns a product by id or code that who may read: out of sight is
// a 404, visible without product.read a 403.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Product, error) {
	return s.visible(ctx, who, t, ref, "product.read")
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Product, error) {
	return access.Visible(who, permission, func() (*Product, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
}

// Bearer returns the product a token belongs to, without visibility rules.
func (s *Service) Bearer(ctx context.Context, accountID, id string) (*Product, error) {
	return s.store.Find(ctx, accountID, id, access.Scope{All: true})
}

// List returns a page of the products who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Product, int64, error) {
	if err := who.Require("product.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), p)
}

// OfUser returns a page of the products of the licenses the user holds
// (users/:id/products), those who may see.
func (s *Service) OfUser(ctx context.Context, who *access.Principal, t *account.Tenant, userID string, p page.Request) ([]Product, int64, error) {
	if err := who.Require("product.read"); err != nil {
		return nil, 0, err
	}
	return s.store.ListOfUser(ctx, t.ID, access.ScopeOf(who), userID, p)
}

// Delete removes a product and its tokens.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	prod, err := s.visible(ctx, who, t, ref, "product.delete")
	if err != nil {
		return err
	}
	return s.tx.Change(ctx, func(ctx context.Context) error {
		if err := s.tokens.DeleteForBearer(ctx, prod.AccountID, access.BearerProduct, prod.ID); err != nil {
			return err
		}
		return s.store.Delete(ctx, prod)
	}, s.occurred(who, event.ProductDeleted, prod))
}

func (s *Service) occurred(who *access.Principal, name string, prod *Product) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: prod.AccountID, Resource: prod, Who: who}
	}
}

func apply(prod *Product, p Params) error {
	p.Name.Apply(&prod.Name)
	prod.Name = strings.TrimSpace(prod.Name)
	switch {
	case prod.Name == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case len(prod.Name) > 255:
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	if p.Code.Set {
		prod.Code = p.Code.V
		if prod.Code != nil {
			code := strings.TrimSpace(*prod.Code)
			switch {
			case code == "":
				return apperr.Attribute("code", "MISSING", "can't be blank")
			case len(code) > 255:
				return apperr.Attribute("code", "TOO_LONG", "is too long (maximum is 255 characters)")
			case len(code) == 36 && uuid.Validate(code) == nil:
				return apperr.Attribute("code", "INVALID", "cannot be a UUID")
			case code == "actions" || code == "action":
				return apperr.Attribute("code", "NOT_ALLOWED", "is reserved")
			}
			prod.Code = &code
		}
	}
	if p.DistributionStrategy.Set {
		prod.DistributionStrategy = Licensed
		if v := p.DistributionStrategy.V; v != nil {
			switch *v {
			case Licensed, Open, Closed:
				prod.DistributionStrategy = *v
			default:
				return apperr.Attribute("distribution_strategy", "NOT_ALLOWED", "unsupported distribution strategy (expected LICENSED, OPEN or CLOSED)")
			}
		}
	}
	if p.URL.Set {
		prod.URL = p.URL.V
		if prod.URL != nil {
			u, err := url.Parse(*prod.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return apperr.Attribute("url", "INVALID", "must be a valid URL using one of the following protocols: https, http")
			}
		}
	}
	if p.Platforms.Set {
		prod.Platforms = p.Platforms.V
	}
	if p.Metadata.Set {
		prod.Metadata = p.Metadata.V
		if prod.Metadata == nil {
			prod.Metadata = map[string]any{}
		}
	}
	return nil
}
