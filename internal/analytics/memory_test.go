package analytics_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/testenv"
)

// counting records the size of every batch written.
type counting struct {
	mu    sync.Mutex
	sizes []int
}

func (c *counting) Write(_ context.Context, b *analytics.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sizes = append(c.sizes, b.Len())
	return nil
}

// licenseSignal is a validation of one of many licenses, each from a
// device of its own.
func licenseSignal(i int) analytics.Signal {
	return analytics.Signal{Kind: analytics.Validation, AccountID: "a", ProductID: "p", LicenseID: fmt.Sprint("lic-", i),
		Device: fmt.Sprint("dev-", i), Version: "1.0.0", Platform: "linux", Arch: "amd64", Result: "VALID"}
}

// heapAfterGC is the live heap.
func heapAfterGC() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestAggregateMemoryBounded: what the buffer holds after validations of
// N distinct licenses, each from its own device, does not grow with N.
func TestAggregateMemoryBounded(t *testing.T) {
	const maxRows = 1024
	held := map[int]int64{}
	for _, n := range []int{1_000, 100_000} {
		w := &counting{}
		buf := analytics.NewBuffer(w, analytics.Options{Capacity: 1 << 17, MaxRows: maxRows, FlushEvery: time.Hour})
		before := heapAfterGC()
		for i := range n {
			buf.Record(licenseSignal(i))
		}
		flush(t, buf)
		held[n] = heapAfterGC() - before
		if buf.Dropped() > 0 {
			t.Fatalf("N=%d: %d signals dropped", n, buf.Dropped())
		}
		// A signal adds up to 15 rows to a batch.
		for _, size := range w.sizes {
			if size > maxRows+15 {
				t.Errorf("N=%d: a batch of %d rows, want at most %d", n, size, maxRows+15)
			}
		}
		runtime.KeepAlive(buf)
		buf.Close()
		t.Logf("N=%d: %d writes, %d KiB held", n, len(w.sizes), held[n]>>10)
	}
	// Holding every license's day set took 75 MiB at N=100 000.
	if growth := held[100_000] - held[1_000]; growth > 2<<20 {
		t.Errorf("held %d KiB after 1 000 licenses, %d KiB after 100 000: grows with the licenses", held[1_000]>>10, held[100_000]>>10)
	}
}

// TestDroppedSetsMerge: a set dropped from memory and touched again adds
// to its stored row (one row per writer and key), so counts stay exact.
func TestDroppedSetsMerge(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			f.clock.Set(start.Add(12 * time.Hour))
			buf := f.buffer(t, f.store)
			sig := func(device string) analytics.Signal {
				return analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", LicenseID: "lic", Device: device, Version: "1.0.0", Result: "VALID"}
			}
			buf.Record(sig("a"))
			buf.Record(sig("b"))
			flush(t, buf)
			flush(t, buf) // an interval without signals: the sets leave memory
			f.clock.Set(start.Add(13 * time.Hour))
			buf.Record(sig("b"))
			buf.Record(sig("c"))
			flush(t, buf)
			buf.Record(sig("d")) // the merged set, in memory again
			flush(t, buf)
			q := analytics.Query{Product: "p"}
			active, err := f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, q, "day")
			if err != nil || active.Total != 4 || !active.Exact {
				t.Fatalf("active devices = %+v, %v; want 4 exactly", active, err)
			}
			top, err := f.svc.TopLicenses(context.Background(), f.admin, f.tenant, q, "devices", 1)
			if err != nil || len(top) != 1 || top[0].Devices != 4 {
				t.Fatalf("top licenses = %+v, %v; want lic with 4 devices", top, err)
			}
			var rows int64
			f.db.Gorm.Table("analytics_day_devices").Where("account_id = ? AND dim = 'license'", f.tenant.ID).Count(&rows)
			if rows != 1 {
				t.Errorf("%d rows of the license's day set, want 1", rows)
			}
		})
	}
}
