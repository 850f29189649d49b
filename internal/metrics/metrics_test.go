package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// api is an echo server with the middleware outermost and a few routes.
func api(m *Metrics) *echo.Echo {
	e := echo.New()
	e.Use(m.Observe)
	e.GET("/v1/things/:id", func(c echo.Context) error {
		if c.Param("id") == "missing" {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		return c.String(http.StatusOK, "thing")
	})
	e.POST("/v1/things", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
	return e
}

func request(e *echo.Echo, method, target string) int {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Code
}

func TestRequestsAreCountedByRoutePatternMethodAndStatus(t *testing.T) {
	m := New("v1.2.3")
	e := api(m)
	for _, r := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/v1/things/a", 200},
		{"GET", "/v1/things/b", 200},
		{"GET", "/v1/things/missing", 404},
		{"POST", "/v1/things", 201},
		{"GET", "/nowhere/at/all", 404},
		{"BREW", "/v1/things", 405},
		{"DELETE", "/v1/things", 405},
	} {
		if got := request(e, r.method, r.target); got != r.status {
			t.Fatalf("%s %s answered %d, want %d", r.method, r.target, got, r.status)
		}
	}
	counts := []struct {
		route, method, status string
		want                  float64
	}{
		{"/v1/things/:id", "GET", "200", 2},
		{"/v1/things/:id", "GET", "404", 1},
		{"/v1/things", "POST", "201", 1},
		{Unmatched, "GET", "404", 1},
		// made-up methods share one label value
		{"/v1/things", "OTHER", "405", 1},
		{"/v1/things", "DELETE", "405", 1},
	}
	for _, c := range counts {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, c.method, c.status)); got != c.want {
			t.Errorf("requests{route=%q,method=%q,status=%q} = %v, want %v", c.route, c.method, c.status, got, c.want)
		}
	}
	// The raw path never becomes a label; every series above is all there is.
	if n := testutil.CollectAndCount(m.requests); n != len(counts) {
		t.Errorf("%d request series, want %d", n, len(counts))
	}
	if n := testutil.CollectAndCount(m.durations); n != 5 {
		t.Errorf("%d duration series (one per route and method), want 5", n)
	}
	body := scrape(t, m)
	for _, line := range []string{
		`relkey_http_request_duration_seconds_count{method="GET",route="/v1/things/:id"} 3`,
		`relkey_http_requests_total{method="GET",route="/v1/things/:id",status="404"} 1`,
		`relkey_build_info{go_version="go`,
		`version="v1.2.3"} 1`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("scrape has no %q", line)
		}
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape answered %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// TestObservingASeenRequestDoesNotAllocate: the hot path resolves its series
// once per route, method and status.
func TestObservingASeenRequestDoesNotAllocate(t *testing.T) {
	m := New("test")
	e := echo.New()
	c := e.NewContext(httptest.NewRequest("GET", "/v1/things/a", nil), httptest.NewRecorder())
	c.SetPath("/v1/things/:id")
	c.Response().WriteHeader(http.StatusOK)
	handler := m.Observe(func(c echo.Context) error { return nil })
	handler(c)
	if allocs := testing.AllocsPerRun(1000, func() { handler(c) }); allocs != 0 {
		t.Fatalf("an observed request allocates %v times", allocs)
	}
	// the first request, AllocsPerRun's warm-up run and its 1000 runs
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/v1/things/:id", "GET", "200")); got != 1002 {
		t.Fatalf("counted %v requests, want 1002", got)
	}
}

func TestPassesRecordFailuresAndLastSuccess(t *testing.T) {
	m := New("test")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	record := m.Pass("settle_uploads")
	// Known from the start: a pass that never succeeds shows as 0.
	if got := testutil.ToFloat64(m.passLastSuccess.WithLabelValues("settle_uploads")); got != 0 {
		t.Fatalf("last success before any pass = %v", got)
	}
	if !strings.Contains(scrape(t, m), `relkey_background_pass_failures_total{pass="settle_uploads"} 0`) {
		t.Fatal("failures series is not published before the first pass")
	}
	record(20*time.Millisecond, nil)
	now = now.Add(time.Minute)
	record(30*time.Millisecond, errors.New("database away"))
	if got := testutil.ToFloat64(m.passLastSuccess.WithLabelValues("settle_uploads")); got != float64(now.Add(-time.Minute).Unix()) {
		t.Fatalf("last success = %v, want the first pass's time", got)
	}
	if got := testutil.ToFloat64(m.passFailures.WithLabelValues("settle_uploads")); got != 1 {
		t.Fatalf("failures = %v, want 1", got)
	}
	if !strings.Contains(scrape(t, m), `relkey_background_pass_duration_seconds_count{pass="settle_uploads"} 2`) {
		t.Fatal("both passes are not in the duration histogram")
	}
}

