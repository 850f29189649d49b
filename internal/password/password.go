// Package password hashes and checks user passwords with bcrypt.
//
// Hashing is slow on purpose, so a Hasher runs only a few at once (about one
// per core): a burst of logins or sign-ups queues here instead of starving
// licence validation and activation of CPU, and a caller whose deadline
// passes while it queues is told to retry later.
package password

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/relkey/relkey/internal/apperr"
)

// Cost bounds. DefaultCost is Keygen's (bcrypt-ruby's default); MinCost is
// for tests only.
const (
	MinCost     = bcrypt.MinCost
	MaxCost     = bcrypt.MaxCost
	DefaultCost = 12
)

// Length limits (bcrypt reads at most 72 bytes).
const (
	MinBytes = 6
	MaxBytes = 72
)

// ErrBusy is returned when the caller's context ends before a hashing slot
// is free.
var ErrBusy = &apperr.Error{Kind: apperr.Unavailable, Code: "SERVICE_UNAVAILABLE",
	Detail: "Too many password checks are under way; please retry shortly"}

// Hasher hashes and checks passwords at a fixed cost, a bounded number at a
// time.
type Hasher struct {
	cost  int
	slots chan struct{}
	// dummy is a digest at cost that no password is checked against in
	// earnest: an unknown email costs a comparison with it.
	dummy     string
	dummyOnce sync.Once
}

// NewHasher returns a hasher at cost (DefaultCost when 0) running at most
// concurrency hashes at once (GOMAXPROCS when 0).
func NewHasher(cost, concurrency int) *Hasher {
	if cost == 0 {
		cost = DefaultCost
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	return &Hasher{cost: cost, slots: make(chan struct{}, concurrency)}
}

// Cost is the cost new digests get.
func (h *Hasher) Cost() int { return h.cost }

// Hash returns the digest of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	digest, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	return string(digest), err
}

// Matches reports whether password is the one digest was made from.
func (h *Hasher) Matches(ctx context.Context, digest, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	// A wrong password and a digest that is not bcrypt both match nothing.
	return bcrypt.CompareHashAndPassword([]byte(digest), []byte(password)) == nil, nil
}

// MatchesNothing spends what Matches spends, against a fixed digest of the
// hasher's cost, so that an unknown user answers no sooner than a known one
// with a wrong password.
func (h *Hasher) MatchesNothing(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		digest, _ := bcrypt.GenerateFromPassword([]byte("relkey: no user has this password"), h.cost)
		h.dummy = string(digest)
	})
	_, err := h.Matches(ctx, h.dummy, password)
	return err
}

// acquire takes a slot, or fails with ErrBusy once ctx ends; a ctx that has
// already ended never takes one.
func (h *Hasher) acquire(ctx context.Context) error {
	if ctx.Err() == nil {
		select {
		case h.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
		}
	}
	return &apperr.Error{Kind: ErrBusy.Kind, Code: ErrBusy.Code, Detail: ErrBusy.Detail, Err: ctx.Err()}
}

func (h *Hasher) release() { <-h.slots }
