package pri

import (
	"context"
	"strings"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/pri/q931"
)

// TestAlertAndClear: an incoming call the box alerts goes to state 7
// (Call Received, Q.931 §5.2.7) with ALERTING sent; clearing it with a
// cause sends DISCONNECT with that cause, and the far end's RELEASE
// frees the B-channel (§5.3.3).
func TestAlertAndClear(t *testing.T) {
	f := newFar(t, true, nil)
	c := f.incoming(1, 3)
	c.Alert()
	f.sent()
	f.expect("ALERTING")
	f.send(theirs(1, q931.StatusEnquiry))
	f.expect("STATUS cause=30 state=7")
	c.HangupCause(q931.CauseBusy)
	f.sent()
	f.expect("DISCONNECT cause=17")
	f.send(theirs(1, q931.Release))
	f.expect("RELEASE COMPLETE")
	if f.channelState(3) != "idle" {
		t.Errorf("B3 after the release: %s", f.channelState(3))
	}
	if e := <-c.Events(); e.Kind != media.EventHangup {
		t.Errorf("the call's event: %+v", e)
	}
}

// TestRestartByTheBox: the box's RESTART of one B-channel clears the call
// on it, is sent again once T316 (2 min) passes unacknowledged, and a
// channel not in service is refused without a message.
func TestRestartByTheBox(t *testing.T) {
	f := newFar(t, true, nil)
	c := f.active(1, 2)
	done := make(chan error, 1)
	go func() { done <- f.s.Restart(2) }()
	f.sent()
	f.expect("RESTART B2")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e := <-c.Events(); e.Kind != media.EventHangup {
		t.Errorf("the call on B2: %+v", e)
	}
	f.advance(2*time.Minute + 200*time.Millisecond)
	f.expect("RESTART B2")
	f.send(q931.Message{CallRefLen: 2, Flag: true, Type: q931.RestartAck, IEs: []q931.IE{chanID(2), {ID: q931.IERestartIndicator, Data: []byte{0x80}}}})
	f.advance(3 * time.Minute)
	f.expect()
	if err := f.s.Restart(16); err == nil {
		t.Error("RESTART of the D-channel's timeslot accepted")
	}
	f.expect()
}

// TestUnknownCallReferences: §5.8.3 for a call reference not in use: a
// STATUS ENQUIRY is answered STATUS 30 in state 0 (Null); a STATUS saying
// Null needs no answer.
func TestUnknownCallReferences(t *testing.T) {
	f := newFar(t, true, nil)
	f.send(theirs(40, q931.StatusEnquiry))
	f.expect("STATUS cause=30 state=0")
	f.send(theirs(41, q931.Status, cause(q931.CauseNormalUnspecified), callState(Null)))
	f.expect()
}

func TestCauseErrorNamesTheCause(t *testing.T) {
	if got := (&CauseError{Cause: 17}).Error(); got != "pri: call cleared, cause 17 (user busy)" {
		t.Errorf("%q", got)
	}
}

// TestOutgoingCallRefused: the box's call, proceeding then alerting, is
// cleared by the far end with cause 17: the dial returns that cause, the
// box answers DISCONNECT with RELEASE (§5.3.4); a channel the network
// assigns that is not in service is refused with 6 (channel unacceptable).
func TestOutgoingCallRefused(t *testing.T) {
	f := newFar(t, true, nil)
	done := f.dial()
	f.expect("SETUP B1")
	f.send(ours(1, q931.CallProceeding, chanID(1)))
	f.send(ours(1, q931.ProgressMsg))
	f.send(ours(1, q931.Alerting))
	f.send(theirs(1, q931.StatusEnquiry)) // the far end's own call 1: none
	f.expect("STATUS cause=30 state=0")
	f.send(ours(1, q931.StatusEnquiry))
	f.expect("STATUS cause=30 state=4")
	f.send(ours(1, q931.Disconnect, cause(q931.CauseBusy)))
	f.expect("RELEASE cause=16") // the cause is optional in RELEASE here (§5.3.4); the box gives normal clearing
	if got := causeOfErr(<-done); got != int(q931.CauseBusy) {
		t.Errorf("dial cleared with cause %d, want 17", got)
	}
	f.send(ours(1, q931.ReleaseComplete))

	g := newFar(t, false, nil)
	done = g.dial()
	g.expect("SETUP B31")
	g.send(ours(1, q931.CallProceeding, chanID(16)))
	g.expect("DISCONNECT cause=6")
	g.send(ours(1, q931.Release))
	g.expect("RELEASE COMPLETE")
	if got := causeOfErr(<-done); got != 6 {
		t.Errorf("dial with the D-channel's timeslot assigned: cause %d, want 6", got)
	}
}

// TestTraceOnAndOff: with the trace on, a SETUP and the box's answer are
// shown decoded (as the console's "pri debug" shows them); off, nothing.
func TestTraceOnAndOff(t *testing.T) {
	f := newFar(t, true, nil)
	var lines []string
	f.s.SetTrace(func(l string) { lines = append(lines, l) })
	f.incoming(1, 3)
	f.s.SetTrace(nil)
	text := strings.Join(lines, "\n")
	for _, want := range []string{"< q931 SETUP, call ref 1 (from originator)", "Called Party Number: \"100\"", "> q931 CALL PROCEEDING, call ref 1 (to originator)", "exclusive B3"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
	n := len(lines)
	f.incoming(2, 2)
	if len(lines) != n {
		t.Errorf("traced %d lines after the trace was turned off", len(lines)-n)
	}
}

// TestListen: an answered call's received audio can be taken as a source
// (for bridging and recording): one frame per Fill, silence while the
// B-channel carries none.
func TestListen(t *testing.T) {
	f := newFar(t, true, nil)
	c := f.active(1, 1)
	src := c.Listen()
	buf := make([]int16, media.FrameSamples)
	if n := src.Fill(buf); n != media.FrameSamples {
		t.Errorf("Fill gave %d samples, want a frame of %d", n, media.FrameSamples)
	}
	for _, v := range buf {
		if v != 0 {
			t.Fatalf("heard %d on a silent B-channel", v)
		}
	}
}

// TestDialGivenUp: a caller who gives up while the box's SETUP is
// unanswered (state 1, Call Initiated) clears it with DISCONNECT, normal
// clearing (16), which §5.3.2 allows in that state; the far end's RELEASE
// ends it.
func TestDialGivenUp(t *testing.T) {
	f := newFar(t, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.s.Dial(ctx, "4008", "100")
		done <- err
	}()
	f.sent()
	f.expect("SETUP B1")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the dial went on after its caller gave up")
	}
	f.sent()
	f.expect("DISCONNECT cause=16")
	f.send(ours(1, q931.Release))
	f.expect("RELEASE COMPLETE")
	if f.channelState(1) != "idle" {
		t.Errorf("B1 %s", f.channelState(1))
	}
}
