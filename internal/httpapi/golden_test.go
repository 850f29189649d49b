package httpapi_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	uuidPattern  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePattern  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`)
	tokenPattern = regexp.MustCompile(`(admin|dev|sales|spprt|read|user|prod|activ)-[0-9a-f]{32,64}v3`)
)

// normalize makes a response body stable: sorted keys, indented, UUIDs
// numbered by first appearance, times and raw secrets replaced.
func normalize(t *testing.T, body []byte, replace map[string]string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	s := string(out)
	for from, to := range replace {
		s = regexp.MustCompile(regexp.QuoteMeta(from)).ReplaceAllString(s, to)
	}
	seen := map[string]string{}
	s = uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := seen[id]; !ok {
			seen[id] = fmt.Sprintf("<uuid-%d>", len(seen)+1)
		}
		return seen[id]
	})
	s = timePattern.ReplaceAllString(s, "<time>")
	s = tokenPattern.ReplaceAllString(s, "<$1-token>")
	return []byte(s + "\n")
}

func golden(t *testing.T, name string, status int, r *response, replace map[string]string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", name, r.status, status, r.body)
	}
	got := normalize(t, r.body, replace)
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestWireFormats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		replace := map[string]string{e.acct.PublicKey: "<public-key-hex>"}
		var documents []*response
		golden := func(t *testing.T, name string, status int, r *response, replace map[string]string) {
			t.Helper()
			golden(t, name, status, r, replace)
			documents = append(documents, r)
		}
		base := "/v1/accounts/acme/products"

		product := e.admin("POST", base, productBody(`"name":"Desktop App","code":"desktop","url":"https://example.com",
			"platforms":["linux"],"metadata":{"tierName":"pro","nested_key":{"innerKey":1}}`))
		golden(t, "product", 201, product, replace)
		e.admin("POST", base, productBody(`"name":"CLI"`))
		golden(t, "products-page", 200, e.admin("GET", base+"?page[number]=1&page[size]=1&order=asc", ""), replace)

		account := e.admin("GET", "/v1/accounts/acme", "")
		keys := data(t, account)["meta"].(map[string]any)["keys"].(map[string]any)
		replace[keys["ed25519"].(string)] = "<public-key-base64>"
		replace[keys["rsa2048"].(string)] = "<rsa-public-key-base64>"
		replace[keys["ecdsa"].(string)] = "<ecdsa-public-key-base64>"
		golden(t, "account", 200, account, replace)
		golden(t, "token", 201, e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme")), replace)

		golden(t, "error-unprocessable", 422, e.admin("POST", base, productBody(`"name":"Again","code":"desktop"`)), replace)
		golden(t, "error-parameter", 400, e.admin("POST", base, productBody(`"name":"X","fooBar":true`)), replace)
		golden(t, "error-query-parameter", 400, e.admin("GET", base+"?limit=1000", ""), replace)
		golden(t, "error-unauthorized", 401, e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "wrong")), replace)
		golden(t, "error-token-missing", 401, e.do("GET", base, ""), replace)
		golden(t, "error-not-found", 404, e.admin("GET", base+"/nope", ""), replace)
		golden(t, "error-route-not-found", 404, e.admin("GET", "/v1/accounts/acme/nope", ""), replace)
		golden(t, "error-mime-type", 400, e.admin("GET", base, "", header{"Accept", "text/html"}), replace)
		golden(t, "health", 200, e.do("GET", "/v1/health", ""), replace)

		productID := data(t, product)["id"].(string)
		policy := e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Pro","duration":31536000,"floating":true,"maxMachines":3,"metadata":{"tierName":"pro"}`))
		golden(t, "policy", 201, policy, replace)
		license := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(data(t, policy)["id"].(string), `"key":"GOLDEN-LICENSE-KEY","name":"Golden"`))
		golden(t, "license", 201, license, replace)
		golden(t, "machine", 201, e.admin("POST", "/v1/accounts/acme/machines", machineBody(data(t, license)["id"].(string), `"fingerprint":"golden-fp","hostname":"box","platform":"linux/amd64","cores":4`)), replace)
		golden(t, "release", 201, e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"beta","version":"1.2.0-beta.3+build.7","tag":"golden","name":"Golden"`)), replace)
		golden(t, "package", 201, e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"Golden CLI","key":"golden-cli","engine":"raw","metadata":{"tierName":"pro"}`)), replace)
		golden(t, "channels-page", 200, e.admin("GET", "/v1/accounts/acme/channels", ""), replace)
		golden(t, "user", 201, e.admin("POST", "/v1/accounts/acme/users", `{"data":{"type":"users","attributes":{"firstName":"Ada","lastName":"Lovelace","email":"ada@acme.test"}}}`), replace)
		e.resolveLinks(t, documents...)
	})
}

func hasKey(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// resolveLinks follows every links.self and links.related of the
// documents (at any depth: the document's, its resources' and their
// relationships') as the admin, and fails unless each answers 200 (or a
// redirect to a download).
func (e *env) resolveLinks(t *testing.T, documents ...*response) {
	t.Helper()
	e.resolveLinksWith(t, nil, documents...)
}

// resolveLinksWith is resolveLinks with headers on every request (a
// Keygen-Version the documents' links belong to).
func (e *env) resolveLinksWith(t *testing.T, headers []header, documents ...*response) {
	t.Helper()
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if links, ok := v["links"].(map[string]any); ok {
				for _, name := range []string{"self", "related"} {
					if href, ok := links[name].(string); ok && !seen[href] {
						seen[href] = true
						r := e.admin("GET", href, "", headers...)
						// An upgrade link answers 404 when there is no upgrade, as in Keygen.
						noUpgrade := strings.HasSuffix(href, "/upgrade") && r.status == 404 && !strings.Contains(string(r.body), "endpoint was not found")
						// A to-one relationship without data may answer 404, as Keygen's group! does.
						empty := name == "related" && v["data"] == nil && hasKey(v, "data") && r.status == 404 && !strings.Contains(string(r.body), "endpoint was not found")
						if r.status != 200 && r.status != 303 && !noUpgrade && !empty {
							t.Errorf("links.%s %s: %d %s", name, href, r.status, r.body)
						}
					}
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	for _, r := range documents {
		walk(r.doc(t))
	}
	if len(seen) == 0 {
		t.Fatal("the documents have no links to follow")
	}
}
