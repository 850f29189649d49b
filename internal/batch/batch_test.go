package batch

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder keeps copies of the batches a queue flushed.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) flush(vs []int, _ int64) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(vs))
	r.mu.Unlock()
}

func (r *recorder) got() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func TestQueueFlushesFullBatchesTicksAndClose(t *testing.T) {
	tests := []struct {
		name   string
		offers int
		size   int
		tick   bool // tick once after the offers, before Close
		want   [][]int
	}{
		{"full batches flush without a tick", 5, 2, false, [][]int{{0, 1}, {2, 3}, {4}}},
		{"a tick flushes a partial batch", 3, 8, true, [][]int{{0, 1, 2}}},
		{"close flushes the rest", 3, 8, false, [][]int{{0, 1, 2}}},
		{"close with nothing queued flushes nothing", 0, 8, false, nil},
		{"a tick with nothing queued still calls flush", 0, 8, true, [][]int{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder()
			ticks := make(chan time.Time)
			q := start(16, tt.size, ticks, nil, r.flush)
			for i := range tt.offers {
				if !q.Offer(i) {
					t.Fatalf("offer %d dropped by a queue with room", i)
				}
			}
			if tt.tick {
				for len(q.in) > 0 { // the tick must find every value taken
					runtime.Gosched()
				}
				ticks <- time.Time{}
			}
			q.Close()
			got := r.got()
			if !equal(got, tt.want) {
				t.Fatalf("flushed %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b [][]int) bool {
	return slices.EqualFunc(a, b, func(x, y []int) bool { return slices.Equal(x, y) })
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	busy, release := make(chan struct{}), make(chan struct{})
	var (
		flushed [][]int
		told    []int64
	)
	q := start(2, 1, nil, nil, func(vs []int, dropped int64) {
		told = append(told, dropped)
		if len(flushed) == 0 {
			busy <- struct{}{}
			<-release // the loop is busy: the channel fills
		}
		flushed = append(flushed, slices.Clone(vs))
	})
	q.Offer(0)
	<-busy // the loop took 0 and waits in flush
	for i := 1; i <= 2; i++ {
		if !q.Offer(i) {
			t.Fatalf("offer %d dropped with room left", i)
		}
	}
	if q.Offer(3) {
		t.Fatal("a full queue took a value")
	}
	if q.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", q.Dropped())
	}
	close(release)
	q.Close()
	if want := [][]int{{0}, {1}, {2}}; !equal(flushed, want) {
		t.Fatalf("flushed %v, want %v", flushed, want)
	}
	if want := []int64{0, 1, 1}; !slices.Equal(told, want) {
		t.Fatalf("flush told of %v drops, want %v", told, want)
	}
}

func TestFlushedValuesAreNotKeptByTheQueue(t *testing.T) {
	var backing []*int
	q := start(4, 2, nil, nil, func(vs []*int, _ int64) {
		if *vs[0] != 1 || *vs[1] != 2 {
			t.Errorf("flushed %d, %d", *vs[0], *vs[1])
		}
		backing = vs[:cap(vs)] // what the queue reuses for its next batch
	})
	a, b := 1, 2
	q.Offer(&a)
	q.Offer(&b)
	q.Close()
	for i, v := range backing {
		if v != nil {
			t.Fatalf("slot %d of the reused batch still holds a flushed value", i)
		}
	}
}
