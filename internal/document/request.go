// Package document reads and writes JSON:API documents the way Keygen's API
// does: request keys in camelCase or snake_case, strict attribute checking
// with JSON pointers in errors, camelCase attributes and path-only links in
// responses, and limit or page-number pagination.
package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/naming"
)

// Resource names a resource type as clients may spell it.
type Resource struct {
	Singular string // "product"
	Plural   string // "products", the rendered type
	// Aliases are other spellings of the type a route accepts
	// ("secondFactor", "second_factors"…).
	Aliases []string
}

// Request is a decoded request document.
type Request struct {
	Type          string
	ID            string
	Attributes    map[string]json.RawMessage // snake_case keys
	Relationships map[string]json.RawMessage // snake_case keys
	Meta          map[string]json.RawMessage // snake_case keys
}

// Code of every malformed-parameter error (unknown key, type mismatch, null).
const CodeParametersInvalid = "PARAMETERS_INVALID"

func paramError(detail, pointer string) error {
	return apperr.AtPointer(apperr.Invalid, CodeParametersInvalid, detail, pointer)
}

// Decode parses a request document whose data must be of resource r. An
// empty body decodes to an empty document when dataRequired is false.
func Decode(body []byte, r Resource, dataRequired bool) (*Request, error) {
	req := &Request{}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if dataRequired {
			return nil, paramError("is missing", "/data")
		}
		return req, nil
	}
	if !json.Valid(body) {
		return nil, apperr.New(apperr.Invalid, "JSON_INVALID", "The request data is invalid (check that the request body is valid JSON)")
	}
	// No store accepts NUL in text (PostgreSQL refuses it), so no document may carry one.
	if bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)) {
		return nil, apperr.New(apperr.Invalid, "ENCODING_INVALID", "The request data contains a NUL byte")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, paramError(mismatch(body, "object"), "/")
	}
	for key := range top {
		if key != "data" && key != "meta" {
			return nil, paramError("unpermitted parameter", "/"+key)
		}
	}
	if raw, ok := top["meta"]; ok {
		meta, err := object(raw, "/meta")
		if err != nil {
			return nil, err
		}
		req.Meta = meta
	}
	raw, ok := top["data"]
	if !ok || isNull(raw) {
		if dataRequired {
			return nil, paramError("is missing", "/data")
		}
		return req, nil
	}
	data, err := object(raw, "/data")
	if err != nil {
		return nil, err
	}
	for key, val := range data {
		switch key {
		case "type":
			if err := json.Unmarshal(val, &req.Type); err != nil {
				return nil, paramError(mismatch(val, "string"), "/data/type")
			}
		case "id":
			if err := json.Unmarshal(val, &req.ID); err != nil {
				return nil, paramError(mismatch(val, "string"), "/data/id")
			}
		case "attributes":
			if req.Attributes, err = object(val, "/data/attributes"); err != nil {
				return nil, err
			}
		case "relationships":
			if req.Relationships, err = object(val, "/data/relationships"); err != nil {
				return nil, err
			}
		default:
			return nil, paramError("unpermitted parameter", "/data/"+key)
		}
	}
	switch req.Type {
	case "":
		return nil, paramError("is missing", "/data/type")
	case r.Singular, r.Plural:
	default:
		if slices.Contains(r.Aliases, req.Type) {
			break
		}
		return nil, paramError(fmt.Sprintf("type mismatch (received %q expected %q)", req.Type, r.Plural), "/data/type")
	}
	return req, nil
}

// object decodes a JSON object, snake-casing its keys.
func object(raw json.RawMessage, pointer string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, paramError(mismatch(raw, "object"), pointer)
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[naming.Snake(k)] = v
	}
	return out, nil
}

// DecodeAttributes fills dst, a pointer to a struct whose json tags name
// the permitted attributes in snake_case (fields are usually
// optional.Value). Unknown attributes, type mismatches and nulls for
// non-nullable fields are 400 errors pointing at the attribute. Object
// values have their keys snake-cased, deeply, as Keygen stores metadata.
func (r *Request) DecodeAttributes(dst any) error {
	return decodeMembers(r.Attributes, dst, "/data/attributes/")
}

