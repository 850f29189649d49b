package analytics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
)

// Products resolves a product reference within who's sight (*product.Service).
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// LicenseInfo is what the licenses leaderboard shows of a license.
type LicenseInfo struct {
	ID          string  `json:"id"`
	Name        *string `json:"name"`
	ProductID   string  `json:"product"`
	MaxMachines *int64  `json:"maxMachines"`
	MaxUses     *int64  `json:"maxUses"`
}

// Licenses finds a license within who's sight.
type Licenses interface {
	Info(ctx context.Context, who *access.Principal, t *account.Tenant, id string) (*LicenseInfo, error)
}

// Service answers the analytics reads.
type Service struct {
	store     *Store
	products  Products
	licenses  Licenses
	requests  RequestLog
	now       func() time.Time
	retention time.Duration
}

// NewService returns the analytics reads over store; retention bounds how
// far back a range may start.
func NewService(store *Store, products Products, licenses Licenses, retention time.Duration, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, products: products, licenses: licenses, retention: retention, now: now}
}

// Query is what an analytics read asks for: a product (empty: every
// product the bearer sees) and an inclusive range of UTC days.
type Query struct {
	Product  string
	From, To time.Time // zero: the last 30 days
}

// scope checks who may read analytics and resolves the product: staff with
// account.analytics.read read the account's (or one product's); a product
// reads its own only (another product is not found).
func (s *Service) scope(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error) {
	if who == nil {
		return "", access.ErrTokenMissing
	}
	if who.BearerType == access.BearerProduct {
		if err := who.Require("product.read"); err != nil {
			return "", err
		}
		if ref == "" {
			return who.BearerID, nil
		}
	} else if err := who.Require("account.analytics.read"); err != nil {
		return "", err
	}
	if ref == "" {
		return "", nil
	}
	id, err := s.products.VisibleID(ctx, who, t, ref)
	if apperr.Is(err, apperr.NotFound) {
		return "", apperr.AtParameter(apperr.NotFound, "NOT_FOUND", "The requested product '"+ref+"' was not found", "product")
	}
	return id, err
}

// filter checks who may read q and resolves it to a filter of days.
func (s *Service) filter(ctx context.Context, who *access.Principal, t *account.Tenant, q Query) (Filter, error) {
	productID, err := s.scope(ctx, who, t, q.Product)
	if err != nil {
		return Filter{}, err
	}
	return s.window(t, productID, q)
}

// window resolves a query's range to a filter of days.
func (s *Service) window(t *account.Tenant, productID string, q Query) (Filter, error) {
	today := Day(s.now())
	f := Filter{AccountID: t.ID, ProductID: productID, From: today - 29, To: today}
	if !q.To.IsZero() {
		f.To = Day(q.To)
	}
	if !q.From.IsZero() {
		f.From = Day(q.From)
	} else if !q.To.IsZero() {
		f.From = f.To - 29
	}
	if f.From > f.To {
		return f, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "from must not be after to", "from")
	}
	if oldest := Day(s.now().Add(-s.retention)); f.From < oldest-1 {
		return f, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "from must be within the retention ("+DayTime(oldest).Format(time.DateOnly)+" or later)", "from")
	}
	return f, nil
}

// Date is a unix day as YYYY-MM-DD.
func Date(day int64) string { return DayTime(day).Format(time.DateOnly) }

// Point is one bucket of a series.
type Point struct {
	Date  string `json:"date"`
	Count int64  `json:"count"`
}

// ActiveDevices is the distinct devices of a window.
type ActiveDevices struct {
	Window   string  `json:"window"`
	From     string  `json:"from"`
	To       string  `json:"to"`
	Realtime int64   `json:"realtime"`
	Total    int64   `json:"total"`
	Exact    bool    `json:"exact"`
	Series   []Point `json:"series"`
}

// Windows are the buckets of the active-devices series.
var Windows = []string{"realtime", "day", "week", "month"}

// RealtimeMinutes is how many minutes (the current one included) make the
// realtime count.
const RealtimeMinutes = 5

// Realtime is the distinct devices seen in the last five minutes.
func (s *Service) Realtime(ctx context.Context, who *access.Principal, t *account.Tenant, product string) (int64, error) {
	productID, err := s.scope(ctx, who, t, product)
	if err != nil {
		return 0, err
	}
	return s.realtime(ctx, t, productID)
}

