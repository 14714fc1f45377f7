package acd

import (
	"errors"
	"maps"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/store"
)

// connectCall runs Connect for a person a campaign called (2 s to find an
// agent) in its own goroutine.
func (h *harness) connectCall() (*line, chan error) {
	l := newLine("camp")
	done := make(chan error, 1)
	go func() {
		_, err := h.d.Connect(l, "general", Caller{Call: "camp", Number: "13800000001", Within: 2 * time.Second})
		done <- err
	}()
	return l, done
}

// wantConnect waits for Connect to return the error want.
func wantConnect(t *testing.T, done chan error, want error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, want) {
			t.Fatalf("Connect: %v, want %v", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Connect not %s", what)
	}
}

func waitRingStopped(t *testing.T, r *ring) {
	t.Helper()
	select {
	case <-r.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the agent's phone still rings")
	}
}

// played is how many Plays the line got.
func (l *line) played() media.PlayID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.plays
}

// A person a campaign called whose agent rings past Within is given up:
// Connect says so, the ring stops, the agent is not paused for it (the
// box gave up, the agent did not ring out), the caller heard no hold
// prompt, and the abandon is a queue event with its reason.
func TestConnectGivesUpAfterWithin(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	l, done := h.connectCall()
	r := h.nextRing(t)
	h.clk.Advance(2*time.Second - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("given up before 2 s: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	h.clk.Advance(time.Millisecond)
	wantConnect(t, done, ErrNoAgentInTime, "given up at 2 s")
	waitRingStopped(t, r)
	h.waitAgent(t, "1001", idle)
	if _, paused, _ := h.agentState("1001"); paused {
		t.Error("the agent was paused for a ring the box gave up")
	}
	if plays := l.played(); plays != 0 {
		t.Errorf("the campaign's callee was played %d prompts while an agent was sought", plays)
	}
	ab := h.waitEvents(t, store.QueueAbandon, 1)
	if ab[0].Reason != "no agent within 2s" || ab[0].Caller != "13800000001" {
		t.Errorf("abandon %+v", ab[0])
	}
}

// An agent who refuses a campaign's callee at once (busy): the callee,
// back in the queue, still hears no hold prompt, and is given up at 2 s.
func TestConnectAgentRefusesNoHoldPrompt(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	l, done := h.connectCall()
	h.nextRing(t).answer <- nil // refused
	h.waitFor(t, "the callee back in the queue", func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		return h.d.queues["general"].waiting.len() == 1
	})
	h.clk.Advance(2 * time.Second)
	wantConnect(t, done, ErrNoAgentInTime, "given up at 2 s")
	if plays := l.played(); plays != 0 {
		t.Errorf("the campaign's callee was played %d prompts after the agent refused", plays)
	}
}

// A campaign's callee goes before a caller who has waited (an hour's head
// start), the agent's status shows the contact's data while they talk,
// and Connect reports the agent's time: talk and the queue's 10 s wrap-up.
func TestConnectGoesFirstAndShowsTheData(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	h.dl.mu.Lock()
	h.dl.registered["-1001"] = true // the agent's phone away: both wait
	h.dl.mu.Unlock()
	_, inDone := h.waitCall("general", Caller{Call: "in", Number: "13900000000"})
	h.waitWaiting(t, "general", 1)
	h.clk.Advance(10 * time.Minute)
	l := newLine("camp")
	data := map[string]string{"name": "Li", "order": "A-17"}
	type result struct {
		handled time.Duration
		err     error
	}
	done := make(chan result, 1)
	go func() {
		handled, err := h.d.Connect(l, "general", Caller{Call: "camp", Number: "13800000001", Within: 2 * time.Second, Data: data})
		done <- result{handled, err}
	}()
	h.waitWaiting(t, "general", 2)
	h.dl.mu.Lock()
	h.dl.registered["-1001"] = false
	h.dl.mu.Unlock()
	h.d.match()
	r := h.nextRing(t)
	if r.from != "13800000001" {
		t.Fatalf("the agent rang for %q, want the campaign's callee first", r.from)
	}
	agentLine := newLine("agent")
	r.answer <- agentLine
	h.waitAgent(t, "1001", busy)
	for _, a := range h.d.Status().Agents {
		if a.Ext == "1001" && (a.Caller != "13800000001" || !maps.Equal(a.Data, data)) {
			t.Errorf("the agent's status %+v, want the contact and its data", a)
		}
	}
	h.clk.Advance(45 * time.Second)
	l.farHangup()
	select {
	case res := <-done:
		if res.err != nil || res.handled != 55*time.Second {
			t.Errorf("Connect: %v, %v; want 45 s of talk and 10 s of wrap-up", res.handled, res.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Connect did not return after the callee hung up")
	}
	for _, a := range h.d.Status().Agents {
		if a.Ext == "1001" && (a.Caller != "" || a.Data != nil) {
			t.Errorf("after the call the agent's status %+v still shows it", a)
		}
	}
	h.clk.Advance(10 * time.Second) // wrap-up over: the waiting caller's turn
	h.nextRing(t).answer <- nil
	h.clk.Advance(time.Hour)
	select {
	case <-inDone:
	case <-time.After(100 * time.Millisecond):
	}
}

// Staff counts a queue's agents free to take a call, and those on one;
// paused, logged-out and unregistered agents are neither.
func TestStaff(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002", "1003")
	h.d.mu.Lock()
	h.d.agents["1002"].state.activity = wrapUp
	h.d.mu.Unlock()
	if free, busy := h.d.Staff("general"); free != 2 || busy != 1 {
		t.Errorf("general: %d free %d busy, want 2 and 1", free, busy)
	}
	h.d.Pause("1003", "")
	h.dl.mu.Lock()
	h.dl.registered["-1001"] = true
	h.dl.mu.Unlock()
	if free, busy := h.d.Staff("general"); free != 0 || busy != 1 {
		t.Errorf("general with 1003 paused and 1001 away: %d free %d busy, want 0 and 1", free, busy)
	}
	if free, busy := h.d.Staff("sales"); free != 0 || busy != 1 {
		t.Errorf("sales (1002): %d free %d busy", free, busy)
	}
	if free, busy := h.d.Staff("nope"); free != 0 || busy != 0 {
		t.Errorf("no such queue: %d %d", free, busy)
	}
	// A person a campaign called, waiting, takes the next free agent: it
	// is not free for another call. A caller who chose to wait is not
	// counted so (the campaign's callee goes first).
	h.d.Unpause("1003")
	if _, err := h.d.join("general", Caller{Call: "in", Number: "139"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.d.join("general", Caller{Call: "camp", Number: "138", Within: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if free, busy := h.d.Staff("general"); free != 0 || busy != 1 {
		t.Errorf("general with 1003 free and a campaign's callee waiting: %d free %d busy, want 0 and 1", free, busy)
	}
}

// A person a campaign called who hangs up while the agent rings: Connect
// says so (an error, not a call served), and the agent is freed.
func TestConnectCallerLeft(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	l, done := h.connectCall()
	r := h.nextRing(t)
	l.farHangup()
	wantConnect(t, done, ErrCallerLeft, "returned after the person hung up")
	waitRingStopped(t, r)
	h.waitAgent(t, "1001", idle)
}
