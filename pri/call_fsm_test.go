package pri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/pri/q921"
	"jinyin/pri/q931"
)

// testD is a D-channel the test plays the far end of, frame by frame. A
// nil frame on in is a marker: once the stack's reader reaches it, every
// frame before it has been posted to the stack's loop.
type testD struct {
	in, out chan []byte
	synced  chan struct{}
	closed  chan struct{}
}

func (d *testD) ReadFrame(p []byte) (int, error) {
	for {
		select {
		case b := <-d.in:
			if b == nil {
				d.synced <- struct{}{}
				continue
			}
			return copy(p, b), nil
		case <-d.closed:
			return 0, io.EOF
		}
	}
}
func (d *testD) WriteFrame(f []byte) error { d.out <- append([]byte(nil), f...); return nil }
func (d *testD) Close() error {
	select {
	case <-d.closed:
	default:
		close(d.closed)
	}
	return nil
}

// far is the other end: a Q.921 link on the same fake clock, driven by the
// test goroutine, and the Q.931 messages it got.
type far struct {
	t    *testing.T
	clk  *clock.Fake
	d    *testD
	s    *Stack
	link *q921.Link
	got  []q931.Message
	cut  bool // lose every frame both ways
	inc  chan *Call
}

func newFar(t *testing.T, network bool, number func(string) Match) *far {
	f := &far{t: t, clk: clock.NewFake(time.Unix(1e9, 0)), inc: make(chan *Call, 4),
		d: &testD{in: make(chan []byte, 256), out: make(chan []byte, 1024), synced: make(chan struct{}), closed: make(chan struct{})}}
	if number == nil {
		number = func(n string) Match {
			if n == "100" {
				return Complete
			}
			if n == "1" || n == "10" {
				return MoreDigits
			}
			return NoMatch
		}
	}
	f.s = New(Config{Span: 1, Network: network, Channels: []int{1, 2, 3, 30, 31}, Codec: media.PCMA, Clock: f.clk,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), D: f.d,
		B:      func(n int) (hal.Timeslot, error) { a, _ := sim.SlotPair(0xD5); return a, nil },
		Number: number, Incoming: func(c *Call) { f.inc <- c }})
	f.link = q921.NewLink(q921.Config{Network: !network, Clock: f.clk, Post: func(fn func()) { fn() },
		Send: func(fr q921.Frame) {
			if f.cut {
				return
			}
			b, _ := q921.Append(nil, fr, false)
			f.d.in <- b
		},
		Data: func(info []byte) {
			m, err := q931.Decode(info)
			if err != nil {
				t.Fatalf("stack sent an undecodable message: %v", err)
			}
			f.got = append(f.got, m)
		}})
	f.s.Start()
	f.link.Start()
	t.Cleanup(f.s.Close)
	f.settle()
	if !f.s.LinkUp() || !f.link.Up() {
		t.Fatal("link did not come up")
	}
	return f
}

// settle runs both ends until nothing moves.
func (f *far) settle() {
	for i := 0; i < 20000; i++ {
		moved := false
		for {
			select {
			case b := <-f.d.out:
				moved = true
				f.receive(b)
				continue
			default:
			}
			break
		}
		if !moved {
			f.d.in <- nil
			<-f.d.synced
			f.s.do(func() {})
			if len(f.d.out) == 0 {
				return
			}
		}
	}
	f.t.Fatal("the stack never settles")
}

// receive is a frame from the stack, lost when the link is cut.
func (f *far) receive(b []byte) {
	if f.cut {
		return
	}
	fr, err := q921.Parse(b, false)
	if err != nil {
		f.t.Fatalf("stack sent a bad frame: %v", err)
	}
	f.link.Receive(fr)
}

// sent waits for the stack to send a frame of its own accord, as a call
// from another goroutine (Answer, Dial) makes it do, and settles.
func (f *far) sent() {
	f.t.Helper()
	select {
	case b := <-f.d.out:
		f.receive(b)
	case <-time.After(5 * time.Second):
		f.t.Fatal("the stack sent nothing")
	}
	f.settle()
}

// advance moves the fake clock in 100 ms steps.
func (f *far) advance(d time.Duration) {
	for ; d > 0; d -= 100 * time.Millisecond {
		f.clk.Advance(100 * time.Millisecond)
		f.settle()
	}
}

