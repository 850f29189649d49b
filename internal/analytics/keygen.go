package analytics

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
)

// Keygen's dashboard analytics (its priv analytics controllers), answered
// from the signals: the series and gauges of validations by code, the
// series of the events the signals stand for, and the licenses
// leaderboard. Only staff read them, as in Keygen.

// Bucket is a metric's count on a day (Keygen's series bucket).
type Bucket struct {
	Metric string `json:"metric"`
	Date   string `json:"date"`
	Count  int64  `json:"count"`
}

// Measurement is a metric's count today (Keygen's gauge).
type Measurement struct {
	Metric string `json:"metric"`
	Count  int64  `json:"count"`
}

// Score is a leaderboard's entry.
type Score struct {
	Discriminator string `json:"discriminator"`
	Count         int64  `json:"count"`
}

// DateRange is Keygen's date[start]..date[end]; zero values take its
// defaults (two weeks ago to today).
type DateRange struct{ Start, End time.Time }

// keygenWindow checks that who is staff and Keygen's bounds: start no
// earlier than a year ago, end no later than today.
func (s *Service) keygenWindow(who *access.Principal, t *account.Tenant, r DateRange) (Filter, error) {
	if err := s.staff(who); err != nil {
		return Filter{}, err
	}
	now := s.now()
	f := Filter{AccountID: t.ID, From: Day(now.AddDate(0, 0, -14)), To: Day(now)}
	if !r.Start.IsZero() {
		f.From = Day(r.Start)
	}
	if !r.End.IsZero() {
		f.To = Day(r.End)
	}
	if f.From < Day(now.AddDate(-1, 0, 0)) {
		return f, apperr.AtParameter(apperr.Invalid, "START_DATE_INVALID", "must be greater than or equal to "+now.AddDate(-1, 0, 0).Format(time.DateOnly), "date[start]")
	}
	if f.To > Day(now) {
		return f, apperr.AtParameter(apperr.Invalid, "END_DATE_INVALID", "must be less than or equal to "+now.Format(time.DateOnly), "date[end]")
	}
	return f, nil
}

func (s *Service) staff(who *access.Principal) error {
	if who == nil {
		return access.ErrTokenMissing
	}
	if !who.Staff() {
		return access.Denied("bearer lacks permission to perform action: account.analytics.read")
	}
	return who.Require("account.analytics.read")
}

// validationMetric is Keygen's metric name of a validation code.
func validationMetric(code string) string {
	return "validations." + strings.ReplaceAll(strings.ToLower(code), "_", "-")
}

// validationCounts are the validations of f by code, by day; licenseID
// narrows them to a license.
func (s *Service) validationCounts(ctx context.Context, f Filter, licenseID string) ([]Counts, error) {
	if licenseID == "" {
		return s.store.DayCounts(ctx, f, DimResult, Validation)
	}
	rows, err := s.store.DayCounts(ctx, f, DimLicenseResult, Validation)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, r := range rows {
		if code, ok := strings.CutPrefix(r.Value, licenseID+"/"); ok {
			r.Value = code
			out = append(out, r)
		}
	}
	return out, nil
}

// ValidationSparks are the validations per code and day (Keygen's
// sparks/validations).
func (s *Service) ValidationSparks(ctx context.Context, who *access.Principal, t *account.Tenant, r DateRange, licenseID string) ([]Bucket, error) {
	f, err := s.keygenWindow(who, t, r)
	if err != nil {
		return nil, err
	}
	rows, err := s.validationCounts(ctx, f, licenseID)
	if err != nil {
		return nil, err
	}
	out := []Bucket{}
	for _, row := range rows {
		if row.Count > 0 {
			out = append(out, Bucket{Metric: validationMetric(row.Value), Date: Date(row.Unit), Count: row.Count})
		}
	}
	sortBuckets(out)
	return out, nil
}

func sortBuckets(b []Bucket) {
	slices.SortFunc(b, func(x, y Bucket) int {
		return cmp.Or(strings.Compare(x.Metric, y.Metric), strings.Compare(x.Date, y.Date))
	})
}

