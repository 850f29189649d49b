package webhook

import (
	"sync"
	"time"
)

// handoff passes the deliveries of batched events, claimed as they are
// written, straight to the worker running in this process: their first
// attempts need neither a claim nor a read of their rows.
type handoff struct {
	mu    sync.Mutex
	ready []Delivery
	// wake has a value while ready has deliveries.
	wake chan struct{}
}

// handoffRoom bounds the deliveries waiting in a handoff; past it, batches
// are written unclaimed, for passes to claim.
const handoffRoom = 4096

func newHandoff() *handoff { return &handoff{wake: make(chan struct{}, 1)} }

// room reports whether n more deliveries may wait.
func (h *handoff) room(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ready)+n <= handoffRoom
}

func (h *handoff) put(ds []Delivery) {
	h.mu.Lock()
	h.ready = append(h.ready, ds...)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// take returns the deliveries waiting whose claim still has more than half
// its lease to run at now; the others stay claimed until the lease runs
// out, when a pass claims them again, so no attempt races another
// replica's.
func (h *handoff) take(now time.Time) []Delivery {
	h.mu.Lock()
	ready := h.ready
	h.ready = nil
	h.mu.Unlock()
	fresh := ready[:0]
	for _, d := range ready {
		if d.ClaimedUntil.Sub(now) > lease/2 {
			fresh = append(fresh, d)
		}
	}
	return fresh
}
