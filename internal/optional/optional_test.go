package optional

import (
	"encoding/json"
	"testing"
)

// TestThreeStates: absent, null and given are told apart.
func TestThreeStates(t *testing.T) {
	type doc struct {
		Name nullableString `json:"name"`
	}
	tests := []struct {
		body    string
		set     bool
		isNil   bool
		applied string
	}{
		{`{}`, false, true, "kept"},
		{`{"name":null}`, true, true, ""},
		{`{"name":"ada"}`, true, false, "ada"},
	}
	for _, tt := range tests {
		var d doc
		if err := json.Unmarshal([]byte(tt.body), &d); err != nil {
			t.Fatal(err)
		}
		if d.Name.Set != tt.set || (d.Name.V == nil) != tt.isNil {
			t.Errorf("%s: %+v", tt.body, d.Name)
		}
		kept := "kept"
		dst := &kept
		d.Name.Apply(&dst)
		got := ""
		if dst != nil {
			got = *dst
		}
		if got != tt.applied {
			t.Errorf("%s: applied %q, want %q", tt.body, got, tt.applied)
		}
		if or := d.Name.Or(nil); (or == nil) != tt.isNil {
			t.Errorf("%s: Or(nil) = %v", tt.body, or)
		}
	}
	if v := Of(3); !v.Set || v.V != 3 {
		t.Errorf("Of(3) = %+v", v)
	}
}

// nullableString is a nullable attribute.
type nullableString = Value[*string]
