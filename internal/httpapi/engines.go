package httpapi

import (
	"net/http"

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
	// an account, Root/… for the default account. Handshake answers GET
	// and HEAD of Root itself, whatever the account.
	Root      string
	Handshake echo.HandlerFunc
	// Challenge is the WWW-Authenticate scheme a 401 asks a request
	// without credentials for ("" for Bearer): OCI clients answer Basic
	// only.
	Challenge string
}

// middleware is what every route of the engine runs first.
func (en Engine) middleware(resolve echo.MiddlewareFunc, s *Server) []echo.MiddlewareFunc {
	challenge := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxChallenge, en.Challenge)
			return next(c)
		}
	}
	return []echo.MiddlewareFunc{challenge, resolve, s.sign, s.authenticateEngine}
}

// Exchange is what an engine's handlers read off a request that the API
// has authenticated.
type Exchange struct{ s *Server }

// Principal is the request's bearer; nil when anonymous.
func (Exchange) Principal(c echo.Context) *access.Principal { return principalOf(c) }

// Tenant is the account the request addresses.
func (Exchange) Tenant(c echo.Context) *account.Tenant { return tenantOf(c) }

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
		if en.Handshake != nil {
			s.echo.Match([]string{http.MethodGet, http.MethodHead}, en.Root+"/", en.Handshake)
		}
		en.Routes(s.echo.Group(en.Root+"/:account", en.middleware(s.resolveAccount, s)...), Exchange{s})
		en.Routes(s.echo.Group(en.Root, en.middleware(s.resolveDefaultAccount, s)...), Exchange{s})
	}
}
