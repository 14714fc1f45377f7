package sip

import (
	"sync"
	"time"

	"jinyin/internal/clock"
)

// TrunkState is where a trunk's registration stands.
type TrunkState string

const (
	TrunkIPAuth      TrunkState = "ip-auth"     // does not register: the peer is known by its address
	TrunkRegistering TrunkState = "registering" // a REGISTER is out
	TrunkRegistered  TrunkState = "registered"  // refreshed before expiry
	TrunkFailed      TrunkState = "failed"      // retried after a backoff
)

// Backoff after failed registrations: 5 s, doubling, at most 5 minutes.
const (
	backoffFirst = 5 * time.Second
	backoffMax   = 5 * time.Minute
)

// regFSM keeps a trunk registered: register, refresh at 80 % of the
// expiry the carrier granted, and after a failure retry with exponential
// backoff. Every timer runs on the injected clock.
type regFSM struct {
	clock    clock.Clock
	register func() (time.Duration, error) // one REGISTER exchange: granted expiry

	mu       sync.Mutex
	state    TrunkState
	detail   string
	failures int
	next     time.Time // next attempt
	timer    clock.Timer
	stopped  bool
}

// start begins registering (in the background).
func (f *regFSM) start() { f.attempt() }

func (f *regFSM) attempt() {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return
	}
	f.state, f.detail = TrunkRegistering, ""
	f.mu.Unlock()
	go func() {
		exp, err := f.register()
		f.result(exp, err)
	}()
}

// result is the transition out of TrunkRegistering.
func (f *regFSM) result(expires time.Duration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	var wait time.Duration
	if err != nil {
		f.failures++
		wait = backoffMax
		if f.failures < 10 {
			wait = min(backoffFirst<<(f.failures-1), backoffMax)
		}
		f.state, f.detail = TrunkFailed, err.Error()
	} else {
		f.failures = 0
		wait = expires * 8 / 10
		f.state, f.detail = TrunkRegistered, ""
	}
	f.next = f.clock.Now().Add(wait)
	f.timer = f.clock.AfterFunc(wait, f.attempt)
}

func (f *regFSM) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.timer != nil {
		f.timer.Stop()
	}
}

func (f *regFSM) status() (TrunkState, string, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, f.detail, f.next
}
