package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
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
	// Capacity bounds the queue of signals not yet aggregated (16384: the
	// loop aggregates as they come, so it fills only when it is starved); a
	// full queue sheds signals and counts them in Dropped.
	Capacity int
	// FlushEvery is how often aggregated signals are written (5 s).
	FlushEvery time.Duration
	// Now is the clock signals are stamped with (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Buffer is the Recorder of a serving replica: Record queues a signal and
// returns; one goroutine aggregates the queue into counters and device
// sets and writes them every FlushEvery, on Flush and on Close. A replica
// writes its sets under its own writer id, so replicas never overwrite
// each other; readers merge. What a crash loses is at most the signals of
// one flush interval (and the queue).
type Buffer struct {
	w       Writer
	now     func() time.Time
	every   time.Duration
	logger  *slog.Logger
	writer  string
	queue   chan Signal
	dropped atomic.Int64
	flushes chan chan error
	stop    chan struct{}
	done    sync.WaitGroup
	closing sync.Once
	agg     *aggregate // the loop's own
	shed    int64      // Dropped at the last write, the loop's own
}

// NewBuffer starts a buffer writing to w.
func NewBuffer(w Writer, o Options) *Buffer {
	if o.Capacity <= 0 {
		o.Capacity = 1 << 14
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &Buffer{w: w, now: o.Now, every: o.FlushEvery, logger: o.Logger, writer: hex.EncodeToString(id[:]),
		queue: make(chan Signal, o.Capacity), flushes: make(chan chan error), stop: make(chan struct{})}
	b.agg = newAggregate(b.writer)
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

// Dropped is how many signals a full queue shed.
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
			b.agg.add(s)
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

// drain aggregates what is queued.
func (b *Buffer) drain() {
	for {
		select {
		case s := <-b.queue:
			b.agg.add(s)
		default:
			return
		}
	}
}

// write flushes the aggregate; a failed write keeps it for the next flush.
func (b *Buffer) write() error {
	if shed := b.dropped.Load(); shed > b.shed {
		b.logger.Warn("usage analytics queue full: signals shed", "shed", shed-b.shed, "total", shed)
		b.shed = shed
	}
	batch := b.agg.batch()
	if batch.Len() == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.w.Write(ctx, batch); err != nil {
		b.logger.Warn("writing usage analytics", "rows", batch.Len(), "error", err)
		return err
	}
	b.agg.written(b.now())
	return nil
}

// aggregate gathers signals between flushes: counters since the last
// flush, and this writer's device sets of the minutes, hours and days
// still open.
type aggregate struct {
	minutes    map[counterKey]int64
	hours      map[counterKey]int64
	days       map[dayKey]int64
	minuteSets map[setKey]*openSet
	hourSets   map[setKey]*openSet
	daySets    map[setKey]*openSet
	// writer is the id new sets' rows go under: the buffer's, and how many
	// times sets were closed.
	base   string
	closed int
	writer string
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

// openSet is a set being gathered and the writer id its row goes under:
// a set reopened after it was closed gets a new one, so that its row never
// replaces the closed one's.
type openSet struct {
	set    Set
	dirty  bool
	writer string
}

func newAggregate(writer string) *aggregate {
	return &aggregate{minutes: map[counterKey]int64{}, hours: map[counterKey]int64{}, days: map[dayKey]int64{},
		minuteSets: map[setKey]*openSet{}, hourSets: map[setKey]*openSet{}, daySets: map[setKey]*openSet{}, base: writer, writer: writer}
}

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
	// ("<license>/<code>").
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
	if s.LicenseID != "" {
		count(DimLicense, s.LicenseID)
		if s.Kind == Validation {
			count(DimLicenseResult, s.LicenseID+"/"+s.Result)
		}
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
	insert := func(m map[setKey]*openSet, k setKey) {
		o := m[k]
		if o == nil {
			o = &openSet{writer: a.writer}
			m[k] = o
		}
		o.set.Add(h)
		o.dirty = true
	}
	// The sets of all devices are kept per product and for the account
	// (product ""); the others per product.
	for _, product := range []string{s.ProductID, ""} {
		insert(a.minuteSets, setKey{s.AccountID, product, minute, DimAll, ""})
		insert(a.hourSets, setKey{s.AccountID, product, hour, DimAll, ""})
		insert(a.daySets, setKey{s.AccountID, product, day, DimAll, ""})
		if s.ProductID == "" {
			break
		}
	}
	for _, d := range [...]struct{ dim, value string }{{DimVersion, s.Version}, {DimPlatform, s.Platform}, {DimArch, s.Arch}, {DimLicense, s.LicenseID}} {
		if d.value == "" {
			continue
		}
		insert(a.daySets, setKey{s.AccountID, s.ProductID, day, d.dim, d.value})
		if d.dim == DimVersion || d.dim == DimPlatform {
			insert(a.hourSets, setKey{s.AccountID, s.ProductID, hour, d.dim, d.value})
		}
	}
}

// dirtySets calls each dirty set of m with its key, writer and bytes.
func dirtySets(m map[setKey]*openSet, each func(k setKey, writer string, raw []byte)) {
	for k, o := range m {
		if o.dirty {
			raw, _ := o.set.MarshalBinary()
			each(k, o.writer, raw)
		}
	}
}

// batch is what is to write: the counters and the dirty sets.
func (a *aggregate) batch() *Batch {
	b := &Batch{}
	for k, n := range a.minutes {
		b.Minutes = append(b.Minutes, MinuteCount{AccountID: k.account, ProductID: k.product, Minute: k.unit, Kind: k.kind, Result: k.result, Count: n})
	}
	for k, n := range a.hours {
		b.Hours = append(b.Hours, HourCount{AccountID: k.account, ProductID: k.product, Hour: k.unit, Kind: k.kind, Result: k.result, Count: n})
	}
	for k, n := range a.days {
		b.Days = append(b.Days, DayCount{AccountID: k.account, ProductID: k.product, Day: k.day, Kind: k.kind, Dim: k.dim, Value: k.value, Count: n})
	}
	dirtySets(a.minuteSets, func(k setKey, writer string, raw []byte) {
		b.MinuteDevices = append(b.MinuteDevices, MinuteDevices{AccountID: k.account, ProductID: k.product, Minute: k.unit, Writer: writer, Devices: raw})
	})
	dirtySets(a.hourSets, func(k setKey, writer string, raw []byte) {
		b.HourDevices = append(b.HourDevices, HourDevices{AccountID: k.account, ProductID: k.product, Hour: k.unit, Dim: k.dim, Value: k.value, Writer: writer, Devices: raw})
	})
	dirtySets(a.daySets, func(k setKey, writer string, raw []byte) {
		b.DayDevices = append(b.DayDevices, DayDevices{AccountID: k.account, ProductID: k.product, Day: k.unit, Dim: k.dim, Value: k.value, Writer: writer, Devices: raw})
	})
	return b
}

// written forgets the counters just written, marks the sets clean, and
// closes the sets of minutes, hours and days past (signals are stamped on
// arrival, so none comes for them any more).
func (a *aggregate) written(now time.Time) {
	clear(a.minutes)
	clear(a.hours)
	clear(a.days)
	closed := false
	for _, open := range []struct {
		sets    map[setKey]*openSet
		current int64
	}{{a.minuteSets, Minute(now)}, {a.hourSets, Hour(now)}, {a.daySets, Day(now)}} {
		for k, o := range open.sets {
			o.dirty = false
			if k.unit < open.current-1 {
				delete(open.sets, k)
				closed = true
			}
		}
	}
	if closed {
		a.closed++
		a.writer = a.base + "." + strconv.Itoa(a.closed)
	}
}