func TestRefusalsAndStatements(t *testing.T) {
	m := New("test")
	m.Refused("password")
	m.Refused("password")
	m.Refused("reset-password")
	if got := testutil.ToFloat64(m.refusals.WithLabelValues("password")); got != 2 {
		t.Fatalf("password refusals = %v", got)
	}
	query := m.Statement("query")
	query(3 * time.Millisecond)
	query(time.Millisecond)
	m.Statement("create")(2 * time.Millisecond)
	body := scrape(t, m)
	for _, line := range []string{
		`relkey_database_statement_duration_seconds_count{kind="query"} 2`,
		`relkey_database_statement_duration_seconds_sum{kind="query"} 0.004`,
		`relkey_database_statement_duration_seconds_count{kind="create"} 1`,
		`relkey_rate_limit_refusals_total{limit="reset-password"} 1`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("scrape has no %q", line)
		}
	}
}

// usageBuffer is a usage analytics buffer at a given load.
type usageBuffer struct {
	dropped int64
	depth   int
}

func (b *usageBuffer) Dropped() int64 { return b.dropped }
func (b *usageBuffer) Depth() int     { return b.depth }

// TestUsageBufferIsReadAtEachScrape: the shed counter and the depth gauge
// follow the buffer between scrapes.
func TestUsageBufferIsReadAtEachScrape(t *testing.T) {
	m := New("test")
	b := &usageBuffer{}
	m.WatchUsage(b)
	for _, load := range []usageBuffer{{0, 0}, {dropped: 3, depth: 65536}, {dropped: 10, depth: 12}} {
		*b = load
		body := scrape(t, m)
		for _, line := range []string{
			"relkey_analytics_signals_shed_total " + strconv.FormatInt(load.dropped, 10),
			"relkey_analytics_buffer_depth " + strconv.Itoa(load.depth),
		} {
			if !strings.Contains(body, line+"\n") {
				t.Errorf("scrape has no %q", line)
			}
		}
	}
}

// TestQueuesAreReadAtEachScrape: each batch writer's queue has its drops
// and depth under its own label, read at each scrape.
func TestQueuesAreReadAtEachScrape(t *testing.T) {
	m := New("test")
	events, touches := &usageBuffer{}, &usageBuffer{}
	m.WatchQueue("events", events)
	m.WatchQueue("license_touches", touches)
	for _, load := range []struct{ events, touches usageBuffer }{
		{},
		{usageBuffer{dropped: 7, depth: 4096}, usageBuffer{depth: 3}},
		{usageBuffer{dropped: 9}, usageBuffer{dropped: 1, depth: 12}},
	} {
		*events, *touches = load.events, load.touches
		body := scrape(t, m)
		for _, line := range []string{
			`relkey_queue_dropped_total{queue="events"} ` + strconv.FormatInt(load.events.dropped, 10),
			`relkey_queue_depth{queue="events"} ` + strconv.Itoa(load.events.depth),
			`relkey_queue_dropped_total{queue="license_touches"} ` + strconv.FormatInt(load.touches.dropped, 10),
			`relkey_queue_depth{queue="license_touches"} ` + strconv.Itoa(load.touches.depth),
		} {
			if !strings.Contains(body, line+"\n") {
				t.Errorf("scrape has no %q", line)
			}
		}
	}
}

// TestConcurrentFirstSightingsCountExactly: routes and statuses first seen
// by many requests at once are resolved once and lose no count.
func TestConcurrentFirstSightingsCountExactly(t *testing.T) {
	m := New("test")
	routes := []string{"/a", "/b", "/c", "/d"}
	statuses := []int{200, 201, 404, 429, 503}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, r := range routes {
				for _, s := range statuses {
					m.route("GET", r).observe(s, time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	for _, r := range routes {
		for _, s := range statuses {
			if got := testutil.ToFloat64(m.requests.WithLabelValues(r, "GET", strconv.Itoa(s))); got != 8 {
				t.Errorf("%s %d counted %v times, want 8", r, s, got)
			}
		}
	}
}

// TestREADMEListsEverySeries keeps the README's series table in step with
// the series relkey defines.
func TestREADMEListsEverySeries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := New("test")
	m.Pass("a_pass")
	m.Refused("a_limit")
	m.Statement("query")(time.Millisecond)
	m.route("GET", "/").observe(200, time.Millisecond)
	m.WatchUsage(&usageBuffer{})
	m.WatchQueue("events", &usageBuffer{})
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, f := range families {
		if name := f.GetName(); strings.HasPrefix(name, Namespace+"_") {
			listed++
			if !strings.Contains(string(readme), "| `"+name+"` |") {
				t.Errorf("README.md has no row for %s", name)
			}
		}
	}
	if listed != 12 {
		t.Errorf("%d relkey series gathered, want all 12 of them", listed)
	}
}
