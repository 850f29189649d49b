package validation

import (
	"slices"
	"testing"

	"github.com/relkey/relkey/internal/policy"
)

func TestRequiredMatches(t *testing.T) {
	tests := []struct {
		strategy string
		n, want  int
	}{
		{policy.MatchAny, 5, 1}, {policy.MatchTwo, 5, 2}, {policy.MatchTwo, 1, 1},
		{policy.MatchMost, 3, 2}, {policy.MatchMost, 4, 2}, {policy.MatchMost, 1, 1},
		{policy.MatchAll, 4, 4}, {"", 3, 1},
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
