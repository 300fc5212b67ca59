// Package testclock is the clock tests inject where postdesk takes one
// (Options.Now): it shows a fixed time and moves only when told, so that
// retries, leases, rate windows and ages are tested without sleeping.
package testclock

import (
	"sync"
	"time"
)

// T0 is the fixed time at which the tests that share it start.
var T0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// Start returns a Clock showing t.
func Start(t time.Time) *Clock { return &Clock{now: t} }

// Clock is a clock that moves only when told (zero value: the zero time;
// set it with Advance from a start, or construct with Start). It is safe
// for several goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now reports the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
