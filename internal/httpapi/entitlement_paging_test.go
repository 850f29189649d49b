package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestEntitlementListsArePaged pages the entitlements of a policy, a
// license and a release and a release's constraints like every list:
// oldest first, ten without page parameters, links with them.
func TestEntitlementListsArePaged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		var ids, codes []string
		for i := range 12 {
			code := fmt.Sprintf("E%02d", i)
			codes = append(codes, code)
			ids = append(ids, e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"`+code+`","code":"`+code+`"}}}`)))
		}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P"`)))
		licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		releaseID := e.publish(productID, "stable", "1.0.0")
		attach := func(path string, body string) {
			if r := e.admin("POST", path, body); r.status != 200 {
				t.Fatalf("attach to %s: %d %s", path, r.status, r.body)
			}
		}
		// The policy gets the odd ones, the license the even ones, the
		// release all of them, newest first.
		var odd, even, reversed []string
		for i, id := range ids {
			if i%2 == 1 {
				odd = append(odd, id)
			} else {
				even = append(even, id)
			}
			reversed = append([]string{id}, reversed...)
		}
		attach("/v1/accounts/acme/policies/"+policyID+"/entitlements", linkages(odd...))
		attach("/v1/accounts/acme/licenses/"+licenseID+"/entitlements", linkages(even...))
		attach("/v1/accounts/acme/releases/"+releaseID+"/constraints", constraintsBody(reversed...))

		field := func(r *response, get func(item map[string]any) string) string {
			var out []string
			for _, item := range list(t, r) {
				out = append(out, get(item.(map[string]any)))
			}
			return strings.Join(out, ",")
		}
		code := func(item map[string]any) string { return item["attributes"].(map[string]any)["code"].(string) }
		constrained := func(item map[string]any) string {
			return item["relationships"].(map[string]any)["entitlement"].(map[string]any)["data"].(map[string]any)["id"].(string)
		}
		policyPath := "/v1/accounts/acme/policies/" + policyID + "/entitlements"
		licensePath := "/v1/accounts/acme/licenses/" + licenseID + "/entitlements"
		releasePath := "/v1/accounts/acme/releases/" + releaseID + "/entitlements"
		constraintsPath := "/v1/accounts/acme/releases/" + releaseID + "/constraints"
		for _, tt := range []struct {
			path, query string
			get         func(map[string]any) string
			want        string
			count       float64 // links.meta.count; 0 = no links
		}{
			{policyPath, "", code, "E01,E03,E05,E07,E09,E11", 0},
			{policyPath, "?page[number]=2&page[size]=4", code, "E09,E11", 6},
			{licensePath, "", code, strings.Join(codes[:10], ","), 0},
			{licensePath, "?limit=3", code, "E00,E01,E02", 0},
			{licensePath, "?page[number]=3&page[size]=5", code, "E10,E11", 12},
			{releasePath, "?page[number]=1&page[size]=2", code, "E00,E01", 12},
			{constraintsPath, "", constrained, strings.Join(reversed[:10], ","), 0},
			{constraintsPath, "?page[number]=2&page[size]=10", constrained, strings.Join(reversed[10:], ","), 12},
		} {
			r := e.admin("GET", tt.path+tt.query, "")
			if got := field(r, tt.get); got != tt.want {
				t.Errorf("%s%s lists %s, want %s", tt.path, tt.query, got, tt.want)
			}
			links, paged := r.doc(t)["links"].(map[string]any)
			switch {
			case tt.count == 0 && paged:
				t.Errorf("%s%s rendered links without page parameters: %v", tt.path, tt.query, links)
			case tt.count != 0 && (!paged || links["meta"].(map[string]any)["count"] != tt.count || links["first"] != tt.path+"?page%5Bnumber%5D=1&page%5Bsize%5D="+tt.query[strings.LastIndex(tt.query, "=")+1:]):
				t.Errorf("%s%s links: %v", tt.path, tt.query, links)
			}
		}
		for _, path := range []string{policyPath, licensePath, releasePath, constraintsPath} {
			e.admin("GET", path+"?limit=101", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "limit")
			e.admin("GET", path+"?page[number]=0", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "page[number]")
		}
	})
}
