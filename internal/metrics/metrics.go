// Package metrics is relkey's Prometheus instrumentation: API requests by
// route pattern, method and status, the database pool and statement
// latency, background passes, rate-limit refusals, the usage analytics
// buffer and build info, served in
// the Prometheus text format on a listener of its own
// (RELKEY_METRICS_LISTEN). Nothing is registered globally: each Metrics has
// its own registry.
package metrics

import (
	"database/sql"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every series relkey defines itself.
const Namespace = "relkey"

// Metrics holds relkey's series and the registry that serves them.
type Metrics struct {
	registry *prometheus.Registry
	now      func() time.Time

	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	// routes maps a method and route pattern to its resolved series; it is
	// replaced whole when a route is first seen, so lookups take no lock.
	routes   atomic.Pointer[map[routeKey]*route]
	routesMu sync.Mutex

	statements *prometheus.HistogramVec
	refusals   *prometheus.CounterVec

	passDurations   *prometheus.HistogramVec
	passFailures    *prometheus.CounterVec
	passLastSuccess *prometheus.GaugeVec
}

// latencyBuckets (seconds) span a cached read to a request timeout.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// statementBuckets (seconds) span an indexed lookup to a lock wait.
var statementBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New registers relkey's series, the Go runtime's and the process's.
// version is the build's, published as relkey_build_info.
func New(version string) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), now: time.Now}
	m.requests = counterVec("http", "requests_total",
		"API requests answered, by route pattern, method and status.", "route", "method", "status")
	m.durations = histogramVec("http", "request_duration_seconds",
		"Time to answer API requests, by route pattern and method.", latencyBuckets, "route", "method")
	m.statements = histogramVec("database", "statement_duration_seconds",
		"Time of database statements, by kind (create, query, update, delete, row, raw).", statementBuckets, "kind")
	m.refusals = counterVec("rate_limit", "refusals_total",
		"Requests refused with 429 by a rate limit, by limit.", "limit")
	m.passDurations = histogramVec("background", "pass_duration_seconds",
		"Time of background passes, by pass; the count is the passes run.", latencyBuckets, "pass")
	m.passFailures = counterVec("background", "pass_failures_total",
		"Background passes that ended in an error, by pass.", "pass")
	m.passLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "background", Name: "pass_last_success_timestamp_seconds",
		Help: "Unix time the pass last succeeded; 0 until it has.",
	}, []string{"pass"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "go_version": runtime.Version()},
	})
	build.Set(1)
	m.registry.MustRegister(m.requests, m.durations, m.statements, m.refusals,
		m.passDurations, m.passFailures, m.passLastSuccess, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.routes.Store(&map[routeKey]*route{})
	return m
}

func counterVec(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help}, labels)
}

func histogramVec(subsystem, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help, Buckets: buckets}, labels)
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
}

// WatchPool publishes the connection pool's statistics (go_sql_*), labelled
// db_name=engine.
func (m *Metrics) WatchPool(db *sql.DB, engine string) {
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, engine))
}

// Statement returns the recorder of one kind of database statement's
// durations, resolved once so that recording takes no lookup.
func (m *Metrics) Statement(kind string) func(time.Duration) {
	observer := m.statements.WithLabelValues(kind)
	return func(took time.Duration) { observer.Observe(took.Seconds()) }
}

// Queue is what a queue in front of a background writer tells of its load
// (*batch.Queue, the usage analytics buffer).
type Queue interface {
	// Dropped is how many values a full queue dropped since the start.
	Dropped() int64
	// Depth is how many values are queued, not yet taken by the writer.
	Depth() int
}

// WatchUsage publishes the usage analytics buffer's shed signals
// (relkey_analytics_signals_shed_total) and queue depth
// (relkey_analytics_buffer_depth), read at each scrape.
func (m *Metrics) WatchUsage(b Queue) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "analytics", Name: "signals_shed_total",
			Help: "Usage signals a full analytics queue shed."}, func() float64 { return float64(b.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "analytics", Name: "buffer_depth",
			Help: "Usage signals queued, not yet aggregated."}, func() float64 { return float64(b.Depth()) }))
}

// WatchQueue publishes the drops (relkey_queue_dropped_total) and depth
// (relkey_queue_depth) of the batch writer's queue called name, read at
// each scrape.
func (m *Metrics) WatchQueue(name string, q Queue) {
	labels := prometheus.Labels{"queue": name}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "queue_dropped_total", ConstLabels: labels,
			Help: "Values a full batch writer's queue dropped."}, func() float64 { return float64(q.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "queue_depth", ConstLabels: labels,
			Help: "Values queued for a batch writer, not yet taken."}, func() float64 { return float64(q.Depth()) }))
}

// Refused counts a request refused by the rate limit called limit.
func (m *Metrics) Refused(limit string) { m.refusals.WithLabelValues(limit).Inc() }

// Pass returns the recorder of the background pass called name: call it
// after every pass with its duration and its error. The pass's series exist,
// at zero, from this call on, so a pass that never succeeds shows.
func (m *Metrics) Pass(name string) func(took time.Duration, err error) {
	duration := m.passDurations.WithLabelValues(name)
	failures := m.passFailures.WithLabelValues(name)
	lastSuccess := m.passLastSuccess.WithLabelValues(name)
	return func(took time.Duration, err error) {
		duration.Observe(took.Seconds())
		if err != nil {
			failures.Inc()
			return
		}
		lastSuccess.Set(float64(m.now().UnixNano()) / 1e9)
	}
}
