// Package optional distinguishes "not given" from "given as null" and
// "given": the three states of an attribute in a JSON:API update.
package optional

import "encoding/json"

// Value is an input field that may be absent. For nullable fields T is a
// pointer, slice or map, and a JSON null sets it to nil.
type Value[T any] struct {
	Set bool
	V   T
}

// Of returns a set value.
func Of[T any](v T) Value[T] { return Value[T]{Set: true, V: v} }

// UnmarshalJSON marks the value as set; JSON calls it only for present keys.
func (o *Value[T]) UnmarshalJSON(data []byte) error {
	o.Set = true
	return json.Unmarshal(data, &o.V)
}

// Or returns the value when set, else def.
func (o Value[T]) Or(def T) T {
	if o.Set {
		return o.V
	}
	return def
}

// Apply writes the value into dst when set.
func (o Value[T]) Apply(dst *T) {
	if o.Set {
		*dst = o.V
	}
}
