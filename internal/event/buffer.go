package event

import (
	"log/slog"
	"time"

	"github.com/relkey/relkey/internal/batch"
	"github.com/relkey/relkey/internal/database"
)

// Buffer records the events of hot paths (validations) off the request
// path: Emit never blocks nor touches the database, and a background loop
// writes what gathered in batches. The guarantee is weaker than the
// outbox's: an event is lost when the buffer is full (counted in Dropped)
// or the process dies within a flush of it.
type Buffer struct {
	outbox   *Outbox
	logger   *slog.Logger
	queue    *batch.Queue[Occurrence]
	reported int64 // dropped at the last warning, the loop's own
}

// bufferFlushEvery is how often buffered events reach the outbox, and
// bufferBatch the most one write takes: a pending event holds its
// resource (a validated license and its policy) until it is written.
const (
	bufferFlushEvery = 250 * time.Millisecond
	bufferBatch      = 256
)

// NewBuffer starts a buffer of capacity events in front of o.
func NewBuffer(o *Outbox, capacity int, logger *slog.Logger) *Buffer {
	b := &Buffer{outbox: o, logger: logger}
	b.queue = batch.Start(capacity, bufferBatch, bufferFlushEvery, b.flush)
	return b
}

// Emit queues occ; a full buffer drops it.
func (b *Buffer) Emit(occ Occurrence) { b.queue.Offer(occ) }

// Dropped is how many events a full buffer dropped.
func (b *Buffer) Dropped() int64 { return b.queue.Dropped() }

// Depth is how many events wait to be written.
func (b *Buffer) Depth() int { return b.queue.Depth() }

func (b *Buffer) flush(pending []Occurrence, dropped int64) {
	if dropped > b.reported {
		b.logger.Warn("event buffer full: events dropped", "count", dropped-b.reported, "total", dropped)
		b.reported = dropped
	}
	if len(pending) == 0 {
		return
	}
	ctx, cancel := database.BackgroundWrite()
	defer cancel()
	if err := b.outbox.EmitBatch(ctx, pending); err != nil {
		b.logger.Warn("recording buffered events", "count", len(pending), "error", err)
	}
}

// Close writes what is pending and stops the loop.
func (b *Buffer) Close() { b.queue.Close() }
