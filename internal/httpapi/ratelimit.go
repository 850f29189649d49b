package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/ratelimit"
)

// limit counts one attempt at the limit called name, under the key parts,
// and answers 429 beyond allowed.
func (s *Server) limit(c echo.Context, allowed int, window time.Duration, name string, parts ...string) error {
	r, err := s.Limiter.Hit(c.Request().Context(), ratelimit.Key(append([]string{name}, parts...)...), allowed, window)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-RateLimit-Window", window.String())
	h.Set("X-RateLimit-Count", itoa(r.Count))
	h.Set("X-RateLimit-Limit", itoa(r.Limit))
	h.Set("X-RateLimit-Remaining", itoa(r.Remaining))
	h.Set("X-RateLimit-Reset", itoa(int(r.Reset.Unix())))
	if r.Allowed {
		return nil
	}
	if s.Observer != nil {
		s.Observer.Refused(name)
	}
	h.Set("Retry-After", itoa(max(1, int(time.Until(r.Reset).Seconds()+0.999))))
	return apperr.New(apperr.TooManyRequests, "TOO_MANY_REQUESTS",
		"Throttle limit has been reached for your IP address. Please slow down.")
}
