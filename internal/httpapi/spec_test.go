package httpapi_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/spec"
)

var pathParam = regexp.MustCompile(`:([a-z_]+)`)

// operation is one operation of spec/openapi.yaml.
type operation struct {
	method, path string
	item         map[string]any
}

// specOperations indexes spec/openapi.yaml's operations by operationId.
func specOperations(t *testing.T) map[string]operation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(spec.OpenAPI, &doc); err != nil {
		t.Fatalf("spec/openapi.yaml: %v", err)
	}
	ops := map[string]operation{}
	for path, item := range doc.Paths {
		for method, v := range item {
			op, ok := v.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			id, _ := op["operationId"].(string)
			if _, twice := ops[id]; twice || id == "" {
				t.Fatalf("spec/openapi.yaml: %s %s has no operationId or another operation's", method, path)
			}
			ops[id] = operation{method: strings.ToUpper(method), path: path, item: op}
		}
	}
	return ops
}

var web = regexp.MustCompile(`^/(console|portal|assets/console)(/\*)?$`)

// TestRouterMatchesSpec fails when a route is served but not documented in
// spec/openapi.yaml, or documented but not served.
func TestRouterMatchesSpec(t *testing.T) {
	documented := map[string]bool{}
	for _, op := range specOperations(t) {
		documented[op.method+" "+op.path] = true
	}
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	served := map[string]bool{}
	for _, r := range e.app.Server().Routes() {
		if strings.HasPrefix(r.Method, "echo_") {
			continue // Echo's group-level not-found handlers
		}
		if web.MatchString(r.Path) {
			continue // the web console's pages, not the API
		}
		path := pathParam.ReplaceAllString(r.Path, "{$1}")
		path = strings.Replace(path, "/v1/blobs/*", "/v1/blobs/{key}", 1)
		path = strings.Replace(path, "/-/npm/*", "/-/npm/{call}", 1)
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

var writeMethods = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// TestEveryWriteHasExamples fails when a write operation of
// spec/openapi.yaml has no scene in the examples story, or does not refer
// to the examples its scene produces: the request example wherever the
// story sends a body, the response example wherever relkey answers with
// one, on the status the scene gets.
func TestEveryWriteHasExamples(t *testing.T) {
	var examples map[string]any
	if err := yaml.Unmarshal(spec.Examples, &examples); err != nil {
		t.Fatalf("spec/examples.yaml: %v", err)
	}
	scenes := map[string]scene{}
	for _, s := range story {
		if _, twice := scenes[s.op]; twice && !s.setup {
			t.Errorf("the story has two examples of %s", s.op)
		}
		if !s.setup {
			scenes[s.op] = s
		}
	}
	for id, op := range specOperations(t) {
		if !writeMethods[op.method] {
			continue
		}
		s, ok := scenes[id]
		if !ok {
			t.Errorf("%s %s (%s) has no example scene in the story of spec_examples_test.go", op.method, op.path, id)
			continue
		}
		body, _ := op.item["requestBody"].(map[string]any)
		switch {
		case s.body != "" && body == nil:
			t.Errorf("%s: the story sends a body, the spec documents none", id)
		case s.body != "":
			expectExampleRefs(t, id, "request body", body, id+"Request")
		case body != nil && body["required"] == true:
			t.Errorf("%s: the spec requires a body, the story sends none", id)
		}
		responses, _ := op.item["responses"].(map[string]any)
		answer, _ := responses[strconv.Itoa(s.status)].(map[string]any)
		switch _, hasExample := examples[id+"Response"]; {
		case answer == nil:
			t.Errorf("%s: relkey answers %d, which the spec does not document", id, s.status)
		case hasExample:
			expectExampleRefs(t, id, strconv.Itoa(s.status)+" response", answer, id+"Response")
		case answer["content"] != nil:
			t.Errorf("%s: the spec documents content for %d, relkey answers without", id, s.status)
		}
	}
}

// expectExampleRefs checks that every media type of a request body or
// response refers to the example name of spec/examples.yaml.
func expectExampleRefs(t *testing.T, id, what string, object map[string]any, name string) {
	t.Helper()
	content, _ := object["content"].(map[string]any)
	if len(content) == 0 {
		t.Errorf("%s: the %s documents no content, so no example", id, what)
	}
	for media, v := range content {
		examples, _ := v.(map[string]any)["examples"].(map[string]any)
		ref, _ := examples[id].(map[string]any)
		if ref["$ref"] != "examples.yaml#/"+name {
			t.Errorf("%s: the %s (%s) lacks examples: {%s: {$ref: \"examples.yaml#/%s\"}}", id, what, media, id, name)
		}
	}
}