func (f *far) send(m q931.Message) {
	b, err := m.Encode(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.link.Send(b)
	f.settle()
}

// take returns the messages received since the last take, as
// "TYPE cause=N state=N" strings.
func (f *far) take() []string {
	var out []string
	for _, m := range f.got {
		s := m.Type.String()
		if ie, ok := m.Get(q931.IECause); ok {
			c, _ := q931.DecodeCause(ie.Data)
			s += fmt.Sprintf(" cause=%d", c.Value)
		}
		if ie, ok := m.Get(q931.IECallState); ok {
			s += fmt.Sprintf(" state=%d", ie.Data[0])
		}
		if ie, ok := m.Get(q931.IEChannelID); ok {
			c, _ := q931.DecodeChannel(ie.Data)
			s += fmt.Sprintf(" B%d", c.Number)
		}
		out = append(out, s)
	}
	f.got = nil
	return out
}

func (f *far) expect(want ...string) {
	f.t.Helper()
	if got := f.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Fatalf("far end got %q, want %q", got, want)
	}
}

// setup is a SETUP from the far end (its call reference, flag clear).
func setup(ref uint16, ch q931.Channel, called string, complete bool, ies ...q931.IE) q931.Message {
	m := q931.Message{CallRef: ref, CallRefLen: 2, Type: q931.Setup, IEs: []q931.IE{
		{ID: q931.IEBearerCapability, Data: q931.Bearer{Capability: q931.Speech, Layer1: q931.LayerALaw}.Encode()},
		{ID: q931.IEChannelID, Data: ch.Encode()},
		{ID: q931.IECalledNumber, Data: q931.Number{Plan: q931.PlanISDN, Digits: called}.Encode()},
	}}
	if complete {
		m.IEs = append(m.IEs, q931.IE{ID: q931.IESendingComplete})
	}
	m.IEs = append(m.IEs, ies...)
	return m
}

// theirs is a message on a call the far end made; ours on one we made.
func theirs(ref uint16, t q931.Type, ies ...q931.IE) q931.Message {
	return q931.Message{CallRef: ref, CallRefLen: 2, Type: t, IEs: ies}
}
func ours(ref uint16, t q931.Type, ies ...q931.IE) q931.Message {
	return q931.Message{CallRef: ref, CallRefLen: 2, Flag: true, Type: t, IEs: ies}
}

// incoming brings a far-end call to state 9 and returns it.
func (f *far) incoming(ref uint16, ch int) *Call {
	f.send(setup(ref, q931.Channel{Exclusive: true, Number: ch}, "100", true))
	f.expect(fmt.Sprintf("CALL PROCEEDING B%d", ch))
	return <-f.inc
}

// active brings a far-end call to Active.
func (f *far) active(ref uint16, ch int) *Call {
	c := f.incoming(ref, ch)
	go c.Answer()
	f.sent()
	f.expect("CONNECT")
	f.send(theirs(ref, q931.ConnectAck))
	return c
}

// dial places a call from the stack; its SETUP has reached the far end
// when dial returns, and its result comes on the channel.
func (f *far) dial() chan error {
	done := make(chan error, 1)
	go func() {
		_, err := f.s.Dial(context.Background(), "4008", "100")
		done <- err
	}()
	f.sent()
	return done
}

func causeOfErr(err error) int {
	var ce *CauseError
	if errors.As(err, &ce) {
		return int(ce.Cause)
	}
	return -1
}

func (f *far) channelState(ch int) string {
	for _, c := range f.s.Channels() {
		if c.Channel == ch {
			return c.State
		}
	}
	return "none"
}

func TestCallTimers(t *testing.T) {
	t.Run("T303: SETUP unanswered is sent again, then the call is cleared with 102", func(t *testing.T) {
		f := newFar(t, true, nil)
		done := f.dial()
		f.expect("SETUP B1")
		f.advance(T303)
		f.expect("SETUP B1")
		f.advance(T303)
		f.expect("RELEASE COMPLETE cause=102")
		if got := causeOfErr(<-done); got != 102 {
			t.Errorf("dial cause %d", got)
		}
		if f.channelState(1) != "idle" {
			t.Errorf("B1 %s", f.channelState(1))
		}
	})
	t.Run("T310: no answer after CALL PROCEEDING clears with DISCONNECT 102", func(t *testing.T) {
		f := newFar(t, true, nil)
		done := f.dial()
		f.take()
		f.send(ours(1, q931.CallProceeding))
		f.advance(T310)
		f.expect("DISCONNECT cause=102")
		if got := causeOfErr(<-done); got != 102 {
			t.Errorf("dial cause %d", got)
		}
	})
	t.Run("T305 then T308 twice: an unanswered DISCONNECT ends the call locally", func(t *testing.T) {
		f := newFar(t, false, nil)
		c := f.active(5, 2)
		c.Hangup()
		f.settle()
		f.expect("DISCONNECT cause=16")
		f.advance(T305)
		f.expect("RELEASE cause=102")
		f.advance(T308)
		f.expect("RELEASE cause=102")
		if f.channelState(2) == "idle" {
			t.Error("channel freed before the second T308")
		}
		f.advance(T308)
		if f.channelState(2) != "idle" {
			t.Errorf("B2 %s after T308 twice", f.channelState(2))
		}
	})
	t.Run("T313: CONNECT not acknowledged (user side)", func(t *testing.T) {
		f := newFar(t, false, nil)
		c := f.incoming(7, 3)
		go c.Answer()
		f.sent()
		f.expect("CONNECT")
		f.advance(T313)
		f.expect("DISCONNECT cause=102")
	})
	t.Run("T302: overlap receiving gives up on an incomplete number", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.send(setup(9, q931.Channel{Number: 3}, "1", false))
		f.expect("SETUP ACKNOWLEDGE B3")
		f.send(theirs(9, q931.Information, q931.IE{ID: q931.IECalledNumber, Data: q931.Number{Digits: "0"}.Encode()}))
		f.advance(T302)
		f.expect("DISCONNECT cause=28")
	})
}

