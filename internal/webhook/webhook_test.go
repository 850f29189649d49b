package webhook

import (
	"net"
	"testing"
	"time"
)

func TestBackoffIsKeygensSchedule(t *testing.T) {
	tests := []struct {
		retry, jitter int
		want          time.Duration
	}{
		{0, 1, 10 * time.Minute},
		{1, 1, time.Second + 10*time.Minute},
		{2, 10, 16*time.Second + 100*time.Minute},
		{14, 1, 38416*time.Second + 10*time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(tt.retry, tt.jitter); got != tt.want {
			t.Errorf("Backoff(%d, %d) = %v, want %v", tt.retry, tt.jitter, got, tt.want)
		}
	}
	for n := 1; n < MaxRetries; n++ {
		if Backoff(n, 1) <= Backoff(n-1, 1) {
			t.Errorf("retry %d waits no longer than retry %d", n, n-1)
		}
	}
}

func TestPrivate(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "0.0.0.0": true, "100.64.0.1": true, "fd00::1": true,
		"93.184.216.34": false, "2606:4700::1111": false, "8.8.8.8": false,
	} {
		if got := Private(net.ParseIP(addr)); got != want {
			t.Errorf("Private(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestSubscribed(t *testing.T) {
	e := &Endpoint{}
	e.Subscriptions.V = []string{"license.created"}
	if !e.Subscribed("license.created") || e.Subscribed("license.deleted") {
		t.Fatal("a named subscription takes exactly its event")
	}
	e.Subscriptions.V = []string{"*"}
	if !e.Subscribed("release.published") {
		t.Fatal("* takes every event")
	}
	e.Subscriptions.V = []string{}
	if e.Subscribed("license.created") {
		t.Fatal("a disabled endpoint takes nothing")
	}
}
