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
// (UTC days): activeUsers (devices), versions and platforms (devices per
// value), totalEvents (signals), errors (failed validations) per day, and
// quickData's realtime and last-24-hours devices.
func (s *Service) NucleusDaily(ctx context.Context, who *access.Principal, t *account.Tenant, product string, start, end time.Time) (map[string]any, error) {
	f, err := s.filter(ctx, who, t, Query{Product: product, From: start, To: end})
	if err != nil {
		return nil, err
	}
	productID := f.ProductID
	out := map[string]any{}
	for _, k := range nucleusKeys {
		out[k] = map[string]any{}
	}
	byDay, _, err := s.store.DayDevicesIn(ctx, f, DimAll)
	if err != nil {
		return nil, err
	}
	active := out["activeUsers"].(map[string]any)
	for _, d := range byDay {
		active[Date(d.Unit)] = d.Set.Count()
	}
	for dim, key := range map[string]string{DimVersion: "versions", DimPlatform: "platforms"} {
		byDay, _, err := s.store.DayDevicesIn(ctx, f, dim)
		if err != nil {
			return nil, err
		}
		days := out[key].(map[string]any)
		for _, d := range byDay {
			day, _ := days[Date(d.Unit)].(map[string]int64)
			if day == nil {
				day = map[string]int64{}
				days[Date(d.Unit)] = day
			}
			day[d.Value] = d.Set.Count()
		}
	}
	counts, err := s.store.DayCounts(ctx, f, DimResult)
	if err != nil {
		return nil, err
	}
	events, errs := map[string]int64{}, map[string]int64{}
	for _, c := range counts {
		events[Date(c.Unit)] += c.Count
		if c.Kind == Validation && c.Value != "VALID" {
			errs[Date(c.Unit)] += c.Count
		}
	}
	out["totalEvents"], out["errors"] = events, errs
	now := Minute(s.now())
	realtime, err := s.realtime(ctx, t, productID)
	if err != nil {
		return nil, err
	}
	day, err := s.store.MinuteDevicesIn(ctx, Filter{AccountID: t.ID, ProductID: productID, From: now - 24*60 + 1, To: now})
	if err != nil {
		return nil, err
	}
	out["quickData"] = map[string]int64{"realtime": realtime, "24h": day.Count()}
	return out, nil
}