// DecodeObject fills dst from a nested JSON object (such as meta.scope),
// like DecodeAttributes, with errors pointing below pointer.
func DecodeObject(raw json.RawMessage, dst any, pointer string) error {
	members, err := object(raw, pointer)
	if err != nil {
		return err
	}
	return decodeMembers(members, dst, pointer+"/")
}

// DecodeMeta fills dst from the document's top-level meta, like DecodeAttributes.
func (r *Request) DecodeMeta(dst any) error {
	return decodeMembers(r.Meta, dst, "/meta/")
}

// Permitted keeps the members of attributes (keys in any case) that
// DecodeAttributes into dst accepts: those dst names, and nulls only for
// its nullable fields. A copy of another server's resources uses it to
// leave out what relkey does not take, rather than fail on it.
func Permitted(attributes map[string]json.RawMessage, dst any) map[string]json.RawMessage {
	fields := fieldsOf(reflect.TypeOf(dst).Elem())
	kept := map[string]json.RawMessage{}
	for key, raw := range attributes {
		name := naming.Snake(key)
		if f, ok := fields[name]; ok && (f.nullable || !isNull(raw)) {
			kept[name] = raw
		}
	}
	return kept
}

func decodeMembers(members map[string]json.RawMessage, dst any, prefix string) error {
	fields := fieldsOf(reflect.TypeOf(dst).Elem())
	v := reflect.ValueOf(dst).Elem()
	for key, raw := range members {
		pointer := prefix + naming.Camel(key)
		f, ok := fields[key]
		if !ok {
			return paramError("unpermitted parameter", pointer)
		}
		if isNull(raw) && !f.nullable {
			return paramError("cannot be null", pointer)
		}
		if f.object && !isNull(raw) {
			var generic any
			if err := json.Unmarshal(raw, &generic); err != nil {
				return paramError(mismatch(raw, f.jsonType), pointer)
			}
			if _, ok := generic.(map[string]any); !ok {
				return paramError(mismatch(raw, f.jsonType), pointer)
			}
			raw, _ = json.Marshal(naming.MapKeys(generic, naming.Snake))
		}
		if err := json.Unmarshal(raw, v.Field(f.index).Addr().Interface()); err != nil {
			return paramError(mismatch(raw, f.jsonType), pointer)
		}
	}
	return nil
}

// Linkage is a to-one relationship's resource identifier.
type Linkage struct {
	Type string
	ID   string
}

// ToOne decodes the to-one relationship name: nil when absent. The type
// must be one of types (singular or plural spellings of the resources).
func (r *Request) ToOne(name string, types ...Resource) (*Linkage, error) {
	raw, ok := r.Relationships[name]
	if !ok {
		return nil, nil
	}
	pointer := "/data/relationships/" + naming.Camel(name)
	var rel struct {
		Data *struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &rel); err != nil || rel.Data == nil {
		return nil, paramError("must be an object with data {type, id}", pointer)
	}
	if rel.Data.ID == "" {
		return nil, paramError("is missing", pointer+"/data/id")
	}
	for _, t := range types {
		if rel.Data.Type == t.Singular || rel.Data.Type == t.Plural {
			return &Linkage{Type: t.Plural, ID: rel.Data.ID}, nil
		}
	}
	return nil, paramError(fmt.Sprintf("type mismatch (received %q)", rel.Data.Type), pointer+"/data/type")
}

