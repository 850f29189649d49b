package password

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/relkey/relkey/internal/apperr"
)

func TestHashAndMatch(t *testing.T) {
	h := NewHasher(MinCost, 1)
	digest, err := h.Hash(context.Background(), "secret123")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost([]byte(digest)); err != nil || c != MinCost {
		t.Fatalf("digest cost %d (%v), want %d", c, err, MinCost)
	}
	for _, tt := range []struct {
		name, digest, password string
		want                   bool
	}{
		{"right password", digest, "secret123", true},
		{"wrong password", digest, "secret124", false},
		{"empty password", digest, "", false},
		{"digest that is not bcrypt", "plain", "plain", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Matches(context.Background(), tt.digest, tt.password)
			if err != nil || got != tt.want {
				t.Fatalf("Matches = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	h := NewHasher(0, 0)
	if h.Cost() != DefaultCost || DefaultCost < 12 {
		t.Fatalf("default cost %d, want Keygen's 12 or more", h.Cost())
	}
	if cap(h.slots) < 1 {
		t.Fatalf("%d slots", cap(h.slots))
	}
}

// TestQueueIsBounded holds every slot: callers queue, and one whose context
// ends while it waits gets ErrBusy (a 503) instead of hashing.
func TestQueueIsBounded(t *testing.T) {
	h := NewHasher(MinCost, 2)
	ctx := context.Background()
	for range 2 {
		if err := h.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ended, cancel := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { _, err := h.Hash(ended, "secret123"); done <- err }()
	go func() { _, err := h.Matches(ended, "x", "secret123"); done <- err }()
	cancel()
	for range 2 {
		err := <-done
		if e := apperr.As(err); e.Kind != apperr.Unavailable || e.Code != "SERVICE_UNAVAILABLE" {
			t.Fatalf("waiting past the deadline: %v, want Unavailable", err)
		}
	}
	// A freed slot lets a waiting caller in.
	waiting := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "secret123"); waiting <- err }()
	h.release()
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	if n := len(h.slots); n != 1 {
		t.Fatalf("%d slots held after the queued hash, want 1", n)
	}
}

func TestMatchesNothingCostsAComparison(t *testing.T) {
	h := NewHasher(MinCost, 1)
	if err := h.MatchesNothing(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h.dummy)); err != nil || cost != MinCost {
		t.Fatalf("dummy digest cost %d (%v), want the hasher's", cost, err)
	}
	h.slots <- struct{}{} // every slot taken: it queues like Matches
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.MatchesNothing(ctx, "anything"); err == nil {
		t.Fatal("MatchesNothing did not wait for a hashing slot")
	}
}
