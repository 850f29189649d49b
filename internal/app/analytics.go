package app

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/license"
)

// openAnalytics builds the usage analytics: the buffer the hot paths record
// into (a discarding recorder when RELKEY_ANALYTICS is off) and the reads.
func (a *App) openAnalytics() {
	store := analytics.NewStore(a.DB)
	a.analyticsStore = store
	if a.Config.AnalyticsRetention <= 0 {
		a.Config.AnalyticsRetention = analytics.DefaultRetention
	}
	a.Analytics = analytics.NewService(store, a.Products, analyticsLicenses{a.Licenses}, a.Config.AnalyticsRetention, time.Now)
	if a.RequestLog != nil {
		a.Analytics.ReadRequestsFrom(a.RequestLog)
	}
	a.Usage = analytics.Discard{}
	if a.Config.Analytics {
		a.usageBuffer = analytics.NewBuffer(store, analytics.Options{Logger: a.Logger})
		a.Usage = a.usageBuffer
	}
	a.Feeds.RecordTo(a.Usage)
}

// pruneAnalytics is the hourly pass dropping what outlived its retention.
func (a *App) pruneAnalytics(ctx context.Context) error {
	_, err := a.analyticsStore.Prune(ctx, a.Config.AnalyticsRetention, time.Now())
	return err
}

// FlushAnalytics writes the buffered usage signals now (tests, shutdown).
func (a *App) FlushAnalytics(ctx context.Context) error {
	if a.usageBuffer == nil {
		return nil
	}
	return a.usageBuffer.Flush(ctx)
}

// analyticsLicenses shows the licenses leaderboard a license's limits.
type analyticsLicenses struct{ licenses *license.Service }

func (l analyticsLicenses) Info(ctx context.Context, who *access.Principal, t *account.Tenant, id string) (*analytics.LicenseInfo, error) {
	lic, pol, err := l.licenses.Visible(ctx, who, t, id)
	if err != nil {
		return nil, err
	}
	return &analytics.LicenseInfo{ID: lic.ID, Name: lic.Name, ProductID: lic.ProductID,
		MaxMachines: license.Effective(lic.MaxMachines, pol.MaxMachines), MaxUses: license.Effective(lic.MaxUses, pol.MaxUses)}, nil
}
