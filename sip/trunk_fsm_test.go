package sip

import (
	"errors"
	"sync"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// TestRegFSM walks the trunk registration transitions on a fake clock:
// failures back off 5, 10, 20 s...; success refreshes at 80 % of expiry.
func TestRegFSM(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	var mu sync.Mutex
	outcomes := []error{errors.New("408 timeout"), errors.New("403 Forbidden"), errors.New("503"), nil, nil}
	calls := make(chan struct{}, 10)
	f := &regFSM{clock: clk, register: func() (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		err := outcomes[0]
		outcomes = outcomes[1:]
		calls <- struct{}{}
		return 100 * time.Second, err
	}}
	waitState := func(want TrunkState) {
		t.Helper()
		<-calls
		for i := 0; i < 200; i++ {
			if s, _, _ := f.status(); s == want {
				return
			}
			time.Sleep(time.Millisecond)
		}
		s, d, _ := f.status()
		t.Fatalf("state %s (%s), want %s", s, d, want)
	}
	f.start()
	for _, c := range []struct {
		state TrunkState
		wait  time.Duration
	}{{TrunkFailed, 5 * time.Second}, {TrunkFailed, 10 * time.Second}, {TrunkFailed, 20 * time.Second}, {TrunkRegistered, 80 * time.Second}, {TrunkRegistered, 80 * time.Second}} {
		waitState(c.state)
		_, _, next := f.status()
		if got := next.Sub(clk.Now()); got != c.wait {
			t.Fatalf("%s: next attempt in %v, want %v", c.state, got, c.wait)
		}
		clk.Advance(c.wait - time.Millisecond)
		select {
		case <-calls:
			t.Fatal("retried before its time")
		case <-time.After(5 * time.Millisecond):
		}
		if len(outcomes) == 0 {
			break
		}
		clk.Advance(time.Millisecond)
	}
	f.stop()
	clk.Advance(time.Hour)
	select {
	case <-calls:
		t.Fatal("registered after stop")
	case <-time.After(10 * time.Millisecond):
	}
}

func TestBackoffCap(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	f := &regFSM{clock: clk, failures: 20}
	f.result(0, errors.New("x"))
	if _, _, next := f.status(); next.Sub(clk.Now()) != backoffMax {
		t.Fatalf("backoff %v, want the cap %v", next.Sub(clk.Now()), backoffMax)
	}
}
