package httpapi_test

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestBodiesAreReadAsJSONWhateverTheirTextType: as Keygen, a JSON document
// sent as a form, multipart or text type is read as JSON; a body that is
// not JSON is 400 JSON_INVALID and an XML type 400 MIME_TYPE_INVALID,
// and neither changes anything.
func TestBodiesAreReadAsJSONWhateverTheirTextType(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base := "/v1/accounts/acme/products"
		product := e.id(e.admin("POST", base, productBody(`"name":"Kept"`)))
		for _, contentType := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "text/plain;charset=UTF-8"} {
			if r := e.admin("POST", base, productBody(`"name":"Sent as `+contentType+`"`), header{"Content-Type", contentType}); r.status != 201 {
				t.Fatalf("JSON as %s: %d %s", contentType, r.status, r.body)
			}
			if r := e.admin("PATCH", base+"/"+product, productBody(`"name":"Kept"`), header{"Content-Type", contentType}); r.status != 200 {
				t.Fatalf("PATCH as %s: %d %s", contentType, r.status, r.body)
			}
			e.admin("POST", base, "data[type]=products&data[attributes][name]=Form", header{"Content-Type", contentType}).
				expectError(t, 400, "JSON_INVALID")
		}
		e.admin("POST", base, productBody(`"name":"XML"`), header{"Content-Type", "application/xml"}).expectError(t, 400, "MIME_TYPE_INVALID")
		if n := len(list(t, e.admin("GET", base, ""))); n != 5 {
			t.Fatalf("%d products, want Kept and the 4 sent as JSON", n)
		}
	})
}

// TestPageSizeAloneIsRefused: as Keygen, page[size] without page[number]
// is 400 on the page parameter.
func TestPageSizeAloneIsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.admin("GET", "/v1/accounts/acme/products?page[size]=2", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "page")
	})
}
