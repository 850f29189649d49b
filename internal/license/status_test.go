package license

import (
	"testing"
	"time"

	"github.com/relkey/relkey/internal/policy"
)

// TestStatus: the statuses by precedence, at the boundaries of EXPIRING (3
// days) and INACTIVE (nothing for 90 days).
func TestStatus(t *testing.T) {
	const ms = time.Millisecond
	created := clock.Add(-10 * day)
	tests := []struct {
		name    string
		license License
		want    string
	}{
		{"new", License{CreatedAt: created}, StatusActive},
		{"owner banned beats suspended", License{CreatedAt: created, OwnerBanned: true, Suspended: true}, StatusBanned},
		{"suspended beats expired", License{CreatedAt: created, Suspended: true, Expiry: at(-day)}, StatusSuspended},
		// Keygen: expired is expiry < now, expiring now < expiry < now+3d.
		{"neither at its expiry", License{CreatedAt: created, Expiry: at(0)}, StatusActive},
		{"expired after", License{CreatedAt: created, Expiry: at(-ms)}, StatusExpired},
		{"expiring a moment before", License{CreatedAt: created, Expiry: at(ms)}, StatusExpiring},
		{"expiring just within 3 days", License{CreatedAt: created, Expiry: at(3*day - ms)}, StatusExpiring},
		{"active at 3 days", License{CreatedAt: created, Expiry: at(3 * day)}, StatusActive},
		{"expiring beats inactive", License{CreatedAt: clock.Add(-200 * day), Expiry: at(day)}, StatusExpiring},
		{"created exactly 90 days ago", License{CreatedAt: clock.Add(-90 * day)}, StatusActive},
		{"created longer ago, never used", License{CreatedAt: clock.Add(-90*day - ms)}, StatusInactive},
		{"old, validated within 90 days", License{CreatedAt: clock.Add(-200 * day), LastValidatedAt: at(-90 * day)}, StatusActive},
		{"old, checked out within 90 days", License{CreatedAt: clock.Add(-200 * day), LastCheckOutAt: at(-10 * day)}, StatusActive},
		{"old, checked in within 90 days", License{CreatedAt: clock.Add(-200 * day), LastCheckInAt: at(-10 * day)}, StatusActive},
		// Keygen: active is created, validated, checked out or checked in
		// within the last 90 days; a use long ago does not keep it active.
		{"old, last used long ago", License{CreatedAt: clock.Add(-200 * day), LastValidatedAt: at(-91 * day), LastCheckInAt: at(-100 * day), LastCheckOutAt: at(-150 * day)}, StatusInactive},
	}
	for _, tt := range tests {
		if got := tt.license.Status(clock); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestExpired: a license is expired once its expiry has passed (Keygen's
// expiry < now).
func TestExpired(t *testing.T) {
	tests := []struct {
		expiry *time.Time
		want   bool
	}{
		{nil, false},
		{at(time.Nanosecond), false},
		{at(0), false},
		{at(-time.Nanosecond), true},
	}
	for _, tt := range tests {
		l := License{Expiry: tt.expiry}
		if got := l.Expired(clock); got != tt.want {
			t.Errorf("expiry %s: expired = %v, want %v", fmtTime(tt.expiry), got, tt.want)
		}
	}
}

// TestNextCheckIn adds calendar intervals to the last check-in, clamping
// to the end of shorter months as Keygen does.
func TestNextCheckIn(t *testing.T) {
	date := func(y int, m time.Month, d int) *time.Time { t := time.Date(y, m, d, 9, 30, 0, 0, time.UTC); return &t }
	required := func(interval string, count int64) *policy.Policy {
		return &policy.Policy{RequireCheckIn: true, CheckInInterval: s(interval), CheckInIntervalCount: n(count)}
	}
	tests := []struct {
		name string
		pol  *policy.Policy
		last *time.Time
		want *time.Time
	}{
		{"not required", &policy.Policy{CheckInInterval: s("day"), CheckInIntervalCount: n(1)}, date(2026, 1, 1), nil},
		{"never checked in", required("day", 1), nil, nil},
		{"no interval", &policy.Policy{RequireCheckIn: true, CheckInIntervalCount: n(1)}, date(2026, 1, 1), nil},
		{"no count", &policy.Policy{RequireCheckIn: true, CheckInInterval: s("day")}, date(2026, 1, 1), nil},
		{"days", required("day", 3), date(2026, 1, 30), date(2026, 2, 2)},
		{"weeks", required("week", 2), date(2026, 1, 1), date(2026, 1, 15)},
		{"months", required("month", 2), date(2026, 1, 15), date(2026, 3, 15)},
		{"a month from a day february lacks", required("month", 1), date(2026, 1, 31), date(2026, 2, 28)},
		{"a month from the 31st to a 30-day month", required("month", 1), date(2026, 3, 31), date(2026, 4, 30)},
		{"a month into a leap february", required("month", 1), date(2028, 1, 30), date(2028, 2, 29)},
		{"years", required("year", 2), date(2026, 6, 1), date(2028, 6, 1)},
		{"a year from a leap day", required("year", 1), date(2028, 2, 29), date(2029, 2, 28)},
	}
	for _, tt := range tests {
		got := NextCheckIn(&License{LastCheckInAt: tt.last}, tt.pol)
		if (got == nil) != (tt.want == nil) || got != nil && !got.Equal(*tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, fmtTime(got), fmtTime(tt.want))
		}
	}
}

// TestEffective: the license's override, else the policy's limit.
func TestEffective(t *testing.T) {
	tests := []struct {
		override, fromPolicy, want *int64
	}{
		{nil, nil, nil},
		{nil, n(5), n(5)},
		{n(0), n(5), n(0)}, // an override of 0 is a limit, not an absence
		{n(10), nil, n(10)},
		{n(10), n(5), n(10)},
	}
	for _, tt := range tests {
		got := Effective(tt.override, tt.fromPolicy)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("Effective(%v, %v) = %v, want %v", tt.override, tt.fromPolicy, got, tt.want)
		}
	}
}
