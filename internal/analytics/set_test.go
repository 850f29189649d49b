package analytics

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	for _, n := range []int{0, 1, ExactLimit, ExactLimit + 1, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var a, b Set
			for i := range n {
				a.Add(HashDevice(fmt.Sprint("d", i)))
				if i%2 == 0 {
					b.Add(HashDevice(fmt.Sprint("d", i)))
				}
			}
			raw, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var back Set
			if err := back.UnmarshalBinary(raw); err != nil {
				t.Fatal(err)
			}
			back.Merge(&b) // b is a subset: nothing new
			got := back.Count()
			if n <= ExactLimit {
				if got != int64(n) || !back.Exact() {
					t.Fatalf("count = %d (exact %v), want %d exactly", got, back.Exact(), n)
				}
				return
			}
			if back.Exact() || math.Abs(float64(got-int64(n)))/float64(n) > 0.03 {
				t.Fatalf("estimate = %d, want %d ± 3%%", got, n)
			}
		})
	}
	var bad Set
	for _, raw := range [][]byte{nil, {'E', 1}, {'X'}} {
		if bad.UnmarshalBinary(raw) == nil {
			t.Errorf("%v decoded", raw)
		}
	}
}

// TestOnlyDroppedSetsMergeTheirRows: a set this writer never wrote is
// written as it is, with no read of a stored row; a set dropped from memory
// (untouched for a whole write) and touched again merges its row; the
// record of dropped sets keeps its size however many are dropped.
func TestOnlyDroppedSetsMergeTheirRows(t *testing.T) {
	a := newAggregate("w")
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	activate := func(license string) {
		a.add(Signal{Kind: Activation, AccountID: "a", ProductID: "p", LicenseID: license, Device: "d-" + license, At: at})
	}
	merged := func() (sets, merges int) {
		b := a.batch()
		for _, d := range b.MinuteDevices {
			sets, merges = sets+1, merges+btoi(d.Merge)
		}
		for _, d := range b.HourDevices {
			sets, merges = sets+1, merges+btoi(d.Merge)
		}
		for _, d := range b.DayDevices {
			sets, merges = sets+1, merges+btoi(d.Merge)
		}
		a.written()
		return sets, merges
	}
	activate("l1")
	if sets, merges := merged(); sets == 0 || merges != 0 {
		t.Fatalf("new sets: %d written, %d merging a stored row, want some and 0", sets, merges)
	}
	activate("l2") // l1's own day set is left untouched: this write drops it
	if _, merges := merged(); merges != 0 {
		t.Fatalf("%d sets merge a stored row, want 0", merges)
	}
	activate("l1")
	if _, merges := merged(); merges != 1 {
		t.Fatalf("%d sets merge a stored row, want 1 (l1's, dropped and touched again)", merges)
	}
	for i := range 10_000 {
		activate(fmt.Sprintf("many-%d", i))
		merged()
	}
	if got := len(a.evicted.bits) * 8; got != evictedBits/8 {
		t.Fatalf("dropped sets' record holds %d bytes, want %d", got, evictedBits/8)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
