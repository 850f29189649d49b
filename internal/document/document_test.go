package document

import (
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

type widgetParams struct {
	Name      optional.Value[string]         `json:"name"`
	Code      optional.Value[*string]        `json:"code"`
	MaxUses   optional.Value[*int]           `json:"max_uses"`
	Strict    optional.Value[bool]           `json:"strict"`
	Platforms optional.Value[[]string]       `json:"platforms"`
	Metadata  optional.Value[map[string]any] `json:"metadata"`
}

var widget = Resource{Singular: "widget", Plural: "widgets"}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, body, code, detail, pointer string
	}{
		{"malformed", `{"data":`, "JSON_INVALID", "", ""},
		{"NUL escape", `{"data":{"type":"widgets","attributes":{"name":"a\u0000b"}}}`, "ENCODING_INVALID", "", ""},
		{"top-level array", `[1]`, CodeParametersInvalid, "type mismatch (received array expected object)", "/"},
		{"missing data", `{}`, CodeParametersInvalid, "is missing", "/data"},
		{"unknown top-level key", `{"data":{"type":"widgets"},"foo":1}`, CodeParametersInvalid, "unpermitted parameter", "/foo"},
		{"data not object", `{"data":[]}`, CodeParametersInvalid, "type mismatch (received array expected object)", "/data"},
		{"missing type", `{"data":{"attributes":{}}}`, CodeParametersInvalid, "is missing", "/data/type"},
		{"wrong type", `{"data":{"type":"gadgets"}}`, CodeParametersInvalid, `type mismatch (received "gadgets" expected "widgets")`, "/data/type"},
		{"type not string", `{"data":{"type":1}}`, CodeParametersInvalid, "type mismatch (received integer expected string)", "/data/type"},
		{"unknown data key", `{"data":{"type":"widget","foo":{}}}`, CodeParametersInvalid, "unpermitted parameter", "/data/foo"},
		{"unknown attribute", `{"data":{"type":"widget","attributes":{"foo":1}}}`, CodeParametersInvalid, "unpermitted parameter", "/data/attributes/foo"},
		{"unknown camel attribute", `{"data":{"type":"widget","attributes":{"fooBar":1}}}`, CodeParametersInvalid, "unpermitted parameter", "/data/attributes/fooBar"},
		{"string for integer", `{"data":{"type":"widget","attributes":{"maxUses":"1"}}}`, CodeParametersInvalid, "type mismatch (received string expected integer)", "/data/attributes/maxUses"},
		{"float for integer", `{"data":{"type":"widget","attributes":{"max_uses":1.5}}}`, CodeParametersInvalid, "type mismatch (received number expected integer)", "/data/attributes/maxUses"},
		{"null for non-nullable", `{"data":{"type":"widget","attributes":{"name":null}}}`, CodeParametersInvalid, "cannot be null", "/data/attributes/name"},
		{"string for object", `{"data":{"type":"widget","attributes":{"metadata":"x"}}}`, CodeParametersInvalid, "type mismatch (received string expected object)", "/data/attributes/metadata"},
		{"array for object", `{"data":{"type":"widget","attributes":{"metadata":[]}}}`, CodeParametersInvalid, "type mismatch (received array expected object)", "/data/attributes/metadata"},
		{"numbers for strings", `{"data":{"type":"widget","attributes":{"platforms":[1]}}}`, CodeParametersInvalid, "type mismatch (received array expected array of strings)", "/data/attributes/platforms"},
		{"unknown relationship", `{"data":{"type":"widget","relationships":{"ownerUser":{}}}}`, CodeParametersInvalid, "unpermitted parameter", "/data/relationships/ownerUser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Decode([]byte(tt.body), widget, true)
			if err == nil {
				var p widgetParams
				if err = req.DecodeAttributes(&p); err == nil {
					err = req.PermitRelationships()
				}
			}
			e := apperr.As(err)
			if err == nil || e.Kind != apperr.Invalid || e.Code != tt.code {
				t.Fatalf("err = %v, want 400 %s", err, tt.code)
			}
			if tt.detail != "" && e.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", e.Detail, tt.detail)
			}
			if tt.pointer != "" && (e.Source == nil || e.Source.Pointer != tt.pointer) {
				t.Errorf("source = %+v, want pointer %q", e.Source, tt.pointer)
			}
		})
	}
}

