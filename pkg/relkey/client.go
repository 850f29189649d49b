// Package relkey is a Go client for relkey and for any server that speaks the
// Keygen API (Keygen Cloud, Keygen CE and EE): the admin API (products,
// policies, entitlements, users, licenses, machines, components, packages,
// releases and artifacts) and the calls a licensed application makes
// (validate a key, activate a machine, send heartbeats, check out license
// files, look for an upgrade, download an artifact).
//
// Every call takes a context.Context. Requests refused with 429 or 503 are
// retried, waiting as the server's Retry-After asks, a bounded number of
// times. With WithPublicKey, every successful response must carry a valid
// Ed25519 response signature (Keygen's Keygen-Signature header over the
// request target, host, date and body digest), or the call fails with
// ErrSignatureInvalid. API errors are *Error values carrying the server's
// code, detail and source.
//
// Resources decode from JSON:API into typed structs; each keeps its raw
// attributes (Object.Raw) and relationships for what the structs do not
// model. Lists are paged (Lister.List) or iterated (Lister.All).
package relkey

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one account of a Keygen-compatible server. Its methods are
// safe for concurrent use; AsToken and friends return changed copies.
type Client struct {
	base       *url.URL // scheme and host (and any path prefix) of the server
	prefix     string   // the account's path: /v1/accounts/<account>, or /v1
	auth       string   // the Authorization header, "" for none
	http       *http.Client
	publicKey  ed25519.PublicKey
	maxRetries int
	maxWait    time.Duration
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
	apiVersion string

	Products     Collection[Product, ProductAttributes]
	Policies     PolicyService
	Entitlements Collection[Entitlement, EntitlementAttributes]
	Users        UserService
	Licenses     LicenseService
	Machines     MachineService
	Components   Collection[Component, ComponentAttributes]
	Packages     Collection[Package, PackageAttributes]
	Releases     ReleaseService
	Artifacts    ArtifactService
	Groups       GroupService
}

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates every request with a bearer token (admin,
// product, user or license token).
func WithToken(token string) Option { return func(c *Client) { c.auth = "Bearer " + token } }

// WithLicenseKey authenticates every request with a license key, as a
// licensed application does.
func WithLicenseKey(key string) Option { return func(c *Client) { c.auth = "License " + key } }

// WithBasicAuth authenticates with an email and password; the server
// accepts it to create tokens (Client.CreateToken).
func WithBasicAuth(email, password string) Option {
	return func(c *Client) {
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+password))
	}
}

// WithPublicKey makes the client verify every response signature with the
// account's Ed25519 public key.
func WithPublicKey(key ed25519.PublicKey) Option { return func(c *Client) { c.publicKey = key } }

// WithHTTPClient sends requests through h (its transport and timeout);
// the client never follows redirects itself, whatever h says.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		copied := *h
		copied.CheckRedirect = noRedirects
		c.http = &copied
	}
}

// WithRetries bounds the retries of requests refused with 429 or 503: at
// most max retries, none when the server asks to wait longer than maxWait.
// The default is 3 retries of at most 30 seconds each.
func WithRetries(max int, maxWait time.Duration) Option {
	return func(c *Client) { c.maxRetries, c.maxWait = max, maxWait }
}

// WithSleep replaces how the client waits between retries (tests pass one
// that records the wait and returns at once); it must return ctx's error
// when ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithClock replaces the clock that Retry-After dates and response
// signature dates are read against.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithAPIVersion sends Keygen-Version on every request (e.g. "1.7"); unset,
// the server answers in the account's default version.
func WithAPIVersion(v string) Option { return func(c *Client) { c.apiVersion = v } }

// New returns a client of account (id or slug) on the server at apiBase,
// e.g. "https://api.keygen.sh" or "http://127.0.0.1:8080" (a trailing /v1
// is accepted). An empty account uses the bare /v1/... layout, which
// relkey serves for its default account and Keygen for a custom domain.
func New(apiBase, account string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(apiBase, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("relkey: API base %q must be an http or https URL", apiBase)
	}
	u.Path = strings.TrimSuffix(u.Path, "/v1")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:       u,
		prefix:     "/v1",
		http:       &http.Client{CheckRedirect: noRedirects},
		maxRetries: 3,
		maxWait:    30 * time.Second,
		sleep:      sleep,
		now:        time.Now,
	}
	if account != "" {
		c.prefix = "/v1/accounts/" + url.PathEscape(account)
	}
	for _, o := range opts {
		o(c)
	}
	c.bind()
	return c, nil
}

// ParsePublicKey decodes an Ed25519 public key as relkey and Keygen show
// it: 64 hex digits.
func ParsePublicKey(hexKey string) (ed25519.PublicKey, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(hexKey))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("relkey: a public key is 64 hex digits (an Ed25519 key)")
	}
	return ed25519.PublicKey(raw), nil
}

// bind points the resource services at c.
func (c *Client) bind() {
	c.Products = collection[Product, ProductAttributes](c, "products")
	c.Policies = PolicyService{collection[Policy, PolicyAttributes](c, "policies")}
	c.Entitlements = collection[Entitlement, EntitlementAttributes](c, "entitlements")
	c.Users = UserService{collection[User, UserAttributes](c, "users")}
	c.Licenses = LicenseService{collection[License, LicenseAttributes](c, "licenses")}
	c.Machines = MachineService{collection[Machine, MachineAttributes](c, "machines")}
	c.Components = collection[Component, ComponentAttributes](c, "components")
	c.Packages = collection[Package, PackageAttributes](c, "packages")
	c.Releases = ReleaseService{collection[Release, ReleaseAttributes](c, "releases")}
	c.Artifacts = ArtifactService{collection[Artifact, ArtifactAttributes](c, "artifacts")}
	c.Groups = GroupService{collection[Group, GroupAttributes](c, "groups")}
}

// with returns a copy of c changed by opts.
func (c *Client) with(opts ...Option) *Client {
	copied := *c
	for _, o := range opts {
		o(&copied)
	}
	copied.bind()
	return &copied
}

// AsToken returns a copy of c that authenticates with the bearer token.
func (c *Client) AsToken(token string) *Client { return c.with(WithToken(token)) }

// AsLicenseKey returns a copy of c that authenticates with a license key.
func (c *Client) AsLicenseKey(key string) *Client { return c.with(WithLicenseKey(key)) }

// Anonymous returns a copy of c that sends no credentials.
func (c *Client) Anonymous() *Client { return c.with(func(c *Client) { c.auth = "" }) }

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
