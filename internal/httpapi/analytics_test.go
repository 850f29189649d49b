package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/testenv"
)

func analyticsOn(c *config.Config) { c.Analytics = true }

// attributesOf is the attributes of an analytics read.
func attributesOf(t testing.TB, r *response) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	return attrs(t, r)
}

// valueCounts maps a read's totals by value.
func valueCounts(t testing.TB, attrs map[string]any, count string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, raw := range attrs["totals"].([]any) {
		row := raw.(map[string]any)
		out[row["value"].(string)] = row[count].(float64)
	}
	return out
}

// TestAnalyticsRecordsTheHotPaths: activations, validations and heartbeats
// become devices, versions, platforms and codes, read by staff and by the
// product, in relkey's, Nucleus's and Keygen's shapes.
func TestAnalyticsRecordsTheHotPaths(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, analyticsOn)
		b := e.seedBearers()
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(b.productID, `"name":"Floating","floating":true,"maxMachines":5,"authenticationStrategy":"MIXED"`)))
		created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
		licenseID, key := e.id(created), attrs(t, created)["key"].(string)
		asLicense := header{"Authorization", "License " + key}
		var machines []string
		for i := range 3 {
			r := e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, fmt.Sprintf(`"fingerprint":"fp%d","platform":"linux"`, i)),
				asLicense, header{"X-App-Version", "1.0.0"})
			machines = append(machines, e.id(r))
		}
		sdk := header{"User-Agent", "keygen/1.7 sdk/3.2.1 go/go1.24.1 darwin/arm64 MyApp/2.0.0"}
		for _, fp := range []string{"fp0", "fp9"} {
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"fingerprint":"`+fp+`"}}}`, sdk)
			if r.status != http.StatusOK {
				t.Fatalf("validate: %d %s", r.status, r.body)
			}
		}
		if r := e.do("POST", "/v1/accounts/acme/machines/"+machines[1]+"/actions/ping", "", asLicense); r.status != http.StatusOK {
			t.Fatalf("ping: %d %s", r.status, r.body)
		}
		if err := e.app.FlushAnalytics(context.Background()); err != nil {
			t.Fatal(err)
		}

		active := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/active-devices?window=week", ""))
		if active["total"] != 4.0 || active["realtime"] != 4.0 || active["exact"] != true {
			t.Fatalf("active devices = %v, want 4 (fp0-fp2 and the validated fp9)", active)
		}
		versions := valueCounts(t, attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/versions?product="+b.productID, "")), "devices")
		if versions["1.0.0"] != 3 || versions["2.0.0"] != 2 {
			t.Fatalf("versions = %v, want 1.0.0 on 3 (activations) and 2.0.0 on 2 (the SDK's validations)", versions)
		}
		platforms := valueCounts(t, attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/platforms", "")), "devices")
		arches := valueCounts(t, attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/arches", "")), "devices")
		if platforms["linux"] != 3 || platforms["darwin"] != 2 || arches["arm64"] != 2 {
			t.Fatalf("platforms = %v, arches = %v", platforms, arches)
		}
		codes := valueCounts(t, attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/validations", "")), "count")
		if codes["VALID"] != 1 || len(codes) != 2 {
			t.Fatalf("validation codes = %v", codes)
		}
		activations := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/activations", ""))
		if rows := activations["totals"].([]any); len(rows) != 1 || rows[0].(map[string]any)["count"] != 3.0 {
			t.Fatalf("activations = %v", activations)
		}
		top := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/licenses?sort=validations&limit=1", ""))["licenses"].([]any)
		if len(top) != 1 || top[0].(map[string]any)["id"] != licenseID || top[0].(map[string]any)["devices"] != 4.0 || top[0].(map[string]any)["maxMachines"] != 5.0 {
			t.Fatalf("top licenses = %v", top)
		}

		// The product reads its own; the read-only user everything; users
		// and licenses nothing; another product is not found.
		own := attributesOf(t, e.do("GET", "/v1/accounts/acme/analytics/active-devices", "", bearer(b.product)))
		if own["total"] != 4.0 {
			t.Fatalf("the product's own = %v", own)
		}
		otherID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		e.do("GET", "/v1/accounts/acme/analytics/versions?product="+otherID, "", bearer(b.product)).expectError(t, http.StatusNotFound, "NOT_FOUND", "parameter", "product")
		attributesOf(t, e.do("GET", "/v1/accounts/acme/analytics/validations", "", bearer(b.readOnly)))
		e.do("GET", "/v1/accounts/acme/analytics/validations", "", bearer(b.user)).expectError(t, http.StatusForbidden, "ACCESS_DENIED")
		e.do("GET", "/v1/accounts/acme/analytics/validations", "", asLicense).expectError(t, http.StatusForbidden, "ACCESS_DENIED")
		e.do("GET", "/v1/accounts/acme/analytics/validations", "").expectError(t, http.StatusUnauthorized, "TOKEN_MISSING")

		// Bad input is a 400 naming the parameter.
		e.admin("GET", "/v1/accounts/acme/analytics/active-devices?window=year", "").expectError(t, http.StatusBadRequest, "PARAMETERS_INVALID", "parameter", "window")
		e.admin("GET", "/v1/accounts/acme/analytics/versions?from=yesterday", "").expectError(t, http.StatusBadRequest, "PARAMETERS_INVALID", "parameter", "from")
		e.admin("GET", "/v1/accounts/acme/analytics/versions?from=2026-02-02&to=2026-02-01", "").expectError(t, http.StatusBadRequest, "PARAMETERS_INVALID", "parameter", "from")
		e.admin("GET", "/v1/accounts/acme/analytics/licenses?sort=name", "").expectError(t, http.StatusBadRequest, "PARAMETERS_INVALID", "parameter", "sort")

		// Nucleus's shapes.
		var realtime map[string]int
		if r := e.do("GET", "/v1/accounts/acme/engines/nucleus/app/"+b.productID+"/analytics/realtime", "", bearer(b.product)); r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &realtime) != nil || realtime["realtime"] != 4 {
			t.Fatalf("nucleus realtime: %d %s", r.status, r.body)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		var daily map[string]map[string]any
		now := time.Now().Unix()
		if r := e.admin("GET", fmt.Sprintf("/v1/accounts/acme/engines/nucleus/app/%s/analytics?start=%d&end=%d", b.productID, (now-86400)*1000, now*1000), ""); r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &daily) != nil {
			t.Fatalf("nucleus daily: %d %s", r.status, r.body)
		}
		if daily["activeUsers"][today] != 4.0 || daily["errors"][today] != 1.0 || daily["versions"][today].(map[string]any)["1.0.0"] != 3.0 || len(daily) != 14 {
			t.Fatalf("nucleus daily = %v", daily)
		}
		e.admin("GET", "/v1/accounts/acme/engines/nucleus/app/"+b.productID+"/analytics?start=x", "").expectError(t, http.StatusBadRequest, "PARAMETERS_INVALID", "parameter", "start")

		// Keygen's dashboard calls.
		keygen := func(path string, headers ...header) []any {
			t.Helper()
			if len(headers) == 0 {
				headers = []header{bearer(e.token)}
			}
			r := e.do("GET", "/-/accounts/acme/analytics/"+path, "", headers...)
			var doc struct{ Data []any }
			if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &doc) != nil {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			return doc.Data
		}
		if got := fmt.Sprint(keygen("sparks/validations?license=" + licenseID)); got != "[map[count:1 date:"+today+" metric:validations.fingerprint-scope-mismatch] map[count:1 date:"+today+" metric:validations.valid]]" {
			t.Errorf("sparks/validations = %s", got)
		}
		if got := fmt.Sprint(keygen("gauges/validations")); got != "[map[count:1 metric:validations.fingerprint-scope-mismatch] map[count:1 metric:validations.valid]]" {
			t.Errorf("gauges/validations = %s", got)
		}
		if got := fmt.Sprint(keygen("events/machine.*")); got != "[map[count:3 date:"+today+" metric:machine.created] map[count:1 date:"+today+" metric:machine.heartbeat.ping]]" {
			t.Errorf("events/machine.* = %s", got)
		}
		if got := fmt.Sprint(keygen("sparks/events/machine.*")); got != "[map[count:3 date:"+today+" metric:events.machine-created] map[count:1 date:"+today+" metric:events.machine-heartbeat-ping]]" {
			t.Errorf("sparks/events/machine.* = %s", got)
		}
		if got := fmt.Sprint(keygen("gauges/events/license.validation.*")); got != "[map[count:1 metric:events.license-validation-failed] map[count:1 metric:events.license-validation-succeeded]]" {
			t.Errorf("gauges/events/license.validation.* = %s", got)
		}
		if got := keygen("gauges/events/nothing.*"); len(got) != 0 {
			t.Errorf("gauges/events/nothing.* = %v", got)
		}
		if got := fmt.Sprint(keygen("leaderboards/licenses?limit=5")); got != "[map[count:6 discriminator:"+licenseID+"]]" {
			t.Errorf("leaderboards/licenses = %s", got)
		}
		e.admin("GET", "/-/accounts/acme/analytics/events/nothing.*", "").expectError(t, http.StatusBadRequest, "METRICS_INVALID", "parameter", "event")
		e.admin("GET", "/-/accounts/acme/analytics/sparks/validations?date[start]=2000-01-01&date[end]="+today, "").expectError(t, http.StatusBadRequest, "START_DATE_INVALID", "parameter", "date[start]")
		e.admin("GET", "/-/accounts/acme/analytics/leaderboards/invalid", "").expectError(t, http.StatusNotFound, "NOT_FOUND")
		e.do("GET", "/-/accounts/acme/analytics/gauges/validations", "", bearer(b.product)).expectError(t, http.StatusForbidden, "ACCESS_DENIED")
	})
}

// TestAnalyticsOffRecordsNothing: with RELKEY_ANALYTICS=false the reads
// answer, empty.
func TestAnalyticsOffRecordsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+b.license+`"}}`)
		if err := e.app.FlushAnalytics(context.Background()); err != nil {
			t.Fatal(err)
		}
		codes := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/validations", ""))
		if len(codes["totals"].([]any)) != 0 {
			t.Fatalf("validations with analytics off = %v", codes)
		}
	})
}

