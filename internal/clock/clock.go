// Package clock is the time source injected into everything with a timer
// (registration expiry, nonce lifetime, Q.921 T200, ring cadence, ACD and
// IVR timeouts, batch intervals), so tests advance time instead of
// sleeping.
//
// Layer: internal, standard library only. Real is the system clock; Fake
// moves only when a test advances it, running timers and delivering ticks
// on the advancing goroutine, so that what falls due has happened by the
// time Advance returns.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time, runs functions later and ticks.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
	// NewTicker ticks every d (d > 0, or it panics, as time.NewTicker).
	NewTicker(d time.Duration) Ticker
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the timer; it reports whether it was still pending.
	Stop() bool
}

// Ticker is a periodic tick, as time.Ticker: C holds at most one tick
// not yet received, and a tick that falls due while one is pending is
// dropped, so a slow reader sees fewer ticks, never a backlog.
type Ticker interface {
	C() <-chan time.Time
	// Stop ends the ticks; a tick already pending stays in C.
	Stop()
}

// Wait waits d on c, or until stop is closed (a nil stop never is); it
// reports whether d passed.
func Wait(c Clock, d time.Duration, stop <-chan struct{}) bool {
	due := make(chan struct{})
	t := c.AfterFunc(d, func() { close(due) })
	select {
	case <-due:
		return true
	case <-stop:
		t.Stop()
		return false
	}
}

// Real is the system clock.
type Real struct{}

func (Real) Now() time.Time                            { return time.Now() }
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
func (Real) NewTicker(d time.Duration) Ticker          { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// Fake is a clock that moves only when told to. Timers fire and tickers
// tick, in order of their deadlines, on the goroutine that calls Advance.
//
// A Fake ticker's tick is in its C when Advance returns (or dropped, when
// the one before it is still there): a test that advances and then
// receives from C needs no sleep. A ticker that falls due several times
// in one Advance ticks at each deadline, so a reader that keeps up in
// another goroutine may still see only one of them, as with time.Ticker.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// fakeTimer is an AfterFunc (f) or a ticker (every, c).
type fakeTimer struct {
	clk     *Fake
	at      time.Time
	f       func()
	every   time.Duration
	c       chan time.Time
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// fakeTicker is a fakeTimer seen as a Ticker (Stop without a result).
type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.c }
func (k fakeTicker) Stop()               { k.t.Stop() }

// Now returns the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	return c.add(d, &fakeTimer{clk: c, f: f})
}

// NewTicker ticks at Now()+d, Now()+2d... as Advance passes them.
func (c *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	return fakeTicker{c.add(d, &fakeTimer{clk: c, every: d, c: make(chan time.Time, 1)})}
}

// add schedules t at Now()+d.
func (c *Fake) add(d time.Duration, t *fakeTimer) *fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.at = c.now.Add(d)
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d, firing each timer and ticking
// each ticker that falls due, at its own deadline, in order.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		due := c.next(end)
		if due == nil {
			break
		}
		at := due.at
		if at.After(c.now) { // an AfterFunc with d < 0 is due now
			c.now = at
		}
		if due.every > 0 {
			due.at = at.Add(due.every)
			c.timers = append(c.timers, due)
			select {
			case due.c <- at:
			default: // the last tick is still unread: drop this one
			}
			continue
		}
		due.stopped = true
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// next takes the earliest timer due by end out of the list, dropping
// stopped ones; nil when none is due. Called with mu held.
func (c *Fake) next(end time.Time) *fakeTimer {
	live := c.timers[:0]
	for _, t := range c.timers {
		if !t.stopped {
			live = append(live, t)
		}
	}
	clear(c.timers[len(live):])
	c.timers = live
	if len(live) == 0 {
		return nil
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].at.Before(live[j].at) })
	if live[0].at.After(end) {
		return nil
	}
	due := live[0]
	c.timers = append(live[:0], live[1:]...)
	return due
}

// Shifted is the system clock moved by Offset: timers run in real time,
// Now reads as another moment (a holiday, a night) for tests of the
// calendar on a running box. Its ticks carry the system time; read Now
// for the shifted one.
type Shifted struct{ Offset time.Duration }

func (s Shifted) Now() time.Time                          { return time.Now().Add(s.Offset) }
func (Shifted) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
func (Shifted) NewTicker(d time.Duration) Ticker          { return Real{}.NewTicker(d) }
