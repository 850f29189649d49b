// Package wellformed checks, once for every request, the text that can
// reach a store: the path (ids), the query (filters) and the header
// values must be UTF-8 without NUL bytes.
package wellformed

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/relkey/relkey/internal/apperr"
)

// ErrNoSuchPath is the answer to a path whose bytes no record can match.
var ErrNoSuchPath = apperr.New(apperr.NotFound, "NOT_FOUND", "The requested resource was not found")

// Text reports whether s is valid UTF-8 without a NUL byte: the only text a
// store is ever asked about.
func Text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Request checks r's path, query and header values: a path that is not
// text is 404 (no id can match it), a query value or header 400 naming it.
func Request(r *http.Request) error {
	if !Text(r.URL.Path) {
		return ErrNoSuchPath
	}
	if r.URL.RawQuery != "" {
		query, _ := url.ParseQuery(r.URL.RawQuery)
		for key, values := range query {
			bad := !Text(key)
			for _, v := range values {
				bad = bad || !Text(v)
			}
			if bad {
				return apperr.AtParameter(apperr.Invalid, "ENCODING_INVALID",
					"The query parameter must be UTF-8 text without NUL bytes", parameterName(key))
			}
		}
	}
	for name, values := range r.Header {
		for _, v := range values {
			if !Text(v) {
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
