package acd

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/store"
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

// A callback whose customer was being dialled when the box stopped (its
// attempt on disk, Dialling, no outcome) may have reached the customer:
// at the next start it is held for review and not dialled, though an
// agent is free; Resume sends it back to be dialled. Before each dial the
// store says Dialling; a failed dial clears it.
func TestCallbackCutShortIsHeldForReview(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, "", dir)
	h.d.Login("1001")
	cb, err := h.d.Book("general", "13800000008", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r := h.nextRing(t)
	r.answer <- newLine("agent")
	d := h.nextRing(t)
	if cbs, _ := h.db.Callbacks(); len(cbs) != 1 || !cbs[0].Dialling || cbs[0].Attempts != 1 {
		t.Fatalf("during the dial the store holds %+v, want attempt 1 dialling", cbs)
	}
	d.answer <- nil // no answer
	h.waitEvents(t, "callback-failed", 1)
	if cbs, _ := h.db.Callbacks(); len(cbs) != 1 || cbs[0].Dialling {
		t.Fatalf("after a failed dial the store holds %+v, want it no longer dialling", cbs)
	}
	h.close()

	// As a crash leaves it: dialling, its outcome lost.
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	cbs, _ := db.Callbacks()
	cbs[0].Dialling = true
	db.SaveCallback(cbs[0])
	db.Close()
	h = newHarness(t, "", dir)
	h.d.Login("1001")
	h.clk.Advance(10 * time.Minute) // past its retry delay
	h.noRing(t, "for a callback whose last dial was cut short")
	if cbs, _ := h.db.Callbacks(); len(cbs) != 1 || !cbs[0].Review || cbs[0].Dialling {
		t.Fatalf("after the restart the store holds %+v, want it in review", cbs)
	}
	if err := h.d.Resume("nothing"); !errors.Is(err, ErrNoCallback) {
		t.Errorf("Resume of no callback: %v", err)
	}
	if err := h.d.Resume(cb.ID); err != nil {
		t.Fatal(err)
	}
	if r := h.nextRing(t); r.who != "1001" || r.from != "13800000008" {
		t.Fatalf("after Resume rang %s from %s", r.who, r.from)
	}
	if err := h.d.Resume(cb.ID); err == nil {
		t.Error("resumed a callback no longer in review")
	}
}
