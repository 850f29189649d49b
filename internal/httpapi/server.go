// Package httpapi is relkey's HTTP interface: the Keygen-compatible JSON:API
// under /v1/accounts/<account>/... and /v1/... (the default account), the
// health probes, and the local object store's presigned URLs. Handlers
// decode requests, call the domain rules and render documents; errors of
// every kind go through one handler.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/checkout"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/key"
	"github.com/relkey/relkey/internal/legacyrelease"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/proof"
	"github.com/relkey/relkey/internal/ratelimit"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/requestlog"
	"github.com/relkey/relkey/internal/search"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/setting"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/internal/validation"
	"github.com/relkey/relkey/internal/webhook"
)

// Services are the rules and stores the HTTP layer calls (the app
// assembles them once).
type Services struct {
	Storage      storage.Store
	Local        *storage.Local // the local store, served under /v1/blobs/; nil with S3
	Accounts     *account.Service
	Identity     *identity.Service
	Issuing      *identity.Issuing
	Users        *user.Service
	Tokens       *token.Service
	Products     *product.Service
	Limiter      *ratelimit.Limiter
	Guesses      *ratelimit.Guesses // failed key and token guesses
	Policies     *policy.Service
	Licenses     *license.Service
	Machines     *machine.Service
	Proofs       *proof.Service
	Validations  *validation.Service
	Checkouts    *checkout.Service
	Entitlements *entitlement.Service
	Groups       *group.Service
	Keys         *key.Service
	// SecondFactors are the users' TOTP second factors.
	SecondFactors *secondfactor.Service
	Releases      *release.Service
	Packages      *releasepackage.Service
	Catalog       *catalog.Service
	Artifacts     *artifact.Service
	// Settings are the accounts' settings.
	Settings *setting.Service
	// LegacyReleases serve Keygen-Version 1.0's release routes.
	LegacyReleases *legacyrelease.Service
	Webhooks       *webhook.Service
	EventLog       *event.Log
	RequestLog     *requestlog.Log
	PortalLinks    *session.PortalLinks
	Search         *search.Service
	// Analytics reads the usage analytics; Usage records the hot paths'
	// signals (never blocking, never writing on the request path).
	Analytics *analytics.Service
	Usage     analytics.Recorder
}

// Deps is everything the HTTP layer calls and its settings.
type Deps struct {
	Services
	Logger         *slog.Logger
	Pinger         interface{ Ping(context.Context) error }
	DefaultAccount string   // RELKEY_ACCOUNT
	PublicURL      *url.URL // RELKEY_PUBLIC_URL, nil = from the request
	RequestTimeout time.Duration
	MaxBodyBytes   int64
	Engines        []Engine // distribution routes beside the API
	// Observer, when set, sees every request and rate-limit refusal (the metrics).
	Observer Observer
	// Pages, when set, serves /console/..., /portal/... and their
	// /assets/console/... (the web console).
	Pages http.Handler
	// Edge is the trusted proxies, allowed hosts and CORS origins.
	Edge config.Edge
}

// Observer watches the API for the metrics, so that this package needs no
// metrics library.
type Observer interface {
	// Observe wraps every request, outside every other middleware.
	Observe(next echo.HandlerFunc) echo.HandlerFunc
	// Refused counts a request the rate limit called limit refused.
	Refused(limit string)
}

// Server is the HTTP API.
type Server struct {
	Deps
	echo *echo.Echo
	// scoped holds the "METHOD /pattern" of every route answered under an
	// account (resolved, signed, authenticated).
	scoped map[string]bool
	// transfers holds the "METHOD /pattern" of the engine routes named
	// TransferRoute.
	transfers map[string]bool
}

