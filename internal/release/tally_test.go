package release

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"testing"
)

// recorder is a tally's writer that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	written map[string]int64
	fail    error
}

func (r *recorder) write(_ context.Context, counts map[string]int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for id, n := range counts {
		r.written[id] += n
	}
	return nil
}

func newTestTally(r *recorder) *DownloadTally {
	t := &DownloadTally{write: r.write, logger: slog.New(slog.DiscardHandler), counts: map[string]int64{}, stop: make(chan struct{})}
	t.done.Add(1)
	go t.run()
	return t
}

func TestDownloadTally(t *testing.T) {
	tests := []struct {
		name      string
		downloads []string
		failFirst bool
		want      map[string]int64
	}{
		{"nothing counted writes nothing", nil, false, map[string]int64{}},
		{"downloads sum per release", []string{"a", "b", "a", "a"}, false, map[string]int64{"a": 3, "b": 1}},
		{"a failed write is kept for the next", []string{"a", "b"}, true, map[string]int64{"a": 2, "b": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{written: map[string]int64{}}
			tally := newTestTally(r)
			for _, id := range tt.downloads {
				tally.Count(id)
			}
			if tt.failFirst {
				r.mu.Lock()
				r.fail = errors.New("database away")
				r.mu.Unlock()
				if err := tally.Flush(context.Background()); err == nil {
					t.Fatal("Flush hid the write's failure")
				}
				r.mu.Lock()
				r.fail = nil
				r.mu.Unlock()
				for _, id := range tt.downloads {
					tally.Count(id)
				}
			}
			tally.Close() // writes what is pending
			if !maps.Equal(r.written, tt.want) {
				t.Fatalf("written %v, want %v", r.written, tt.want)
			}
		})
	}
}
