package release

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// DownloadTally counts release downloads off the request path: Count adds
// to an in-memory sum (a download of a popular release no longer waits on
// that release's row lock), and a background loop adds the sums to the
// releases every flushEvery, and on Close. A crash loses at most the last
// interval's counts.
type DownloadTally struct {
	write  func(ctx context.Context, counts map[string]int64) error
	logger *slog.Logger
	mu     sync.Mutex
	counts map[string]int64
	// flushing is held through a flush, so that a Flush returns only once
	// every count taken before it is written, the loop's included.
	flushing sync.Mutex
	stop     chan struct{}
	done     sync.WaitGroup
}

// tallyEvery is how often counted downloads reach the database.
const tallyEvery = 250 * time.Millisecond

// NewDownloadTally starts a tally writing to the release store.
func NewDownloadTally(store *Store, logger *slog.Logger) *DownloadTally {
	t := &DownloadTally{write: store.AddDownloads, logger: logger, counts: map[string]int64{}, stop: make(chan struct{})}
	t.done.Add(1)
	go t.run()
	return t
}

// Count adds one download of the release.
func (t *DownloadTally) Count(releaseID string) {
	t.mu.Lock()
	t.counts[releaseID]++
	t.mu.Unlock()
}

// Flush writes the counted downloads now.
func (t *DownloadTally) Flush(ctx context.Context) error {
	t.flushing.Lock()
	defer t.flushing.Unlock()
	t.mu.Lock()
	counts := t.counts
	t.counts = map[string]int64{}
	t.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	if err := t.write(ctx, counts); err != nil {
		// Kept for the next flush rather than lost.
		t.mu.Lock()
		for id, n := range counts {
			t.counts[id] += n
		}
		t.mu.Unlock()
		return err
	}
	return nil
}

func (t *DownloadTally) run() {
	defer t.done.Done()
	ticker := time.NewTicker(tallyEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
		case <-t.stop:
			t.flushLogged()
			return
		}
		t.flushLogged()
	}
}

func (t *DownloadTally) flushLogged() {
	ctx, cancel := database.BackgroundWrite()
	defer cancel()
	if err := t.Flush(ctx); err != nil {
		t.logger.Warn("recording release downloads", "error", err)
	}
}

// Close writes what is counted and stops the loop.
func (t *DownloadTally) Close() {
	close(t.stop)
	t.done.Wait()
}
