package search

import (
	"errors"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
)

func TestCheck(t *testing.T) {
	or := "or"
	xor := "XOR"
	tests := []struct {
		name    string
		q       Query
		code    string
		pointer string
		check   func(Plan) bool
	}{
		{name: "singular type, camelCase attributes", q: Query{Type: "user", Terms: map[string]any{"firstName": "john"}},
			check: func(p Plan) bool { return p.Type.Name == "users" && !p.Or && p.Terms[0].Attribute == "first_name" }},
		{name: "op any case", q: Query{Type: "licenses", Op: &or, Terms: map[string]any{"name": "abc"}},
			check: func(p Plan) bool { return p.Or }},
		{name: "kebab type", q: Query{Type: "Entitlement", Terms: map[string]any{"code": "abc"}},
			check: func(p Plan) bool { return p.Type.Name == "entitlements" }},
		{name: "unknown type", q: Query{Type: "request-logs", Terms: map[string]any{"x": "abc"}}, code: "SEARCH_TYPE_NOT_SUPPORTED", pointer: "/meta/type"},
		{name: "no terms", q: Query{Type: "users"}, code: "SEARCH_QUERY_MISSING", pointer: "/meta/query"},
		{name: "bad op", q: Query{Type: "users", Op: &xor, Terms: map[string]any{"email": "abc"}}, code: "SEARCH_OP_NOT_SUPPORTED", pointer: "/meta/op"},
		{name: "unknown attribute", q: Query{Type: "groups", Terms: map[string]any{"max_users": "abc"}}, code: "SEARCH_QUERY_NOT_SUPPORTED", pointer: "/meta/query/maxUsers"},
		{name: "short term", q: Query{Type: "users", Terms: map[string]any{"email": "ab"}}, code: "SEARCH_QUERY_TOO_SMALL", pointer: "/meta/query/email"},
		{name: "a short number is fine", q: Query{Type: "users", Terms: map[string]any{"metadata": map[string]any{"n": 1.0}}},
			check: func(p Plan) bool { return len(p.Terms) == 1 }},
		{name: "short metadata term", q: Query{Type: "users", Terms: map[string]any{"metadata": map[string]any{"ext_id": "ab"}}}, code: "SEARCH_QUERY_TOO_SMALL", pointer: "/meta/query/metadata/extId"},
		{name: "metadata not a hash", q: Query{Type: "users", Terms: map[string]any{"metadata": "abc"}}, code: "SEARCH_QUERY_INVALID", pointer: "/meta/query/metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Check(tt.q)
			if tt.code == "" {
				if err != nil || !tt.check(p) {
					t.Fatalf("plan %+v, err %v", p, err)
				}
				return
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.Invalid || e.Code != tt.code || e.Source == nil || e.Source.Pointer != tt.pointer {
				t.Fatalf("err %v, want %s at %s", err, tt.code, tt.pointer)
			}
		})
	}
}
