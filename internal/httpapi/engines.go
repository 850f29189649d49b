package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
)

// Engine is a family of distribution routes (an updater's feed, a package
// registry) served under /engines/<Name> in both layouts. Its routes see
// the account and the bearer resolved as the API's do; they answer in
// their own formats, and the errors they return render as JSON:API
// errors.
type Engine struct {
	Name   string
	Routes func(g *echo.Group, x Exchange)
	// Root, when set, mounts the routes at the host's root too, for the
	// clients that address nothing else (OCI's /v2): Root/<account>/… for
	// an account, Root/… for the default account. RootRoutes are the routes
	// of Root itself (OCI's /v2/ handshake and token endpoint), whatever
	// the account: they authenticate with Exchange.Authenticate.
	Root       string
	RootRoutes func(g *echo.Group, x Exchange)
	// Credentials, when set, runs before the bearer is authenticated (the
	// account resolved), to turn a credential of the engine's own (OCI's
	// registry tokens) into the one it stands for.
	Credentials echo.MiddlewareFunc
	// Challenge is the WWW-Authenticate of a 401 (nil for the scheme the
	// request used, else Bearer): OCI clients without credentials are
	// sent to their token endpoint.
	Challenge func(c echo.Context, x Exchange) string
}

// TransferRoute names the engine routes whose requests move whole files
// through relkey (OCI pushes): they get a transfer's allowance instead of
// the request deadline.
const TransferRoute = "relkey.transfer"

// challenge makes the engine's Challenge the one its 401s carry.
func (en Engine) challenge(s *Server) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if en.Challenge != nil {
				c.Set(ctxChallenge, func(c echo.Context) string { return en.Challenge(c, Exchange{s}) })
			}
			return next(c)
		}
	}
}

// middleware is what every route of the engine runs first.
func (en Engine) middleware(resolve echo.MiddlewareFunc, s *Server) []echo.MiddlewareFunc {
	chain := []echo.MiddlewareFunc{en.challenge(s), resolve, s.sign}
	if en.Credentials != nil {
		chain = append(chain, en.Credentials)
	}
	return append(chain, s.authenticateEngine)
}

// Exchange is what an engine's handlers read off a request that the API
// has authenticated.
type Exchange struct{ s *Server }

// Principal is the request's bearer; nil when anonymous.
func (Exchange) Principal(c echo.Context) *access.Principal { return principalOf(c) }

// Tenant is the account the request addresses.
func (Exchange) Tenant(c echo.Context) *account.Tenant { return tenantOf(c) }

// Authenticate resolves an account (by id or slug; the default account
// for "") and authenticates the request's credentials in it, for a route
// of no account's (a registry's token endpoint): the bearer is nil when
// the request has none.
func (x Exchange) Authenticate(c echo.Context, accountRef string) (*account.Tenant, *access.Principal, error) {
	ctx := c.Request().Context()
	var t *account.Tenant
	var err error
	if accountRef == "" {
		t, err = x.s.Accounts.Default(ctx, x.s.DefaultAccount)
	} else {
		t, err = x.s.Accounts.Resolve(ctx, accountRef)
	}
	if err != nil {
		return nil, nil, err
	}
	c.Set(ctxTenant, t)
	err = x.s.authenticateEngine(func(echo.Context) error { return nil })(c)
	return t, principalOf(c), err
}

// URL resolves a path (with its query) against relkey's external base URL.
func (x Exchange) URL(c echo.Context, path string) string { return x.s.absolute(c, path) }

// engineRoutes mounts every engine under prefix (an account's or the bare
// layout's /v1).
func (s *Server) engineRoutes(prefix string, resolve echo.MiddlewareFunc) {
	for _, en := range s.Engines {
		g := s.echo.Group(prefix+"/engines/"+en.Name, en.middleware(resolve, s)...)
		en.Routes(g, Exchange{s})
	}
}

// rootRoutes mounts the engines that clients address at the host's root.
func (s *Server) rootRoutes() {
	for _, en := range s.Engines {
		if en.Root == "" {
			continue
		}
		if en.RootRoutes != nil {
			en.RootRoutes(s.echo.Group(en.Root, en.challenge(s)), Exchange{s})
		}
		en.Routes(s.echo.Group(en.Root+"/:account", en.middleware(s.resolveAccount, s)...), Exchange{s})
		en.Routes(s.echo.Group(en.Root, en.middleware(s.resolveDefaultAccount, s)...), Exchange{s})
	}
}
