package httpapi

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
)

// ctxAPIMinor holds the minor of the Keygen API version a request speaks.
const ctxAPIMinor = "relkey.api_minor"

// latestAPIMinor is the minor of APIVersion.
const latestAPIMinor = 8

var errAPIVersion = apperr.AtHeader(apperr.Invalid, "INVALID_API_VERSION", "unsupported API version requested", "Keygen-Version")

// parseAPIVersion reads a Keygen-Version value ("1.0" … "1.8", "v" prefix
// allowed) as its minor.
func parseAPIVersion(v string) (int, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if v == "" {
		return latestAPIMinor, true
	}
	minor, ok := strings.CutPrefix(v, "1.")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(minor)
	if err != nil || n < 0 || n > latestAPIMinor || strconv.Itoa(n) != minor {
		return 0, false
	}
	return n, true
}

// apiVersion accepts the Keygen-Version a client pins (1.0 through 1.8;
// none is the account's apiVersion, the latest by default), echoes it, and
// refuses others with 400 INVALID_API_VERSION.
func (s *Server) apiVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		pinned := c.Request().Header.Get("Keygen-Version")
		if t := tenantOf(c); strings.TrimSpace(pinned) == "" && t != nil && t.APIVersion != nil {
			pinned = *t.APIVersion
		}
		minor, ok := parseAPIVersion(pinned)
		if !ok {
			return errAPIVersion
		}
		c.Set(ctxAPIMinor, minor)
		c.Response().Header().Set("Keygen-Version", "1."+strconv.Itoa(minor))
		return next(c)
	}
}

// apiMinorOf is the minor of the API version the request speaks.
func apiMinorOf(c echo.Context) int {
	if minor, ok := c.Get(ctxAPIMinor).(int); ok {
		return minor
	}
	return latestAPIMinor
}
