package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/jsonapi"
)

// standard is v as the API rendered it before Encode: encoding/json's
// Encoder without HTML escaping, less the newline.
func standard(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

type status string

func TestEncodeWritesWhatEncodingJSONWrites(t *testing.T) {
	when := time.Date(2026, 12, 3, 13, 45, 6, 789_000_000, time.UTC)
	s, n, b := "x", int64(-7), true
	var nilNode *jsonapi.Node
	links := jsonapi.Links{"self": "/v1/accounts/a/licenses/1?x=1&y=<2>"}
	meta := jsonapi.Meta{"count": 3, "ts": when}
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"plain string", "abc"},
		{"escapes", "quote \" backslash \\ newline \n tab \t bell \a del \x7f <&> é \u2028 \xff"},
		{"integers", []any{0, -1, int64(math.MaxInt64), int32(-5), uint32(7), uint64(math.MaxUint64)}},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -2.5e-9, 3.0}},
		{"bools", []any{true, false}},
		{"time", when},
		{"time with zone", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))},
		{"raw", json.RawMessage(" { \"a\" : [1, 2] } ")},
		{"nil raw", json.RawMessage(nil)},
		{"pointers", map[string]any{"s": &s, "n": &n, "b": &b, "t": &when, "nils": (*string)(nil), "nilint": (*int64)(nil), "niltime": (*time.Time)(nil)}},
		{"strings", []string{"a", "b\"c"}},
		{"nil strings", []string(nil)},
		{"empty collections", map[string]any{"m": map[string]any{}, "nilm": map[string]any(nil), "a": []any{}, "nila": []any(nil)}},
		{"typed values", map[string]any{"status": status("ACTIVE"), "u8": uint8(3), "f32": float32(1.25), "struct": struct{ A int }{1}}},
		{"relationships", map[string]any{"owner": ToOne("users", "1", "/users/1"), "none": ToOne("users", "", "/x&y"), "many": ToMany("/m")}},
		{"unsorted keys", map[string]any{"b": 1, "a": 2, "é": 3, "A": 4, "_": 5}},
		{"typed maps", map[string]any{"strings": map[string]string{"b": "<x>", "a": "\"q\""}, "counts": map[string]int64{"z": -1, "y": math.MaxInt64},
			"nil strings": map[string]string(nil), "nil counts": map[string]int64(nil), "empty": map[string]string{}}},
		{"node", &jsonapi.Node{Type: "licenses", ID: "1", Attributes: map[string]any{"name": "n", "metadata": map[string]any{"k": []any{1, "v"}}},
			Relationships: map[string]any{"policy": ToOne("policies", "2", "/p")}, Links: &links, Meta: &meta}},
		{"bare node", &jsonapi.Node{Type: "x"}},
		{"node with client id and empty maps", &jsonapi.Node{Type: "x", ClientID: "c", Attributes: map[string]any{}, Relationships: map[string]any{}}},
		{"nil node", nilNode},
		{"one payload", &jsonapi.OnePayload{Data: &jsonapi.Node{Type: "a", ID: "1"}, Meta: &meta, Links: &links}},
		{"one payload, null data", &jsonapi.OnePayload{Data: nil, Meta: &jsonapi.Meta{"valid": false}}},
		{"one payload, included", &jsonapi.OnePayload{Data: &jsonapi.Node{Type: "a"}, Included: []*jsonapi.Node{{Type: "b", ID: "2"}}}},
		{"many payload", &jsonapi.ManyPayload{Data: []*jsonapi.Node{{Type: "a", ID: "1"}, {Type: "a", ID: "2"}}, Links: &links}},
		{"many payload, empty and nil", []any{&jsonapi.ManyPayload{Data: []*jsonapi.Node{}}, &jsonapi.ManyPayload{}}},
		{"relationship nodes", []any{&jsonapi.RelationshipOneNode{Data: &jsonapi.Node{Type: "a", ID: "1"}, Links: &links},
			&jsonapi.RelationshipManyNode{Data: []*jsonapi.Node{{Type: "a", ID: "1"}}, Meta: &meta}, &jsonapi.RelationshipOneNode{}}},
		{"links and meta values", []any{links, meta, &links, &meta, (*jsonapi.Links)(nil), (*jsonapi.Meta)(nil), jsonapi.Links(nil)}},
		{"pointer to empty links", &jsonapi.Node{Type: "x", Links: &jsonapi.Links{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(nil, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := standard(t, tt.v); string(got) != want {
				t.Fatalf("Encode:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}

// TestEncodeRandomDocuments compares Encode with encoding/json on random
// nested documents.
func TestEncodeRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		v := &jsonapi.OnePayload{Data: &jsonapi.Node{Type: "t", ID: fmt.Sprint(i), Attributes: randomObject(r, 3)}}
		got, err := Encode(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if want := standard(t, v); string(got) != want {
			t.Fatalf("document %d:\nEncode:\n%s\nencoding/json:\n%s", i, got, want)
		}
	}
}

func randomObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(6) {
		m[randomString(r)] = randomValue(r, depth)
	}
	return m
}

func randomValue(r *rand.Rand, depth int) any {
	kinds := 7
	if depth > 0 {
		kinds = 9
	}
	switch r.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return randomString(r)
	case 2:
		return r.Int64N(1<<40) - 1<<39
	case 3:
		return math.Float64frombits(r.Uint64()>>2) * float64(r.IntN(3)-1)
	case 4:
		return r.IntN(2) == 0
	case 5:
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
	case 6:
		return r.Float64() * math.Pow10(r.IntN(40)-20)
	case 7:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth-1)
		}
		return a
	default:
		return randomObject(r, depth-1)
	}
}

func randomString(r *rand.Rand) string {
	const chars = "abcXYZ019 _-\"\\\n<>&é€\u2028\x01"
	runes := []rune(chars)
	b := make([]rune, r.IntN(8))
	for i := range b {
		b[i] = runes[r.IntN(len(runes))]
	}
	return string(b)
}

func BenchmarkEncodeLicenseDocument(b *testing.B) {
	when := time.Now()
	doc := &jsonapi.OnePayload{Data: &jsonapi.Node{Type: "licenses", ID: "5a1f7e0c-1d2b-4c3d-9e8f-0a1b2c3d4e5f",
		Attributes: map[string]any{"name": "Pro", "key": "ABCD-EFGH", "expiry": nil, "status": "ACTIVE", "uses": 0, "protected": false,
			"version": nil, "suspended": false, "scheme": nil, "encrypted": false, "strict": false, "floating": true, "maxMachines": 5,
			"maxProcesses": nil, "maxUsers": nil, "maxCores": nil, "maxUses": nil, "requireHeartbeat": false, "requireCheckIn": false,
			"lastValidated": when, "lastCheckIn": nil, "nextCheckIn": nil, "lastCheckOut": nil, "permissions": []string{"license.read", "license.validate"},
			"metadata": map[string]any{}, "created": when, "updated": when},
		Relationships: map[string]any{"account": ToOne("accounts", "1", "/a"), "product": ToOne("products", "2", "/p"), "policy": ToOne("policies", "3", "/q"),
			"owner": ToOne("users", "", "/o"), "users": ToMany("/u"), "machines": ToMany("/m"), "tokens": ToMany("/t"), "entitlements": ToMany("/e")},
		Links: &jsonapi.Links{"self": "/v1/accounts/1/licenses/5a1f7e0c-1d2b-4c3d-9e8f-0a1b2c3d4e5f"}},
		Meta: &jsonapi.Meta{"ts": when, "valid": true, "detail": "is valid", "code": "VALID"}}
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = Encode(buf[:0], doc)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(doc)
		}
	})
}

func TestCountedRelationshipRendersAsItsMapForm(t *testing.T) {
	for _, tt := range []struct {
		name    string
		related string
		counts  []Count
		want    map[string]int64
	}{
		{"one count", "/l/users", []Count{{"count", 3}}, map[string]int64{"count": 3}},
		// Given out of order, rendered by name as encoding/json orders a map.
		{"counts by name", "/l/machines", []Count{{"count", 2}, {"cores", 8}, {"memory", -1}, {"disk", math.MaxInt64}},
			map[string]int64{"count": 2, "cores": 8, "memory": -1, "disk": math.MaxInt64}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := standard(t, map[string]any{"links": map[string]string{"related": tt.related}, "meta": tt.want})
			got, err := Encode(nil, map[string]any{"r": ToMany(tt.related).Counted(tt.counts...)})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != `{"r":`+want+`}` {
				t.Errorf("Encode = %s, want {\"r\":%s}", got, want)
			}
		})
	}
}