// BenchmarkValidateKeyAnalytics compares validate-key with usage analytics
// off and on in one run: two servers side by side, each op one request to
// each in alternating order, so that the load of a busy machine falls on
// both alike; serial (one client) and parallel (a client per processor:
// the CPU is saturated, so the aggregating goroutine's work shows as lost
// throughput). It reports the wall time per request of each, their ratio
// (on/off; the bound is 1.05), and the median of the ratios of blocks of
// 200 pairs, which an outburst of the machine's other load does not sway.
func BenchmarkValidateKeyAnalytics(b *testing.B) {
	var paths [2]*hotPath
	for i, on := range []bool{false, true} {
		e := newEnv(b, testenv.Backend{Name: "embedded"}, func(c *config.Config) { c.Analytics = on })
		paths[i] = newHotPath(b, e, 10)
		paths[i].activate(b, "base")
	}
	// Warm both up alike: caches, the setup's background writes, the
	// aggregating loop's maps.
	for range 500 {
		for _, p := range paths {
			p.validate(b, "base")
		}
	}
	const block = 200
	// pairs runs n pairs, the first starting with side first.
	pairs := func(b *testing.B, n, first int, total *[2]atomic.Int64, ratios chan<- float64) {
		var blockTotal [2]time.Duration
		for i := range n {
			for j := range 2 {
				side := (first + i + j) % 2
				start := time.Now()
				paths[side].validate(b, "base")
				took := time.Since(start)
				total[side].Add(int64(took))
				blockTotal[side] += took
			}
			if (i+1)%block == 0 {
				ratios <- float64(blockTotal[1]) / float64(blockTotal[0])
				blockTotal = [2]time.Duration{}
			}
		}
	}
	report := func(b *testing.B, total *[2]atomic.Int64, ratios []float64) {
		b.ReportMetric(float64(total[0].Load())/1e3/float64(b.N), "off-µs/req")
		b.ReportMetric(float64(total[1].Load())/1e3/float64(b.N), "on-µs/req")
		b.ReportMetric(float64(total[1].Load())/float64(total[0].Load()), "on/off")
		if len(ratios) > 0 {
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "median-on/off")
		}
	}
	collect := func(run func(ratios chan<- float64)) []float64 {
		ratios := make(chan float64)
		var out []float64
		done := make(chan struct{})
		go func() {
			for r := range ratios {
				out = append(out, r)
			}
			close(done)
		}()
		run(ratios)
		close(ratios)
		<-done
		return out
	}
	b.Run("serial", func(b *testing.B) {
		var total [2]atomic.Int64
		ratios := collect(func(ratios chan<- float64) { pairs(b, b.N, 0, &total, ratios) })
		report(b, &total, ratios)
	})
	b.Run("parallel", func(b *testing.B) {
		var total [2]atomic.Int64
		clients := runtime.GOMAXPROCS(0)
		ratios := collect(func(ratios chan<- float64) {
			var wg sync.WaitGroup
			// At any time about as many clients ask each server.
			for c := range clients {
				wg.Go(func() { pairs(b, b.N/clients, c, &total, ratios) })
			}
			wg.Wait()
		})
		// Time per request as a client waits for it; clients at once share
		// the processors, so throughput is clients / that.
		report(b, &total, ratios)
	})
}

