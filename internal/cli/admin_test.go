package cli

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestAdminCommandsBesideARunningServer runs every admin command against
// the store a server is serving from, on both backends: the server sees
// each write at once, and --json prints the document the API renders.
func TestAdminCommandsBesideARunningServer(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ testenv.Backend, env map[string]string, server *live) {
		admin := server.onboard("acme").RawToken
		productID := server.create("/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"Desktop App","code":"desktop"}}}`, admin)
		policyID := server.create("/v1/accounts/acme/policies", `{"data":{"type":"policies","attributes":{"name":"Node-locked","maxMachines":1},
			"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}}}}}`, admin)

		products := listed(t, must(t, env, "product", "list", "--json"))
		if len(products) != 1 || products[0]["id"] != productID {
			t.Fatalf("product list --json: %v", products)
		}
		if out := must(t, env, "product", "list"); !strings.Contains(out, "Desktop App") || !strings.Contains(out, "desktop") || !strings.HasPrefix(out, "ID") {
			t.Fatalf("product list:\n%s", out)
		}
		if out := must(t, env, "policy", "list", "--product", "desktop"); !strings.Contains(out, "Node-locked") || !strings.Contains(out, policyID) {
			t.Fatalf("policy list --product:\n%s", out)
		}
		if policies := listed(t, must(t, env, "policy", "list", "--json", "--product", productID)); len(policies) != 1 || policies[0]["id"] != policyID {
			t.Fatalf("policy list --json: %v", policies)
		}

		// A license made by the CLI is the license the API shows, document for document.
		created := single(t, must(t, env, "license", "create", "--policy", policyID, "--name", "Ada's laptop", "--max-machines", "3",
			"--metadata", `{"orderId":"1234"}`, "--json"))
		licenseID := created["id"].(string)
		shown := server.do("GET", "/v1/accounts/acme/licenses/"+licenseID, "", admin)
		if shown.status != 200 || !reflect.DeepEqual(created, shown.data(t)) {
			t.Fatalf("license create --json:\n%v\nthe API shows:\n%s", created, shown.body)
		}
		attrs := created["attributes"].(map[string]any)
		key := attrs["key"].(string)
		if attrs["maxMachines"] != 3.0 || attrs["name"] != "Ada's laptop" {
			t.Fatalf("license attributes %v", attrs)
		}
		if out := must(t, env, "license", "show", key); !strings.Contains(out, licenseID) || !strings.Contains(out, "ACTIVE") || !strings.Contains(out, "0 of 3") {
			t.Fatalf("license show:\n%s", out)
		}
		if out := must(t, env, "license", "suspend", key); !strings.Contains(out, "suspended") {
			t.Fatalf("license suspend: %s", out)
		}
		validated := server.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`"}}`, "")
		if code := validated.doc(t)["meta"].(map[string]any)["code"]; code != "SUSPENDED" {
			t.Fatalf("the server validates a suspended license as %v", code)
		}
		if got := single(t, must(t, env, "license", "reinstate", licenseID, "--json")); got["attributes"].(map[string]any)["suspended"] != false {
			t.Fatalf("license reinstate: %v", got)
		}

		// The server's writers and the CLI's write at once: they queue on
		// the store's locks and none fails.
		var writers sync.WaitGroup
		for range 2 {
			writers.Go(func() {
				for range 10 {
					body := `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"` + policyID + `"}}}}}`
					req, _ := http.NewRequest("POST", server.srv.URL+"/v1/accounts/acme/licenses", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+admin)
					req.Header.Set("Content-Type", "application/vnd.api+json")
					resp, err := server.srv.Client().Do(req)
					if err != nil || resp.StatusCode != http.StatusCreated {
						t.Errorf("a server write beside the CLI's: %v %v", resp, err)
						return
					}
					resp.Body.Close()
				}
			})
		}
		for range 5 {
			must(t, env, "license", "create", "--policy", policyID)
		}
		writers.Wait()
		var licenses int64
		server.app.DB.Gorm.Raw("SELECT COUNT(*) FROM licenses").Scan(&licenses)
		if licenses != 1+20+5 {
			t.Fatalf("%d licenses after concurrent writes, want 26", licenses)
		}

		// A token the CLI issues authenticates at the server until it is revoked.
		out := must(t, env, "token", "create", "--user", "admin@acme.test", "--name", "ci")
		raw := regexp.MustCompile(`admin-[0-9a-f]+v3`).FindString(out)
		tokenID := regexp.MustCompile(`id:\s+(\S+)`).FindStringSubmatch(out)[1]
		if raw == "" || !strings.Contains(out, "shown once") {
			t.Fatalf("token create:\n%s", out)
		}
		if me := server.do("GET", "/v1/accounts/acme/me", "", raw); me.status != 200 || me.data(t)["attributes"].(map[string]any)["email"] != "admin@acme.test" {
			t.Fatalf("the CLI's token at the server: %d %s", me.status, me.body)
		}
		productToken := single(t, must(t, env, "token", "create", "--product", "desktop", "--permissions", "license.read,license.validate", "--json"))
		if a := productToken["attributes"].(map[string]any); a["kind"] != "product-token" || !strings.HasPrefix(a["token"].(string), "prod-") {
			t.Fatalf("product token: %v", a)
		}
		must(t, env, "token", "revoke", tokenID)
		if me := server.do("GET", "/v1/accounts/acme/me", "", raw); me.status != http.StatusUnauthorized {
			t.Fatalf("a revoked token still authenticates: %d", me.status)
		}

		// A user the CLI adds signs in at the server.
		user := single(t, must(t, env, "user", "create", "--email", "bob@acme.test", "--password", "bobs-secret", "--first-name", "Bob", "--json"))
		req, _ := http.NewRequest("POST", server.srv.URL+"/v1/accounts/acme/tokens", nil)
		req.SetBasicAuth("bob@acme.test", "bobs-secret")
		if resp, err := server.srv.Client().Do(req); err != nil || resp.StatusCode != 201 {
			t.Fatalf("the CLI's user signs in: %v %v", resp, err)
		}
		out = must(t, env, "user", "reset-password", "bob@acme.test")
		var digest *string
		server.app.DB.Gorm.Raw("SELECT password_reset_digest FROM users WHERE id = ?", user["id"]).Scan(&digest)
		if digest == nil || !strings.Contains(out, "bob@acme.test") || regexp.MustCompile(`[0-9a-f]{64}`).MatchString(out) {
			t.Fatalf("reset-password issued no reset (digest %v) or printed its token:\n%s", digest, out)
		}

		// A second account: the commands need --account from then on.
		server.onboard("globex")
		if code, _, stderr := run(t, env, "product", "list"); code != exitFailure || !strings.Contains(stderr, "--account") {
			t.Fatalf("two accounts, no --account: %d %s", code, stderr)
		}
		if products := listed(t, must(t, env, "product", "list", "--account", "globex", "--json")); len(products) != 0 {
			t.Fatalf("globex sees acme's products: %v", products)
		}
		acme := map[string]string{}
		for k, v := range env {
			acme[k] = v
		}
		acme["RELKEY_ACCOUNT"] = "acme"
		if products := listed(t, must(t, acme, "product", "list", "--json")); len(products) != 1 {
			t.Fatalf("RELKEY_ACCOUNT=acme: %v", products)
		}
		if code, _, stderr := run(t, acme, "license", "show", key, "--account", "globex"); code != exitFailure || !strings.Contains(stderr, "NOT_FOUND") {
			t.Fatalf("acme's license under --account globex: %d %s", code, stderr)
		}
	})
}

