package naming

import (
	"reflect"
	"testing"
)

func TestSnakeAndCamel(t *testing.T) {
	tests := []struct{ in, snake, camel string }{
		{"name", "name", "name"},
		{"maxMachines", "max_machines", "maxMachines"},
		{"max_machines", "max_machines", "maxMachines"},
		{"max-machines", "max_machines", "maxMachines"},
		{"distributionStrategy", "distribution_strategy", "distributionStrategy"},
		{"requireCheckIn", "require_check_in", "requireCheckIn"},
		{"ID", "id", "ID"},
		{"userID", "user_id", "userID"},
	}
	for _, tt := range tests {
		if got := Snake(tt.in); got != tt.snake {
			t.Errorf("Snake(%q) = %q, want %q", tt.in, got, tt.snake)
		}
		if got := Camel(Snake(tt.in)); tt.in != "ID" && tt.in != "userID" && got != tt.camel {
			t.Errorf("Camel(Snake(%q)) = %q, want %q", tt.in, got, tt.camel)
		}
	}
	if got := UpperSnake("maxMachines"); got != "MAX_MACHINES" {
		t.Errorf("UpperSnake = %q", got)
	}
}

func TestMapKeysIsDeep(t *testing.T) {
	in := map[string]any{"fooBar": map[string]any{"bazQux": []any{map[string]any{"aB": 1}}}}
	want := map[string]any{"foo_bar": map[string]any{"baz_qux": []any{map[string]any{"a_b": 1}}}}
	if got := MapKeys(in, Snake); !reflect.DeepEqual(got, want) {
		t.Fatalf("MapKeys = %#v", got)
	}
}
