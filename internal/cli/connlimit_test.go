package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestConnectionsPerAddressAreBounded: past max open connections from one
// address, new ones are closed at once; closing one frees its place, and
// trusted proxies are not bounded.
func TestConnectionsPerAddressAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     int
		trusted []*net.IPNet
		bounded bool
	}{
		{"untrusted", 3, nil, true},
		{"trusted proxy", 3, []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}}, false},
		{"no limit", 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := limitPerIP(inner, tc.max, tc.trusted)
			defer l.Close()
			accepted := make(chan net.Conn, 10)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			var clients []net.Conn
			for range 4 {
				c, err := net.Dial("tcp", inner.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			got := 0
			for waiting := true; waiting; {
				select {
				case c := <-accepted:
					defer c.Close()
					got++
				case <-time.After(300 * time.Millisecond):
					waiting = false
				}
			}
			if want := map[bool]int{true: 3, false: 4}[tc.bounded]; got != want {
				t.Fatalf("%d connections accepted, want %d", got, want)
			}
			if !tc.bounded {
				return
			}
			clients[3].SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := clients[3].Read(make([]byte, 1)); err == nil || isTimeout(err) {
				t.Fatalf("the 4th connection was not closed: %v", err)
			}
		})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestServeCutsWithheldBodiesAndExitsZero: a client that sends its headers
// and withholds the body is cut off at the request deadline, so SIGTERM
// drains within RELKEY_SHUTDOWN_TIMEOUT and serve exits 0.
func TestServeCutsWithheldBodiesAndExitsZero(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	env := map[string]string{"RELKEY_DATA_DIR": dir, "RELKEY_LISTEN": addr, "RELKEY_REQUEST_TIMEOUT": "500ms", "RELKEY_SHUTDOWN_TIMEOUT": "3s"}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		exited <- Run(Command{Args: []string{"serve"}, Getenv: func(k string) string { return env[k] },
			Stdout: io.Discard, Stderr: io.Discard, Signals: stop})
	}()
	waitFor(t, "the server to become ready", func() bool {
		resp, err := http.Get("http://" + addr + "/v1/health/live")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/accounts/acme/tokens HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr)
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit")
	}
}
