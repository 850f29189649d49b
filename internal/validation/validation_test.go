package validation

import (
	"slices"
	"testing"
)

func TestRequiredMatches(t *testing.T) {
	tests := []struct {
		strategy string
		n, want  int
	}{
		{"MATCH_ANY", 5, 1}, {"MATCH_TWO", 5, 2}, {"MATCH_TWO", 1, 1},
		{"MATCH_MOST", 3, 2}, {"MATCH_MOST", 4, 2}, {"MATCH_MOST", 1, 1},
		{"MATCH_ALL", 4, 4}, {"", 3, 1},
	}
	for _, tt := range tests {
		if got := required(tt.strategy, tt.n); got != tt.want {
			t.Errorf("required(%s, %d) = %d, want %d", tt.strategy, tt.n, got, tt.want)
		}
	}
	if got := compactUnique([]string{"a", "", "b", "a"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("compactUnique = %v", got)
	}
}
