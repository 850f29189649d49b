package httpapi

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
)

var errHostInvalid = apperr.AtHeader(apperr.Invalid, "HOST_INVALID",
	"The request's host is not served here (misdirected request)", "Host")

// allowedHost refuses a Host outside RELKEY_ALLOWED_HOSTS, so that links
// and download locations never follow a forged one. The health probes
// answer any host: load balancers call them by address.
func (s *Server) allowedHost(next echo.HandlerFunc) echo.HandlerFunc {
	allowed := map[string]bool{}
	for _, h := range s.Edge.AllowedHosts {
		allowed[h] = true
	}
	return func(c echo.Context) error {
		host := strings.ToLower(c.Request().Host)
		name := host
		if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
		if allowed[host] || allowed[name] || strings.HasPrefix(c.Request().URL.Path, "/v1/health") {
			return next(c)
		}
		return errHostInvalid
	}
}

// CORS answers: the methods and request headers a browser may use, and
// the answer headers its scripts may read.
const (
	corsMethods       = "GET,HEAD,POST,PUT,PATCH,DELETE"
	corsAllowHeaders  = "Authorization,Content-Type,Accept,Keygen-Version,Keygen-Environment"
	corsExposeHeaders = "Keygen-Signature,Keygen-Account,Keygen-Version,Digest,Date,Location,X-Request-Id," +
		"X-RateLimit-Window,X-RateLimit-Count,X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset,Retry-After"
)

// cors answers browsers from RELKEY_CORS_ORIGINS: a preflight (OPTIONS
// with Access-Control-Request-Method) is 204 with Authorization and Keygen's
// request headers allowed; every other answer to an allowed origin exposes
// the signature, rate-limit and request-id headers to scripts. Other
// origins get no CORS headers, so browsers keep their scripts out.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	allowed, any := map[string]bool{}, false
	for _, o := range s.Edge.CORSOrigins {
		allowed[o] = true
		any = any || o == "*"
	}
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		origin := req.Header.Get("Origin")
		h.Add("Vary", "Origin")
		if origin == "" || !(any || allowed[strings.ToLower(origin)]) {
			return next(c)
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if any {
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if req.Method != http.MethodOptions || req.Header.Get("Access-Control-Request-Method") == "" {
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			return next(c)
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		return c.NoContent(http.StatusNoContent)
	}
}
