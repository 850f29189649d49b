package httpapi_test

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/spec"
)

// routeShape is a path with every parameter segment written ":", so that
// Keygen's /products/:id/policies/:id matches relkey's
// /products/:id/policies/:related.
func routeShape(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		if strings.HasPrefix(s, ":") {
			segments[i] = ":"
		}
	}
	return strings.Join(segments, "/")
}

// TestKeygenRouteTable fails when a route spec/keygen-routes.tsv marks
// served is not served under /v1/accounts/:account, when a served route
// names no operation of spec/openapi.yaml, or when an open route names no
// owner.
func TestKeygenRouteTable(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	const prefix = "/v1/accounts/:account"
	served := map[string]bool{}
	for _, r := range e.app.Server().Routes() {
		if rest, ok := strings.CutPrefix(r.Path, prefix); ok {
			served[r.Method+" "+routeShape(rest)] = true
		}
	}
	operations := specOperations(t)
	rows := 0
	for n, line := range strings.Split(string(spec.KeygenRoutes), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows++
		cols := strings.Split(line, "\t")
		if len(cols) < 4 {
			t.Errorf("keygen-routes.tsv:%d: want method, path, status, handler: %q", n+1, line)
			continue
		}
		method, path, status, handler := cols[0], strings.TrimSuffix(cols[1], "/"), cols[2], cols[3]
		key := method + " " + routeShape(path)
		switch status {
		case "served":
			if !served[key] {
				t.Errorf("keygen-routes.tsv:%d: %s %s is marked served but relkey does not serve it", n+1, method, cols[1])
			}
			if _, ok := operations[strings.TrimSuffix(handler, " (HEAD)")]; !ok {
				t.Errorf("keygen-routes.tsv:%d: %s %s names %q, no operation of spec/openapi.yaml", n+1, method, cols[1], handler)
			}
		case "open":
			if !strings.HasPrefix(handler, "issue ") {
				t.Errorf("keygen-routes.tsv:%d: open route %s %s names no owning issue", n+1, method, cols[1])
			}
		default:
			t.Errorf("keygen-routes.tsv:%d: status %q is neither served nor open", n+1, status)
		}
	}
	if rows < 250 {
		t.Fatalf("keygen-routes.tsv lists %d routes; Keygen CE has more", rows)
	}
}