// TestAdminCommandErrors: a bad command line exits 2 before touching the
// store; a rule's refusal exits 1 with its code and the flag it is about.
func TestAdminCommandErrors(t *testing.T) {
	t.Parallel()
	env := storeEnv(t, testenv.Backend{Name: "embedded"})
	server := serveLive(t, env)
	admin := server.onboard("acme").RawToken
	productID := server.create("/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"App"}}}`, admin)
	policyID := server.create("/v1/accounts/acme/policies", `{"data":{"type":"policies","attributes":{"name":"P"},
		"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}}}}}`, admin)
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"license"}, exitUsage, "relkey license create"},
		{[]string{"license", "frobnicate"}, exitUsage, "relkey license show"},
		{[]string{"license", "create"}, exitUsage, "--policy is required"},
		{[]string{"license", "create", "--policy", policyID, "--max-machines", "many"}, exitUsage, "not a whole number"},
		{[]string{"license", "create", "--policy", policyID, "--expiry", "tomorrow"}, exitUsage, "RFC 3339"},
		{[]string{"license", "create", "--policy", policyID, "--metadata", "[1]"}, exitUsage, "JSON object"},
		{[]string{"license", "show"}, exitUsage, "takes one argument"},
		{[]string{"product", "list", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"token", "create"}, exitUsage, "exactly one of --user, --product, --license"},
		{[]string{"token", "create", "--user", "a", "--product", "b"}, exitUsage, "exactly one of"},
		{[]string{"user", "create"}, exitUsage, "--email is required"},
		{[]string{"license", "create", "--policy", "01900000-0000-7000-8000-000000000000"}, exitFailure, "--policy must exist (POLICY_NOT_FOUND)"},
		{[]string{"license", "create", "--policy", policyID, "--key", "short"}, exitFailure, "--key is too short (minimum is 6 characters) (KEY_TOO_SHORT)"},
		{[]string{"license", "create", "--policy", policyID, "--owner", "nobody@acme.test"}, exitFailure, "--owner must exist (OWNER_NOT_FOUND)"},
		{[]string{"license", "show", "no-such-key"}, exitFailure, "NOT_FOUND"},
		{[]string{"user", "create", "--email", "not an email"}, exitFailure, "--email must be a valid email (EMAIL_INVALID)"},
		{[]string{"user", "create", "--email", "admin@acme.test"}, exitFailure, "--email has already been taken"},
		{[]string{"user", "create", "--email", "c@acme.test", "--role", "owner"}, exitFailure, "--role must be one of"},
		{[]string{"token", "create", "--user", "admin@acme.test", "--permissions", "no.such"}, exitFailure, "--permissions unsupported permissions"},
		{[]string{"token", "revoke", "01900000-0000-7000-8000-000000000000"}, exitFailure, "NOT_FOUND"},
		{[]string{"user", "reset-password", "nobody@acme.test"}, exitFailure, "NOT_FOUND"},
		{[]string{"policy", "list", "--account", "initech"}, exitFailure, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, env, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) || stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tt.code, stderr, tt.stderr, stdout)
			}
		})
	}
	if code, stdout, _ := run(t, env, "license", "create", "--help"); code != exitOK || stdout != "" {
		t.Fatalf("--help: exit %d", code)
	}
	var licenses int64
	server.app.DB.Gorm.Raw("SELECT COUNT(*) FROM licenses").Scan(&licenses)
	if licenses != 0 {
		t.Fatalf("refused commands created %d licenses", licenses)
	}
}

// single decodes a single-resource document and returns its data.
func single(t *testing.T, out string) map[string]any {
	t.Helper()
	var doc struct{ Data map[string]any }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Data == nil {
		t.Fatalf("not a JSON:API document: %q", out)
	}
	return doc.Data
}

// listed decodes a list document and returns its data.
func listed(t *testing.T, out string) []map[string]any {
	t.Helper()
	var doc struct{ Data []map[string]any }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Data == nil {
		t.Fatalf("not a JSON:API list: %q", out)
	}
	return doc.Data
}

// TestHelpListsEveryCommand: relkey --help names each admin verb and the
// store commands.
func TestHelpListsEveryCommand(t *testing.T) {
	_, help, _ := run(t, nil, "--help")
	for resource, verbs := range adminActions {
		for verb := range verbs {
			if !regexp.MustCompile(`relkey ` + resource + ` (\S+\|)*` + verb + `\b`).MatchString(help) {
				t.Errorf("--help does not list relkey %s %s", resource, verb)
			}
		}
	}
	for _, command := range []string{"relkey backup <file>", "relkey restore <file> [--force]", "relkey secret rotate"} {
		if !strings.Contains(help, command) {
			t.Errorf("--help does not list %s", command)
		}
	}
}
