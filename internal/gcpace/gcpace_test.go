package gcpace

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestLimitIsTheFloorUntilTheLiveHeapOutgrowsIt(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{10 << 20, Floor},
		// Tripling 14 MiB still fits the floor: GOGC=200 has its way.
		{14 << 20, Floor},
		{Floor * 2 / 5, Floor},
		// Past the floor's share, room for a doubling and a quarter.
		{40 << 20, 100 << 20},
		{1 << 30, 5 << 29},
	} {
		if got := Limit(tc.live); got != tc.want {
			t.Errorf("Limit(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

func TestStartPacesTheCollectorAndStopRestoresIt(t *testing.T) {
	before, beforeLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer debug.SetGCPercent(before)
	stop := Start(func(string) string { return "" }, time.Millisecond)
	if got := debug.SetGCPercent(Percent); got != Percent {
		t.Errorf("GOGC while paced = %d, want %d", got, Percent)
	}
	if got := debug.SetMemoryLimit(-1); got < Floor {
		t.Errorf("memory limit while paced = %d, want at least %d", got, Floor)
	}
	stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after stop = %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != beforeLimit {
		t.Errorf("memory limit after stop = %d, want %d", got, beforeLimit)
	}
}

func TestStartLeavesAnOperatorsSettingsAlone(t *testing.T) {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		before := debug.SetGCPercent(123)
		stop := Start(func(v string) string {
			if v == name {
				return "150"
			}
			return ""
		}, time.Millisecond)
		if got := debug.SetGCPercent(before); got != 123 {
			t.Errorf("%s set: GOGC = %d, want the operator's 123", name, got)
		}
		stop()
	}
}
