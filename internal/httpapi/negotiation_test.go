package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestWritesRefuseNonJSONBodies: a form, multipart or text body on a write
// is 400 MIME_TYPE_INVALID, even when it holds a valid JSON document, and
// changes nothing; a write without a body may still carry such a header.
func TestWritesRefuseNonJSONBodies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base := "/v1/accounts/acme/products"
		product := e.id(e.admin("POST", base, productBody(`"name":"Kept"`)))
		license, _ := e.licensed(`"name":"Bodiless"`)

		for _, contentType := range []string{
			"application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x",
			"text/plain",
			"text/plain;charset=UTF-8",
		} {
			for _, tt := range []struct{ method, path, body string }{
				{"POST", base, productBody(`"name":"Created"`)},
				{"PATCH", base + "/" + product, productBody(`"name":"Patched"`)},
				{"PUT", base + "/" + product, productBody(`"name":"Replaced"`)},
				{"POST", base, "data[type]=products&data[attributes][name]=Form"},
			} {
				r := e.admin(tt.method, tt.path, tt.body, header{"Content-Type", contentType})
				r.expectError(t, 400, "MIME_TYPE_INVALID")
				if detail := r.firstError(t)["detail"]; detail != "The mime type of the request is not acceptable (check content-type and accept headers)" {
					t.Fatalf("%s %s as %s: detail %q", tt.method, tt.path, contentType, detail)
				}
			}
			// curl -X POST -d '' sends a form type with an empty body.
			if r := e.admin("POST", "/v1/accounts/acme/licenses/"+license+"/actions/validate", "", header{"Content-Type", contentType}); r.status != 200 {
				t.Fatalf("bodiless action with %s: %d %s", contentType, r.status, r.body)
			}
		}
		names := listNames(t, e.admin("GET", base+"?order=asc", ""))
		if names != "Kept,App" {
			t.Fatalf("products after refused writes: %s", names)
		}
	})
}

// TestPageSizeAloneIsTheFirstPage: page[size] without page[number] pages
// from page 1, with pagination links.
func TestPageSizeAloneIsTheFirstPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base := "/v1/accounts/acme/products"
		for _, name := range []string{"One", "Two", "Three"} {
			e.admin("POST", base, productBody(`"name":"`+name+`"`))
		}
		r := e.admin("GET", base+"?page[size]=2&order=asc", "")
		if r.status != 200 || listNames(t, r) != "One,Two" {
			t.Fatalf("page[size]=2: %d %s", r.status, r.body)
		}
		links := r.doc(t)["links"].(map[string]any)
		if self := links["self"].(string); !strings.Contains(self, "page%5Bnumber%5D=1") || !strings.Contains(self, "page%5Bsize%5D=2") {
			t.Fatalf("self link %q", self)
		}
		if links["prev"] != nil || links["next"] == nil || links["meta"].(map[string]any)["pages"] != float64(2) {
			t.Fatalf("links %v", links)
		}
	})
}

// listNames joins the name attributes of a list in order.
func listNames(t *testing.T, r *response) string {
	t.Helper()
	var names []string
	for _, item := range list(t, r) {
		names = append(names, item.(map[string]any)["attributes"].(map[string]any)["name"].(string))
	}
	return strings.Join(names, ",")
}
