package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/requestlog"
	"github.com/relkey/relkey/internal/testenv"
)

// TestWireFormatsKeygenAnalytics: Keygen's dashboard calls over a scripted
// request log (days before today, so that the test's own requests, logged
// today, stay out), licenses expiring on known days and known holdings,
// recorded as golden files, with Keygen's parameter errors.
func TestWireFormatsKeygenAnalytics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, analyticsOn, func(c *config.Config) { c.RequestLog = true })
		now := time.Now().UTC()
		today := now.Truncate(24 * time.Hour)
		day := func(n int) time.Time { return today.AddDate(0, 0, n) }
		replace := map[string]string{}
		for n := -40; n <= 40; n++ {
			replace[day(n).Format(time.DateOnly)] = fmt.Sprintf("<today%+d>", n)
		}
		var entries []requestlog.Entry
		for _, r := range []struct {
			ago                     int
			method, path, ip, agent string
			status, times           int
		}{
			{5, "POST", "/v1/accounts/:account/licenses/actions/validate-key", "192.0.2.1", "keygen/1.7 sdk/3.2.1", 200, 3},
			{5, "POST", "/v1/accounts/:account/machines", "192.0.2.1", "keygen/1.7 sdk/3.2.1", 201, 1},
			{5, "GET", "/v1/accounts/:account/licenses/:id", "198.51.100.7", "curl/8.1.2", 404, 2},
			{4, "GET", "/v1/accounts/:account/licenses", "198.51.100.7", "curl/8.1.2", 200, 2},
			{4, "GET", "/v1/accounts/:account/releases/:id/upgrade", "203.0.113.9", "", 304, 1},
			{4, "POST", "/v1/accounts/:account/licenses/actions/validate-key", "203.0.113.9", "Mozilla/5.0", 503, 1},
			{4, "POST", "/v1/accounts/:account/licenses/actions/validate-key", "203.0.113.9", "Mozilla/5.0", 418, 1},
			{2, "DELETE", "/v1/accounts/:account/machines/:id", "", "keygen/1.7 sdk/3.2.1", 204, 1},
		} {
			for i := range r.times {
				entries = append(entries, requestlog.Entry{ID: id.New(), AccountID: e.acct.Account.ID, Method: r.method, Path: r.path,
					Status: r.status, IP: r.ip, UserAgent: r.agent, RequestID: id.New(), CreatedAt: day(-r.ago).Add(time.Duration(i+1) * time.Hour)})
			}
		}
		if err := e.app.DB.Gorm.Create(&entries).Error; err != nil {
			t.Fatal(err)
		}

		// Holdings: two licenses (one expiring twice on a day, …), a
		// machine, and users of role user (the admin is not one).
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Std"`)))
		sunday := day(7 - int(today.Weekday()))
		var licenses []string
		for _, expires := range []int{0, 4, 4, 9, 14, 400} {
			licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
			if err := e.app.DB.Gorm.Exec("UPDATE licenses SET expiry = ? WHERE id = ?", sunday.AddDate(0, 0, expires).Add(13*time.Hour), licenseID).Error; err != nil {
				t.Fatal(err)
			}
			licenses = append(licenses, licenseID)
		}
		e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenses[0], `"fingerprint":"fp-1"`)))
		var users []string
		for i := range 2 {
			users = append(users, e.id(e.admin("POST", "/v1/accounts/acme/users", fmt.Sprintf(`{"data":{"type":"users","attributes":{"email":"u%d@acme.test"}}}`, i))))
		}
		// Active licensed users (Keygen's alus): the licenses active in 90
		// days without a user (the sixth), and the users of the others (u0
		// owning two, u1 holding the first), not the license of the banned
		// owner (the fifth), nor the one untouched for 100 days (the fourth).
		for _, change := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE licenses SET owner_id = ? WHERE id IN (?, ?)", []any{users[0], licenses[1], licenses[2]}},
			{"UPDATE licenses SET created_at = ? WHERE id = ?", []any{now.AddDate(0, 0, -100), licenses[3]}},
			{"UPDATE licenses SET owner_id = ? WHERE id = ?", []any{users[1], licenses[4]}},
			{"UPDATE users SET banned_at = ? WHERE id = ?", []any{now, users[1]}},
			{"INSERT INTO license_users (id, account_id, license_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
				[]any{id.New(), e.acct.Account.ID, licenses[0], users[1], now, now}},
		} {
			if err := e.app.DB.Gorm.Exec(change.sql, change.args...).Error; err != nil {
				t.Fatal(err)
			}
		}

		base := "/-/accounts/acme/analytics/"
		window := fmt.Sprintf("date[start]=%s&date[end]=%s", day(-6).Format(time.DateOnly), day(-1).Format(time.DateOnly))
		for name, path := range map[string]string{
			"keygen-analytics-usage":              "usage?" + window,
			"keygen-analytics-sparks-requests":    "sparks/requests?" + window,
			"keygen-analytics-leaderboard-ips":    "leaderboards/ips?" + window,
			"keygen-analytics-leaderboard-urls":   "leaderboards/urls?limit=3&" + window,
			"keygen-analytics-leaderboard-agents": "leaderboards/user-agents?" + window,
			"keygen-analytics-gauge-licenses":     "gauges/licenses",
			"keygen-analytics-gauge-machines":     "gauges/machines",
			"keygen-analytics-gauge-users":        "gauges/users",
			"keygen-analytics-gauge-alus":         "gauges/alus",
		} {
			golden(t, name, 200, e.admin("GET", base+path, ""), replace)
		}
		// The heatmap's grid starts on a Sunday: its dates are named from it.
		fromSunday := map[string]string{}
		for n := range 21 {
			fromSunday[sunday.AddDate(0, 0, n).Format(time.DateOnly)] = fmt.Sprintf("<sunday+%d>", n)
		}
		golden(t, "keygen-analytics-heatmap-expirations", 200, e.admin("GET", base+"heatmaps/expirations?date[start]="+sunday.Format(time.DateOnly)+
			"&date[end]="+sunday.AddDate(0, 0, 20).Format(time.DateOnly), ""), fromSunday)

		// Nightly sparks: an earlier day's snapshot (as the hourly pass
		// wrote it then), today's pass, and today's count from the gauge.
		if err := e.app.DB.Gorm.Exec("INSERT INTO analytics_days (account_id, product_id, day, kind, dim, value, count) VALUES (?, '', ?, 'inventory', 'inventory', 'licenses', 4)",
			e.acct.Account.ID, analytics.Day(day(-3))).Error; err != nil {
			t.Fatal(err)
		}
		if n, err := e.app.Analytics.SnapshotInventory(context.Background()); err != nil || n < 4 {
			t.Fatalf("inventory snapshot: %d rows, %v", n, err)
		}
		var snapshot []struct {
			Value string
			Count int64
		}
		e.app.DB.Gorm.Raw("SELECT value, count FROM analytics_days WHERE account_id = ? AND kind = 'inventory' AND day = ? ORDER BY value", e.acct.Account.ID, analytics.Day(today)).Scan(&snapshot)
		if got := fmt.Sprint(snapshot); got != "[{alus 3} {licenses 6} {machines 1} {users 2}]" {
			t.Errorf("today's inventory = %s", got)
		}
		golden(t, "keygen-analytics-sparks-licenses", 200, e.admin("GET", base+"sparks/licenses?date[start]="+day(-6).Format(time.DateOnly)+"&date[end]="+day(0).Format(time.DateOnly), ""), replace)
		e.admin("GET", base+"sparks/invalid", "").expectError(t, http.StatusBadRequest, "METRICS_INVALID", "parameter", "metrics")

		// Today's requests gauge lists every class, counted from the log
		// as the API writes it (off the request path).
		eventually(t, "today's requests in the gauge", func() bool {
			var doc struct{ Data []map[string]any }
			r := e.admin("GET", base+"gauges/requests", "")
			if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &doc) != nil || len(doc.Data) != 4 {
				t.Fatalf("gauges/requests: %d %s", r.status, r.body)
			}
			return doc.Data[0]["metric"] == "requests.2xx" && doc.Data[0]["count"].(float64) > 0 && doc.Data[3]["metric"] == "requests.5xx"
		})

		// Keygen's parameter errors.
		for _, c := range []struct {
			path, code, parameter, detail string
			status                        int
		}{
			{"sparks/requests?date[start]=2000-01-01&date[end]=" + day(0).Format(time.DateOnly), "START_DATE_INVALID", "date[start]",
				"must be greater than or equal to " + now.AddDate(-1, 0, 0).Format(time.DateOnly), 400},
			{"usage?date[start]=" + day(-1).Format(time.DateOnly) + "&date[end]=" + day(1).Format(time.DateOnly), "END_DATE_INVALID", "date[end]",
				"must be less than or equal to " + day(0).Format(time.DateOnly), 400},
			{"leaderboards/ips?date[start]=" + day(-1).Format(time.DateOnly), "PARAMETER_MISSING", "date[end]", "is missing", 400},
			{"leaderboards/ips?limit=200", "LIMIT_INVALID", "limit", "must be less than or equal to 100", 400},
			{"leaderboards/ips?limit=ten", "PARAMETERS_INVALID", "limit", "must be an integer", 400},
			{"heatmaps/expirations?date[start]=" + day(-40).Format(time.DateOnly) + "&date[end]=" + day(0).Format(time.DateOnly), "START_DATE_INVALID", "date[start]",
				"must be greater than or equal to " + now.AddDate(0, -1, 0).Format(time.DateOnly), 400},
			{"heatmaps/expirations?date[start]=" + day(0).Format(time.DateOnly) + "&date[end]=2099-01-01", "END_DATE_INVALID", "date[end]",
				"must be less than or equal to " + now.AddDate(1, 0, 0).Format(time.DateOnly), 400},
		} {
			r := e.admin("GET", base+c.path, "")
			r.expectError(t, c.status, c.code, "parameter", c.parameter)
			if got := r.firstError(t)["detail"]; got != c.detail {
				t.Errorf("%s: detail %q, want %q", c.path, got, c.detail)
			}
		}
		for _, path := range []string{"leaderboards/invalid", "heatmaps/invalid", "gauges/invalid"} {
			e.admin("GET", base+path, "").expectError(t, http.StatusNotFound, "NOT_FOUND")
		}
		b := e.seedBearers()
		for _, path := range []string{"leaderboards/ips", "usage", "sparks/requests", "gauges/machines", "heatmaps/expirations"} {
			e.do("GET", base+path, "", bearer(b.product)).expectError(t, http.StatusForbidden, "ACCESS_DENIED")
		}
	})
}
