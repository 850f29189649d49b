package analytics_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/testenv"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// products sees every product by id.
type products struct{}

func (products) VisibleID(_ context.Context, who *access.Principal, _ *account.Tenant, ref string) (string, error) {
	if who.BearerType == access.BearerProduct && who.BearerID != ref {
		return "", apperr.New(apperr.NotFound, "NOT_FOUND", "not found")
	}
	return ref, nil
}

// licenses allows each license two machines.
type licenses struct{}

func (licenses) Info(_ context.Context, _ *access.Principal, _ *account.Tenant, id string) (*analytics.LicenseInfo, error) {
	two := int64(2)
	return &analytics.LicenseInfo{ID: id, MaxMachines: &two}, nil
}

type fixture struct {
	db     *database.DB
	store  *analytics.Store
	clock  *clock
	tenant *account.Tenant
	svc    *analytics.Service
	admin  *access.Principal
}

// start is a Monday.
var start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, b testenv.Backend) *fixture {
	db := b.OpenDB(t)
	acct := id.New()
	err := db.Gorm.Exec("INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at) VALUES (?, ?, 'A', '', '', '', ?, ?)",
		acct, "a"+acct[:8], start, start).Error
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, store: analytics.NewStore(db), clock: &clock{t: start}, tenant: &account.Tenant{Account: &account.Account{ID: acct}}}
	f.svc = analytics.NewService(f.store, products{}, licenses{}, 400*24*time.Hour, f.clock.Now)
	f.admin = access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, id.New(), "", nil)
	return f
}

func (f *fixture) buffer(t testing.TB, w analytics.Writer) *analytics.Buffer {
	b := analytics.NewBuffer(w, analytics.Options{FlushEvery: time.Hour, Now: f.clock.Now})
	t.Cleanup(b.Close)
	return b
}

func flush(t testing.TB, b *analytics.Buffer) {
	t.Helper()
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var (
	versions  = []string{"1.0.0", "1.1.0", "2.0.0"}
	platforms = []string{"linux", "darwin", "windows"}
)

// TestScriptedWeek records a week of traffic from 30 devices over three
// versions and platforms, flushing now and then, and reads exact counts
// per day, version and platform back.
func TestScriptedWeek(t *testing.T) {
	const devices = 30
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			buf := f.buffer(t, f.store)
			product := id.New()
			other := id.New()
			type key struct {
				day   int
				value string
			}
			wantDay := map[int]int{}
			wantVersion := map[key]int{}
			wantPlatform := map[key]int{}
			wantCodes := map[key]int{}
			for day := range 7 {
				for d := range devices {
					// Device d is active on days where (d+day)%3 != 0; it
					// upgrades from version d%3 by one every 3 days.
					if (d+day)%3 == 0 {
						continue
					}
					v := versions[min(d%3+day/3, 2)]
					p := platforms[d%3]
					wantDay[day]++
					wantVersion[key{day, v}]++
					wantPlatform[key{day, p}]++
					code := "VALID"
					if d%5 == 0 {
						code = "EXPIRED"
					}
					for hour := range 3 {
						f.clock.Set(start.AddDate(0, 0, day).Add(time.Duration(8+hour) * time.Hour))
						buf.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: product,
							LicenseID: fmt.Sprintf("lic-%d", d/3), Device: fmt.Sprintf("dev-%d", d), Version: v, Platform: p, Arch: "amd64", Result: code})
						wantCodes[key{day, code}]++
					}
				}
				// Another product's device is no device of this product.
				buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: f.tenant.ID, ProductID: other, Device: "elsewhere"})
				if day%2 == 1 {
					flush(t, buf)
				}
			}
			flush(t, buf)
			f.clock.Set(start.AddDate(0, 0, 7))
			q := analytics.Query{Product: product, From: start, To: start.AddDate(0, 0, 6)}

			active, err := f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, q, "day")
			if err != nil {
				t.Fatal(err)
			}
			if active.Total != devices || !active.Exact || len(active.Series) != 7 {
				t.Fatalf("active devices = %+v", active)
			}
			for day, p := range active.Series {
				if p.Date != start.AddDate(0, 0, day).Format(time.DateOnly) || p.Count != int64(wantDay[day]) {
					t.Errorf("day %d = %+v, want %d", day, p, wantDay[day])
				}
			}
			week, err := f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, q, "week")
			if err != nil || len(week.Series) != 1 || week.Series[0].Count != devices || week.Series[0].Date != "2026-11-02" {
				t.Fatalf("week = %+v, %v", week, err)
			}
			all, err := f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, analytics.Query{From: start, To: start.AddDate(0, 0, 6)}, "month")
			if err != nil || all.Total != devices+1 {
				t.Fatalf("account-wide = %+v, %v", all, err)
			}

			for dim, want := range map[string]map[key]int{analytics.DimVersion: wantVersion, analytics.DimPlatform: wantPlatform} {
				got, err := f.svc.Breakdown(context.Background(), f.admin, f.tenant, q, dim)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[key]int{}
				for _, p := range got.Series {
					day := int(analytics.Day(mustDate(t, p.Date)) - analytics.Day(start))
					seen[key{day, p.Value}] = int(p.Devices)
				}
				if fmt.Sprint(seen) != fmt.Sprint(want) {
					t.Errorf("%s per day = %v, want %v", dim, seen, want)
				}
				if got.Devices != devices || len(got.Totals) != 3 {
					t.Errorf("%s totals = %+v", dim, got)
				}
			}

			codes, err := f.svc.Counts(context.Background(), f.admin, f.tenant, q, analytics.DimResult, analytics.Validation)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[key]int{}
			for _, p := range codes.Series {
				day := int(analytics.Day(mustDate(t, p.Date)) - analytics.Day(start))
				seen[key{day, p.Value}] = int(p.Count)
			}
			if fmt.Sprint(seen) != fmt.Sprint(wantCodes) {
				t.Errorf("codes = %v, want %v", seen, wantCodes)
			}

			top, err := f.svc.TopLicenses(context.Background(), f.admin, f.tenant, q, "devices", 3)
			if err != nil || len(top) != 3 || top[0].Devices != 3 || !top[0].OverUsed {
				t.Fatalf("top licenses = %+v, %v", top, err)
			}

			// A product bearer reads its own product, and no other.
			own := access.NewPrincipal(f.tenant.ID, access.RoleProduct, access.BearerProduct, product, "", nil)
			mine, err := f.svc.ActiveDevices(context.Background(), own, f.tenant, analytics.Query{From: start, To: start.AddDate(0, 0, 6)}, "day")
			if err != nil || mine.Total != devices {
				t.Fatalf("product's own = %+v, %v", mine, err)
			}
			if _, err := f.svc.ActiveDevices(context.Background(), own, f.tenant, analytics.Query{Product: other}, "day"); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("another product's = %v, want not found", err)
			}
		})
	}
}

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRealtimeDecays counts a device in realtime for five minutes.
func TestRealtimeDecays(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			buf := f.buffer(t, f.store)
			seen := start.Add(12 * time.Hour)
			f.clock.Set(seen)
			buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: f.tenant.ID, ProductID: "p", Device: "a"})
			buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: f.tenant.ID, ProductID: "p", Device: "b"})
			flush(t, buf)
			for _, tc := range []struct {
				after time.Duration
				want  int64
			}{{0, 2}, {4*time.Minute + 59*time.Second, 2}, {5 * time.Minute, 0}} {
				f.clock.Set(seen.Add(tc.after))
				got, err := f.svc.Realtime(context.Background(), f.admin, f.tenant, "")
				if err != nil || got != tc.want {
					t.Errorf("realtime %v after = %d, %v; want %d", tc.after, got, err, tc.want)
				}
			}
		})
	}
}

