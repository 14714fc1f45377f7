package clock

import (
	"runtime"
	"testing"
	"time"
)

func TestFakeFiresInOrder(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	var got []int
	c.AfterFunc(3*time.Second, func() { got = append(got, 3) })
	c.AfterFunc(1*time.Second, func() {
		got = append(got, 1)
		c.AfterFunc(time.Second, func() { got = append(got, 2) }) // scheduled from a timer
	})
	stopped := c.AfterFunc(2500*time.Millisecond, func() { got = append(got, 99) })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop reports pending only once")
	}
	c.Advance(2 * time.Second)
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("after 2 s: %v", got)
	}
	c.Advance(time.Second)
	if len(got) != 3 || got[2] != 3 || !c.Now().Equal(time.Unix(3, 0)) {
		t.Fatalf("after 3 s: %v at %v", got, c.Now())
	}
}

// tick is what a ticker has pending: its time, or zero for none.
func tick(tk Ticker) time.Time {
	select {
	case at := <-tk.C():
		return at
	default:
		return time.Time{}
	}
}

func TestFakeTicker(t *testing.T) {
	start := time.Unix(0, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	c := NewFake(start)
	tk := c.NewTicker(time.Second)
	c.Advance(999 * time.Millisecond)
	if got := tick(tk); !got.IsZero() {
		t.Fatalf("a tick at %v before the interval", got)
	}
	c.Advance(time.Millisecond)
	if got := tick(tk); !got.Equal(at(1000)) {
		t.Fatalf("after 1 s the tick is %v", got)
	}
	// Unread, the first tick due stays and the next two are dropped.
	c.Advance(3 * time.Second)
	if got := tick(tk); !got.Equal(at(2000)) {
		t.Fatalf("after 4 s the pending tick is %v, want the one at 2 s", got)
	}
	if got := tick(tk); !got.IsZero() {
		t.Fatalf("a second pending tick %v", got)
	}
	// Ticks and timers run in deadline order: a timer between two ticks
	// sees the first one.
	var seen time.Time
	c.AfterFunc(1500*time.Millisecond, func() { seen = tick(tk) })
	c.Advance(2 * time.Second)
	if !seen.Equal(at(5000)) {
		t.Errorf("the timer at 5.5 s saw the tick %v, want the one at 5 s", seen)
	}
	if got := tick(tk); !got.Equal(at(6000)) {
		t.Errorf("after 6 s the tick is %v", got)
	}
	// A tick pending at Stop stays; none comes after it.
	c.Advance(time.Second)
	tk.Stop()
	c.Advance(5 * time.Second)
	if got := tick(tk); !got.Equal(at(7000)) {
		t.Errorf("the tick pending at Stop is %v", got)
	}
	if got := tick(tk); !got.IsZero() {
		t.Errorf("a tick at %v after Stop", got)
	}
	// A ticker counts from when it was made.
	tk2 := c.NewTicker(250 * time.Millisecond)
	c.Advance(250 * time.Millisecond)
	if got := tick(tk2); !got.Equal(at(12250)) {
		t.Errorf("a ticker made at 12 s ticked at %v", got)
	}
	if !c.Now().Equal(at(12250)) {
		t.Errorf("now %v", c.Now())
	}
}

// TestFakeTickerReader is the pattern for code under test that reads a
// ticker on its own goroutine: advance one interval, then wait for what
// the tick causes.
func TestFakeTickerReader(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	tk := c.NewTicker(20 * time.Millisecond)
	got := make(chan time.Time)
	go func() {
		for at := range tk.C() {
			got <- at
		}
	}()
	for i := 1; i <= 3; i++ {
		c.Advance(20 * time.Millisecond)
		if at := <-got; !at.Equal(time.Unix(0, 0).Add(time.Duration(i) * 20 * time.Millisecond)) {
			t.Fatalf("tick %d at %v", i, at)
		}
	}
	tk.Stop()
}

func TestFakeTickerRejectsZero(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewTicker(0) did not panic")
		}
	}()
	NewFake(time.Unix(0, 0)).NewTicker(0)
}

// The real and shifted tickers tick in real time: these tests wait for it.
func TestRealTicker(t *testing.T) {
	for _, c := range []Clock{Real{}, Shifted{Offset: time.Hour}} {
		tk := c.NewTicker(5 * time.Millisecond)
		var last time.Time
		for i := 0; i < 3; i++ {
			select {
			case at := <-tk.C():
				if !at.After(last) {
					t.Fatalf("%T: tick %v after %v", c, at, last)
				}
				last = at
			case <-time.After(5 * time.Second):
				t.Fatalf("%T: no tick %d", c, i)
			}
		}
		tk.Stop()
		tick(tk) // one may have come before Stop
		select {
		case at := <-tk.C():
			t.Errorf("%T: a tick at %v after Stop", c, at)
		case <-time.After(30 * time.Millisecond):
		}
	}
}

func TestWait(t *testing.T) {
	if !Wait(Real{}, time.Millisecond, nil) {
		t.Error("Wait on the real clock: stopped without a stop channel")
	}
	c := NewFake(time.Unix(0, 0))
	stop := make(chan struct{})
	close(stop)
	if Wait(c, time.Second, stop) {
		t.Error("Wait with stop closed reported that the time passed")
	}
	done := make(chan bool)
	go func() { done <- Wait(c, time.Second, nil) }()
	for {
		select {
		case ok := <-done:
			if !ok {
				t.Error("Wait on the fake clock reported a stop")
			}
			return
		default:
			c.Advance(100 * time.Millisecond) // until Wait's timer is armed and falls due
			runtime.Gosched()
		}
	}
}
