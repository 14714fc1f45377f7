package acd

import (
	"strings"
	"testing"
	"time"

	"jinyin/internal/clock"
	"jinyin/store"
)

// agentTable is the agent state machine, every state by every event:
// the state after it, or - where the event cannot happen (the state
// stays). A state is presence.activity: O logged out, OP logged out with
// a pause set, R ready, P paused; i idle, r ringing, b busy, w wrap-up.
const agentTable = `
	state Login Logout Pause Unpause Offer Withdraw RingOut Answer Release Hangup WrapEnd
	O.i   R.i   O.i    OP.i  O.i     -     -        -       -      -       -      -
	O.r   R.r   O.r    OP.r  O.r     -     O.i      OP.i    O.b    O.i     -      -
	O.b   R.b   O.b    OP.b  O.b     -     -        -       -      -       O.w    -
	O.w   R.w   O.w    OP.w  O.w     -     -        -       -      -       -      O.i
	OP.i  R.i   OP.i   OP.i  O.i     -     -        -       -      -       -      -
	OP.r  R.r   OP.r   OP.r  O.r     -     OP.i     OP.i    OP.b   OP.i    -      -
	OP.b  R.b   OP.b   OP.b  O.b     -     -        -       -      -       OP.w   -
	OP.w  R.w   OP.w   OP.w  O.w     -     -        -       -      -       -      OP.i
	R.i   R.i   O.i    P.i   R.i     R.r   -        -       -      -       -      -
	R.r   R.r   O.r    P.r   R.r     -     R.i      P.i     R.b    R.i     -      -
	R.b   R.b   O.b    P.b   R.b     -     -        -       -      -       R.w    -
	R.w   R.w   O.w    P.w   R.w     -     -        -       -      -       -      R.i
	P.i   R.i   OP.i   P.i   R.i     -     -        -       -      -       -      -
	P.r   R.r   OP.r   P.r   R.r     -     P.i      P.i     P.b    P.i     -      -
	P.b   R.b   OP.b   P.b   R.b     -     -        -       -      -       P.w    -
	P.w   R.w   OP.w   P.w   R.w     -     -        -       -      -       -      P.i
`

func parseAgentState(t *testing.T, s string) agentState {
	t.Helper()
	p, a, _ := strings.Cut(s, ".")
	ps := map[string]presence{"O": loggedOut, "OP": loggedOutPaused, "R": ready, "P": paused}
	as := map[string]activity{"i": idle, "r": ringing, "b": busy, "w": wrapUp}
	pr, ok1 := ps[p]
	ac, ok2 := as[a]
	if !ok1 || !ok2 {
		t.Fatalf("bad state %q in the table", s)
	}
	return agentState{pr, ac}
}

func TestAgentTransitions(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(agentTable), "\n")
	header := strings.Fields(lines[0])[1:]
	if len(header) != len(agentEvents) {
		t.Fatalf("the table has %d events, the machine %d", len(header), len(agentEvents))
	}
	for i, e := range agentEvents {
		if header[i] != e.String() {
			t.Fatalf("column %d is %s, event %s", i, header[i], e)
		}
	}
	seen := map[agentState]bool{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		from := parseAgentState(t, f[0])
		seen[from] = true
		for i, e := range agentEvents {
			got, ok := from.on(e)
			switch want := f[i+1]; {
			case want == "-" && (ok || got != from):
				t.Errorf("%v on %v: %v, want refused", from, e, got)
			case want != "-" && (!ok || got != parseAgentState(t, want)):
				t.Errorf("%v on %v: %v (ok %v), want %s", from, e, got, ok, want)
			}
		}
	}
	if len(seen) != 16 {
		t.Errorf("the table has %d states, want all 16", len(seen))
	}
}

// do keeps a pause's reason and when the agent became idle (for
// longest-idle) with the transitions.
func TestAgentDoReasonAndIdleSince(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	d := &ACD{clk: clk}
	a := &agent{ext: "1001", idleSince: t0.Add(-time.Hour)}
	step := func(e agentEvent, reason string, wantReason string, idleNow bool) {
		t.Helper()
		clk.Advance(time.Minute)
		before := a.idleSince
		if !d.do(a, e, reason) {
			t.Fatalf("%v refused in %v", e, a.state)
		}
		if a.reason != wantReason {
			t.Errorf("after %v the reason is %q, want %q", e, a.reason, wantReason)
		}
		if want := map[bool]time.Time{true: clk.Now(), false: before}[idleNow]; !a.idleSince.Equal(want) {
			t.Errorf("after %v idle since %v, want %v", e, a.idleSince, want)
		}
	}
	step(evLogin, "", "", true)
	step(evPause, "lunch", "lunch", false)
	step(evLogout, "", "lunch", false) // the pause stays set, shown and stored
	step(evLogin, "", "", true)
	step(evOffer, "", "", false)
	step(evWithdraw, "", "", false) // the agent did not ring: still idle since before
	step(evOffer, "", "", false)
	step(evRingOut, "", "no-answer", false)
	step(evUnpause, "", "", true)
	step(evOffer, "", "", false)
	step(evRelease, "", "", true) // a callback's customer not reached
	step(evOffer, "", "", false)
	step(evAnswer, "", "", false)
	step(evHangup, "", "", false)
	step(evWrapEnd, "", "", true)
	if d.do(a, evWrapEnd, "") {
		t.Error("WrapEnd accepted when idle")
	}
}

// What is stored of an agent's state gives the same presence back after
// a restart; the phone starts idle.
func TestAgentStoredRestored(t *testing.T) {
	for _, c := range []struct {
		p    presence
		want store.AgentState
	}{
		{loggedOut, store.AgentState{}},
		{loggedOutPaused, store.AgentState{Paused: true, Reason: "r"}},
		{ready, store.AgentState{LoggedIn: true}},
		{paused, store.AgentState{LoggedIn: true, Paused: true, Reason: "r"}},
	} {
		a := &agent{state: agentState{c.p, busy}}
		if c.want.Paused {
			a.reason = "r"
		}
		if got := a.stored(); got != c.want {
			t.Errorf("%v stored as %+v, want %+v", c.p, got, c.want)
		}
		if got := restored(c.want); got != c.p {
			t.Errorf("%+v restored as %v, want %v", c.want, got, c.p)
		}
	}
}

// Agents' actions from many goroutines: the stored state is the state as
// it is once they are done (the last write wins with the last state, not
// a snapshot taken before another change), and -race sees no read of an
// agent's state outside the lock.
func TestAgentStoredStateIsTheLast(t *testing.T) {
	h := newHarness(t, "", "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			h.d.Pause("1001", "lunch")
			h.d.Unpause("1001")
		}
	}()
	for range 50 {
		h.d.Login("1001")
		h.d.Logout("1001")
	}
	<-done
	h.d.mu.Lock()
	want := h.d.agents["1001"].stored()
	h.d.mu.Unlock()
	states, err := h.db.AgentStates()
	if err != nil || states["1001"] != want {
		t.Errorf("stored %+v (%v), the agent is %+v", states["1001"], err, want)
	}
}