// ValidationGauge is today's validations per code (Keygen's
// gauges/validations).
func (s *Service) ValidationGauge(ctx context.Context, who *access.Principal, t *account.Tenant, licenseID string) ([]Measurement, error) {
	if err := s.staff(who); err != nil {
		return nil, err
	}
	today := Day(s.now())
	rows, err := s.validationCounts(ctx, Filter{AccountID: t.ID, From: today, To: today}, licenseID)
	if err != nil {
		return nil, err
	}
	out := []Measurement{}
	for _, row := range rows {
		out = append(out, Measurement{Metric: validationMetric(row.Value), Count: row.Count})
	}
	slices.SortFunc(out, func(x, y Measurement) int { return strings.Compare(x.Metric, y.Metric) })
	return out, nil
}

// EventNames are the Keygen events the signals stand for.
var EventNames = []string{"artifact.downloaded", "license.checked-out", "license.validation.failed", "license.validation.succeeded",
	"machine.checked-out", "machine.created", "machine.deleted", "machine.heartbeat.ping", "process.heartbeat.ping", "release.upgraded"}

// eventOf is the Keygen event a signal's kind and result stand for.
func eventOf(k Kind, result string) string {
	switch k {
	case Validation:
		if result == "VALID" {
			return "license.validation.succeeded"
		}
		return "license.validation.failed"
	case Activation:
		return "machine.created"
	case Deactivation:
		return "machine.deleted"
	case Heartbeat:
		return "machine.heartbeat.ping"
	case ProcessPing:
		return "process.heartbeat.ping"
	case UpgradeCheck:
		return "release.upgraded"
	case Download:
		return "artifact.downloaded"
	case CheckOut:
		return result + ".checked-out"
	}
	return ""
}

// eventPattern matches event names as Keygen's by_pattern does: "*" for
// any run of characters.
func eventPattern(pattern string) (*regexp.Regexp, error) {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.Compile("^" + strings.Join(parts, ".*") + "$")
}

// eventCounts are f's events matching pattern that the signals stand for,
// by name and date; a pattern no such event matches is invalid.
func (s *Service) eventCounts(ctx context.Context, f Filter, pattern string) (map[[2]string]int64, error) {
	re, err := eventPattern(pattern)
	if err != nil || !slices.ContainsFunc(EventNames, re.MatchString) {
		return nil, apperr.AtParameter(apperr.Invalid, "METRICS_INVALID", "is invalid", "event")
	}
	rows, err := s.store.DayCounts(ctx, f, DimResult)
	if err != nil {
		return nil, err
	}
	sums := map[[2]string]int64{}
	for _, row := range rows {
		if name := eventOf(row.Kind, row.Value); name != "" && re.MatchString(name) {
			sums[[2]string{name, Date(row.Unit)}] += row.Count
		}
	}
	return sums, nil
}

// EventSeries counts, per day, the events matching pattern that the
// signals stand for (Keygen's events/:event, metric the event's name;
// sparks/events/:event with sparks, metric "events.<name parameterized>").
func (s *Service) EventSeries(ctx context.Context, who *access.Principal, t *account.Tenant, pattern string, r DateRange, sparks bool) ([]Bucket, error) {
	f, err := s.keygenWindow(who, t, r)
	if err != nil {
		return nil, err
	}
	sums, err := s.eventCounts(ctx, f, pattern)
	if err != nil {
		return nil, err
	}
	out := []Bucket{}
	for k, n := range sums {
		metric := k[0]
		if sparks {
			metric = eventMetric(metric)
		}
		out = append(out, Bucket{Metric: metric, Date: k[1], Count: n})
	}
	sortBuckets(out)
	return out, nil
}

// eventMetric is Keygen's metric of an event in its sparks and gauges:
// "events." and the name with its dots as dashes.
func eventMetric(name string) string { return "events." + strings.ReplaceAll(name, ".", "-") }