// TestAnalyticsRecordsDistributionAndTheOtherPaths: feed requests, upgrade
// checks (with and without an upgrade), downloads, check-outs, process
// pings and deactivations each record their signal.
func TestAnalyticsRecordsDistributionAndTheOtherPaths(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, analyticsOn)
		files := func(v string) [][3]string { return [][3]string{{"app-" + v + ".deb", "linux", "amd64"}} }
		l := seedLine(t, e, "faynosync", files)
		asLicense := header{"Authorization", "License " + l.key}
		device := header{"X-Device-ID", "install-1"}
		r := l.get("/v1/accounts/acme/engines/faynosync/checkVersion?app_name=app&version=1.0.0&channel=stable&platform=linux&arch=amd64&owner=admin", []header{asLicense, device})
		if r.status != http.StatusOK || r.doc(t)["update_available"] != true {
			t.Fatalf("feed: %d %s", r.status, r.body)
		}
		l.follow(t, r.doc(t)["update_url_deb"].(string), asLicense, device)
		if r := e.do("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+l.productID, "", asLicense, device); r.status != http.StatusOK {
			t.Fatalf("upgrade: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/v1/accounts/acme/releases/1.1.0/upgrade?product="+l.productID, "", asLicense, device); r.status != http.StatusNotFound {
			t.Fatalf("no upgrade: %d %s", r.status, r.body)
		}
		machineID := e.id(e.do("POST", "/v1/accounts/acme/machines", machineBody(l.licenseID, `"fingerprint":"fp-1"`), asLicense))
		processID := e.id(e.do("POST", "/v1/accounts/acme/processes", processBody(machineID, "100"), asLicense))
		if r := e.do("POST", "/v1/accounts/acme/processes/"+processID+"/actions/ping", "", asLicense, device); r.status != http.StatusOK {
			t.Fatalf("process ping: %d %s", r.status, r.body)
		}
		for _, path := range []string{"licenses/" + l.licenseID, "machines/" + machineID} {
			if r := e.admin("POST", "/v1/accounts/acme/"+path+"/actions/check-out", `{"meta":{"ttl":null}}`); r.status != http.StatusOK {
				t.Fatalf("check-out %s: %d %s", path, r.status, r.body)
			}
		}
		if r := e.do("DELETE", "/v1/accounts/acme/machines/"+machineID, "", asLicense); r.status != http.StatusNoContent {
			t.Fatalf("deactivate: %d %s", r.status, r.body)
		}
		if err := e.app.FlushAnalytics(context.Background()); err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			Kind, Value string
			Count       int64
		}
		if err := e.app.DB.Gorm.Raw("SELECT kind, value, SUM(count) AS count FROM analytics_days WHERE dim = 'result' GROUP BY kind, value ORDER BY kind, value").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := "[{activation  1} {check-out license 1} {check-out machine 1} {deactivation  1} {download  1} {feed faynosync 1} {process-ping  1} {upgrade none 1} {upgrade upgrade 1}]"
		if got := fmt.Sprint(rows); got != want {
			t.Errorf("signals = %s\nwant      %s", got, want)
		}
		downloads := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/downloads?product="+l.productID, ""))
		if rel := downloads["releases"].(map[string]any)["totals"].([]any); len(rel) != 1 || rel[0].(map[string]any)["count"] != 1.0 {
			t.Errorf("downloads = %v", downloads)
		}
		// The device of the feed, the download, the upgrade checks and the
		// process ping is one (install-1); the machine's is its fingerprint.
		active := attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/active-devices?product="+l.productID, ""))
		if active["total"] != 2.0 {
			t.Errorf("active devices = %v, want 2", active)
		}
		versions := valueCounts(t, attributesOf(t, e.admin("GET", "/v1/accounts/acme/analytics/versions?product="+l.productID, "")), "devices")
		if versions["1.0.0"] != 1 || versions["1.1.0"] != 1 {
			t.Errorf("versions = %v", versions)
		}
	})
}
