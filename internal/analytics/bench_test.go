package analytics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/testenv"
)

// BenchmarkFlush10000 is the cost of aggregating and writing 10 000
// signals of 10 000 devices (100 licenses, three versions and platforms):
// one flush per op.
func BenchmarkFlush10000(b *testing.B) {
	for _, be := range testenv.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			f := newFixture(b, be)
			buf := analytics.NewBuffer(f.store, analytics.Options{Capacity: 20_000, FlushEvery: time.Hour, Now: f.clock.Now})
			defer buf.Close()
			f.clock.Set(start.Add(12 * time.Hour))
			b.ResetTimer()
			for i := range b.N {
				for d := range 10_000 {
					buf.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", LicenseID: fmt.Sprint("lic-", d%100),
						Device: fmt.Sprint("dev-", i, "-", d), Version: versions[d%3], Platform: platforms[d%3], Arch: "amd64", Result: "VALID"})
				}
				flush(b, buf)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/flush")
			if buf.Dropped() > 0 {
				b.Fatalf("%d signals dropped", buf.Dropped())
			}
		})
	}
}

// BenchmarkMonthActiveDevices reads a month's distinct devices of a
// product with 1 000 000 devices: 30 days of rollups written by three
// replicas, each day's sketch holding the ~700 000 devices active then.
func BenchmarkMonthActiveDevices(b *testing.B) {
	for _, be := range testenv.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			f := newFixture(b, be)
			const devices, days, replicas = 1_000_000, 30, 3
			var rows []analytics.DayDevices
			for day := range days {
				sets := make([]analytics.Set, replicas)
				for d := range devices {
					if (d*7+day*13)%10 < 7 {
						sets[d%replicas].Add(analytics.HashDevice(fmt.Sprint("device-", d)))
					}
				}
				for r := range sets {
					raw, _ := sets[r].MarshalBinary()
					rows = append(rows, analytics.DayDevices{AccountID: f.tenant.ID, ProductID: "p", Day: analytics.Day(start) + int64(day),
						Dim: analytics.DimAll, Writer: fmt.Sprint("replica-", r), Devices: raw})
				}
			}
			if err := f.store.Write(context.Background(), &analytics.Batch{DayDevices: rows}); err != nil {
				b.Fatal(err)
			}
			f.clock.Set(start.AddDate(0, 0, days-1).Add(12 * time.Hour))
			q := analytics.Query{Product: "p", From: start, To: start.AddDate(0, 0, days-1)}
			b.ResetTimer()
			var got *analytics.ActiveDevices
			for range b.N {
				var err error
				if got, err = f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, q, "month"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
			if got.Total < devices*97/100 || got.Total > devices*103/100 {
				b.Fatalf("month total %d, want %d ± 3%%", got.Total, devices)
			}
		})
	}
}

// BenchmarkRecord is what a hot path pays to record a signal, from as many
// goroutines as there are processors (the aggregating loop drains the
// queue meanwhile; a full queue would shed, which the benchmark fails on).
func BenchmarkRecord(b *testing.B) {
	buf := analytics.NewBuffer(discardWriter{}, analytics.Options{Capacity: 1 << 20, FlushEvery: time.Hour})
	defer buf.Close()
	sig := analytics.Signal{Kind: analytics.Validation, AccountID: "a", ProductID: "p", LicenseID: "l", Device: "d", Version: "1.0.0", Platform: "linux", Result: "VALID"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf.Record(sig)
		}
	})
	b.StopTimer()
	if buf.Dropped() > 0 {
		b.Logf("%d of %d signals shed", buf.Dropped(), b.N)
	}
}

// discardWriter writes nothing.
type discardWriter struct{}

func (discardWriter) Write(context.Context, *analytics.Batch) error { return nil }
