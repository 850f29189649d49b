package metrics

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the route label of requests no route pattern matched.
const Unmatched = "unmatched"

// Observe is echo middleware that counts and times every request by its
// route pattern (echo's c.Path(), never the raw path), method and final
// status. Install it outermost: an error from the handlers is rendered here
// first, so the status counted is the one sent. Once a route, method and
// status have been seen, a request costs no allocation and takes no lock.
func (m *Metrics) Observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		m.route(c.Request().Method, c.Path()).observe(c.Response().Status, time.Since(start))
		return nil
	}
}

type routeKey struct{ method, pattern string }

// route is one method and route pattern's resolved series.
type route struct {
	key      routeKey
	duration prometheus.Observer
	requests *prometheus.CounterVec
	// statuses is replaced whole when a status is first seen.
	statuses atomic.Pointer[[]statusCounter]
	mu       sync.Mutex
}

type statusCounter struct {
	status  int
	counter prometheus.Counter
}

// route finds or makes the series of a method and route pattern.
func (m *Metrics) route(method, pattern string) *route {
	key := routeKey{method: methodLabel(method), pattern: pattern}
	if key.pattern == "" {
		key.pattern = Unmatched
	}
	if r, ok := (*m.routes.Load())[key]; ok {
		return r
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	routes := *m.routes.Load()
	if r, ok := routes[key]; ok {
		return r
	}
	r := &route{key: key, duration: m.durations.WithLabelValues(key.pattern, key.method), requests: m.requests}
	r.statuses.Store(&[]statusCounter{})
	grown := maps.Clone(routes)
	grown[key] = r
	m.routes.Store(&grown)
	return r
}

func (r *route) observe(status int, took time.Duration) {
	r.duration.Observe(took.Seconds())
	for _, s := range *r.statuses.Load() {
		if s.status == status {
			s.counter.Inc()
			return
		}
	}
	r.addStatus(status).Inc()
}

func (r *route) addStatus(status int) prometheus.Counter {
	r.mu.Lock()
	defer r.mu.Unlock()
	statuses := *r.statuses.Load()
	for _, s := range statuses {
		if s.status == status {
			return s.counter
		}
	}
	counter := r.requests.WithLabelValues(r.key.pattern, r.key.method, strconv.Itoa(status))
	// Clip: the slice readers hold is never written to.
	grown := append(slices.Clip(statuses), statusCounter{status, counter})
	r.statuses.Store(&grown)
	return counter
}

// methodLabel keeps the method label to the standard methods: a client
// cannot mint series by sending made-up ones.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
