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
	"github.com/relkey/relkey/internal/requestlog"
)

// Keygen's request metrics (usage, sparks/requests, gauges/requests) and
// its ips, urls and user-agents leaderboards, answered from the request log
// (RELKEY_REQUEST_LOG), which the API writes off the request path: they
// reach back as far as it keeps requests, and are empty with it off.

// RequestLog reads the request log (*requestlog.Log).
type RequestLog interface {
	StatusesByDay(ctx context.Context, accountID string, since, until time.Time) ([]requestlog.DayStatus, error)
	Top(ctx context.Context, accountID string, by requestlog.Field, since, until time.Time, limit int) ([]requestlog.Tally, error)
}

// ReadRequestsFrom makes the request metrics read log; without it they
// are empty.
func (s *Service) ReadRequestsFrom(log RequestLog) { s.requests = log }

// requestMetrics are Keygen's request metrics, in its order.
var requestMetrics = []string{"requests.2xx", "requests.3xx", "requests.4xx", "requests.5xx"}

// listedStatuses are the statuses Keygen's usage series and requests gauge
// count in each class; its request sparks count every status of the class.
var listedStatuses = map[int]bool{200: true, 201: true, 202: true, 204: true,
	301: true, 302: true, 303: true, 304: true, 307: true, 308: true,
	400: true, 401: true, 402: true, 403: true, 404: true, 405: true, 406: true, 409: true, 410: true, 413: true, 422: true, 429: true,
	500: true, 501: true, 502: true, 503: true, 504: true}

// requestMetric is the metric a status counts in ("" for none); listed
// narrows the classes to Keygen's listed statuses.
func requestMetric(status int, listed bool) string {
	if status < 200 || status >= 600 || listed && !listedStatuses[status] {
		return ""
	}
	return requestMetrics[status/100-2]
}

// dayBounds are the times from the start of day from to the end of day to.
func dayBounds(from, to int64) (since, until time.Time) { return DayTime(from), DayTime(to + 1) }

// requestCounts are f's requests by metric and date; listed narrows them
// to Keygen's listed statuses, for every day (usage) or today only (the
// sparks, whose today is the gauge's).
func (s *Service) requestCounts(ctx context.Context, f Filter, listed func(day string) bool) (map[[2]string]int64, error) {
	counts := map[[2]string]int64{}
	if s.requests == nil {
		return counts, nil
	}
	since, until := dayBounds(f.From, f.To)
	rows, err := s.requests.StatusesByDay(ctx, f.AccountID, since, until)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if metric := requestMetric(r.Status, listed(r.Day)); metric != "" {
			counts[[2]string{metric, r.Day}] += r.Count
		}
	}
	return counts, nil
}

// RequestSeries is Keygen's usage (spark false: the listed statuses) or
// sparks/requests (spark true: every status of a class, today's listed as
// its gauge) per metric and day, days without requests left out.
func (s *Service) RequestSeries(ctx context.Context, who *access.Principal, t *account.Tenant, r DateRange, spark bool) ([]Bucket, error) {
	f, err := s.keygenWindow(who, t, r)
	if err != nil {
		return nil, err
	}
	today := Date(Day(s.now()))
	counts, err := s.requestCounts(ctx, f, func(day string) bool { return !spark || day == today })
	if err != nil {
		return nil, err
	}
	out := []Bucket{}
	for _, metric := range requestMetrics {
		for day := f.From; day <= f.To; day++ {
			if n := counts[[2]string{metric, Date(day)}]; n > 0 {
				out = append(out, Bucket{Metric: metric, Date: Date(day), Count: n})
			}
		}
	}
	return out, nil
}

// requestGauge is today's requests per metric, every metric listed.
func (s *Service) requestGauge(ctx context.Context, t *account.Tenant) ([]Measurement, error) {
	today := Day(s.now())
	counts, err := s.requestCounts(ctx, Filter{AccountID: t.ID, From: today, To: today}, func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	out := make([]Measurement, 0, len(requestMetrics))
	for _, metric := range requestMetrics {
		out = append(out, Measurement{Metric: metric, Count: counts[[2]string{metric, Date(today)}]})
	}
	return out, nil
}

// leaderboards are Keygen's leaderboards: the request log's fields, and
// licenses (by their signals).
var leaderboards = map[string]requestlog.Field{"ips": requestlog.ByIP, "urls": requestlog.ByRoute, "user-agents": requestlog.ByUserAgent, "licenses": ""}

// MaxLeaderboard is the most scores a leaderboard answers.
const MaxLeaderboard = 100

// Leaderboard ranks the range's requests by IP, method and route, or
// User-Agent, or licenses by their signals (Keygen's leaderboards/:name,
// limit 1 to MaxLeaderboard); an unknown name is not found.
func (s *Service) Leaderboard(ctx context.Context, who *access.Principal, t *account.Tenant, name string, r DateRange, limit int) ([]Score, error) {
	field, ok := leaderboards[name]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "NOT_FOUND", "The requested endpoint was not found (or you do not have permission to access it)")
	}
	if field == "" {
		return s.licenseLeaderboard(ctx, who, t, r, limit)
	}
	f, err := s.keygenWindow(who, t, r)
	if err != nil || s.requests == nil {
		return []Score{}, err
	}
	since, until := dayBounds(f.From, f.To)
	rows, err := s.requests.Top(ctx, t.ID, field, since, until, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Score, 0, len(rows))
	for _, row := range rows {
		out = append(out, Score{Discriminator: row.Value, Count: row.Count})
	}
	return out, nil
}

// licenseLeaderboard ranks licenses by their signals over the range
// (Keygen ranks them by requests).
func (s *Service) licenseLeaderboard(ctx context.Context, who *access.Principal, t *account.Tenant, r DateRange, limit int) ([]Score, error) {
	f, err := s.keygenWindow(who, t, r)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.DayCounts(ctx, f, DimLicense)
	if err != nil {
		return nil, err
	}
	sums := map[string]int64{}
	for _, row := range rows {
		sums[row.Value] += row.Count
	}
	out := make([]Score, 0, len(sums))
	for id, n := range sums {
		out = append(out, Score{Discriminator: id, Count: n})
	}
	slices.SortFunc(out, func(a, b Score) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Discriminator, b.Discriminator))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
