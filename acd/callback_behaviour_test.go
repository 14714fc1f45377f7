package acd

import (
	"testing"
	"time"

	"jinyin/media"
)

// stillRinging reports whether a ring or dial is still going on, waiting up to
// 50 ms of real time for it to end.
func stillRinging(r *ring) bool {
	select {
	case <-r.ctx.Done():
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

// ended waits (bounded) for a ring or dial to end.
func ended(t *testing.T, r *ring, what string) {
	t.Helper()
	select {
	case <-r.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the dial goes on", what)
	}
}

// A callback's customer rings twice as long as an agent does (the
// general queue rings agents 15 s): the dial goes on through the agent's
// prompt and digits, and ends at 30 s.
func TestCallbackCustomerRingsTwiceTheAgentsTime(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	if _, err := h.d.Book("general", "13800000008", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	r := h.nextRing(t)
	agentLine := newLine("agent")
	r.answer <- agentLine // the agent hears the callback prompt: a play-done event
	d := h.nextRing(t)
	if d.who != "dial:13800000008" {
		t.Fatalf("dialled %s", d.who)
	}
	agentLine.events <- media.Event{Kind: media.EventDigit, Digit: '1'}
	h.waitFor(t, "the agent's events read", func() bool { return len(agentLine.events) == 0 })
	h.clk.Advance(29 * time.Second)
	if !stillRinging(d) {
		t.Fatal("the customer's dial ended before twice the agent's ring time")
	}
	h.clk.Advance(time.Second)
	ended(t, d, "at 30 s")
	h.waitAgent(t, "1001", idle)
	if f := h.waitEvents(t, "callback-failed", 1); f[0].Value != 1 || f[0].Agent != "1001" {
		t.Errorf("callback-failed %+v", f)
	}
}

// The agent hanging up while the customer rings stops the dial.
func TestCallbackAgentHangupStopsTheDial(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	if _, err := h.d.Book("general", "13800000009", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	r := h.nextRing(t)
	agentLine := newLine("agent")
	r.answer <- agentLine
	d := h.nextRing(t)
	if !stillRinging(d) {
		t.Fatal("the dial ended with the agent on the line")
	}
	agentLine.farHangup()
	ended(t, d, "after the agent hung up")
}

// A callback answered after its promise is not on time (Value 0); the
// answered callback is no longer stored.
func TestCallbackAnsweredLate(t *testing.T) {
	h := newHarness(t, "", "")
	if _, err := h.d.Book("general", "13800000010", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Hour + time.Second) // the promise is an hour
	h.d.Login("1001")
	r := h.nextRing(t)
	r.answer <- newLine("agent")
	d := h.nextRing(t)
	cust := newLine("customer")
	d.answer <- cust
	h.waitAgent(t, "1001", busy)
	if a := h.waitEvents(t, "callback-answered", 1); a[0].Value != 0 || a[0].Wait != time.Hour+time.Second {
		t.Errorf("callback-answered %+v, want Value 0 (late), Wait 1h0m1s", a)
	}
	if cbs, _ := h.db.Callbacks(); len(cbs) != 0 {
		t.Errorf("answered callback still stored: %+v", cbs)
	}
	cust.farHangup()
	h.waitAgent(t, "1001", wrapUp)
}
