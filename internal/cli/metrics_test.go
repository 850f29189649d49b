package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/relkey/relkey/internal/testenv"
)

// backendEnv is the environment of a relkey on the backend: the embedded
// default in a fresh data dir, or a fresh PostgreSQL database and bucket.
func backendEnv(t *testing.T, b testenv.Backend, postgresURL func(testing.TB) string) map[string]string {
	t.Helper()
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_PASSWORD_COST": "4", "RELKEY_LOG_LEVEL": "warn"}
	if b.Postgres {
		s3 := testenv.S3(t)
		env["RELKEY_DATABASE_URL"] = postgresURL(t)
		env["RELKEY_SECRET_KEY"] = strings.Repeat("s", 40)
		env["RELKEY_STORAGE_URL"] = fmt.Sprintf("s3://%s:%s@%s/%s?secure=false&region=%s", s3.AccessKey, s3.SecretKey, s3.Endpoint, s3.Bucket, s3.Region)
	}
	return env
}

// samples is a scrape, by metric family name.
type samples map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, url string) samples {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the scrape is not in the Prometheus text format: %v", err)
	}
	return families
}

// value is the sample of family with exactly these labels (a counter's or
// gauge's value, a histogram's count); -1 when there is none.
func (s samples) value(family string, labels ...string) float64 {
	f, ok := s[family]
	if !ok {
		return -1
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		match := true
		for _, l := range m.Label {
			found := false
			for i := 0; i < len(labels); i += 2 {
				found = found || (labels[i] == l.GetName() && labels[i+1] == l.GetValue())
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestServeMetricsAfterTraffic serves with RELKEY_METRICS_LISTEN, sends
// traffic of known routes and statuses, and scrapes the listener.
func TestServeMetricsAfterTraffic(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := backendEnv(t, b, testenv.PostgresURL)
			addr, metricsAddr := freePort(t), freePort(t)
			env["RELKEY_LISTEN"], env["RELKEY_METRICS_LISTEN"] = addr, metricsAddr
			code, stdout, stderr := run(t, env, "account", "create", "--slug", "acme", "--name", "Acme", "--email", "admin@acme.test", "--password", "secret123", "--json")
			if code != 0 {
				t.Fatalf("account create: %d %s", code, stderr)
			}
			var account struct {
				Token string `json:"admin_token"`
			}
			json.Unmarshal([]byte(stdout), &account)

			stop, cancel := context.WithCancel(context.Background())
			defer cancel()
			exited := make(chan int, 1)
			go func() {
				exited <- Run(Command{Args: []string{"serve"}, Getenv: func(k string) string { return env[k] },
					Stdout: io.Discard, Stderr: io.Discard, Signals: stop})
			}()
			base := "http://" + addr
			call := func(method, path, authorization string) int {
				req, _ := http.NewRequest(method, base+path, nil)
				req.Header.Set("Authorization", authorization)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			waitFor(t, "the server to become ready", func() bool {
				resp, err := http.Get(base + "/v1/health")
				if err == nil {
					resp.Body.Close()
				}
				return err == nil && resp.StatusCode == 200
			})
			bearer := "Bearer " + account.Token
			wrongPassword := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.test:wrong-password"))
			traffic := []struct {
				method, path, authorization string
				times, status               int
			}{
				{"GET", "/v1/accounts/acme/products", bearer, 3, 200},
				{"GET", "/v1/accounts/acme/products/nope", bearer, 1, 404},
				{"GET", "/v1/no/such/route", "", 1, 404},
				{"POST", "/v1/accounts/acme/tokens", wrongPassword, 5, 401},
				{"POST", "/v1/accounts/acme/tokens", wrongPassword, 1, 429},
			}
			for _, r := range traffic {
				for range r.times {
					if got := call(r.method, r.path, r.authorization); got != r.status {
						t.Fatalf("%s %s answered %d, want %d", r.method, r.path, got, r.status)
					}
				}
			}
			if got := call("GET", "/metrics", ""); got != 404 {
				t.Fatalf("the API listener answers /metrics with %d, want 404", got)
			}

			s := scrapeMetrics(t, "http://"+metricsAddr+"/metrics")
			requests := []struct {
				route, method, status string
				want                  float64
			}{
				{"/v1/accounts/:account/products", "GET", "200", 3},
				{"/v1/accounts/:account/products/:id", "GET", "404", 1},
				{"/v1/accounts/:account/tokens", "POST", "401", 5},
				{"/v1/accounts/:account/tokens", "POST", "429", 1},
				{"unmatched", "GET", "404", 1},
			}
			for _, r := range requests {
				if got := s.value("relkey_http_requests_total", "route", r.route, "method", r.method, "status", r.status); got != r.want {
					t.Errorf("requests{%s %s %s} = %v, want %v", r.method, r.route, r.status, got, r.want)
				}
			}
			if got := s.value("relkey_http_requests_total", "route", "/v1/health", "method", "GET", "status", "200"); got < 1 {
				t.Errorf("health probes counted %v times", got)
			}
			if got := s.value("relkey_http_request_duration_seconds", "route", "/v1/accounts/:account/tokens", "method", "POST"); got != 6 {
				t.Errorf("token requests timed %v times, want 6", got)
			}
			if got := s.value("relkey_rate_limit_refusals_total", "limit", "password"); got != 1 {
				t.Errorf("password refusals = %v, want 1", got)
			}
			engine := "sqlite"
			if b.Postgres {
				engine = "postgres"
			}
			if got := s.value("go_sql_max_open_connections", "db_name", engine); got < 1 {
				t.Errorf("pool statistics for %s: max open = %v", engine, got)
			}
			if got := s.value("relkey_database_statement_duration_seconds", "kind", "query"); got < 1 {
				t.Errorf("query statements timed %v times", got)
			}
			if got := s.value("relkey_analytics_signals_shed_total"); got != 0 {
				t.Errorf("shed usage signals = %v, want a 0 series", got)
			}
			if got := s.value("relkey_analytics_buffer_depth"); got < 0 {
				t.Errorf("usage buffer depth = %v, want a series", got)
			}
			if got := s.value("relkey_build_info", "version", version(), "go_version", runtime.Version()); got != 1 {
				t.Errorf("build info = %v", got)
			}
			// Background passes: series from the start, then the first
			// upload-settling pass (every 2s).
			if got := s.value("relkey_background_pass_failures_total", "pass", "cull_machines"); got != 0 {
				t.Errorf("culling failures = %v, want a 0 series before its first pass", got)
			}
			waitFor(t, "the first upload-settling pass", func() bool {
				s := scrapeMetrics(t, "http://"+metricsAddr+"/metrics")
				return s.value("relkey_background_pass_duration_seconds", "pass", "settle_uploads") >= 1 &&
					s.value("relkey_background_pass_last_success_timestamp_seconds", "pass", "settle_uploads") > 0
			})

			cancel()
			if code := <-exited; code != 0 {
				t.Fatalf("serve exited %d", code)
			}
			if _, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
				t.Fatal("metrics still served after shutdown")
			}
		})
	}
}