func (s *Service) realtime(ctx context.Context, t *account.Tenant, productID string) (int64, error) {
	now := Minute(s.now())
	set, err := s.store.MinuteDevicesIn(ctx, Filter{AccountID: t.ID, ProductID: productID, From: now - RealtimeMinutes + 1, To: now})
	if err != nil {
		return 0, err
	}
	return set.Count(), nil
}

// ActiveDevices is the distinct devices per bucket of the window (day, week
// from Monday, calendar month) and over the range; realtime adds the last
// five minutes' count to the day series.
func (s *Service) ActiveDevices(ctx context.Context, who *access.Principal, t *account.Tenant, q Query, window string) (*ActiveDevices, error) {
	if window == "" {
		window = "day"
	}
	if !slices.Contains(Windows, window) {
		return nil, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "window must be one of "+strings.Join(Windows, ", "), "window")
	}
	f, err := s.filter(ctx, who, t, q)
	if err != nil {
		return nil, err
	}
	byDay, total, err := s.store.DayDevicesIn(ctx, f, DimAll)
	if err != nil {
		return nil, err
	}
	out := &ActiveDevices{Window: window, From: Date(f.From), To: Date(f.To), Exact: true, Series: []Point{}}
	if all := total[""]; all != nil {
		out.Total, out.Exact = all.Count(), all.Exact()
	}
	if out.Realtime, err = s.realtime(ctx, t, f.ProductID); err != nil {
		return nil, err
	}
	var bucket *Set
	var label string
	for _, d := range byDay {
		l := bucketOf(d.Unit, window)
		if bucket != nil && l != label {
			out.Series = append(out.Series, Point{Date: label, Count: bucket.Count()})
			bucket = nil
		}
		if bucket == nil {
			bucket, label = &Set{}, l
		}
		bucket.Merge(&d.Set)
	}
	if bucket != nil {
		out.Series = append(out.Series, Point{Date: label, Count: bucket.Count()})
	}
	return out, nil
}

// bucketOf is the first day of the window's bucket holding day.
func bucketOf(day int64, window string) string {
	t := DayTime(day)
	switch window {
	case "week":
		t = t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	case "month":
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t.Format(time.DateOnly)
}

// Share is a value's devices over the range and their share of all.
type Share struct {
	Value   string  `json:"value"`
	Devices int64   `json:"devices"`
	Share   float64 `json:"share"`
}

// ValuePoint is a value's devices on a day.
type ValuePoint struct {
	Date    string `json:"date"`
	Value   string `json:"value"`
	Devices int64  `json:"devices"`
}

// Breakdown is the devices per value of a dimension (version, platform,
// arch): per day, and over the range with each value's share.
type Breakdown struct {
	Dimension string       `json:"dimension"`
	From      string       `json:"from"`
	To        string       `json:"to"`
	Devices   int64        `json:"devices"`
	Totals    []Share      `json:"totals"`
	Series    []ValuePoint `json:"series"`
}

// Breakdown answers the versions, platforms and arches reads.
func (s *Service) Breakdown(ctx context.Context, who *access.Principal, t *account.Tenant, q Query, dim string) (*Breakdown, error) {
	f, err := s.filter(ctx, who, t, q)
	if err != nil {
		return nil, err
	}
	byDay, totals, err := s.store.DayDevicesIn(ctx, f, dim)
	if err != nil {
		return nil, err
	}
	_, all, err := s.store.DayDevicesIn(ctx, f, DimAll)
	if err != nil {
		return nil, err
	}
	out := &Breakdown{Dimension: dim, From: Date(f.From), To: Date(f.To), Totals: []Share{}, Series: []ValuePoint{}}
	if a := all[""]; a != nil {
		out.Devices = a.Count()
	}
	for _, d := range byDay {
		out.Series = append(out.Series, ValuePoint{Date: Date(d.Unit), Value: d.Value, Devices: d.Set.Count()})
	}
	for v, set := range totals {
		sh := Share{Value: v, Devices: set.Count()}
		if out.Devices > 0 {
			sh.Share = float64(min(sh.Devices, out.Devices)) / float64(out.Devices)
		}
		out.Totals = append(out.Totals, sh)
	}
	slices.SortFunc(out.Totals, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Devices, a.Devices), strings.Compare(a.Value, b.Value))
	})
	return out, nil
}