func TestCallMessages(t *testing.T) {
	t.Run("STATUS ENQUIRY is answered with the call state", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.active(3, 1)
		f.send(theirs(3, q931.StatusEnquiry))
		f.expect("STATUS cause=30 state=10")
	})
	t.Run("STATUS saying the peer has no call clears ours", func(t *testing.T) {
		f := newFar(t, true, nil)
		c := f.active(3, 1)
		f.send(theirs(3, q931.Status, cause(q931.CauseWrongState), callState(Null)))
		if e := <-c.Events(); e.Kind != media.EventHangup {
			t.Errorf("event %+v", e)
		}
		if f.channelState(1) != "idle" {
			t.Errorf("B1 %s", f.channelState(1))
		}
	})
	t.Run("a message for no call gets RELEASE COMPLETE 81", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.send(theirs(77, q931.Disconnect, cause(16)))
		f.expect("RELEASE COMPLETE cause=81")
		f.send(theirs(78, q931.Release, cause(16)))
		f.expect("RELEASE COMPLETE cause=81")
		f.send(theirs(79, q931.ReleaseComplete))
		f.expect()
	})
	t.Run("a message the state does not allow gets STATUS 101; an unknown type 97", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.incoming(4, 2)
		f.send(theirs(4, q931.Alerting))
		f.expect("STATUS cause=101 state=9")
		f.send(theirs(4, q931.Type(0x33)))
		f.expect("STATUS cause=97 state=9")
	})
	t.Run("SETUP without bearer capability: 96; with unrestricted digital: 88", func(t *testing.T) {
		f := newFar(t, true, nil)
		m := setup(4, q931.Channel{Number: 2}, "100", true)
		m.IEs = m.IEs[1:]
		f.send(m)
		f.expect("RELEASE COMPLETE cause=96")
		m = setup(5, q931.Channel{Number: 2}, "100", true)
		m.IEs[0].Data = q931.Bearer{Capability: q931.Unrestricted}.Encode()
		f.send(m)
		f.expect("RELEASE COMPLETE cause=88")
	})
	t.Run("SETUP to an unallocated number: 1", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.send(setup(4, q931.Channel{Number: 2}, "999", true))
		f.expect("RELEASE COMPLETE cause=1")
	})
	t.Run("a busy channel: exclusive is refused with 44, preferred moves", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.incoming(1, 2)
		f.send(setup(2, q931.Channel{Exclusive: true, Number: 2}, "100", true))
		f.expect("RELEASE COMPLETE cause=44")
		f.send(setup(3, q931.Channel{Number: 2}, "100", true))
		f.expect("CALL PROCEEDING B1")
	})
	t.Run("glare on the network side: the network keeps its channel", func(t *testing.T) {
		f := newFar(t, true, nil)
		f.dial()
		f.expect("SETUP B1")
		f.send(setup(1, q931.Channel{Exclusive: true, Number: 1}, "100", true))
		f.expect("RELEASE COMPLETE cause=44")
	})
	t.Run("glare on the user side: the user yields and goes where the network says", func(t *testing.T) {
		f := newFar(t, false, nil)
		done := f.dial()
		f.expect("SETUP B31")
		f.send(setup(1, q931.Channel{Exclusive: true, Number: 31}, "100", true))
		f.expect("CALL PROCEEDING B31")
		f.send(ours(1, q931.CallProceeding, chanID(30)))
		f.send(ours(1, q931.Connect))
		f.expect("CONNECT ACKNOWLEDGE")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if f.channelState(30) != "Active" || f.channelState(31) != "IncomingCallProceeding" {
			t.Errorf("B30 %s, B31 %s", f.channelState(30), f.channelState(31))
		}
	})
	t.Run("RESTART of the interface clears every call and is acknowledged", func(t *testing.T) {
		f := newFar(t, false, nil)
		c1 := f.active(1, 1)
		f.incoming(2, 2)
		f.send(q931.Message{CallRefLen: 2, Type: q931.Restart, IEs: []q931.IE{{ID: q931.IERestartIndicator, Data: []byte{0x86}}}})
		f.expect("RESTART ACKNOWLEDGE")
		if e := <-c1.Events(); e.Kind != media.EventHangup {
			t.Errorf("event %+v", e)
		}
		for _, ch := range []int{1, 2} {
			if f.channelState(ch) != "idle" {
				t.Errorf("B%d %s", ch, f.channelState(ch))
			}
		}
	})
}

