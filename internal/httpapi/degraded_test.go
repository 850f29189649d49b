package httpapi_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/libtnb/sqlite"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/testenv"
)

// tcpProxy forwards to a database and can black-hole it: while down, new
// connections hang unanswered and open ones are cut, as when a database
// host disappears.
type tcpProxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(client)
			if p.down.Load() {
				continue // held open, never answered
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.track(server)
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) setDown(down bool) {
	p.down.Store(down)
	p.cut()
}

// degradedTimeout is the request deadline of the outage tests, and
// hangLimit what counts as a hang: ten times the deadline, a margin a loaded
// machine keeps while a request that waits for TCP or lock timeouts does not.
const (
	degradedTimeout = 1500 * time.Millisecond
	hangLimit       = 10 * degradedTimeout
)

// expectUnavailable asserts a 503 that does not hang.
func expectUnavailable(t *testing.T, e *env, method, path, body string) {
	t.Helper()
	start := time.Now()
	r := e.admin(method, path, body)
	elapsed := time.Since(start)
	r.expectError(t, 503, "SERVICE_UNAVAILABLE")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if elapsed > hangLimit {
		t.Fatalf("%s %s took %v: it hangs instead of ending at its %v deadline", method, path, elapsed, degradedTimeout)
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within a minute", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPostgresOutageAnswers503AndRecovers(t *testing.T) {
	backends := testenv.Backends(t)
	if len(backends) < 2 {
		return // embedded-only run, announced by testenv
	}
	dbURL, _ := url.Parse(testenv.PostgresURL(t))
	proxy := newProxy(t, dbURL.Host)
	dbURL.Host = proxy.ln.Addr().String()
	e := newEnv(t, backends[1], func(c *config.Config) {
		c.DatabaseURL = dbURL.String()
		c.RequestTimeout = degradedTimeout
	})
	if r := e.admin("GET", "/v1/accounts/acme/products", ""); r.status != 200 {
		t.Fatalf("before the outage: %d %s", r.status, r.body)
	}

	proxy.setDown(true)
	expectUnavailable(t, e, "GET", "/v1/accounts/acme/products", "")
	expectUnavailable(t, e, "POST", "/v1/accounts/acme/products", productBody(`"name":"during outage"`))
	start := time.Now()
	if r := e.do("GET", "/v1/health", ""); r.status != 503 || time.Since(start) > hangLimit {
		t.Fatalf("readiness during outage: %d after %v", r.status, time.Since(start))
	}
	if r := e.do("GET", "/v1/health/live", ""); r.status != 200 {
		t.Fatalf("liveness during outage: %d", r.status)
	}

	proxy.setDown(false)
	eventually(t, "recovery", func() bool { return e.admin("GET", "/v1/accounts/acme/products", "").status == 200 })
	if r := e.do("GET", "/v1/health", ""); r.status != 200 {
		t.Fatalf("readiness after recovery: %d", r.status)
	}
	if n := len(list(t, e.admin("GET", "/v1/accounts/acme/products", ""))); n != 0 {
		t.Fatalf("a request that got 503 left %d products behind", n)
	}
}

func TestSQLiteLockedAnswers503AndRecovers(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"}, func(c *config.Config) { c.RequestTimeout = degradedTimeout })
	holder, err := sql.Open("sqlite", "file:"+e.cfg.SQLitePath()+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	// Reads go on under WAL; the write waits for the lock, then gives up in time.
	if r := e.admin("GET", "/v1/accounts/acme/products", ""); r.status != 200 {
		t.Fatalf("read while locked: %d %s", r.status, r.body)
	}
	expectUnavailable(t, e, "POST", "/v1/accounts/acme/products", productBody(`"name":"while locked"`))
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if r := e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"after"`)); r.status != 201 {
		t.Fatalf("write after the lock is gone: %d %s", r.status, r.body)
	}
}
