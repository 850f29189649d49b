package wellformed

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
)

func TestRequest(t *testing.T) {
	for _, tc := range []struct {
		name, path, query, header string
		refused                   bool
		kind                      apperr.Kind
		parameter, headerName     string
	}{
		{name: "plain", path: "/v1/products/abc", query: "product=x&page[size]=1"},
		{name: "unicode", path: "/v1/products/é🔑", query: "name=ü"},
		{name: "nul in path", path: "/v1/products/a\x00", refused: true, kind: apperr.NotFound},
		{name: "invalid utf-8 in path", path: "/v1/products/\xff", refused: true, kind: apperr.NotFound},
		{name: "nul in query value", path: "/", query: "fingerprint=%00", refused: true, kind: apperr.Invalid, parameter: "fingerprint"},
		{name: "invalid key", path: "/", query: "metadata[%FF]=1", refused: true, kind: apperr.Invalid, parameter: "metadata"},
		{name: "bad header", path: "/", header: "Bearer \xc3\x28", refused: true, kind: apperr.Invalid, headerName: "Authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{URL: &url.URL{Path: tc.path, RawQuery: tc.query}, Header: http.Header{}}
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			err := Request(r)
			if !tc.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*apperr.Error)
			if !ok || e.Kind != tc.kind {
				t.Fatalf("got %v, want kind %v", err, tc.kind)
			}
			if tc.parameter != "" && e.Source.Parameter != tc.parameter || tc.headerName != "" && e.Source.Header != tc.headerName {
				t.Fatalf("source %+v", e.Source)
			}
		})
	}
}
