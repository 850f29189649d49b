package wellformed

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
)

// FuzzRequestValidationAndDecoding feeds arbitrary paths, queries, header
// values and bodies to the central input check and the request decoder:
// neither panics, whatever passes the check is text a store accepts, and
// every refusal is a client error with a code.
func FuzzRequestValidationAndDecoding(f *testing.F) {
	f.Add("/v1/accounts/acme/products/%FF", "fingerprint=%00", "Bearer x", `{"data":{"type":"products","attributes":{"name":"x"}}}`)
	f.Add("/v1/licenses/a\x00b", "page[size]=1&page[number]=2", "License \xff", `{"data":{"type":"products","attributes":{"name":"nul\u0000"}}}`)
	f.Add("/v1/products", "metadata[a][b]=c&%zz", "", `{"data":[{"type":"products","id":"1"}],"meta":{"key":[1,{"a":null}]}}`)
	f.Add("/", "", "\u00e9", `{"data":{"type":"products","relationships":{"policy":{"data":{"type":"policies","id":"\xff"}}}}}`)
	f.Fuzz(func(t *testing.T, path, query, authorization, body string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{"Authorization": {authorization}}}
		if err := Request(r); err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || (e.Kind != apperr.Invalid && e.Kind != apperr.NotFound) || e.Code == "" {
				t.Fatalf("refusal %v is not a client error", err)
			}
		} else {
			values, _ := url.ParseQuery(query)
			for k, vs := range values {
				for _, v := range append(vs, k) {
					if !Text(v) {
						t.Fatalf("query text %q passed", v)
					}
				}
			}
			if !Text(path) || !Text(authorization) {
				t.Fatalf("path %q or header %q passed", path, authorization)
			}
		}
		req, err := document.Decode([]byte(body), document.Resource{Singular: "product", Plural: "products"}, true)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind == apperr.Internal || e.Code == "" {
				t.Fatalf("decoding %q: %v is not a client error", body, err)
			}
			return
		}
		var attrs struct {
			Name        optional.Value[string]         `json:"name"`
			Metadata    optional.Value[map[string]any] `json:"metadata"`
			MaxMachines optional.Value[*int64]         `json:"max_machines"`
			Expiry      optional.Value[*time.Time]     `json:"expiry"`
		}
		if err := req.DecodeAttributes(&attrs); err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind == apperr.Internal {
				t.Fatalf("attributes of %q: %v is not a client error", body, err)
			}
		}
	})
}
