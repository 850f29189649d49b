package analytics

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
)

// Keygen's gauges (what an account holds now, and today's requests,
// validations and events) and its expirations heatmap.

// notFound is Keygen's answer to an unknown gauge or heatmap.
func notFound() error {
	return apperr.New(apperr.NotFound, "NOT_FOUND", "The requested endpoint was not found (or you do not have permission to access it)")
}

// inventories are the gauges of what an account holds, by table.
var inventories = map[string]string{"licenses": "licenses", "machines": "machines", "users": "users"}

// alusWindow is how recent a license's activity must be for Keygen's
// licensed-user count.
const alusWindow = 90 * 24 * time.Hour

// Gauge is Keygen's gauges/:metric: the licenses, machines and users (of
// role user) the account holds, its active licensed users (alus), today's
// requests per class, or today's validations per code; another metric is
// not found.
func (s *Service) Gauge(ctx context.Context, who *access.Principal, t *account.Tenant, metric string) ([]Measurement, error) {
	if err := s.staff(who); err != nil {
		return nil, err
	}
	switch table, ok := inventories[metric]; {
	case ok:
		n, err := s.store.Inventory(ctx, t.ID, table)
		if err != nil {
			return nil, err
		}
		return []Measurement{{Metric: metric, Count: n}}, nil
	case metric == "alus":
		n, err := s.store.ActiveLicensedUsers(ctx, t.ID, s.now().Add(-alusWindow))
		if err != nil {
			return nil, err
		}
		return []Measurement{{Metric: metric, Count: n}}, nil
	case metric == "requests":
		return s.requestGauge(ctx, t)
	case metric == "validations":
		return s.ValidationGauge(ctx, who, t, "")
	}
	return nil, notFound()
}

// SnapshotInventory records what every account holds now as today's
// inventory (the background pass behind Keygen's nightly sparks).
func (s *Service) SnapshotInventory(ctx context.Context) (int, error) {
	now := s.now()
	return s.store.SnapshotInventory(ctx, now, now.Add(-alusWindow))
}

// sparkMetrics are the metrics of Keygen's sparks/:metric.
var sparkMetrics = []string{"alus", "licenses", "machines", "users"}

// InventorySparks is Keygen's sparks/:metric (alus, licenses, machines,
// users): per day, the last of the day's snapshots, and today what the
// gauge says now; days without a snapshot, or of none, are left out.
// Another metric has no metrics: invalid, as in Keygen.
func (s *Service) InventorySparks(ctx context.Context, who *access.Principal, t *account.Tenant, metric string, r DateRange) ([]Bucket, error) {
	f, err := s.keygenWindow(who, t, r)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(sparkMetrics, metric) {
		return nil, apperr.AtParameter(apperr.Invalid, "METRICS_INVALID", "is invalid", "metrics")
	}
	rows, err := s.store.DayCounts(ctx, f, DimInventory, KindInventory)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int64{}
	for _, row := range rows {
		if row.Value == metric {
			counts[row.Unit] = row.Count
		}
	}
	if today := Day(s.now()); f.To == today {
		now, err := s.Gauge(ctx, who, t, metric)
		if err != nil {
			return nil, err
		}
		counts[today] = now[0].Count
	}
	out := []Bucket{}
	for day := f.From; day <= f.To; day++ {
		if n := counts[day]; n > 0 {
			out = append(out, Bucket{Metric: metric, Date: Date(day), Count: n})
		}
	}
	return out, nil
}

// EventGauge is today's events matching pattern that the signals stand for
// (Keygen's gauges/events/:event); a pattern matching none has none.
func (s *Service) EventGauge(ctx context.Context, who *access.Principal, t *account.Tenant, pattern string) ([]Measurement, error) {
	if err := s.staff(who); err != nil {
		return nil, err
	}
	today := Day(s.now())
	sums, err := s.eventCounts(ctx, Filter{AccountID: t.ID, From: today, To: today}, pattern)
	if apperr.Is(err, apperr.Invalid) {
		return []Measurement{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Measurement{}
	for k, n := range sums {
		out = append(out, Measurement{Metric: eventMetric(k[0]), Count: n})
	}
	slices.SortFunc(out, func(x, y Measurement) int { return strings.Compare(x.Metric, y.Metric) })
	return out, nil
}

// Cell is a day of a heatmap: its week (x) and weekday (y, Sunday 0) in a
// grid starting the Sunday of the range's first week, and its count
// relative to the busiest day's (temperature, one decimal).
type Cell struct {
	Date        string  `json:"date"`
	X           int64   `json:"x"`
	Y           int64   `json:"y"`
	Temperature float64 `json:"temperature"`
	Count       int64   `json:"count"`
}

// Heatmap is Keygen's heatmaps/expirations: the account's licenses
// expiring per day, from date[start] (today by default, no earlier than a
// month ago) to date[end] (364 days on, no later than a year on); another
// heatmap is not found.
func (s *Service) Heatmap(ctx context.Context, who *access.Principal, t *account.Tenant, name string, r DateRange) ([]Cell, error) {
	if err := s.staff(who); err != nil {
		return nil, err
	}
	if name != "expirations" {
		return nil, notFound()
	}
	now := s.now()
	from, to := Day(now), Day(now.AddDate(0, 0, 364))
	if !r.Start.IsZero() {
		from = Day(r.Start)
	}
	if !r.End.IsZero() {
		to = Day(r.End)
	}
	if earliest := now.AddDate(0, -1, 0); from < Day(earliest) {
		return nil, apperr.AtParameter(apperr.Invalid, "START_DATE_INVALID", "must be greater than or equal to "+earliest.Format(time.DateOnly), "date[start]")
	}
	if latest := now.AddDate(1, 0, 0); to > Day(latest) {
		return nil, apperr.AtParameter(apperr.Invalid, "END_DATE_INVALID", "must be less than or equal to "+latest.Format(time.DateOnly), "date[end]")
	}
	since, until := dayBounds(from, to)
	days, err := s.store.Expirations(ctx, t.ID, since, until)
	if err != nil {
		return nil, err
	}
	busiest := int64(1)
	for _, d := range days {
		busiest = max(busiest, d.Count)
	}
	gridStart := from - int64(DayTime(from).Weekday())
	out := make([]Cell, 0, len(days))
	for _, d := range days {
		at, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			return nil, err
		}
		out = append(out, Cell{Date: d.Day, X: (Day(at) - gridStart) / 7, Y: int64(at.Weekday()),
			Temperature: math.Round(float64(d.Count)/float64(busiest)*10) / 10, Count: d.Count})
	}
	return out, nil
}
