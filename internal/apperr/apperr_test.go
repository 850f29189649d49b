package apperr

import (
	"errors"
	"fmt"
	"testing"
)

// TestFields: rules build fields in domain terms; Item and Member refine
// copies, never the field they start from.
func TestFields(t *testing.T) {
	one, two := 1, 2
	base := Rel("components")
	tests := []struct {
		name string
		got  Field
		want Field
	}{
		{"record", Record(), Field{Part: InRecord}},
		{"attribute", Attr("max_machines"), Field{Part: InAttribute, Name: "max_machines"}},
		{"meta", Meta("old_password"), Field{Part: InMeta, Name: "old_password"}},
		{"item of the body", Record().Item(1), Field{Part: InRecord, Index: &one}},
		{"member of the record", Record().Member("id"), Field{Part: InRecord, Key: "id"}},
		{"member of a relationship item", base.Item(2).Member("fingerprint"), Field{Part: InRelationship, Name: "components", Index: &two, Key: "fingerprint"}},
		{"the base is unchanged", base, Field{Part: InRelationship, Name: "components"}},
	}
	for _, tt := range tests {
		if fmt.Sprint(deref(tt.got)) != fmt.Sprint(deref(tt.want)) {
			t.Errorf("%s: %+v, want %+v", tt.name, deref(tt.got), deref(tt.want))
		}
	}
}

// deref shows a field with its index by value.
func deref(f Field) [4]any {
	var i any
	if f.Index != nil {
		i = *f.Index
	}
	return [4]any{f.Part, f.Name, i, f.Key}
}

// TestErrors: Attribute derives Keygen's code and points at the attribute;
// As and Is see through wrapping; unknown errors are internal.
func TestErrors(t *testing.T) {
	e := Attribute("max_machines", "INVALID", "must be positive")
	if e.Kind != Unprocessable || e.Code != "MAX_MACHINES_INVALID" || e.Source == nil || e.Source.Field == nil || *e.Source.Field != Attr("max_machines") {
		t.Fatalf("Attribute: %+v", e)
	}
	wrapped := fmt.Errorf("saving: %w", e)
	if !Is(wrapped, Unprocessable) || Is(wrapped, NotFound) || As(wrapped) != e {
		t.Fatal("Is/As do not see through wrapping")
	}
	cause := errors.New("disk on fire")
	internal := As(cause)
	if internal.Kind != Internal || internal.Code != "INTERNAL_SERVER_ERROR" || !errors.Is(internal, cause) {
		t.Fatalf("As(unknown): %+v", internal)
	}
	if got := NotFoundResource("license", "abc"); got.Kind != NotFound || got.Detail != "The requested license 'abc' was not found" {
		t.Fatalf("NotFoundResource: %+v", got)
	}
}
