package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
)

// ctxMalformed holds the malformed-input error of an account-scoped
// request, answered once the account is known (so that it is signed).
const ctxMalformed = "relkey.malformed"

// errNoSuchPath is the answer to a path whose bytes no record can match.
var errNoSuchPath = apperr.New(apperr.NotFound, "NOT_FOUND", "The requested resource was not found")

// wellFormedText reports whether s is valid UTF-8 without a NUL byte: the
// only text a store is ever asked about.
func wellFormedText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// malformed checks, once for every request, the text that can reach a
// store: the path (ids), the query (filters) and the header values. A path
// that is not text is 404 (no id can match it), a query value or header 400
// naming it.
func malformed(r *http.Request) error {
	if !wellFormedText(r.URL.Path) {
		return errNoSuchPath
	}
	if r.URL.RawQuery != "" {
		query, _ := url.ParseQuery(r.URL.RawQuery)
		for key, values := range query {
			bad := !wellFormedText(key)
			for _, v := range values {
				bad = bad || !wellFormedText(v)
			}
			if bad {
				return apperr.AtParameter(apperr.Invalid, "ENCODING_INVALID",
					"The query parameter must be UTF-8 text without NUL bytes", parameterName(key))
			}
		}
	}
	for name, values := range r.Header {
		for _, v := range values {
			if !wellFormedText(v) {
				return apperr.AtHeader(apperr.Invalid, "ENCODING_INVALID",
					"The header value must be UTF-8 text without NUL bytes", name)
			}
		}
	}
	return nil
}

// parameterName is the printable top-level name of a query key:
// metadata[key] is metadata.
func parameterName(key string) string {
	if i := strings.IndexByte(key, '['); i > 0 {
		key = key[:i]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(key, "\uFFFD"), "\x00", "\uFFFD")
}

// wellFormed refuses malformed input before any handler reads it. Under an
// account whose own reference is well formed, the refusal waits for the
// account (authenticating answers it) so that it is signed like every
// other answer there.
func (s *Server) wellFormed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := malformed(c.Request())
		if err == nil {
			return next(c)
		}
		if s.scoped[c.Request().Method+" "+c.Path()] && wellFormedText(c.Param("account")) {
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
