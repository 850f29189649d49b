package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/jsonapi"
)

// Encode appends v as JSON to dst exactly as encoding/json's Encoder with
// SetEscapeHTML(false) writes it, without the trailing newline. Documents
// (jsonapi payloads, nodes, links and meta, the maps, slices and scalars
// attributes hold) are written directly, without reflection; any other value
// goes through encoding/json.
func Encode(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendPlainString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case float64:
		return appendFloat(dst, v)
	case time.Time:
		return appendTime(dst, v)
	case json.RawMessage:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendCompact(dst, v)
	case Relationship:
		return v.appendTo(dst), nil
	case *jsonapi.OnePayload:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendPayload(dst, v.Data, nil, false, v.Included, v.Links, v.Meta)
	case *jsonapi.ManyPayload:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendPayload(dst, nil, v.Data, true, v.Included, v.Links, v.Meta)
	case *jsonapi.Node:
		return appendNode(dst, v)
	case []*jsonapi.Node:
		return appendNodes(dst, v)
	case *jsonapi.RelationshipOneNode:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendRelationship(dst, v.Data, nil, false, v.Links, v.Meta)
	case *jsonapi.RelationshipManyNode:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendRelationship(dst, nil, v.Data, true, v.Links, v.Meta)
	case map[string]any:
		return appendObject(dst, v, Encode)
	case map[string]string:
		return appendObject(dst, v, appendStringValue)
	case map[string]int64:
		return appendObject(dst, v, appendInt64)
	case jsonapi.Links:
		return appendObject(dst, v, Encode)
	case jsonapi.Meta:
		return appendObject(dst, v, Encode)
	case *jsonapi.Links:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, *v, Encode)
	case *jsonapi.Meta:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, *v, Encode)
	case []any:
		return appendArray(dst, v, Encode)
	case []string:
		return appendArray(dst, v, appendStringValue)
	case *string:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendPlainString(dst, *v), nil
	case *int64:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return strconv.AppendInt(dst, *v, 10), nil
	case *int:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return strconv.AppendInt(dst, int64(*v), 10), nil
	case *bool:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return strconv.AppendBool(dst, *v), nil
	case *time.Time:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendTime(dst, *v)
	}
	return appendStandard(dst, v)
}

func appendStringValue(dst []byte, s string) ([]byte, error) { return appendPlainString(dst, s), nil }

func appendInt64(dst []byte, n int64) ([]byte, error) { return strconv.AppendInt(dst, n, 10), nil }

// appendStandard appends v as encoding/json writes it.
func appendStandard(dst []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendPayload writes a top-level document: data (one node, or many when
// many is set), then included, links and meta when present.
func appendPayload(dst []byte, one *jsonapi.Node, data []*jsonapi.Node, many bool, included []*jsonapi.Node, links *jsonapi.Links, meta *jsonapi.Meta) ([]byte, error) {
	dst = append(dst, `{"data":`...)
	var err error
	if many {
		dst, err = appendNodes(dst, data)
	} else {
		dst, err = appendNode(dst, one)
	}
	if err != nil {
		return dst, err
	}
	if len(included) > 0 {
		dst = append(dst, `,"included":`...)
		if dst, err = appendNodes(dst, included); err != nil {
			return dst, err
		}
	}
	return appendLinksMeta(dst, links, meta)
}

// appendRelationship writes a relationship node: data, then links and meta.
func appendRelationship(dst []byte, one *jsonapi.Node, data []*jsonapi.Node, many bool, links *jsonapi.Links, meta *jsonapi.Meta) ([]byte, error) {
	return appendPayload(dst, one, data, many, nil, links, meta)
}

// appendLinksMeta closes an object with its links and meta when present.
func appendLinksMeta(dst []byte, links *jsonapi.Links, meta *jsonapi.Meta) ([]byte, error) {
	var err error
	if links != nil {
		dst = append(dst, `,"links":`...)
		if dst, err = appendObject(dst, *links, Encode); err != nil {
			return dst, err
		}
	}
	if meta != nil {
		dst = append(dst, `,"meta":`...)
		if dst, err = appendObject(dst, *meta, Encode); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendNodes(dst []byte, nodes []*jsonapi.Node) ([]byte, error) {
	return appendArray(dst, nodes, appendNode)
}

// appendArray writes items with each, a nil slice as null.
func appendArray[T any](dst []byte, items []T, each func([]byte, T) ([]byte, error)) ([]byte, error) {
	if items == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	for i, item := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = each(dst, item); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendNode writes a resource object in jsonapi.Node's field order,
// leaving out what its json tags omit when empty.
func appendNode(dst []byte, n *jsonapi.Node) ([]byte, error) {
	if n == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, `{"type":`...)
	dst = appendPlainString(dst, n.Type)
	if n.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = appendPlainString(dst, n.ID)
	}
	if n.ClientID != "" {
		dst = append(dst, `,"client-id":`...)
		dst = appendPlainString(dst, n.ClientID)
	}
	var err error
	if len(n.Attributes) > 0 {
		dst = append(dst, `,"attributes":`...)
		if dst, err = appendObject(dst, n.Attributes, Encode); err != nil {
			return dst, err
		}
	}
	if len(n.Relationships) > 0 {
		dst = append(dst, `,"relationships":`...)
		if dst, err = appendObject(dst, n.Relationships, Encode); err != nil {
			return dst, err
		}
	}
	return appendLinksMeta(dst, n.Links, n.Meta)
}

// appendObject writes a map with its keys sorted, as encoding/json does.
func appendObject[M ~map[string]V, V any](dst []byte, m M, each func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var small [32]member[V]
	members := small[:0]
	for k, v := range m {
		members = append(members, member[V]{k, v})
	}
	slices.SortFunc(members, compareMembers[V])
	dst = append(dst, '{')
	for i, mb := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPlainString(dst, mb.key)
		dst = append(dst, ':')
		var err error
		if dst, err = each(dst, mb.value); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// member is a map's key and value, sorted by key without looking it up again.
type member[V any] struct {
	key   string
	value V
}

func compareMembers[V any](a, b member[V]) int { return strings.Compare(a.key, b.key) }

// appendPlainString writes s as encoding/json does without HTML escaping:
// plain ASCII directly, anything that needs an escape through encoding/json.
func appendPlainString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			dst, _ = appendStandard(dst, s)
			return dst
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendFloat writes f as encoding/json does; exponent forms go through it.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, errors.New("json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return appendStandard(dst, f)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
}

func appendTime(dst []byte, t time.Time) ([]byte, error) {
	b, err := t.MarshalJSON()
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendCompact writes raw JSON compacted, as encoding/json writes a
// json.RawMessage.
func appendCompact(dst []byte, raw []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}