// New builds the HTTP API with every route.
func New(d Deps) *Server {
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 5 * time.Second
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(d.Edge.TrustedProxies)
	s := &Server{Deps: d, echo: e}
	e.HTTPErrorHandler = s.handleError
	if d.Observer != nil {
		e.Use(d.Observer.Observe)
	}
	if len(d.Edge.CORSOrigins) > 0 {
		// Before routing: a preflight is answered whatever the route's methods.
		e.Pre(s.cors)
	}
	e.Use(s.requestID, s.accessLog, s.recoverPanics)
	if len(d.Edge.AllowedHosts) > 0 {
		e.Use(s.allowedHost)
	}
	e.Use(s.deadline, s.wellFormed)
	s.routes()
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes lists the registered method and path pairs (for the spec test).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

func (s *Server) routes() {
	e := s.echo
	e.GET("/v1/health", s.health)
	e.GET("/v1/health/live", s.live)
	e.GET("/v1/ping", s.ping)
	if s.Pages != nil {
		pages := echo.WrapHandler(s.Pages)
		for _, prefix := range []string{"/console", "/portal", "/assets/console"} {
			e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPost}, prefix, pages)
			e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPost}, prefix+"/*", pages)
		}
	}
	if s.Local != nil {
		e.GET(storage.LocalPathPrefix+"*", s.downloadBlob)
		e.HEAD(storage.LocalPathPrefix+"*", s.downloadBlob)
		e.PUT(storage.LocalPathPrefix+"*", s.uploadBlob)
	}
	unscoped := map[string]bool{}
	for _, r := range e.Routes() {
		unscoped[r.Method+" "+r.Path] = true
	}
	defer func() {
		s.scoped, s.transfers = map[string]bool{}, map[string]bool{}
		for _, r := range e.Routes() {
			if key := r.Method + " " + r.Path; !unscoped[key] {
				s.scoped[key] = true
			}
			if r.Name == TransferRoute {
				s.transfers[r.Method+" "+r.Path] = true
			}
		}
	}()

	scoped := e.Group("/v1/accounts/:account", s.resolveAccount, s.sign, s.negotiate, s.apiVersion, s.authenticate)
	scoped.GET("", s.showAccount)
	scoped.PATCH("", s.updateAccount)
	scoped.PUT("", s.updateAccount)
	scoped.DELETE("", s.deleteAccount)
	scoped.GET("/ping", s.ping)
	s.accountRoutes(scoped)
	s.analyticsLayouts()
	s.engineRoutes("/v1/accounts/:account", s.resolveAccount)

	// The default account's bare layout, as keygen-go and keygen-cli use it
	// on a custom domain.
	bare := e.Group("/v1", s.resolveDefaultAccount, s.sign, s.negotiate, s.apiVersion, s.authenticate)
	s.accountRoutes(bare)
	s.engineRoutes("/v1", s.resolveDefaultAccount)
	s.rootRoutes()
}

