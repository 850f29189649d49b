package cli

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLoopbackAddress(t *testing.T) {
	for listen, want := range map[string]string{
		"0.0.0.0:8080":       "127.0.0.1:8080",
		":8080":              "127.0.0.1:8080",
		"[::]:8080":          "[::1]:8080",
		"127.0.0.1:8080":     "127.0.0.1:8080",
		"10.1.2.3:443":       "10.1.2.3:443",
		"relkey.lan:8080":    "relkey.lan:8080",
		"[fd00::1]:8080":     "[fd00::1]:8080",
		"not-a-host-port":    "not-a-host-port",
		"localhost:65535":    "localhost:65535",
		"0.0.0.0:0":          "127.0.0.1:0",
		"[::ffff:0.0.0.0]:1": "127.0.0.1:1",
	} {
		if got := loopbackAddress(listen); got != want {
			t.Errorf("loopbackAddress(%q) = %q, want %q", listen, got, want)
		}
	}
}

// TestHealthAsksTheServerOnTheListenAddress: exit 0 on 200 only.
func TestHealthAsksTheServerOnTheListenAddress(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	listen := strings.TrimPrefix(srv.URL, "http://")
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_LISTEN": "0.0.0.0:" + listen[strings.LastIndex(listen, ":")+1:]}
	if code, stdout, stderr := run(t, env, "health"); code != 0 || !strings.Contains(stdout, "ready") {
		t.Fatalf("a ready server: exit %d %q %q", code, stdout, stderr)
	}
	status.Store(http.StatusServiceUnavailable)
	if code, _, stderr := run(t, env, "health"); code != 1 || !strings.Contains(stderr, "503") {
		t.Fatalf("an unready server: exit %d %q", code, stderr)
	}
	srv.Close()
	if code, _, stderr := run(t, env, "health", "--timeout", "1s"); code != 1 || !strings.Contains(stderr, "health:") {
		t.Fatalf("no server: exit %d %q", code, stderr)
	}
	if code, _, _ := run(t, env, "health", "extra"); code != 2 {
		t.Fatalf("an argument: exit %d, want 2", code)
	}
}

// TestHealthOverTLSTrustsOnlyTheConfiguredCertificate: the probe accepts
// the server's own certificate whatever address it dials, and no other.
func TestHealthOverTLSTrustsOnlyTheConfiguredCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	own := srv.TLS.Certificates[0]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pinnedTLS(&own)}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("the configured certificate is refused: %v", err)
	}
	resp.Body.Close()
	other := tls.Certificate{Certificate: [][]byte{append([]byte{0}, own.Certificate[0]...)}}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: pinnedTLS(&other)}}
	if _, err := client.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "not RELKEY_TLS_CERT") {
		t.Fatalf("another certificate is trusted: %v", err)
	}
}
