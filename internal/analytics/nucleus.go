package analytics

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
)

// Nucleus's two documented analytics calls, answered for a product.

// NucleusRealtime is Nucleus's {"realtime": n}: the devices of the last
// five minutes.
func (s *Service) NucleusRealtime(ctx context.Context, who *access.Principal, t *account.Tenant, product string) (map[string]int64, error) {
	n, err := s.Realtime(ctx, who, t, product)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"realtime": n}, nil
}

// nucleusKeys are the members of Nucleus's daily document; those relkey
// has no signal for stay empty objects.
var nucleusKeys = []string{"quickData", "uniqueIps", "totalEvents", "usage", "newUsers", "activeUsers", "nonNewUsers",
	"hours", "platforms", "errors", "languages", "versions", "events", "countries"}

// NucleusDaily is Nucleus's daily document over the days from start to end
// in the offset (east of UTC; days of 00:00 to 24:00 there): activeUsers
// (devices), versions and platforms (devices per value), totalEvents
// (signals) and errors (failed validations) per day, and quickData's
// realtime and last-24-hours devices. UTC days come from the per-day
// rows; another offset's from the per-hour rows (an offset of a part of an
// hour starts its days at the hour before), except days older than
// HourlyKeep, which stay UTC days.
func (s *Service) NucleusDaily(ctx context.Context, who *access.Principal, t *account.Tenant, product string, start, end time.Time, offset time.Duration) (map[string]any, error) {
	f, err := s.filter(ctx, who, t, Query{Product: product, From: start.Add(offset), To: end.Add(offset)})
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, k := range nucleusKeys {
		out[k] = map[string]any{}
	}
	d := nucleusDays{active: out["activeUsers"].(map[string]any), events: map[string]int64{}, errors: map[string]int64{},
		values: map[string]map[string]any{DimVersion: out["versions"].(map[string]any), DimPlatform: out["platforms"].(map[string]any)}}
	hourly := f.To + 1 // the first day made of hours
	if offset != 0 {
		hourly = max(f.From, Day(s.now().Add(offset-HourlyKeep))+1)
	}
	if f.From < hourly {
		days := f
		days.To = min(f.To, hourly-1)
		if err := d.add(ctx, days, s.store.DayCounts, func(f Filter, dim string) ([]Sets, error) {
			byDay, _, err := s.store.DayDevicesIn(ctx, f, dim)
			return byDay, err
		}); err != nil {
			return nil, err
		}
	}
	if hourly <= f.To {
		seconds := int64(offset / time.Second)
		hours := Filter{AccountID: f.AccountID, ProductID: f.ProductID, From: floorDiv(hourly*86400-seconds, 3600), To: floorDiv((f.To+1)*86400-seconds, 3600) - 1}
		day := func(hour int64) int64 { return floorDiv(hour*3600+seconds, 86400) }
		counts := func(ctx context.Context, f Filter, _ string, _ ...Kind) ([]Counts, error) {
			rows, err := s.store.HourCounts(ctx, f)
			for i := range rows {
				rows[i].Unit = day(rows[i].Unit)
			}
			return rows, err
		}
		if err := d.add(ctx, hours, counts, func(f Filter, dim string) ([]Sets, error) {
			byDay, _, err := s.store.HourDevicesIn(ctx, f, dim, day)
			return byDay, err
		}); err != nil {
			return nil, err
		}
	}
	out["totalEvents"], out["errors"] = d.events, d.errors
	now := Minute(s.now())
	realtime, err := s.realtime(ctx, t, f.ProductID)
	if err != nil {
		return nil, err
	}
	last24h, err := s.store.MinuteDevicesIn(ctx, Filter{AccountID: t.ID, ProductID: f.ProductID, From: now - 24*60 + 1, To: now})
	if err != nil {
		return nil, err
	}
	out["quickData"] = map[string]int64{"realtime": realtime, "24h": last24h.Count()}
	return out, nil
}

// floorDiv is a / b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// nucleusDays gathers the daily document's members by date.
type nucleusDays struct {
	active         map[string]any
	values         map[string]map[string]any // by dimension, date and value
	events, errors map[string]int64
}

// add gathers f's days from counts (by day, kind and result) and sets
// (devices by day and value along a dimension).
func (d *nucleusDays) add(ctx context.Context, f Filter, counts func(ctx context.Context, f Filter, dim string, kinds ...Kind) ([]Counts, error),
	sets func(f Filter, dim string) ([]Sets, error)) error {
	all, err := sets(f, DimAll)
	if err != nil {
		return err
	}
	for _, day := range all {
		d.active[Date(day.Unit)] = day.Set.Count()
	}
	for dim, days := range d.values {
		byDay, err := sets(f, dim)
		if err != nil {
			return err
		}
		for _, v := range byDay {
			day, _ := days[Date(v.Unit)].(map[string]int64)
			if day == nil {
				day = map[string]int64{}
				days[Date(v.Unit)] = day
			}
			day[v.Value] = v.Set.Count()
		}
	}
	rows, err := counts(ctx, f, DimResult)
	if err != nil {
		return err
	}
	for _, c := range rows {
		d.events[Date(c.Unit)] += c.Count
		if c.Kind == Validation && c.Value != "VALID" {
			d.errors[Date(c.Unit)] += c.Count
		}
	}
	return nil
}
