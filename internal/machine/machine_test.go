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
		{3, 3, policy.NoOverage, false}, {4, 3, policy.NoOverage, true},
		{5, 4, policy.Allow125xOverage, false}, {6, 4, policy.Allow125xOverage, true},
		{3, 2, policy.Allow15xOverage, false}, {4, 2, policy.Allow15xOverage, true},
		{6, 3, policy.Allow2xOverage, false}, {7, 3, policy.Allow2xOverage, true},
		{1000, 1, policy.AlwaysAllowOverage, false},
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

func TestRevivalWindowIsReadByItsNumber(t *testing.T) {
	tests := map[string]time.Duration{
		"15_MINUTE_REVIVE": 15 * time.Minute, "10_MINUTE_REVIVE": 10 * time.Minute, "5_MINUTE_REVIVE": 5 * time.Minute,
		"2_MINUTE_REVIVE": 2 * time.Minute, "1_MINUTE_REVIVE": time.Minute,
		policy.NoRevive: 0, policy.AlwaysRevive: 0, "_MINUTE_REVIVE": 0, "0_MINUTE_REVIVE": 0, "X_MINUTE_REVIVE": 0, "": 0,
	}
	for strategy, want := range tests {
		if got := revivalWindow(strategy); got != want {
			t.Errorf("revivalWindow(%q) = %v, want %v", strategy, got, want)
		}
	}
}

func TestLeasedProcessesFollowTheStrategy(t *testing.T) {
	owner := "owner"
	tests := []struct {
		strategy string
		want     ProcessFilter
		per      string
	}{
		{policy.PerMachine, ProcessFilter{LicenseID: "lic", MachineID: "m"}, "machine"},
		{policy.PerLicense, ProcessFilter{LicenseID: "lic"}, "license"},
		{policy.PerUser, ProcessFilter{LicenseID: "lic", PerOwner: true, OwnerID: &owner}, "user"},
		{"", ProcessFilter{LicenseID: "lic", MachineID: "m"}, "machine"},
	}
	for _, tt := range tests {
		got := LeasedProcesses(tt.strategy, "lic", &owner, "m")
		if got != tt.want || got.per() != tt.per {
			t.Errorf("%q: %+v per %s, want %+v per %s", tt.strategy, got, got.per(), tt.want, tt.per)
		}
	}
}
