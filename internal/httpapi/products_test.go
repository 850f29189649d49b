package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func productBody(attrs string) string {
	return `{"data":{"type":"products","attributes":{` + attrs + `}}}`
}

func TestProductsCRUD(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base := "/v1/accounts/acme/products"
		created := e.admin("POST", base, productBody(`"name":"Desktop App","code":"desktop","url":"https://example.com",
			"platforms":["linux","macos"],"distributionStrategy":"OPEN","metadata":{"tierName":"pro"}`))
		if created.status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		a := attrs(t, created)
		id := data(t, created)["id"].(string)
		if a["name"] != "Desktop App" || a["code"] != "desktop" || a["distributionStrategy"] != "OPEN" ||
			a["metadata"].(map[string]any)["tierName"] != "pro" || fmt.Sprint(a["platforms"]) != "[linux macos]" {
			t.Fatalf("created attributes: %v", a)
		}
		if loc := created.header.Get("Location"); loc != "/v1/accounts/"+e.acct.Account.ID+"/products/"+id {
			t.Fatalf("Location = %q", loc)
		}

		for _, ref := range []string{id, "desktop", "DESKTOP"} {
			shown := e.admin("GET", base+"/"+ref, "")
			if shown.status != http.StatusOK || data(t, shown)["id"] != id {
				t.Fatalf("show by %q: %d %s", ref, shown.status, shown.body)
			}
		}

		updated := e.admin("PATCH", base+"/desktop", productBody(`"name":"Renamed","code":null,"distribution_strategy":"CLOSED"`))
		if updated.status != http.StatusOK {
			t.Fatalf("update: %d %s", updated.status, updated.body)
		}
		if u := attrs(t, updated); u["name"] != "Renamed" || u["code"] != nil || u["distributionStrategy"] != "CLOSED" ||
			u["url"] != "https://example.com" || u["metadata"].(map[string]any)["tierName"] != "pro" {
			t.Fatalf("update changed the wrong attributes: %v", u)
		}
		e.admin("GET", base+"/desktop", "").expectError(t, http.StatusNotFound, "NOT_FOUND")

		deleted := e.admin("DELETE", base+"/"+id, "")
		if deleted.status != http.StatusNoContent || len(deleted.body) != 0 {
			t.Fatalf("delete: %d %q", deleted.status, deleted.body)
		}
		e.admin("GET", base+"/"+id, "").expectError(t, http.StatusNotFound, "NOT_FOUND")
		e.admin("DELETE", base+"/"+id, "").expectError(t, http.StatusNotFound, "NOT_FOUND")
		if n := len(list(t, e.admin("GET", base, ""))); n != 0 {
			t.Fatalf("%d products remain after delete", n)
		}
	})
}

func TestProductValidationChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		base := "/v1/accounts/acme/products"
		existing := e.admin("POST", base, productBody(`"name":"First","code":"first"`))
		if existing.status != http.StatusCreated {
			t.Fatalf("seed: %s", existing.body)
		}
		tests := []struct {
			name, body    string
			status        int
			code, pointer string
		}{
			{"missing name", productBody(`"code":"x"`), 422, "NAME_MISSING", "/data/attributes/name"},
			{"blank name", productBody(`"name":"  "`), 422, "NAME_MISSING", "/data/attributes/name"},
			{"long name", productBody(`"name":"` + strings.Repeat("n", 256) + `"`), 422, "NAME_TOO_LONG", "/data/attributes/name"},
			{"code taken", productBody(`"name":"Second","code":"first"`), 422, "CODE_TAKEN", "/data/attributes/code"},
			{"code taken ignoring case", productBody(`"name":"Second","code":"FIRST"`), 422, "CODE_TAKEN", "/data/attributes/code"},
			{"code is uuid", productBody(`"name":"S","code":"` + e.acct.Account.ID + `"`), 422, "CODE_INVALID", "/data/attributes/code"},
			{"bad strategy", productBody(`"name":"S","distributionStrategy":"FREE"`), 422, "DISTRIBUTION_STRATEGY_NOT_ALLOWED", "/data/attributes/distributionStrategy"},
			{"bad url", productBody(`"name":"S","url":"ftp://x"`), 422, "URL_INVALID", "/data/attributes/url"},
			{"unknown attribute", productBody(`"name":"S","foo":1`), 400, "PARAMETERS_INVALID", "/data/attributes/foo"},
			{"wrong type", productBody(`"name":42`), 400, "PARAMETERS_INVALID", "/data/attributes/name"},
			{"null name", productBody(`"name":null`), 400, "PARAMETERS_INVALID", "/data/attributes/name"},
			{"metadata not object", productBody(`"name":"S","metadata":[1]`), 400, "PARAMETERS_INVALID", "/data/attributes/metadata"},
			{"unknown relationship", `{"data":{"type":"products","attributes":{"name":"S"},"relationships":{"policy":{}}}}`, 400, "PARAMETERS_INVALID", "/data/relationships/policy"},
			{"wrong type name", `{"data":{"type":"licenses","attributes":{"name":"S"}}}`, 400, "PARAMETERS_INVALID", "/data/type"},
			{"no data", `{}`, 400, "PARAMETERS_INVALID", "/data"},
			{"malformed", `{"data":`, 400, "JSON_INVALID", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.admin("POST", base, tt.body)
				if tt.pointer == "" {
					r.expectError(t, tt.status, tt.code)
				} else {
					r.expectError(t, tt.status, tt.code, "pointer", tt.pointer)
				}
				// Without a name, or with its own code, the body is a valid update.
				if validUpdate := map[string]bool{"missing name": true, "code taken": true, "code taken ignoring case": true}; !validUpdate[tt.name] {
					if r := e.admin("PATCH", base+"/first", tt.body); r.status < 400 {
						t.Fatalf("update accepted invalid input: %d %s", r.status, r.body)
					}
				}
			})
		}
		all := list(t, e.admin("GET", base, ""))
		if len(all) != 1 {
			t.Fatalf("invalid requests created products: %d exist", len(all))
		}
		if a := all[0].(map[string]any)["attributes"].(map[string]any); a["name"] != "First" || a["code"] != "first" {
			t.Fatalf("invalid updates changed the product: %v", a)
		}
	})
}

func TestPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for i := range 12 {
			if r := e.admin("POST", "/v1/accounts/acme/products", productBody(fmt.Sprintf(`"name":"P%02d"`, i))); r.status != 201 {
				t.Fatal(string(r.body))
			}
		}
		names := func(r *response) string {
			var out []string
			for _, item := range list(t, r) {
				out = append(out, item.(map[string]any)["attributes"].(map[string]any)["name"].(string))
			}
			return strings.Join(out, ",")
		}
		if got := names(e.admin("GET", "/v1/accounts/acme/products", "")); got != "P11,P10,P09,P08,P07,P06,P05,P04,P03,P02" {
			t.Fatalf("default page (10, newest first) = %s", got)
		}
		limited := e.admin("GET", "/v1/accounts/acme/products?limit=3&order=asc", "")
		if got := names(limited); got != "P00,P01,P02" {
			t.Fatalf("limit=3 asc = %s", got)
		}
		if _, ok := limited.doc(t)["links"]; ok {
			t.Fatalf("limit mode rendered links: %s", limited.body)
		}
		paged := e.admin("GET", "/v1/accounts/acme/products?page[number]=2&page[size]=5", "")
		if got := names(paged); got != "P06,P05,P04,P03,P02" {
			t.Fatalf("page 2 = %s", got)
		}
		links := paged.doc(t)["links"].(map[string]any)
		want := map[string]any{
			"self":  "/v1/accounts/acme/products?page%5Bnumber%5D=2&page%5Bsize%5D=5",
			"first": "/v1/accounts/acme/products?page%5Bnumber%5D=1&page%5Bsize%5D=5",
			"prev":  "/v1/accounts/acme/products?page%5Bnumber%5D=1&page%5Bsize%5D=5",
			"next":  "/v1/accounts/acme/products?page%5Bnumber%5D=3&page%5Bsize%5D=5",
			"last":  "/v1/accounts/acme/products?page%5Bnumber%5D=3&page%5Bsize%5D=5",
		}
		for k, v := range want {
			if links[k] != v {
				t.Errorf("links.%s = %v, want %v", k, links[k], v)
			}
		}
		if meta := links["meta"].(map[string]any); meta["pages"] != 3.0 || meta["count"] != 12.0 {
			t.Errorf("links.meta = %v", meta)
		}
		last := e.admin("GET", "/v1/accounts/acme/products?page[number]=3&page[size]=5", "")
		if got := names(last); got != "P01,P00" || last.doc(t)["links"].(map[string]any)["next"] != nil {
			t.Fatalf("last page = %s, links %v", got, last.doc(t)["links"])
		}
		for _, q := range []struct{ query, param string }{
			{"limit=0", "limit"}, {"limit=101", "limit"}, {"page[number]=0", "page[number]"},
			{"page[number]=101", "page[number]"}, {"page[number]=1&page[size]=500", "page[size]"}, {"order=random", "order"},
		} {
			e.admin("GET", "/v1/accounts/acme/products?"+q.query, "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", q.param)
		}
	})
}