// KindPoint is a count of a kind and value on a day.
type KindPoint struct {
	Date  string `json:"date"`
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Counted is counts per day of some kinds along a dimension, with their
// totals per kind and value over the range.
type Counted struct {
	Dimension string      `json:"dimension"`
	From      string      `json:"from"`
	To        string      `json:"to"`
	Totals    []KindPoint `json:"totals"`
	Series    []KindPoint `json:"series"`
}

// Counts answers the validations (by code), activations and downloads (by
// release and artifact) reads.
func (s *Service) Counts(ctx context.Context, who *access.Principal, t *account.Tenant, q Query, dim string, kinds ...Kind) (*Counted, error) {
	f, err := s.filter(ctx, who, t, q)
	if err != nil {
		return nil, err
	}
	return s.counts(ctx, f, dim, kinds...)
}

func (s *Service) counts(ctx context.Context, f Filter, dim string, kinds ...Kind) (*Counted, error) {
	rows, err := s.store.DayCounts(ctx, f, dim, kinds...)
	if err != nil {
		return nil, err
	}
	out := &Counted{Dimension: dim, From: Date(f.From), To: Date(f.To), Totals: []KindPoint{}, Series: []KindPoint{}}
	totals := map[[2]string]int64{}
	for _, r := range rows {
		out.Series = append(out.Series, KindPoint{Date: Date(r.Unit), Kind: r.Kind, Value: r.Value, Count: r.Count})
		totals[[2]string{string(r.Kind), r.Value}] += r.Count
	}
	for k, n := range totals {
		out.Totals = append(out.Totals, KindPoint{Kind: Kind(k[0]), Value: k[1], Count: n})
	}
	slices.SortFunc(out.Totals, func(a, b KindPoint) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return out, nil
}

// LicenseSorts are the orders of the licenses leaderboard.
var LicenseSorts = []string{"devices", "validations", "downloads"}

// LicenseUse is a license's use over the range.
type LicenseUse struct {
	LicenseInfo
	Devices     int64 `json:"devices"`
	Validations int64 `json:"validations"`
	Downloads   int64 `json:"downloads"`
	// OverUsed: more devices than the license's machine limit.
	OverUsed bool `json:"overUsed"`
}

// TopLicenses ranks licenses by devices, validations or downloads (limit
// 1–100) with their limits, so that over-use stands out.
func (s *Service) TopLicenses(ctx context.Context, who *access.Principal, t *account.Tenant, q Query, sort string, limit int) ([]LicenseUse, error) {
	if sort == "" {
		sort = "devices"
	}
	if !slices.Contains(LicenseSorts, sort) {
		return nil, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "sort must be one of "+strings.Join(LicenseSorts, ", "), "sort")
	}
	f, err := s.filter(ctx, who, t, q)
	if err != nil {
		return nil, err
	}
	_, devices, err := s.store.DayDevicesIn(ctx, f, DimLicense)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.DayCounts(ctx, f, DimLicense, Validation, Download)
	if err != nil {
		return nil, err
	}
	uses := map[string]*LicenseUse{}
	use := func(id string) *LicenseUse {
		if uses[id] == nil {
			uses[id] = &LicenseUse{LicenseInfo: LicenseInfo{ID: id}}
		}
		return uses[id]
	}
	for id, set := range devices {
		use(id).Devices = set.Count()
	}
	for _, c := range counts {
		if c.Kind == Validation {
			use(c.Value).Validations += c.Count
		} else {
			use(c.Value).Downloads += c.Count
		}
	}
	ranked := make([]*LicenseUse, 0, len(uses))
	for _, u := range uses {
		ranked = append(ranked, u)
	}
	key := func(u *LicenseUse) int64 {
		switch sort {
		case "validations":
			return u.Validations
		case "downloads":
			return u.Downloads
		}
		return u.Devices
	}
	slices.SortFunc(ranked, func(a, b *LicenseUse) int { return cmp.Or(cmp.Compare(key(b), key(a)), strings.Compare(a.ID, b.ID)) })
	out := []LicenseUse{}
	for _, u := range ranked {
		if len(out) == limit {
			break
		}
		info, err := s.licenses.Info(ctx, who, t, u.ID)
		if apperr.Is(err, apperr.NotFound) {
			continue // deleted since, or out of the bearer's sight
		}
		if err != nil {
			return nil, err
		}
		u.LicenseInfo = *info
		u.OverUsed = info.MaxMachines != nil && u.Devices > *info.MaxMachines
		out = append(out, *u)
	}
	return out, nil
}