// accountRoutes registers the routes served under both layouts.
func (s *Server) accountRoutes(g *echo.Group) {
	g.GET("/me", s.me)
	g.POST("/passwords", s.requestPasswordReset)
	s.groupRoutes(g)
	g.POST("/portal-sessions", s.createPortalSession)
	s.registerSearch(g)
	s.keyRoutes(g)
	s.analyticsRoutes(g)

	g.GET("/tokens", s.listTokens)
	g.POST("/tokens", s.createToken)
	g.PUT("/tokens", s.regenerateCurrentToken)
	g.GET("/tokens/:id", s.showToken)
	g.PUT("/tokens/:id", s.regenerateToken)
	g.DELETE("/tokens/:id", s.revokeToken)

	g.GET("/webhook-endpoints", s.listWebhookEndpoints)
	g.POST("/webhook-endpoints", s.createWebhookEndpoint)
	g.GET("/webhook-endpoints/:id", s.showWebhookEndpoint)
	g.PATCH("/webhook-endpoints/:id", s.updateWebhookEndpoint)
	g.PUT("/webhook-endpoints/:id", s.updateWebhookEndpoint)
	g.DELETE("/webhook-endpoints/:id", s.deleteWebhookEndpoint)
	g.GET("/webhook-events", s.listWebhookEvents)
	g.GET("/webhook-events/:id", s.showWebhookEvent)
	g.DELETE("/webhook-events/:id", s.deleteWebhookEvent)
	g.POST("/webhook-events/:id/actions/retry", s.retryWebhookEvent)
	g.GET("/event-logs", s.listEventLogs)
	g.GET("/event-logs/:id", s.showEventLog)
	g.GET("/request-logs", s.listRequestLogs)
	g.GET("/request-logs/:id", s.showRequestLog)

	g.GET("/users", s.listUsers)
	g.POST("/users", s.createUser)
	g.GET("/users/:id", s.showUser)
	g.PATCH("/users/:id", s.updateUser)
	g.PUT("/users/:id", s.updateUser)
	g.DELETE("/users/:id", s.deleteUser)
	g.GET("/users/:id/tokens", s.listUserTokens)
	g.POST("/users/:id/tokens", s.createUserToken)
	g.POST("/users/:id/actions/update-password", s.updatePassword)
	g.POST("/users/:id/actions/reset-password", s.resetPassword)
	s.secondFactorRoutes(g)
	g.POST("/users/:id/actions/ban", s.banUser)
	g.POST("/users/:id/actions/unban", s.unbanUser)

	g.GET("/products", s.listProducts)
	g.POST("/products", s.createProduct)
	g.GET("/products/:id", s.showProduct)
	g.PATCH("/products/:id", s.updateProduct)
	g.PUT("/products/:id", s.updateProduct)
	g.DELETE("/products/:id", s.deleteProduct)
	g.GET("/products/:id/tokens", s.listProductTokens)
	g.POST("/products/:id/tokens", s.createProductToken)

	g.GET("/policies", s.listPolicies)
	g.POST("/policies", s.createPolicy)
	g.GET("/policies/:id", s.showPolicy)
	g.PATCH("/policies/:id", s.updatePolicy)
	g.PUT("/policies/:id", s.updatePolicy)
	g.DELETE("/policies/:id", s.deletePolicy)
	g.GET("/policies/:id/entitlements", s.listAttached(entitlement.OnPolicy))
	g.POST("/policies/:id/entitlements", s.attach(entitlement.OnPolicy))
	g.DELETE("/policies/:id/entitlements", s.detach(entitlement.OnPolicy))

	s.legacyReleaseRoutes(g)
	s.settingRoutes(g)
	g.GET("/releases", s.listReleases)
	g.POST("/releases", s.createRelease)
	g.GET("/releases/:id", s.showRelease)
	g.PATCH("/releases/:id", s.updateRelease)
	g.PUT("/releases/:id", s.updateRelease)
	g.DELETE("/releases/:id", s.deleteRelease)
	g.POST("/releases/:id/actions/publish", s.publishRelease)
	g.POST("/releases/:id/actions/yank", s.yankRelease)
	g.GET("/releases/:id/upgrade", s.upgradeRelease)
	g.GET("/releases/:id/constraints", s.listReleaseConstraints)
	g.POST("/releases/:id/constraints", s.attach(entitlement.OnRelease))
	g.DELETE("/releases/:id/constraints", s.detach(entitlement.OnRelease))
	g.GET("/releases/:id/entitlements", s.listAttached(entitlement.OnRelease))
	g.GET("/releases/:id/package", s.showReleasePackage)
	g.PUT("/releases/:id/package", s.changeReleasePackage)
	g.GET("/releases/:release/artifacts/:filename", s.downloadArtifact)

	g.GET("/packages", s.listPackages)
	g.POST("/packages", s.createPackage)
	g.GET("/packages/:id", s.showPackage)
	g.PATCH("/packages/:id", s.updatePackage)
	g.PUT("/packages/:id", s.updatePackage)
	g.DELETE("/packages/:id", s.deletePackage)
	for _, kind := range catalog.Kinds {
		g.GET("/"+kind, s.listCatalog(kind))
		g.GET("/"+kind+"/:id", s.showCatalog(kind))
		g.GET("/products/:id/"+kind, s.listProductCatalog(kind))
		g.GET("/products/:id/"+kind+"/:related", s.showProductCatalog(kind))
	}

	g.GET("/artifacts", s.listArtifacts)
	g.POST("/artifacts", s.createArtifact)
	g.GET("/artifacts/:id", s.downloadArtifact)
	g.GET("/artifacts/:id/:filename", s.downloadArtifact)
	g.PATCH("/artifacts/:id", s.updateArtifact)
	g.PUT("/artifacts/:id", s.updateArtifact)
	g.DELETE("/artifacts/:id", s.yankArtifact)

	g.GET("/entitlements", s.listEntitlements)
	g.POST("/entitlements", s.createEntitlement)
	g.GET("/entitlements/:id", s.showEntitlement)
	g.PATCH("/entitlements/:id", s.updateEntitlement)
	g.PUT("/entitlements/:id", s.updateEntitlement)
	g.DELETE("/entitlements/:id", s.deleteEntitlement)

	g.POST("/licenses/actions/validate-key", s.validateKey)
	g.GET("/licenses/:id/actions/validate", s.quickValidate)
	g.POST("/licenses/:id/actions/validate", s.validateLicense)
	g.GET("/licenses", s.listLicenses)
	g.POST("/licenses", s.createLicense)
	g.GET("/licenses/:id", s.showLicense)
	g.PATCH("/licenses/:id", s.updateLicense)
	g.PUT("/licenses/:id", s.updateLicense)
	g.DELETE("/licenses/:id", s.deleteLicense)
	g.DELETE("/licenses/:id/actions/revoke", s.revokeLicense)
	g.POST("/licenses/:id/actions/suspend", s.suspendLicense)
	g.POST("/licenses/:id/actions/reinstate", s.reinstateLicense)
	g.POST("/licenses/:id/actions/renew", s.renewLicense)
	g.POST("/licenses/:id/actions/check-in", s.checkInLicense)
	g.POST("/licenses/:id/actions/increment-usage", s.incrementUsage)
	g.POST("/licenses/:id/actions/decrement-usage", s.decrementUsage)
	g.POST("/licenses/:id/actions/reset-usage", s.resetUsage)
	g.POST("/licenses/:id/actions/check-out", s.checkOutLicense)
	g.GET("/licenses/:id/actions/check-out", s.checkOutLicense)
	g.GET("/licenses/:id/owner", s.showLicenseOwner)
	g.GET("/licenses/:id/policy", s.showLicensePolicy)
	g.GET("/licenses/:id/users", s.listLicenseUsers)
	g.POST("/licenses/:id/users", s.attachLicenseUsers)
	g.DELETE("/licenses/:id/users", s.detachLicenseUsers)
	g.PUT("/licenses/:id/policy", s.transferLicense)
	g.GET("/licenses/:id/machines", s.listLicenseMachines)
	g.GET("/licenses/:id/entitlements", s.listAttached(entitlement.OnLicense))
	g.POST("/licenses/:id/entitlements", s.attach(entitlement.OnLicense))
	g.DELETE("/licenses/:id/entitlements", s.detach(entitlement.OnLicense))
	g.GET("/licenses/:id/tokens", s.listLicenseTokens)
	g.POST("/licenses/:id/tokens", s.createLicenseToken)

	g.GET("/machines", s.listMachines)
	g.POST("/machines", s.activateMachine)
	g.GET("/machines/:id", s.showMachine)
	g.GET("/machines/:id/owner", s.showMachineOwner)
	g.PATCH("/machines/:id", s.updateMachine)
	g.PUT("/machines/:id", s.updateMachine)
	g.DELETE("/machines/:id", s.deactivateMachine)
	g.POST("/machines/:id/actions/ping", s.pingMachine)
	g.POST("/machines/:id/actions/ping-heartbeat", s.pingMachine)
	g.POST("/machines/:id/actions/reset", s.resetMachine)
	g.POST("/machines/:id/actions/reset-heartbeat", s.resetMachine)
	g.POST("/machines/:id/actions/check-out", s.checkOutMachine)
	g.GET("/machines/:id/components", s.listMachineComponents)
	g.GET("/machines/:id/processes", s.listMachineProcesses)
	g.POST("/processes", s.spawnProcess)
	g.GET("/processes/:id", s.showProcess)
	g.PATCH("/processes/:id", s.updateProcess)
	g.PUT("/processes/:id", s.updateProcess)
	g.DELETE("/processes/:id", s.killProcess)
	g.POST("/processes/:id/actions/ping", s.pingProcess)
	g.POST("/components", s.createComponent)
	g.PATCH("/components/:id", s.updateComponent)
	g.PUT("/components/:id", s.updateComponent)
	g.DELETE("/components/:id", s.deleteComponent)
	g.GET("/machines/:id/actions/check-out", s.checkOutMachine)
	g.POST("/machines/:id/actions/generate-offline-proof", s.generateProof)
	s.relationshipRoutes(g)
}
