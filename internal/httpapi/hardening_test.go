package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// errorLines are the server log's ERROR lines.
func (e *env) errorLines() []string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return out
}

// TestMalformedBytesInPathsQueriesAndHeaders: a NUL byte or invalid UTF-8
// in a path id, the account segment, a query value or a header value is a
// client's mistake on both engines: 404 for a path id, 400 naming the
// parameter or header otherwise, never a 500 nor an ERROR line.
func TestMalformedBytesInPathsQueriesAndHeaders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, path := range []string{
			"/v1/accounts/%FF/licenses",
			"/v1/accounts/%00/licenses",
			"/v1/accounts/acme/products/%FF%FE",
			"/v1/accounts/acme/products/a%00b",
			"/v1/accounts/acme/licenses/%C3%28",
			"/v1/accounts/acme/machines/%00",
			"/v1/products/%FF",
			"/v1/accounts/acme/releases/%FF/artifacts/%FE",
		} {
			for _, r := range []*response{e.admin("GET", path, ""), e.do("GET", path, "")} {
				if r.status != 404 {
					t.Errorf("GET %s: %d %s", path, r.status, r.body)
				}
				if strings.HasPrefix(path, "/v1/accounts/acme/") && r.header.Get("Keygen-Signature") == "" {
					t.Errorf("GET %s: 404 under the account is not signed", path)
				}
			}
		}
		for _, query := range []string{"fingerprint=%00", "fingerprint=%FF", "product=%FF%FE", "page[number]=%00&page[size]=1", "%FF=1", "metadata[%00]=x"} {
			for _, base := range []string{"/v1/accounts/acme/machines", "/v1/accounts/acme/licenses", "/v1/machines"} {
				r := e.admin("GET", base+"?"+query, "")
				if r.status != 400 {
					t.Errorf("GET %s?%s: %d %s", base, query, r.status, r.body)
					continue
				}
				r.expectError(t, 400, "ENCODING_INVALID")
				if src, _ := r.firstError(t)["source"].(map[string]any); src["parameter"] == nil || src["parameter"] == "" {
					t.Errorf("GET %s?%s: no source.parameter: %s", base, query, r.body)
				}
			}
		}
		for _, h := range []header{{"Authorization", "Bearer \xff\xfe"}, {"Authorization", "License \xc3\x28"}, {"Keygen-Version", "\xff"}} {
			r := e.do("GET", "/v1/accounts/acme/licenses", "", h)
			if r.status != 400 {
				t.Errorf("header %s %q: %d %s", h.key, h.value, r.status, r.body)
				continue
			}
			if src, _ := r.firstError(t)["source"].(map[string]any); src["header"] != h.key {
				t.Errorf("header %s %q: source %v", h.key, h.value, src)
			}
		}
		if lines := e.errorLines(); len(lines) > 0 {
			t.Fatalf("ERROR lines for client mistakes:\n%s", strings.Join(lines, "\n"))
		}
	})
}
