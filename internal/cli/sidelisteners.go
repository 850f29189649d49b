package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
)

// serveAside serves handler on a listener of its own at addr, apart from the
// API; variable names the setting in errors. The server's Addr is where it
// listens.
func serveAside(variable, addr string, handler http.Handler, logger *slog.Logger) (*http.Server, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	server := &http.Server{Addr: listener.Addr().String(), Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go server.Serve(listener)
	return server, nil
}

// startMetrics instruments the app and serves its metrics on
// RELKEY_METRICS_LISTEN, when set; stop closes that listener. It must run
// before the API and the jobs start, so that they are counted.
func startMetrics(cmd Command, cfg config.Config, a *app.App, logger *slog.Logger) (stop func(), err error) {
	if cfg.MetricsListen == "" {
		return func() {}, nil
	}
	m, err := a.Instrument(version())
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	server, err := serveAside("RELKEY_METRICS_LISTEN", cfg.MetricsListen, mux, logger)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.Stdout, "metrics on http://%s/metrics\n", server.Addr)
	return func() { server.Close() }, nil
}
