// Package batch carries values from hot paths to a background writer.
// Offer never blocks nor touches the database; one loop hands what gathered
// to its flush at a fixed interval, or as soon as a batch is full, so the
// memory pending values hold is bounded by the batch size, not by the
// request rate times the interval.
package batch

import (
	"sync"
	"sync/atomic"
	"time"
)

// A Queue gathers values for its flush. A full queue drops what is offered
// (counted in Dropped): the hot path never waits on the writer.
type Queue[T any] struct {
	in      chan T
	size    int
	flush   func(values []T, dropped int64)
	dropped atomic.Int64
	stop    chan struct{}
	done    sync.WaitGroup
}

// Start runs a queue with room for capacity values in flight, handing
// flush at most size values at a time, every interval or sooner when size
// have gathered, with how many values the queue has dropped since it
// started; each interval calls it, with nothing gathered too (so a flush
// can report the drops). flush runs on the queue's loop, one call at a
// time, and must not keep the slice it is given.
func Start[T any](capacity, size int, every time.Duration, flush func(values []T, dropped int64)) *Queue[T] {
	ticker := time.NewTicker(every)
	return start(capacity, size, ticker.C, ticker.Stop, flush)
}

// start runs a queue whose interval is ticks; stopTicks, when given, runs
// as the loop ends.
func start[T any](capacity, size int, ticks <-chan time.Time, stopTicks func(), flush func([]T, int64)) *Queue[T] {
	q := &Queue[T]{in: make(chan T, capacity), size: max(size, 1), flush: flush, stop: make(chan struct{})}
	q.done.Add(1)
	go q.run(ticks, stopTicks)
	return q
}

// Offer queues v, or drops it when the queue is full; it reports which.
func (q *Queue[T]) Offer(v T) bool {
	select {
	case q.in <- v:
		return true
	default:
		q.dropped.Add(1)
		return false
	}
}

// Dropped is how many values a full queue dropped.
func (q *Queue[T]) Dropped() int64 { return q.dropped.Load() }

// Depth is how many values wait for the loop.
func (q *Queue[T]) Depth() int { return len(q.in) }

// Close flushes what is queued and stops the loop.
func (q *Queue[T]) Close() {
	close(q.stop)
	q.done.Wait()
}

func (q *Queue[T]) run(ticks <-chan time.Time, stopTicks func()) {
	defer q.done.Done()
	if stopTicks != nil {
		defer stopTicks()
	}
	pending := make([]T, 0, q.size)
	hand := func() {
		q.flush(pending, q.dropped.Load())
		clear(pending) // the flushed values are not kept alive by the reused slice
		pending = pending[:0]
	}
	for {
		select {
		case v := <-q.in:
			if pending = append(pending, v); len(pending) == q.size {
				hand()
			}
		case <-ticks:
			hand()
		case <-q.stop:
			for {
				select {
				case v := <-q.in:
					if pending = append(pending, v); len(pending) == q.size {
						hand()
					}
				default:
					if len(pending) > 0 {
						hand()
					}
					return
				}
			}
		}
	}
}
