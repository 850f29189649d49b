package httpapi_test

import (
	"slices"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func TestSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		user := func(attrs string) string {
			return e.id(e.admin("POST", "/v1/accounts/acme/users", `{"data":{"type":"users","attributes":{`+attrs+`}}}`))
		}
		john := user(`"email":"john.doe@example.com","firstName":"John","lastName":"Doe","metadata":{"externalId":"1624214616","tier":100,"nested":{"plan":"pro","seats":5}}`)
		jane := user(`"email":"jane@corp.test","firstName":"Jane","lastName":"Roe","metadata":{"externalId":"cus_42","paid":true}`)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Searchable App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Pro Plan"`)))
		lic := e.admin("POST", "/v1/accounts/acme/licenses", `{"data":{"type":"licenses","attributes":{"name":"Johns license","key":"SEARCH-KEY-1","metadata":{"orderId":"ord_123"}},"relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}},"owner":{"data":{"type":"users","id":"`+john+`"}}}}}`)
		licenseID := e.id(lic)
		other := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"name":"Spare"`)))

		found := func(body string) []string {
			t.Helper()
			r := e.admin("POST", "/v1/accounts/acme/search", body)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", body, r.status, r.body)
			}
			var ids []string
			for _, d := range list(t, r) {
				ids = append(ids, d.(map[string]any)["id"].(string))
			}
			slices.Sort(ids)
			return ids
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		for _, tc := range []struct {
			body string
			want []string
		}{
			{`{"meta":{"type":"users","query":{"email":"example","firstName":"john"}}}`, sorted(john)},
			{`{"meta":{"type":"users","op":"AND","query":{"email":"example","firstName":"jane"}}}`, nil},
			{`{"meta":{"type":"users","op":"OR","query":{"email":"example","firstName":"jane"}}}`, sorted(john, jane)},
			{`{"meta":{"type":"user","query":{"fullName":"John Doe"}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"name":"John"}}}`, nil}, // Keygen: no last name, no match
			{`{"meta":{"type":"users","query":{"email":"corp.test"}}}`, sorted(jane)},
			{`{"meta":{"type":"users","query":{"role":"user"}}}`, sorted(john, jane)},
			{`{"meta":{"type":"users","query":{"id":"` + john + `"}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"metadata":{"externalId":"1624214616"}}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"metadata":{"external_id":"cus_42"}}}}`, sorted(jane)},
			{`{"meta":{"type":"users","query":{"metadata":{"tier":"100"}}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"metadata":{"tier":100}}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"metadata":{"paid":true}}}}`, sorted(jane)},
			{`{"meta":{"type":"users","query":{"metadata":{"nested":{"plan":"pro"}}}}}`, sorted(john)},
			{`{"meta":{"type":"users","query":{"metadata":{"nested":{"plan":"free"}}}}}`, nil},
			{`{"meta":{"type":"licenses","query":{"key":"SEARCH-KEY-1"}}}`, sorted(licenseID)},
			{`{"meta":{"type":"licenses","query":{"owner":"john.doe"}}}`, sorted(licenseID)},
			{`{"meta":{"type":"licenses","query":{"owner":"` + john + `"}}}`, sorted(licenseID)},
			{`{"meta":{"type":"licenses","query":{"product":"searchable"}}}`, sorted(licenseID, other)},
			{`{"meta":{"type":"licenses","query":{"policy":"` + policyID[:8] + `"}}}`, sorted(licenseID, other)},
			{`{"meta":{"type":"licenses","op":"OR","query":{"name":"spare","metadata":{"orderId":"ord_123"}}}}`, sorted(licenseID, other)},
			{`{"meta":{"type":"licenses","query":{"name":"100%"}}}`, nil},
			{`{"meta":{"type":"policies","query":{"product":"` + productID + `"}}}`, sorted(policyID)},
			{`{"meta":{"type":"products","query":{"name":"SEARCHABLE"}}}`, sorted(productID)},
		} {
			if got := found(tc.body); !slices.Equal(got, tc.want) {
				t.Errorf("%s: found %v, want %v", tc.body, got, tc.want)
			}
		}
		// Results render as the type's documents, paged.
		r := e.admin("POST", "/v1/accounts/acme/search?page[size]=1&page[number]=1", `{"meta":{"type":"licenses","query":{"product":"searchable"}}}`)
		if docs := list(t, r); len(docs) != 1 || docs[0].(map[string]any)["type"] != "licenses" || r.doc(t)["links"] == nil {
			t.Fatalf("paged: %s", r.body)
		}

		for _, tc := range []struct{ body, code, pointer string }{
			{`{"meta":{"type":"accounts","query":{"name":"acme"}}}`, "SEARCH_TYPE_NOT_SUPPORTED", "/meta/type"},
			{`{"meta":{"type":"tokens","query":{"name":"acme"}}}`, "SEARCH_TYPE_NOT_SUPPORTED", "/meta/type"},
			{`{"meta":{"type":"users","query":{}}}`, "SEARCH_QUERY_MISSING", "/meta/query"},
			{`{"meta":{"type":"users","query":{"foo":"bar"}}}`, "SEARCH_QUERY_NOT_SUPPORTED", "/meta/query/foo"},
			{`{"meta":{"type":"licenses","query":{"key":"ab"}}}`, "SEARCH_QUERY_TOO_SMALL", "/meta/query/key"},
			{`{"meta":{"type":"licenses","query":{"metadata":{"key":"ab"}}}}`, "SEARCH_QUERY_TOO_SMALL", "/meta/query/metadata/key"},
			{`{"meta":{"type":"users","query":{"metadata":["a","b"]}}}`, "SEARCH_QUERY_INVALID", "/meta/query/metadata"},
			{`{"meta":{"type":"users","op":"XOR","query":{"email":"example"}}}`, "SEARCH_OP_NOT_SUPPORTED", "/meta/op"},
		} {
			e.admin("POST", "/v1/accounts/acme/search", tc.body).expectError(t, 400, tc.code, "pointer", tc.pointer)
		}
		e.admin("POST", "/v1/accounts/acme/search", `{`).expectError(t, 400, "JSON_INVALID")
		e.do("POST", "/v1/accounts/acme/search", `{"meta":{"type":"users","query":{"email":"example"}}}`).expectError(t, 401, "TOKEN_MISSING")
		// A user's token may not search.
		userToken := e.rawToken(e.admin("POST", "/v1/accounts/acme/users/"+john+"/tokens", ""))
		e.do("POST", "/v1/accounts/acme/search", `{"meta":{"type":"users","query":{"email":"example"}}}`, bearer(userToken)).expectError(t, 403, "ACCESS_DENIED")
	})
}
