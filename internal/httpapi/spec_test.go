package httpapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/spec"
)

var pathParam = regexp.MustCompile(`:([a-z_]+)`)

// TestRouterMatchesSpec fails when a route is served but not documented in
// spec/openapi.yaml, or documented but not served.
func TestRouterMatchesSpec(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(spec.OpenAPI, &doc); err != nil {
		t.Fatalf("spec/openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	served := map[string]bool{}
	for _, r := range e.app.Server().Routes() {
		if strings.HasPrefix(r.Method, "echo_") {
			continue // Echo's group-level not-found handlers
		}
		path := pathParam.ReplaceAllString(r.Path, "{$1}")
		path = strings.Replace(path, "/v1/blobs/*", "/v1/blobs/{key}", 1)
		if rest, ok := strings.CutPrefix(path, "/v1/"); ok && !strings.HasPrefix(rest, "accounts/") &&
			!strings.HasPrefix(rest, "health") && rest != "ping" && !strings.HasPrefix(rest, "blobs/") {
			path = "/v1/accounts/{account}/" + rest // bare layout of the default account
		}
		served[r.Method+" "+path] = true
	}
	var missing, stale []string
	for route := range served {
		if !documented[route] {
			missing = append(missing, route)
		}
	}
	for route := range documented {
		if !served[route] {
			stale = append(stale, route)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("served but not in spec/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("in spec/openapi.yaml but not served:\n  %s", strings.Join(stale, "\n  "))
	}
}
