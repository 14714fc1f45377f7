// Package fsmtimer is the protocol timer of the PRI state machines (Q.921
// T200/T203, Q.931 T303...): it runs on the injected clock and delivers
// its expiry through the owner's post function, so a state machine only
// ever runs on its owner's goroutine. A timer stopped or restarted before
// its expiry is delivered is not delivered at all.
package fsmtimer

import (
	"time"

	"jinyin/internal/clock"
)

// Timer is one protocol timer.
type Timer struct {
	clk     clock.Clock
	post    func(func())
	t       clock.Timer
	gen     uint64
	running bool
}

// New returns a stopped timer. post runs a function on the state
// machine's goroutine; a test driving the machine directly passes one that
// calls it at once.
func New(clk clock.Clock, post func(func())) *Timer {
	return &Timer{clk: clk, post: post}
}

// Start (re)starts the timer: f runs after d unless Stop or Start comes
// first.
func (t *Timer) Start(d time.Duration, f func()) {
	t.Stop()
	gen := t.gen
	t.running = true
	t.t = t.clk.AfterFunc(d, func() {
		t.post(func() {
			if t.gen == gen && t.running {
				t.running = false
				f()
			}
		})
	})
}

// Stop cancels the timer.
func (t *Timer) Stop() {
	if t.t != nil {
		t.t.Stop()
		t.t = nil
	}
	t.running = false
	t.gen++
}

// Running reports whether the timer is started and has not expired.
func (t *Timer) Running() bool { return t.running }
