package analytics

import (
	"fmt"
	"math"
	"testing"
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
