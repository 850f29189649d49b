package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/wellformed"
)

// ctxMalformed holds the malformed-input error of an account-scoped
// request, answered once the account is known (so that it is signed).
const ctxMalformed = "relkey.malformed"

// wellFormed refuses malformed input before any handler reads it. Under an
// account whose own reference is well formed, the refusal waits for the
// account (authenticating answers it) so that it is signed like every
// other answer there.
func (s *Server) wellFormed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := wellformed.Request(c.Request())
		if err == nil {
			return next(c)
		}
		if s.scoped[c.Request().Method+" "+c.Path()] && wellformed.Text(c.Param("account")) {
			c.Set(ctxMalformed, err)
			return next(c)
		}
		return err
	}
}

// malformedOf is the refusal wellFormed left for the account's chain.
func malformedOf(c echo.Context) error {
	err, _ := c.Get(ctxMalformed).(error)
	return err
}
