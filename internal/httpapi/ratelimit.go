package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/ratelimit"
)

// quota is one limit an attempt counts against: allowed hits per window
// under the key parts.
type quota struct {
	name    string
	allowed int
	window  time.Duration
	parts   []string
}

// limit counts one attempt at the limit called name, under the key parts,
// and answers 429 beyond allowed.
func (s *Server) limit(c echo.Context, allowed int, window time.Duration, name string, parts ...string) error {
	return s.limitAll(c, quota{name: name, allowed: allowed, window: window, parts: parts})
}

// limitAll counts one attempt against every quota and answers 429 when any
// is exceeded; the X-RateLimit-* headers describe the tightest one.
func (s *Server) limitAll(c echo.Context, quotas ...quota) error {
	results := make([]ratelimit.Result, len(quotas))
	for i, q := range quotas {
		r, err := s.Limiter.Hit(c.Request().Context(), ratelimit.Key(append([]string{q.name}, q.parts...)...), q.allowed, q.window)
		if err != nil {
			return err
		}
		results[i] = r
	}
	tightest := 0
	for i, r := range results {
		if !r.Allowed {
			return s.rateLimited(c, r, quotas[i].name)
		}
		if r.Remaining < results[tightest].Remaining {
			tightest = i
		}
	}
	return s.rateLimited(c, results[tightest], "")
}

// rateLimited sets Keygen's X-RateLimit-* headers of r and, when refused
// names the limit that was exceeded, answers 429 with Retry-After.
func (s *Server) rateLimited(c echo.Context, r ratelimit.Result, refused string) error {
	h := c.Response().Header()
	h.Set("X-RateLimit-Window", r.Window.String())
	h.Set("X-RateLimit-Count", itoa(r.Count))
	h.Set("X-RateLimit-Limit", itoa(r.Limit))
	h.Set("X-RateLimit-Remaining", itoa(r.Remaining))
	h.Set("X-RateLimit-Reset", itoa(int(r.Reset.Unix())))
	if refused == "" {
		return nil
	}
	if s.Observer != nil {
		s.Observer.Refused(refused)
	}
	h.Set("Retry-After", itoa(max(1, int(time.Until(r.Reset).Seconds()+0.999))))
	return apperr.New(apperr.TooManyRequests, "TOO_MANY_REQUESTS",
		"Throttle limit has been reached for your IP address. Please slow down.")
}