func TestDecodeAttributes(t *testing.T) {
	body := `{"data":{"type":"widgets","attributes":{"name":"A","code":null,"max_uses":3,"strict":true,
		"platforms":["linux"],"metadata":{"fooBar":{"bazQux":1}}}}}`
	req, err := Decode([]byte(body), widget, true)
	if err != nil {
		t.Fatal(err)
	}
	var p widgetParams
	if err := req.DecodeAttributes(&p); err != nil {
		t.Fatal(err)
	}
	if !p.Name.Set || p.Name.V != "A" || !p.Code.Set || p.Code.V != nil || *p.MaxUses.V != 3 || !p.Strict.V ||
		!reflect.DeepEqual(p.Platforms.V, []string{"linux"}) {
		t.Fatalf("decoded %+v", p)
	}
	want := map[string]any{"foo_bar": map[string]any{"baz_qux": json.Number("1")}}
	got, _ := json.Marshal(p.Metadata.V)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Fatalf("metadata = %s, want %s", got, wantJSON)
	}
	empty, err := Decode(nil, widget, false)
	if err != nil || empty.Attributes != nil {
		t.Fatalf("empty optional body = %+v, %v", empty, err)
	}
}

func TestParsePaging(t *testing.T) {
	tests := []struct {
		query     string
		want      Paging
		errParam  string
		errDetail string
	}{
		{"", Paging{Request: pageReq(10, 0, false, false)}, "", ""},
		{"limit=100&order=asc", Paging{Request: pageReq(100, 0, true, false)}, "", ""},
		{"page[number]=2&page[size]=5", Paging{Request: pageReq(5, 5, false, true), Paged: true, Number: 2, Size: 5}, "", ""},
		{"page[number]=3&limit=20", Paging{Request: pageReq(20, 40, false, true), Paged: true, Number: 3, Size: 20}, "", ""},
		{"limit=0", Paging{}, "limit", ""},
		{"limit=101", Paging{}, "limit", ""},
		{"limit=x", Paging{}, "limit", ""},
		{"order=up", Paging{}, "order", ""},
		{"page[size]=5", Paging{}, "page", "page must be an object containing a cursor or number and optional size"},
		{"page[size]=5&page[number]=", Paging{}, "page[number]", "page number must be a number greater than 0"},
		{"page[size]=x", Paging{}, "page", "page must be an object containing a cursor or number and optional size"},
		{"page[number]=0", Paging{}, "page[number]", ""},
		{"page[number]=101", Paging{}, "page[number]", "page number must be a number less than or equal to 100 (please use cursor-based pagination instead)"},
		{"page[number]=1&page[size]=101", Paging{}, "page[size]", ""},
		{"page=1", Paging{}, "page", ""},
		{"page[cursor]=x", Paging{}, "page[cursor]", `page cursor must be a valid UUID (got "x")`},
		{"page[cursor]=", Paging{Request: page.Request{Limit: 10, Keyset: true}, Size: 10}, "", ""},
		{"page[cursor]=&limit=5&order=asc", Paging{Request: page.Request{Limit: 5, Ascending: true, Keyset: true}, Size: 5}, "", ""},
		{"page[cursor]=52a26820-0caa-4bac-9ff1-27bb6ec77ac4&page[size]=5",
			Paging{Request: page.Request{Limit: 5, Keyset: true, Cursor: "52a26820-0caa-4bac-9ff1-27bb6ec77ac4"}, Size: 5}, "", ""},
		{"page[cursor]=&page[size]=101", Paging{}, "page[size]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := ParsePaging(q)
			if tt.errParam != "" {
				e := apperr.As(err)
				if err == nil || e.Kind != apperr.Invalid || e.Source == nil || e.Source.Parameter != tt.errParam {
					t.Fatalf("err = %v, want 400 on parameter %q", err, tt.errParam)
				}
				if tt.errDetail != "" && e.Detail != tt.errDetail {
					t.Fatalf("detail = %q", e.Detail)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func pageReq(limit, offset int, asc, count bool) page.Request {
	return page.Request{Limit: limit, Offset: offset, Ascending: asc, Count: count}
}

func TestLinks(t *testing.T) {
	q, _ := url.ParseQuery("page[number]=2&page[size]=5&auth=license:secret&token=t&status=ACTIVE")
	p, err := ParsePaging(q)
	if err != nil {
		t.Fatal(err)
	}
	links := *p.Links("/v1/accounts/acme/products", q, 11)
	want := map[string]any{
		"self":  "/v1/accounts/acme/products?page%5Bnumber%5D=2&page%5Bsize%5D=5&status=ACTIVE",
		"first": "/v1/accounts/acme/products?page%5Bnumber%5D=1&page%5Bsize%5D=5&status=ACTIVE",
		"prev":  "/v1/accounts/acme/products?page%5Bnumber%5D=1&page%5Bsize%5D=5&status=ACTIVE",
		"next":  "/v1/accounts/acme/products?page%5Bnumber%5D=3&page%5Bsize%5D=5&status=ACTIVE",
		"last":  "/v1/accounts/acme/products?page%5Bnumber%5D=3&page%5Bsize%5D=5&status=ACTIVE",
		"meta":  map[string]any{"pages": 3, "count": int64(11)},
	}
	for k, v := range want {
		if !reflect.DeepEqual(links[k], v) {
			t.Errorf("links[%s] = %v, want %v", k, links[k], v)
		}
	}
	q.Set("page[number]", "3")
	p, _ = ParsePaging(q)
	if l := *p.Links("/p", q, 11); l["next"] != nil || l["prev"] == nil {
		t.Errorf("last page: next=%v prev=%v", l["next"], l["prev"])
	}
	q.Set("page[number]", "1")
	p, _ = ParsePaging(q)
	if l := *p.Links("/p", q, 0); l["prev"] != nil || l["next"] != nil || l["meta"].(map[string]any)["pages"] != 1 {
		t.Errorf("empty list links = %v", l)
	}
	if (Paging{}).Links("/p", nil, 3) != nil {
		t.Error("limit mode rendered links")
	}
}

// TestPermitted: only the attributes the params take are kept, snake-cased,
// and nulls only where the params take null.
func TestPermitted(t *testing.T) {
	type params struct {
		Name        optional.Value[string]         `json:"name"`
		MaxMachines optional.Value[*int64]         `json:"max_machines"`
		Metadata    optional.Value[map[string]any] `json:"metadata"`
	}
	tests := []struct {
		name  string
		attrs string
		want  []string
	}{
		{"known attributes in camelCase", `{"name":"Pro","maxMachines":3,"metadata":{"a":1}}`, []string{"max_machines", "metadata", "name"}},
		{"unknown and read-only ones are dropped", `{"name":"Pro","created":"2026-01-01T00:00:00Z","status":"ACTIVE"}`, []string{"name"}},
		{"null where the params take it", `{"maxMachines":null,"metadata":null}`, []string{"max_machines", "metadata"}},
		{"null where they do not", `{"name":null}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attrs map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.attrs), &attrs); err != nil {
				t.Fatal(err)
			}
			kept := Permitted(attrs, &params{})
			var got []string
			for k := range kept {
				got = append(got, k)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			var p params
			if err := (&Request{Attributes: kept}).DecodeAttributes(&p); err != nil {
				t.Fatalf("the kept attributes do not decode: %v", err)
			}
		})
	}
}
