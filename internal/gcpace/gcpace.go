// Package gcpace paces Go's garbage collector for the server. A relkey
// replica's live heap is small (the requests in flight and the batch
// writers' queues, no caches), so Go's default of collecting each time the
// heap doubles spends a tenth of a busy replica's CPU on marking. Paced, the
// heap may triple instead while that stays under a floor (48 MiB), and once
// the live heap grows past it the collector is back to Go's own pace: never
// more often than the default, and memory stays bounded.
package gcpace

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Percent is the GOGC the pacer sets.
const Percent = 200

// Floor is the least memory limit the pacer keeps. 48 MiB held relkey's
// peak RSS at 256 concurrent validations under 100 MB on SQLite (91 MiB,
// against 106–108 with 64 MiB) at no cost at 32 connections; saturated at
// 256, it collects more often and answered 5–9 % fewer validations.
const Floor = 48 << 20

// Limit is the memory limit for a live heap of live bytes: the floor, or
// room for the heap to double with a quarter to spare for the runtime's
// own memory (stacks, metadata) once the live heap is past the floor's
// share, so the limit never binds harder than GOGC=100 would.
func Limit(live uint64) int64 {
	return max(Floor, int64(live)*5/2)
}

// Start paces the collector and keeps the limit in step with the live
// heap, read every interval, until the returned stop is called. It leaves
// the collector alone when getenv names GOGC or GOMEMLIMIT: the operator's
// settings win.
func Start(getenv func(string) string, every time.Duration) (stop func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	adjust := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(Limit(sample[0].Value.Uint64()))
		}
	}
	previousLimit := debug.SetMemoryLimit(-1) // a negative limit only reads it
	adjust()
	previous := debug.SetGCPercent(Percent)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				adjust()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		debug.SetGCPercent(previous)
		debug.SetMemoryLimit(previousLimit)
	}
}
