package event

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Buffer records the events of hot paths (validations) off the request
// path: Emit never blocks nor touches the database, and a background loop
// writes what gathered in one batch every flush. The guarantee is weaker
// than the outbox's: an event is lost when the buffer is full (counted in
// Dropped) or the process dies within a flush of it.
type Buffer struct {
	outbox *Outbox
	logger *slog.Logger
	// pure tells the resources rendered without the database: Emit
	// renders them at once, so the buffer holds their payloads, not the
	// records (a license and its policy) they are made of.
	pure     func(resource any) bool
	occs     chan Occurrence
	dropped  atomic.Int64
	reported int64 // dropped at the last warning, the loop's own
	stop     chan struct{}
	done     sync.WaitGroup
}

// bufferFlushEvery is how often buffered events reach the outbox.
const bufferFlushEvery = 250 * time.Millisecond

// NewBuffer starts a buffer of capacity events in front of o.
func NewBuffer(o *Outbox, capacity int, logger *slog.Logger) *Buffer {
	b := &Buffer{outbox: o, logger: logger, occs: make(chan Occurrence, capacity), stop: make(chan struct{})}
	b.done.Add(1)
	go b.run()
	return b
}

// RenderingAtEmit makes Emit render the resources pure tells are
// rendered without the database.
func (b *Buffer) RenderingAtEmit(pure func(resource any) bool) *Buffer {
	b.pure = pure
	return b
}

// Emit queues occ; a full buffer drops it.
func (b *Buffer) Emit(occ Occurrence) {
	if b.pure != nil && b.pure(occ.Resource) {
		r, err := b.outbox.rendered(context.Background(), occ)
		if err != nil {
			b.logger.Warn("rendering a buffered event", "error", err)
			return
		}
		occ.Resource = r
	}
	select {
	case b.occs <- occ:
	default:
		b.dropped.Add(1)
	}
}

// Dropped is how many events a full buffer dropped.
func (b *Buffer) Dropped() int64 { return b.dropped.Load() }

func (b *Buffer) run() {
	defer b.done.Done()
	var pending []Occurrence
	ticker := time.NewTicker(bufferFlushEvery)
	defer ticker.Stop()
	for {
		select {
		case occ := <-b.occs:
			pending = append(pending, occ)
		case <-ticker.C:
			b.flush(pending)
			pending = nil
		case <-b.stop:
			for {
				select {
				case occ := <-b.occs:
					pending = append(pending, occ)
				default:
					b.flush(pending)
					return
				}
			}
		}
	}
}

func (b *Buffer) flush(pending []Occurrence) {
	if dropped := b.dropped.Load(); dropped > b.reported {
		b.logger.Warn("event buffer full: events dropped", "count", dropped-b.reported, "total", dropped)
		b.reported = dropped
	}
	if len(pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.outbox.EmitBatch(ctx, pending); err != nil {
		b.logger.Warn("recording buffered events", "count", len(pending), "error", err)
	}
}

// Close writes what is pending and stops the loop.
func (b *Buffer) Close() {
	close(b.stop)
	b.done.Wait()
}
