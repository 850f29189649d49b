package machine

import (
	"testing"
	"time"

	"github.com/relkey/relkey/internal/policy"
)

func TestExceedsWithOverage(t *testing.T) {
	tests := []struct {
		total, limit int64
		strategy     string
		want         bool
	}{
		{3, 3, "NO_OVERAGE", false}, {4, 3, "NO_OVERAGE", true},
		{5, 4, "ALLOW_1_25X_OVERAGE", false}, {6, 4, "ALLOW_1_25X_OVERAGE", true},
		{3, 2, "ALLOW_1_5X_OVERAGE", false}, {4, 2, "ALLOW_1_5X_OVERAGE", true},
		{6, 3, "ALLOW_2X_OVERAGE", false}, {7, 3, "ALLOW_2X_OVERAGE", true},
		{1000, 1, "ALWAYS_ALLOW_OVERAGE", false},
	}
	for _, tt := range tests {
		if got := Exceeds(tt.total, tt.limit, tt.strategy); got != tt.want {
			t.Errorf("Exceeds(%d, %d, %s) = %v, want %v", tt.total, tt.limit, tt.strategy, got, tt.want)
		}
	}
}

func TestHeartbeatStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	sixty := int64(60)
	required := &policy.Policy{RequireHeartbeat: true, HeartbeatDuration: &sixty}
	optional := &policy.Policy{HeartbeatDuration: &sixty}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name    string
		pol     *policy.Policy
		created time.Time
		last    *time.Time
		want    string
	}{
		{"new, required", required, now.Add(-30 * time.Second), nil, NotStarted},
		{"old, required, never pinged", required, now.Add(-2 * time.Minute), nil, Dead},
		{"old, optional, never pinged", optional, now.Add(-time.Hour), nil, NotStarted},
		{"pinged recently", required, now.Add(-time.Hour), at(-30 * time.Second), Alive},
		{"pinged long ago", optional, now.Add(-time.Hour), at(-2 * time.Minute), Dead},
		{"revived", required, now.Add(-time.Hour), at(-10 * time.Second), Resurrected},
	}
	for _, tt := range tests {
		m := &Machine{CreatedAt: tt.created, LastHeartbeatAt: tt.last}
		if tt.want == Resurrected {
			m.ResurrectedAt = tt.last
		}
		if got := m.HeartbeatStatus(tt.pol, now); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
