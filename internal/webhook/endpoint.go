// Package webhook delivers an account's events to its webhook endpoints as
// Keygen does: endpoints subscribe to event types, each event becomes one
// signed POST per subscribed endpoint, retried with Keygen's backoff until
// it is delivered or has failed for good.
package webhook

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Ed25519 is the default signature algorithm; an endpoint may ask for any
// of httpsig.Algorithms.
const Ed25519 = httpsig.Ed25519

// APIVersion is the Keygen API version deliveries are rendered at.
const APIVersion = "1.7"

// Endpoint is a URL that receives an account's events.
type Endpoint struct {
	ID                 string
	AccountID          string
	ProductID          *string
	URL                string
	Subscriptions      database.JSON[[]string]
	SignatureAlgorithm string
	APIVersion         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TableName implements gorm's tabler.
func (Endpoint) TableName() string { return "webhook_endpoints" }

// Subscribed reports whether the endpoint takes events of type name.
func (e *Endpoint) Subscribed(name string) bool {
	return slices.Contains(e.Subscriptions.V, "*") || slices.Contains(e.Subscriptions.V, name)
}

// Receives reports whether the endpoint gets an event: one it subscribes
// to, of its product if it has one, that occurred since it was made.
func (e *Endpoint) Receives(ev *event.Record) bool {
	return !e.CreatedAt.After(ev.CreatedAt) && e.Subscribed(ev.Event) && (e.ProductID == nil || (ev.ProductID != nil && *ev.ProductID == *e.ProductID))
}

// Params are the writable attributes of an endpoint.
type Params struct {
	URL                optional.Value[string]   `json:"url"`
	Subscriptions      optional.Value[[]string] `json:"subscriptions"`
	SignatureAlgorithm optional.Value[*string]  `json:"signature_algorithm"`
	APIVersion         optional.Value[*string]  `json:"api_version"`
	// ProductID is the product relationship, resolved by the handler.
	ProductID optional.Value[*string] `json:"-"`
}

// Targets says which URLs endpoints may point at.
type Targets struct {
	// AllowInsecure lets loopback endpoints use http.
	AllowInsecure bool
	// AllowPrivate lets endpoints resolve to loopback, private or
	// link-local addresses.
	AllowPrivate bool
	// Resolve looks a host name up; nil uses the system resolver.
	Resolve func(ctx context.Context, host string) ([]net.IP, error)
}

// Products resolves the product an endpoint is scoped to.
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// Service holds the endpoint and delivery rules.
type Service struct {
	store   *Store
	targets Targets
	now     func() time.Time
}

// NewService returns the webhook rules over store.
func NewService(store *Store, targets Targets, now func() time.Time) *Service {
	if targets.Resolve == nil {
		targets.Resolve = func(ctx context.Context, host string) ([]net.IP, error) {
			addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			ips := make([]net.IP, len(addrs))
			for i, a := range addrs {
				ips[i] = a.IP
			}
			return ips, err
		}
	}
	return &Service{store: store, targets: targets, now: now}
}

// CreateEndpoint validates and stores a new endpoint.
func (s *Service) CreateEndpoint(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*Endpoint, error) {
	if err := who.Require("webhook-endpoint.create"); err != nil {
		return nil, err
	}
	if !p.URL.Set {
		return nil, apperr.Attribute("url", "MISSING", "can't be blank")
	}
	now := s.now().UTC()
	e := &Endpoint{ID: id.New(), AccountID: t.ID, SignatureAlgorithm: Ed25519, APIVersion: APIVersion,
		Subscriptions: database.JSON[[]string]{V: []string{"*"}}, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(ctx, e, p); err != nil {
		return nil, err
	}
	return e, s.store.CreateEndpoint(ctx, e)
}

// UpdateEndpoint changes the given attributes of an endpoint.
func (s *Service) UpdateEndpoint(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Endpoint, error) {
	e, err := s.endpoint(ctx, who, t, ref, "webhook-endpoint.update")
	if err != nil {
		return nil, err
	}
	if err := s.apply(ctx, e, p); err != nil {
		return nil, err
	}
	e.UpdatedAt = s.now().UTC()
	return e, s.store.SaveEndpoint(ctx, e)
}

// FindEndpoint returns an endpoint of the account.
func (s *Service) FindEndpoint(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Endpoint, error) {
	return s.endpoint(ctx, who, t, ref, "webhook-endpoint.read")
}

// ListEndpoints returns a page of the account's endpoints.
func (s *Service) ListEndpoints(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Endpoint, int64, error) {
	if err := who.Require("webhook-endpoint.read"); err != nil {
		return nil, 0, err
	}
	return s.store.ListEndpoints(ctx, t.ID, p)
}

// DeleteEndpoint removes an endpoint; its past deliveries stay.
func (s *Service) DeleteEndpoint(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	e, err := s.endpoint(ctx, who, t, ref, "webhook-endpoint.delete")
	if err != nil {
		return err
	}
	return s.store.DeleteEndpoint(ctx, e)
}

func (s *Service) endpoint(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Endpoint, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	return access.Visible(who, permission, func() (*Endpoint, error) { return s.store.FindEndpoint(ctx, t.ID, ref) })
}

func (s *Service) apply(ctx context.Context, e *Endpoint, p Params) error {
	if p.URL.Set {
		if err := s.checkURL(ctx, p.URL.V); err != nil {
			return err
		}
		e.URL = p.URL.V
	}
	if p.Subscriptions.Set {
		subs := slices.Compact(slices.Sorted(slices.Values(p.Subscriptions.V)))
		if len(subs) == 0 {
			return apperr.Attribute("subscriptions", "TOO_SHORT", "must have at least 1 webhook event subscription")
		}
		for _, name := range subs {
			if name != "*" && !event.Known(name) {
				return apperr.Attribute("subscriptions", "NOT_ALLOWED", "unsupported webhook event type for subscription")
			}
		}
		e.Subscriptions.V = subs
	}
	if p.SignatureAlgorithm.Set {
		e.SignatureAlgorithm = Ed25519
		if v := p.SignatureAlgorithm.V; v != nil {
			if !slices.Contains(httpsig.Algorithms, *v) {
				return apperr.Attribute("signature_algorithm", "NOT_ALLOWED", "unsupported signature algorithm")
			}
			e.SignatureAlgorithm = *v
		}
	}
	if p.APIVersion.Set {
		e.APIVersion = APIVersion
		if v := p.APIVersion.V; v != nil && *v != APIVersion {
			return apperr.Attribute("api_version", "NOT_ALLOWED", "unsupported version")
		}
	}
	if p.ProductID.Set {
		e.ProductID = p.ProductID.V
	}
	return nil
}

// checkURL refuses what an endpoint may not point at: anything but https
// (http only to loopback when insecure targets are allowed), and, unless
// private targets are allowed, hosts that resolve into the private network.
func (s *Service) checkURL(ctx context.Context, raw string) error {
	invalid := func(detail string) error { return apperr.Attribute("url", "INVALID", detail) }
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 4096 {
		return invalid("must be a valid URL using one of the following protocols: https")
	}
	host := u.Hostname()
	ips, err := s.targets.Resolve(ctx, host)
	if ip := net.ParseIP(host); ip != nil {
		ips, err = []net.IP{ip}, nil
	}
	if err != nil {
		// Not resolvable yet: each delivery checks where it connects.
		ips = nil
	}
	loopback := len(ips) > 0
	for _, ip := range ips {
		loopback = loopback && ip.IsLoopback()
		if !s.targets.AllowPrivate && Private(ip) {
			return invalid("must not point at a private, loopback or link-local address")
		}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && s.targets.AllowInsecure:
	default:
		return invalid("must be a valid URL using one of the following protocols: https")
	}
	return nil
}

// Private reports whether ip is not on the public internet.
func Private(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || strings.HasPrefix(ip.String(), "100.64.")
}
