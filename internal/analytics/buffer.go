package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Writer persists a flushed batch (*Store).
type Writer interface {
	Write(ctx context.Context, b *Batch) error
}

// Options tune a Buffer; zero values take the defaults.
type Options struct {
	// Capacity bounds the queue of signals not yet aggregated (4096: the
	// loop aggregates as they come and writes on the background pool, so
	// it fills only when it is starved); a
	// full queue sheds signals and counts them in Dropped.
	Capacity int
	// FlushEvery is how often aggregated signals are written (5 s).
	FlushEvery time.Duration
	// MaxRows bounds the rows aggregated between writes (8192): reaching
	// it writes at once, so the aggregate's memory depends on neither the
	// traffic nor how many licenses and devices it comes from; while
	// writes fail, the signals that would pass it are shed (Dropped).
	MaxRows int
	// Now is the clock signals are stamped with (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Buffer is the Recorder of a serving replica: Record queues a signal and
// returns; one goroutine aggregates the queue into counters and device
// sets and writes them every FlushEvery (sooner when MaxRows are
// pending), on Flush and on Close. A replica writes its sets under its own
// writer id, so replicas never overwrite each other; readers merge. What a
// crash loses is at most the signals of one flush interval (and the
// queue).
type Buffer struct {
	w       Writer
	now     func() time.Time
	every   time.Duration
	limit   int
	logger  *slog.Logger
	queue   chan Signal
	dropped atomic.Int64
	flushes chan chan error
	stop    chan struct{}
	done    sync.WaitGroup
	closing sync.Once
	agg     *aggregate // the loop's own
	shed    int64      // Dropped at the last write, the loop's own
	failing bool       // whether the last write failed, the loop's own
}

// NewBuffer starts a buffer writing to w.
func NewBuffer(w Writer, o Options) *Buffer {
	if o.Capacity <= 0 {
		o.Capacity = 1 << 12
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 5 * time.Second
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 1 << 13
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &Buffer{w: w, now: o.Now, every: o.FlushEvery, limit: o.MaxRows, logger: o.Logger,
		queue: make(chan Signal, o.Capacity), flushes: make(chan chan error), stop: make(chan struct{})}
	b.agg = newAggregate(hex.EncodeToString(id[:]))
	b.done.Add(1)
	go b.run()
	return b
}

// Record queues s, stamped now when it has no time; a full queue drops it.
func (b *Buffer) Record(s Signal) {
	if s.At.IsZero() {
		s.At = b.now()
	}
	select {
	case b.queue <- s:
	default:
		b.dropped.Add(1)
	}
}

// Dropped is how many signals a full queue, or an aggregate full while
// writes fail, shed.
func (b *Buffer) Dropped() int64 { return b.dropped.Load() }

// Depth is how many signals are queued, not yet aggregated.
func (b *Buffer) Depth() int { return len(b.queue) }

// Flush aggregates every queued signal and writes it now.
func (b *Buffer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case b.flushes <- reply:
	case <-b.stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the loop; later signals are
// dropped.
func (b *Buffer) Close() {
	b.closing.Do(func() { close(b.stop) })
	b.done.Wait()
}

func (b *Buffer) run() {
	defer b.done.Done()
	ticker := time.NewTicker(b.every)
	defer ticker.Stop()
	for {
		select {
		case s := <-b.queue:
			b.take(s)
		case <-ticker.C:
			b.write()
		case reply := <-b.flushes:
			b.drain()
			reply <- b.write()
		case <-b.stop:
			b.drain()
			b.write()
			return
		}
	}
}

// take aggregates s, writing first when MaxRows are pending; it sheds s
// when they are and the write failed (the ticker tries again).
func (b *Buffer) take(s Signal) {
	if b.agg.rows() >= b.limit {
		if !b.failing {
			b.write()
		}
		if b.failing {
			b.dropped.Add(1)
			return
		}
	}
	b.agg.add(s)
}

// drain aggregates what is queued.
func (b *Buffer) drain() {
	for {
		select {
		case s := <-b.queue:
			b.take(s)
		default:
			return
		}
	}
}

// write flushes the aggregate; a failed write keeps it for the next flush.
func (b *Buffer) write() error {
	if shed := b.dropped.Load(); shed > b.shed {
		b.logger.Warn("usage analytics signals shed (queue full, or aggregate full while writes fail)", "shed", shed-b.shed, "total", shed)
		b.shed = shed
	}
	batch := b.agg.batch()
	if batch.Len() == 0 {
		b.agg.written() // drops the sets of the interval before
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.w.Write(ctx, batch)
	b.failing = err != nil
	if err != nil {
		b.logger.Warn("writing usage analytics", "rows", batch.Len(), "error", err)
		return err
	}
	b.agg.written()
	return nil
}

// aggregate gathers signals between writes: the counters since the last
// write, and this writer's device sets touched since the one before (a
// set untouched for a whole interval is dropped from memory: when it is
// touched again, its write merges into the stored row).
type aggregate struct {
	minutes    map[counterKey]int64
	hours      map[counterKey]int64
	days       map[dayKey]int64
	minuteSets map[setKey]*openSet
	hourSets   map[setKey]*openSet
	daySets    map[setKey]*openSet
	writer     string
	dirty      int // sets changed since the last write
	// pending are the sets of the batch being written, and where the
	// batch holds their bytes.
	pending []pendingSet
	// evicted are the sets dropped from memory.
	evicted evictedSets
}

// setGrain tells minute, hour and day sets apart (their keys alike).
type setGrain byte

const (
	minuteGrain setGrain = iota
	hourGrain
	dayGrain
)

// sets are the aggregate's set maps by grain.
func (a *aggregate) sets() [3]map[setKey]*openSet {
	return [3]map[setKey]*openSet{minuteGrain: a.minuteSets, hourGrain: a.hourSets, dayGrain: a.daySets}
}

// counterKey is a per-minute or per-hour counter's.
type counterKey struct {
	account, product string
	unit             int64
	kind             Kind
	result           string
}

type dayKey struct {
	account, product string
	day              int64
	kind             Kind
	dim, value       string
}

// setKey is a device set's: of a minute (dim ""), an hour or a day.
type setKey struct {
	account, product string
	unit             int64
	dim, value       string
}

// openSet is a set in memory. A set opened anew after it was dropped from
// memory lacks devices its stored row holds: partial until its first write
// merges the row in. A set this writer never wrote has no row (writer ids
// are new with each process).
type openSet struct {
	set     Set
	dirty   bool
	partial bool
}

// pendingSet is a set being written and its bytes in the batch (the
// stored row merged in, for a partial set, once the write succeeded).
type pendingSet struct {
	set     *openSet
	devices *[]byte
}

func newAggregate(writer string) *aggregate {
	return &aggregate{minutes: map[counterKey]int64{}, hours: map[counterKey]int64{}, days: map[dayKey]int64{},
		minuteSets: map[setKey]*openSet{}, hourSets: map[setKey]*openSet{}, daySets: map[setKey]*openSet{}, writer: writer}
}

// rows is how many rows the next write holds.
func (a *aggregate) rows() int { return len(a.minutes) + len(a.hours) + len(a.days) + a.dirty }

// Dimensions of the per-day counters and sets.
const (
	DimAll      = ""
	DimResult   = "result"
	DimLicense  = "license"
	DimRelease  = "release"
	DimArtifact = "artifact"
	DimVersion  = "version"
	DimPlatform = "platform"
	DimArch     = "arch"
	// DimLicenseResult counts validations by license and code
	// ("<license>/<code>"); DimLicense counts a license's other signals.
	DimLicenseResult = "license-result"
)

func (a *aggregate) add(s Signal) {
	minute, hour, day := Minute(s.At), Hour(s.At), Day(s.At)
	a.minutes[counterKey{s.AccountID, s.ProductID, minute, s.Kind, s.Result}]++
	a.hours[counterKey{s.AccountID, s.ProductID, hour, s.Kind, s.Result}]++
	count := func(dim, value string) {
		a.days[dayKey{s.AccountID, s.ProductID, day, s.Kind, dim, value}]++
	}
	count(DimResult, s.Result)
	switch {
	case s.LicenseID == "":
	case s.Kind == Validation:
		// A license's validations are the sum of its results' (DayCounts
		// folds them): one row per validated license, not two.
		count(DimLicenseResult, s.LicenseID+"/"+s.Result)
	default:
		count(DimLicense, s.LicenseID)
	}
	if s.ReleaseID != "" {
		count(DimRelease, s.ReleaseID)
	}
	if s.ArtifactID != "" {
		count(DimArtifact, s.ArtifactID)
	}
	if s.Device == "" {
		return
	}
	h := HashDevice(s.Device)
	insert := func(g setGrain, k setKey) {
		m := a.sets()[g]
		o := m[k]
		if o == nil {
			// Only a set dropped from memory has a row of this writer.
			o = &openSet{partial: a.evicted.mayHold(g, k)}
			m[k] = o
		}
		o.set.Add(h)
		if !o.dirty {
			o.dirty = true
			a.dirty++
		}
	}
	// The sets of all devices are kept per product and for the account
	// (product ""); the others per product.
	for _, product := range []string{s.ProductID, ""} {
		insert(minuteGrain, setKey{s.AccountID, product, minute, DimAll, ""})
		insert(hourGrain, setKey{s.AccountID, product, hour, DimAll, ""})
		insert(dayGrain, setKey{s.AccountID, product, day, DimAll, ""})
		if s.ProductID == "" {
			break
		}
	}
	for _, d := range [...]struct{ dim, value string }{{DimVersion, s.Version}, {DimPlatform, s.Platform}, {DimArch, s.Arch}, {DimLicense, s.LicenseID}} {
		if d.value == "" {
			continue
		}
		insert(dayGrain, setKey{s.AccountID, s.ProductID, day, d.dim, d.value})
		if d.dim == DimVersion || d.dim == DimPlatform {
			insert(hourGrain, setKey{s.AccountID, s.ProductID, hour, d.dim, d.value})
		}
	}
}

// dirtySets calls each dirty set of m with its key, whether it is
// partial, and its bytes; each returns where the batch holds them.
func (a *aggregate) dirtySets(m map[setKey]*openSet, each func(k setKey, merge bool, raw []byte) *[]byte) {
	for k, o := range m {
		if o.dirty {
			raw, _ := o.set.MarshalBinary()
			a.pending = append(a.pending, pendingSet{o, each(k, o.partial, raw)})
		}
	}
}

// batch is what is to write: the counters and the dirty sets.
func (a *aggregate) batch() *Batch {
	b := &Batch{
		Minutes:       make([]MinuteCount, 0, len(a.minutes)),
		Hours:         make([]HourCount, 0, len(a.hours)),
		Days:          make([]DayCount, 0, len(a.days)),
		MinuteDevices: make([]MinuteDevices, 0, len(a.minuteSets)),
		HourDevices:   make([]HourDevices, 0, len(a.hourSets)),
		DayDevices:    make([]DayDevices, 0, len(a.daySets)),
	}
	for k, n := range a.minutes {
		b.Minutes = append(b.Minutes, MinuteCount{AccountID: k.account, ProductID: k.product, Minute: k.unit, Kind: k.kind, Result: k.result, Count: n})
	}
	for k, n := range a.hours {
		b.Hours = append(b.Hours, HourCount{AccountID: k.account, ProductID: k.product, Hour: k.unit, Kind: k.kind, Result: k.result, Count: n})
	}
	for k, n := range a.days {
		b.Days = append(b.Days, DayCount{AccountID: k.account, ProductID: k.product, Day: k.day, Kind: k.kind, Dim: k.dim, Value: k.value, Count: n})
	}
	// The sets' slices are sized to hold every set, so the places pending
	// keeps stay put.
	a.pending = a.pending[:0]
	a.dirtySets(a.minuteSets, func(k setKey, merge bool, raw []byte) *[]byte {
		b.MinuteDevices = append(b.MinuteDevices, MinuteDevices{AccountID: k.account, ProductID: k.product, Minute: k.unit, Writer: a.writer, Devices: raw, Merge: merge})
		return &b.MinuteDevices[len(b.MinuteDevices)-1].Devices
	})
	a.dirtySets(a.hourSets, func(k setKey, merge bool, raw []byte) *[]byte {
		b.HourDevices = append(b.HourDevices, HourDevices{AccountID: k.account, ProductID: k.product, Hour: k.unit, Dim: k.dim, Value: k.value, Writer: a.writer, Devices: raw, Merge: merge})
		return &b.HourDevices[len(b.HourDevices)-1].Devices
	})
	a.dirtySets(a.daySets, func(k setKey, merge bool, raw []byte) *[]byte {
		b.DayDevices = append(b.DayDevices, DayDevices{AccountID: k.account, ProductID: k.product, Day: k.unit, Dim: k.dim, Value: k.value, Writer: a.writer, Devices: raw, Merge: merge})
		return &b.DayDevices[len(b.DayDevices)-1].Devices
	})
	return b
}

// written forgets the counters just written, takes the merged rows of the
// partial sets written, marks the sets clean, and drops from memory the
// sets this write did not hold (untouched for a whole interval).
func (a *aggregate) written() {
	clear(a.minutes)
	clear(a.hours)
	clear(a.days)
	for _, p := range a.pending {
		var merged Set
		if p.set.partial && merged.UnmarshalBinary(*p.devices) == nil {
			p.set.set, p.set.partial = merged, false
		}
	}
	a.pending = a.pending[:0]
	for g, sets := range a.sets() {
		for k, o := range sets {
			if !o.dirty {
				a.evicted.add(setGrain(g), k)
				delete(sets, k)
			}
			o.dirty = false
		}
	}
	a.dirty = 0
}