// dying is a writer that stops writing once killed, as a crashed process.
type dying struct {
	analytics.Writer
	mu     sync.Mutex
	killed bool
}

func (d *dying) Write(ctx context.Context, b *analytics.Batch) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.killed {
		return nil
	}
	return d.Writer.Write(ctx, b)
}

func (d *dying) kill() { d.mu.Lock(); d.killed = true; d.mu.Unlock() }

// TestRestartLosesOnlyTheUnflushed: a process that dies loses what it had
// not flushed; the next one's sets add to the dead one's.
func TestRestartLosesOnlyTheUnflushed(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			f.clock.Set(start.Add(time.Hour))
			first := &dying{Writer: f.store}
			a := f.buffer(t, first)
			for d := range 10 {
				a.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", Device: fmt.Sprint(d), Result: "VALID"})
			}
			flush(t, a)
			for d := 10; d < 15; d++ { // never flushed
				a.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", Device: fmt.Sprint(d), Result: "VALID"})
			}
			first.kill()
			b := f.buffer(t, f.store)
			for d := 5; d < 20; d += 2 {
				b.Record(analytics.Signal{Kind: analytics.Validation, AccountID: f.tenant.ID, ProductID: "p", Device: fmt.Sprint(d), Result: "VALID"})
			}
			b.Close()
			got, err := f.svc.ActiveDevices(context.Background(), f.admin, f.tenant, analytics.Query{Product: "p"}, "day")
			// 0–9 flushed, and 11, 13, 15, 17, 19 from the second process.
			if err != nil || got.Total != 15 {
				t.Fatalf("after restart = %+v, %v; want 15", got, err)
			}
			codes, err := f.svc.Counts(context.Background(), f.admin, f.tenant, analytics.Query{Product: "p"}, analytics.DimResult, analytics.Validation)
			if err != nil || len(codes.Totals) != 1 || codes.Totals[0].Count != 18 {
				t.Fatalf("validations = %+v, %v; want 18", codes, err)
			}
		})
	}
}

// blocking holds every write until released.
type blocking struct {
	entered, release chan struct{}
}

func (b *blocking) Write(context.Context, *analytics.Batch) error {
	b.entered <- struct{}{}
	<-b.release
	return nil
}