func TestDataLinkFailure(t *testing.T) {
	f := newFar(t, true, nil)
	active := f.active(1, 1)
	f.incoming(2, 2)
	f.cut = true
	f.advance(q921.DefaultT203 + 5*q921.DefaultT200)
	if f.s.LinkUp() {
		t.Fatal("link still up")
	}
	if f.channelState(2) != "idle" || f.channelState(1) != "Active" {
		t.Fatalf("after the link failed: B1 %s (want Active, T309), B2 %s (want idle)", f.channelState(1), f.channelState(2))
	}
	f.advance(T309)
	if f.channelState(1) != "idle" || active.Cause() != q931.CauseOutOfOrder {
		t.Errorf("after T309: B1 %s, cause %d", f.channelState(1), active.Cause())
	}
}

// A span that loses its signal (LOS, AIS) has no D-channel: the link is
// released at once, not after T203 + N200 × T200 as when frames are only
// lost; a call being set up is cleared (cause 41) and an active call waits
// T309 (Q.931 §5.8.8) then clears with cause 27. When the signal is back
// the stack establishes the link again (SABME) and takes calls.
func TestLayer1Loss(t *testing.T) {
	f := newFar(t, true, nil)
	active := f.active(1, 1)
	setting := f.incoming(2, 2)
	f.cut = true
	f.s.Layer1(false)
	f.s.do(func() {}) // the stack has taken it
	if f.s.LinkUp() {
		t.Fatal("link up after the span lost its signal")
	}
	if f.channelState(2) != "idle" || setting.Cause() != q931.CauseTemporaryFailure || f.channelState(1) != "Active" {
		t.Fatalf("at once: B1 %s (want Active, T309), B2 %s cause %d (want idle, 41)", f.channelState(1), f.channelState(2), setting.Cause())
	}
	f.s.Layer1(false) // the alarm persists: no change
	f.advance(T309 - time.Second)
	if f.channelState(1) != "Active" {
		t.Fatalf("B1 %s before T309", f.channelState(1))
	}
	f.advance(time.Second)
	if f.channelState(1) != "idle" || active.Cause() != q931.CauseOutOfOrder {
		t.Fatalf("after T309: B1 %s, cause %d", f.channelState(1), active.Cause())
	}
	f.cut = false
	f.link.Stop()
	f.link = q921.NewLink(q921.Config{Network: false, Clock: f.clk, Post: func(fn func()) { fn() },
		Send: func(fr q921.Frame) { b, _ := q921.Append(nil, fr, false); f.d.in <- b },
		Data: func(info []byte) { m, _ := q931.Decode(info); f.got = append(f.got, m) }})
	f.s.Layer1(true)
	f.sent() // SABME
	if !f.s.LinkUp() || !f.link.Up() {
		t.Fatal("the link did not come back with the signal")
	}
	f.take()
	f.incoming(3, 3)
}

// While the box is overloaded (short of CPU or memory) a new call is
// refused with cause 42, switching equipment congestion (Q.850), before a
// B-channel is taken; a call up is not touched, and once the load passes
// calls are taken again. The refused call's record names the number it
// called.
func TestOverloadedRefusesSetup(t *testing.T) {
	f := newFar(t, true, nil)
	up := f.active(1, 1)
	var over atomic.Bool
	over.Store(true)
	f.s.cfg.Overloaded = over.Load
	ended := make(chan *Call, 4)
	f.s.cfg.OnEnd = func(c *Call) { ended <- c }
	f.send(setup(2, q931.Channel{Exclusive: true, Number: 2}, "100", true))
	f.expect("RELEASE COMPLETE cause=42")
	if c := <-ended; c.Called != "100" || c.Cause() != q931.CauseCongestion || !c.Answered.IsZero() {
		t.Errorf("the refused call ended as %q cause %d answered %v, want 100, cause 42, never answered", c.Called, c.Cause(), c.Answered)
	}
	if f.channelState(2) != "idle" || f.channelState(1) != "Active" || up.Cause() != 0 {
		t.Errorf("B1 %s (want Active), B2 %s (want idle)", f.channelState(1), f.channelState(2))
	}
	over.Store(false)
	f.incoming(3, 2)
}