// PermitRelationships rejects any relationship not named.
func (r *Request) PermitRelationships(names ...string) error {
	for key := range r.Relationships {
		if !contains(names, key) {
			return paramError("unpermitted parameter", "/data/relationships/"+naming.Camel(key))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type field struct {
	index    int
	nullable bool
	object   bool
	jsonType string
}

var fieldCache sync.Map // reflect.Type -> map[string]field

func fieldsOf(t reflect.Type) map[string]field {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(map[string]field)
	}
	fields := map[string]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		inner := sf.Type
		// optional.Value[T] and similar wrappers: the value lives in field V.
		if inner.Kind() == reflect.Struct {
			if v, ok := inner.FieldByName("V"); ok {
				inner = v.Type
			}
		}
		kind := inner.Kind()
		base := inner
		if kind == reflect.Pointer {
			base = inner.Elem()
		}
		fields[name] = field{
			index:    i,
			nullable: kind == reflect.Pointer || kind == reflect.Slice || kind == reflect.Map,
			object:   base.Kind() == reflect.Map,
			jsonType: jsonTypeOf(base),
		}
	}
	fieldCache.Store(t, fields)
	return fields
}

var timeType = reflect.TypeOf(time.Time{})

func jsonTypeOf(t reflect.Type) string {
	if t == timeType {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonTypeOf(t.Elem()) + "s"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "value"
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// mismatch describes a type error the way typed_params does.
func mismatch(raw []byte, expected string) string {
	return fmt.Sprintf("type mismatch (received %s expected %s)", jsonKind(raw), expected)
}

func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "number"
	}
	return "integer"
}

// DecodeLinkages parses a document whose data is an array of resource
// identifiers of resource r ({"data":[{"type":…,"id":…}]}) and returns the ids.
func DecodeLinkages(body []byte, r Resource) ([]string, error) {
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &doc); err != nil {
		return nil, apperr.New(apperr.Invalid, "JSON_INVALID", "The request data is invalid (check that the request body is valid JSON)")
	}
	var items []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(doc.Data, &items); err != nil || doc.Data == nil {
		return nil, paramError(mismatch(doc.Data, "array"), "/data")
	}
	ids := make([]string, len(items))
	for i, item := range items {
		pointer := fmt.Sprintf("/data/%d", i)
		if item.Type != r.Singular && item.Type != r.Plural {
			return nil, paramError(fmt.Sprintf("type mismatch (received %q expected %q)", item.Type, r.Plural), pointer+"/type")
		}
		if item.ID == "" {
			return nil, paramError("is missing", pointer+"/id")
		}
		ids[i] = item.ID
	}
	return ids, nil
}

// DecodeEmbedded parses {"data":[…]} whose items are resources of type r
// without ids, each carrying the to-one relationship rel to a resource of type
// target (as Keygen's release constraints do), and returns the target ids.
// pointer locates the data array in the request.
func DecodeEmbedded(raw []byte, pointer string, r Resource, rel string, target Resource) ([]string, error) {
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(raw), &doc); err != nil {
		return nil, paramError(mismatch(raw, "object"), pointer)
	}
	var items []struct {
		Type          string                     `json:"type"`
		Relationships map[string]json.RawMessage `json:"relationships"`
	}
	if err := json.Unmarshal(doc.Data, &items); err != nil || doc.Data == nil {
		return nil, paramError(mismatch(doc.Data, "array"), pointer)
	}
	ids := make([]string, len(items))
	for i, item := range items {
		at := fmt.Sprintf("%s/%d", pointer, i)
		if item.Type != r.Singular && item.Type != r.Plural {
			return nil, paramError(fmt.Sprintf("type mismatch (received %q expected %q)", item.Type, r.Plural), at+"/type")
		}
		var link struct {
			Data *struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			} `json:"data"`
		}
		found := false
		for key, value := range item.Relationships {
			if naming.Snake(key) != rel {
				return nil, paramError("unpermitted parameter", at+"/relationships/"+key)
			}
			found = json.Unmarshal(value, &link) == nil && link.Data != nil
		}
		linkAt := at + "/relationships/" + naming.Camel(rel)
		if !found {
			return nil, paramError("must be an object with data {type, id}", linkAt)
		}
		if link.Data.Type != target.Singular && link.Data.Type != target.Plural {
			return nil, paramError(fmt.Sprintf("type mismatch (received %q expected %q)", link.Data.Type, target.Plural), linkAt+"/data/type")
		}
		ids[i] = link.Data.ID // an unknown or empty id is the caller's 422
	}
	return ids, nil
}