// TestOverloadSheds: with the loop busy writing and the queue full, Record
// drops and counts instead of blocking.
func TestOverloadSheds(t *testing.T) {
	w := &blocking{entered: make(chan struct{}), release: make(chan struct{})}
	buf := analytics.NewBuffer(w, analytics.Options{Capacity: 4, FlushEvery: time.Hour})
	buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: "a"})
	done := make(chan error)
	go func() { done <- buf.Flush(context.Background()) }()
	<-w.entered
	for range 100 {
		buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: "a"})
	}
	if got := buf.Dropped(); got != 96 {
		t.Errorf("dropped = %d, want 96", got)
	}
	close(w.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() {
		for range w.entered {
		}
	}()
	buf.Close()
}

// TestPrune keeps 48 hours of minutes and the retention of days.
func TestPrune(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			buf := f.buffer(t, f.store)
			for _, at := range []time.Time{start, start.AddDate(0, 0, 3), start.AddDate(0, 0, 10)} {
				f.clock.Set(at)
				buf.Record(analytics.Signal{Kind: analytics.Heartbeat, AccountID: f.tenant.ID, ProductID: "p", Device: "d"})
				flush(t, buf)
			}
			now := start.AddDate(0, 0, 11)
			if _, err := f.store.Prune(context.Background(), 5*24*time.Hour, now); err != nil {
				t.Fatal(err)
			}
			var minutes, days int64
			f.db.Gorm.Table("analytics_minutes").Count(&minutes)
			f.db.Gorm.Table("analytics_days").Where("dim = 'result'").Count(&days)
			if minutes != 1 || days != 1 {
				t.Errorf("after prune: %d minutes, %d days; want 1 and 1", minutes, days)
			}
		})
	}
}

// TestLicenseCountsFoldTheirResults: a license's validations are stored once,
// by result, and read back as its total beside its other signals, per day
// and product, in the ranking by validations and in the store's per-license
// counts.
func TestLicenseCountsFoldTheirResults(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newFixture(t, be)
			buf := f.buffer(t, f.store)
			product, other := id.New(), id.New()
			record := func(day int, kind analytics.Kind, productID, license, result string, n int) {
				f.clock.Set(start.AddDate(0, 0, day).Add(9 * time.Hour))
				for range n {
					buf.Record(analytics.Signal{Kind: kind, AccountID: f.tenant.ID, ProductID: productID, LicenseID: license, Result: result})
				}
			}
			record(0, analytics.Validation, product, "lic-a", "VALID", 3)
			record(0, analytics.Validation, product, "lic-a", "EXPIRED", 2)
			record(0, analytics.Download, product, "lic-a", "", 4)
			record(1, analytics.Validation, product, "lic-a", "VALID", 1)
			record(1, analytics.Validation, product, "lic-b", "SUSPENDED", 6)
			record(1, analytics.Validation, other, "lic-b", "VALID", 9)
			flush(t, buf)

			var stored int64
			if err := f.db.Gorm.Raw("SELECT COUNT(*) FROM analytics_days WHERE dim = ? AND kind = ?", analytics.DimLicense, analytics.Validation).Scan(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if stored != 0 {
				t.Fatalf("%d per-license validation rows stored beside the per-result ones, want 0", stored)
			}
			window := analytics.Filter{AccountID: f.tenant.ID, ProductID: product, From: analytics.Day(start), To: analytics.Day(start) + 6}
			counts, err := f.store.DayCounts(context.Background(), window, analytics.DimLicense)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint([]analytics.Counts{
				{Unit: analytics.Day(start), Kind: analytics.Download, Value: "lic-a", Count: 4},
				{Unit: analytics.Day(start), Kind: analytics.Validation, Value: "lic-a", Count: 5},
				{Unit: analytics.Day(start) + 1, Kind: analytics.Validation, Value: "lic-a", Count: 1},
				{Unit: analytics.Day(start) + 1, Kind: analytics.Validation, Value: "lic-b", Count: 6},
			})
			if got := fmt.Sprint(counts); got != want {
				t.Fatalf("per-license counts\n got %s\nwant %s", got, want)
			}
			downloads, err := f.store.DayCounts(context.Background(), window, analytics.DimLicense, analytics.Download)
			if err != nil || len(downloads) != 1 || downloads[0].Count != 4 {
				t.Fatalf("downloads only: %v, %v", downloads, err)
			}

			f.clock.Set(start.AddDate(0, 0, 2))
			q := analytics.Query{Product: product, From: start, To: start.AddDate(0, 0, 6)}
			top, err := f.svc.TopLicenses(context.Background(), f.admin, f.tenant, q, "validations", 2)
			if err != nil || len(top) != 2 || top[0].ID != "lic-a" || top[0].Validations != 6 || top[0].Downloads != 4 ||
				top[1].ID != "lic-b" || top[1].Validations != 6 {
				t.Fatalf("top licenses by validations = %+v, %v", top, err)
			}
		})
	}
}
