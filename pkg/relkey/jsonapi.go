package relkey

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Document is a JSON:API document as the API answers: data is one
// resource, a list of them or null.
type Document struct {
	Data   json.RawMessage            `json:"data"`
	Meta   json.RawMessage            `json:"meta,omitempty"`
	Links  map[string]json.RawMessage `json:"links,omitempty"`
	Errors []ErrorObject              `json:"errors,omitempty"`
}

// Resource is a JSON:API resource object.
type Resource struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id,omitempty"`
	Attributes    json.RawMessage         `json:"attributes,omitempty"`
	Relationships map[string]Relationship `json:"relationships,omitempty"`
	Links         json.RawMessage         `json:"links,omitempty"`
	Meta          json.RawMessage         `json:"meta,omitempty"`
}

// Relationship is a member of a resource's relationships: data is a
// resource identifier, a list of them, null or absent.
type Relationship struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Links json.RawMessage `json:"links,omitempty"`
	Meta  json.RawMessage `json:"meta,omitempty"`
}

// Identifier is a resource identifier: a type and an id.
type Identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Identifier is the resource a to-one relationship points at, nil when its
// data is null, absent or a list.
func (r Relationship) Identifier() *Identifier {
	var id Identifier
	if json.Unmarshal(r.Data, &id) != nil || id.ID == "" {
		return nil
	}
	return &id
}

// Object is what every typed resource holds besides its attributes.
type Object struct {
	ID            string                  `json:"-"`
	Type          string                  `json:"-"`
	Relationships map[string]Relationship `json:"-"`
	// Raw is the resource's attributes as received, with those the typed
	// struct does not model.
	Raw     json.RawMessage `json:"-"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
}

func (o *Object) object() *Object { return o }

// RelatedID is the id of the resource the to-one relationship name points
// at, "" when there is none.
func (o *Object) RelatedID(name string) string {
	if id := o.Relationships[name].Identifier(); id != nil {
		return id.ID
	}
	return ""
}

// typed is a pointer to a typed resource.
type typed[T any] interface {
	*T
	object() *Object
}

// decode fills a typed resource from a resource object: its attributes,
// its Object, and the fields tagged rel from its relationships.
func decode[T any, P typed[T]](r *Resource) (*T, error) {
	v := P(new(T))
	if len(r.Attributes) > 0 && string(r.Attributes) != "null" {
		if err := json.Unmarshal(r.Attributes, v); err != nil {
			return nil, fmt.Errorf("relkey: decoding %s %s: %w", r.Type, r.ID, err)
		}
	}
	o := v.object()
	o.ID, o.Type, o.Relationships, o.Raw = r.ID, r.Type, r.Relationships, r.Attributes
	rv := reflect.ValueOf(v).Elem()
	for _, rel := range relationsOf(rv.Type()) {
		for _, name := range rel.names {
			if id := o.RelatedID(name); id != "" {
				rv.FieldByIndex(rel.index).SetString(id)
				break
			}
		}
	}
	return (*T)(v), nil
}

// decodeOne decodes a document whose data is one resource.
func decodeOne[T any, P typed[T]](body []byte) (*T, error) {
	var doc struct {
		Data *Resource `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("relkey: decoding the response: %w", err)
	}
	if doc.Data == nil {
		return nil, fmt.Errorf("relkey: the response has no data")
	}
	return decode[T, P](doc.Data)
}

// relation is a field tagged rel:"name[|alias...],type": the id of a
// to-one relationship, written as name and read from name or an alias.
type relation struct {
	names []string
	typ   string
	index []int
}

var relationCache sync.Map // reflect.Type -> []relation

// relationsOf lists the relation fields of struct type t, through its
// embedded structs.
func relationsOf(t reflect.Type) []relation {
	if cached, ok := relationCache.Load(t); ok {
		return cached.([]relation)
	}
	var out []relation
	for _, f := range reflect.VisibleFields(t) {
		tag, ok := f.Tag.Lookup("rel")
		if !ok || f.Type.Kind() != reflect.String {
			continue
		}
		names, typ, _ := strings.Cut(tag, ",")
		out = append(out, relation{names: strings.Split(names, "|"), typ: typ, index: f.Index})
	}
	relationCache.Store(t, out)
	return out
}

// resourceDocument is the request document creating a resource of type
// typ: attrs as its attributes, and its set relation fields as its
// relationships.
func resourceDocument(typ string, attrs any) map[string]any {
	data := map[string]any{"type": typ, "attributes": attrs}
	rv := reflect.Indirect(reflect.ValueOf(attrs))
	rels := map[string]any{}
	for _, rel := range relationsOf(rv.Type()) {
		if id := rv.FieldByIndex(rel.index).String(); id != "" {
			rels[rel.names[0]] = map[string]any{"data": Identifier{Type: rel.typ, ID: id}}
		}
	}
	if len(rels) > 0 {
		data["relationships"] = rels
	}
	return map[string]any{"data": data}
}

// linkages is the request document of a to-many change: identifiers of
// type typ.
func linkages(typ string, ids []string) map[string]any {
	data := make([]Identifier, len(ids))
	for i, id := range ids {
		data[i] = Identifier{Type: typ, ID: id}
	}
	return map[string]any{"data": data}
}
