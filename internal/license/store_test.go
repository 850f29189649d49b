package license

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// TestChangeUsesOfAGoneLicense: a license deleted between the rules' read
// and the store's conditional UPDATE is NOT_FOUND when no limit could have
// refused the change (an increment without max used to panic). The HTTP
// suites cover the store against live rows on both engines; this case needs
// no row, so the embedded engine suffices.
func TestChangeUsesOfAGoneLicense(t *testing.T) {
	store := NewStore(testenv.Backend{Name: "embedded"}.OpenDB(t))
	gone := &License{ID: unknownID, AccountID: acct}
	tests := []struct {
		name  string
		delta int64
		reset bool
		max   *int64
		want  want
	}{
		{"increment, no max", 1, false, nil, notFound},
		{"reset", 0, true, n(5), notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.ChangeUses(t.Context(), gone, tt.delta, tt.reset, tt.max)
			expect(t, err, tt.want)
		})
	}
}
