package testenv

import (
	"sync"
	"time"
)

// Clock is a test clock: it runs with the real time, shifted by however far
// the test has advanced it. Hand Now to the services under test in place of
// time.Now, then Advance it instead of sleeping or writing the past into
// the database.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time plus every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
