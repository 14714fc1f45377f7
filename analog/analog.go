// Package analog runs the box's analog ports: FXS ports feeding local
// phones and faxes (ring cadence, dial tone, DTMF dialling, on-hook FSK
// caller ID, hook-flash transfer) and FXO ports on exchange lines (ring
// detection, caller ID by FSK or by DTMF as Chinese exchanges send it,
// answer, disconnect supervision by polarity reversal, loop current drop
// or busy tone, and seizing the line to dial out).
//
// Layer: signalling, beside sip and pri; above hal and media. Each port is
// a state machine (fxs_fsm.go, fxo_fsm.go) polled every 10 ms on the
// injected clock, as DAHDI polls its analog cards; its audio is a
// media/tdm channel, so the IVR and the bridges see a port like any call.
package analog

import (
	"fmt"
	"sync"
	"time"

	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/tdm"
)

// Match is how far a dialled number gets in the routing.
type Match uint8

const (
	NoMatch    Match = iota // no such number
	MoreDigits              // a prefix of one: keep collecting
	Complete                // route it
	Open                    // a number as it stands, that more digits may lengthen (one out): route it when the dialling pauses
)

// Timing of hook signals (ETSI ES 201 970 / common PBX practice).
const (
	Poll        = 10 * time.Millisecond
	FlashMin    = 100 * time.Millisecond // a shorter break is a bounce
	FlashMax    = 800 * time.Millisecond // a longer break is hanging up
	InterDigit  = 4 * time.Second        // the number is complete after this pause
	FirstDigit  = 15 * time.Second       // dial tone without dialling: busy tone
	RingDetect  = 150 * time.Millisecond // ringing voltage this long is a ring
	RingGone    = 8 * time.Second        // no ring this long: the caller gave up
	LoopDropMin = 300 * time.Millisecond // loop current gone this long is clearing
)

// Channel is the audio of a call on an analog port.
type Channel struct {
	*tdm.Channel
	mu       sync.Mutex
	transfer string
}

var _ media.Listener = (*Channel)(nil)

// TransferTarget is the number the phone dialled after a hook flash: the
// other party is to be transferred there. Empty when the phone hung up.
func (c *Channel) TransferTarget() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transfer
}

// drain drops events queued before the application had the channel (the
// end of a caller ID the port played), so the application starts clean.
func (c *Channel) drain() {
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// line is what every port has: its lock, the channel of the session now
// (one per call, numbered for logs and records), work that waits until
// the lock is released, and stopping.
type line struct {
	name   string // fxs1, fxo2
	ts     hal.Timeslot
	codec  media.Codec
	audio  func(pcm []int16)
	digit  func(d byte) bool
	farEnd func(ch *Channel) // the application hung the channel up

	mu        sync.Mutex
	cur       *Channel      // nil while a new session is being set up
	ready     chan struct{} // closed once cur is set again (or the port stops)
	after     []func()
	calls     int
	stop      chan struct{}
	closeOnce sync.Once
}

// start opens the first session.
func (l *line) start(name string, ts hal.Timeslot, codec media.Codec, audio func([]int16), digit func(byte) bool, farEnd func(*Channel)) {
	l.name, l.ts, l.codec, l.audio, l.digit, l.farEnd = name, ts, codec, audio, digit, farEnd
	l.stop = make(chan struct{})
	l.mu.Lock()
	l.renew(nil)
	l.unlock()
}

// unlock releases the port and then runs what must not run under its
// lock (starting a channel waits for the last one's goroutine).
func (l *line) unlock() {
	todo := l.after
	l.after = nil
	l.mu.Unlock()
	for _, fn := range todo {
		fn()
	}
}

// renew ends the session and, once its channel has let go of the
// timeslot, starts the next and runs then on it. Called under the lock.
func (l *line) renew(then func(ch *Channel)) {
	old := l.cur
	l.cur = nil
	ready := make(chan struct{})
	l.ready = ready
	l.calls++
	id := fmt.Sprintf("%s-%d", l.name, l.calls)
	l.after = append(l.after, func() {
		defer close(ready)
		if old != nil {
			old.End()
			<-old.Stopped()
		}
		var ch *Channel
		ch = &Channel{Channel: tdm.New(id, l.ts, l.codec, func() error {
			go l.farEnd(ch)
			return nil
		})}
		ch.SetTap(l.audio, l.digit)
		l.mu.Lock()
		select {
		case <-l.stop:
			l.mu.Unlock()
			ch.End()
			return
		default:
		}
		l.cur = ch
		if then != nil {
			then(ch)
		}
		l.unlock()
	})
}

// awaitSession waits, up to d on clk, for the session being set up, if
// one is: its channel starts once the last one has let go of the
// timeslot, one block at most. Called and returns with the lock held.
func (l *line) awaitSession(clk clock.Clock, d time.Duration) {
	if l.cur != nil {
		return
	}
	ready := l.ready
	l.mu.Unlock()
	clock.Wait(clk, d, ready)
	l.mu.Lock()
}

// close stops the port: the session ends, then idle puts the line to rest.
func (l *line) close(idle func()) {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.mu.Lock()
		cur := l.cur
		l.mu.Unlock()
		if cur != nil {
			cur.End()
		}
		idle()
	})
}

// ticker calls f every Poll on clk until stop is closed.
func ticker(clk clock.Clock, stop <-chan struct{}, f func()) {
	var tick func()
	tick = func() {
		select {
		case <-stop:
			return
		default:
		}
		f()
		clk.AfterFunc(Poll, tick)
	}
	clk.AfterFunc(Poll, tick)
}
