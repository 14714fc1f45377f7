package acd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/store"
)

// Status counts each member of a queue once, in the first that applies:
// logged out, paused, phone not registered, on a call (ringing, busy or
// wrap-up), available; and the callers and callbacks waiting, with the
// longest wait.
func TestStatusCounts(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	h.d.Login("1002")
	h.d.Login("1003")
	h.d.Pause("1002", "")
	h.d.mu.Lock()
	h.d.agents["1003"].state.activity = wrapUp
	h.d.mu.Unlock()
	h.joinAt(t, "general", "a", "")
	h.clk.Advance(9 * time.Second) // a has waited 10 s
	h.joinAt(t, "general", "b", "")
	h.dl.mu.Lock()
	h.dl.registered["-1001"] = true
	h.dl.mu.Unlock()
	st := h.d.Status()
	i := slices.IndexFunc(st.Queues, func(q QueueStatus) bool { return q.Name == "general" })
	if i < 0 {
		t.Fatalf("no general queue in %+v", st.Queues)
	}
	g := st.Queues[i]
	want := QueueStatus{Name: "general", Waiting: 2, Callbacks: 0, LongestWait: 11 * time.Second, Busy: 1, WrapUp: 1, Paused: 1,
		PausedFor: map[string]int{"break": 1}, NoPhone: 1}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("general %+v, want %+v", g, want)
	}
	if names := []string{st.Queues[0].Name, st.Queues[1].Name, st.Queues[2].Name, st.Queues[3].Name}; !slices.IsSorted(names) {
		t.Errorf("queues not by name: %v", names)
	}
	if len(st.Agents) != 3 {
		t.Fatalf("agents %+v", st.Agents)
	}
	if a := st.Agents[1]; a.Ext != "1002" || !a.LoggedIn || !a.Paused || a.Reason != "break" || a.State != "idle" || !a.Registered {
		t.Errorf("1002 %+v", a)
	}
	if a := st.Agents[0]; a.Ext != "1001" || a.Registered {
		t.Errorf("1001 %+v", a)
	}
	if a := st.Agents[2]; a.State != "wrap-up" || a.Paused {
		t.Errorf("1003 %+v", a)
	}
	h.d.Logout("1002")
	st = h.d.Status()
	g = st.Queues[slices.IndexFunc(st.Queues, func(q QueueStatus) bool { return q.Name == "general" })]
	if g.LoggedOut != 1 || g.Paused != 0 {
		t.Errorf("after 1002 logged out: %+v", g)
	}
}

// A callback waiting is counted as one.
func TestStatusCountsCallbacks(t *testing.T) {
	h := newHarness(t, "", "")
	if _, err := h.d.Book("general", "13800000003", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(4 * time.Second)
	st := h.d.Status()
	g := st.Queues[slices.IndexFunc(st.Queues, func(q QueueStatus) bool { return q.Name == "general" })]
	if g.Waiting != 1 || g.Callbacks != 1 || g.LongestWait != 4*time.Second || g.LoggedOut != 3 {
		t.Errorf("general %+v", g)
	}
}

// The estimated wait is the position times the average of the recent
// talk times (3 minutes before any), shared among the agents logged in
// and not paused; the position counts those served before.
func TestPositionAndEstimate(t *testing.T) {
	h := newHarness(t, "", "")
	q := h.d.queues["general"]
	a := h.joinAt(t, "general", "a", "")
	b := h.joinAt(t, "general", "b", "")
	k := h.joinAt(t, "general", "k", "key-account")
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	if pa, pb, pk := h.d.position(a), h.d.position(b), h.d.position(k); pa != 2 || pb != 3 || pk != 1 {
		t.Errorf("positions a %d b %d key %d, want 2 3 1", pa, pb, pk)
	}
	if e := h.d.estimate(q, 2); e != 6*time.Minute {
		t.Errorf("estimate at 2 with no agent and no talk: %v, want 6m", e)
	}
	h.d.agents["1001"].state.presence = ready
	h.d.agents["1002"].state.presence = ready
	h.d.agents["1003"].state.presence = paused
	if e := h.d.estimate(q, 2); e != 3*time.Minute {
		t.Errorf("estimate at 2 with 2 agents: %v, want 3m", e)
	}
	q.handle[0], q.handle[1], q.handles = time.Minute, 3*time.Minute, 2
	if e := h.d.estimate(q, 3); e != 3*time.Minute {
		t.Errorf("estimate at 3 with 2 agents, talk 1m and 3m: %v, want 3m", e)
	}
	for i := range q.handle {
		q.handle[i] = 40 * time.Second
	}
	q.handles = 25 // the ring of the last 20 has wrapped
	if e := h.d.estimate(q, 1); e != 20*time.Second {
		t.Errorf("estimate at 1 over the last 20 calls of 40 s, 2 agents: %v, want 20s", e)
	}
}

// completed keeps the talk times for the estimate, the agent's calls and
// talk, and wraps up for the queue's wrap_up before the agent is idle.
func TestCompletedWrapsUp(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	e := h.joinAt(t, "general", "c", "")
	h.d.mu.Lock()
	got, as := h.d.next(nil)
	h.d.mu.Unlock()
	if got != e || len(as) != 1 {
		t.Fatalf("offered %v to %v", got, as)
	}
	a := as[0]
	h.d.connected(e, a, h.clk.Now())
	h.d.completed(e, a, 70*time.Second, "caller")
	h.d.mu.Lock()
	if a.calls != 1 || a.talk != 70*time.Second || a.state.activity != wrapUp || e.q.handles != 1 || e.q.handle[0] != 70*time.Second {
		t.Errorf("after the call: calls %d talk %v state %v handles %d %v", a.calls, a.talk, a.state, e.q.handles, e.q.handle[0])
	}
	h.d.mu.Unlock()
	h.clk.Advance(10*time.Second - time.Millisecond)
	if s, _, _ := h.agentState("1001"); s != wrapUp {
		t.Errorf("1001 %v before the 10 s wrap-up is over", s)
	}
	h.clk.Advance(time.Millisecond)
	if s, _, _ := h.agentState("1001"); s != idle {
		t.Errorf("1001 %v after wrap-up", s)
	}
	h.d.mu.Lock()
	since := a.idleSince
	h.d.mu.Unlock()
	if !since.Equal(h.clk.Now()) {
		t.Errorf("idle since %v, want the end of wrap-up %v", since, h.clk.Now())
	}
	if c := h.waitEvents(t, store.QueueComplete, 1); len(c) != 1 || c[0].Talk != 70*time.Second || c[0].Reason != "caller" || c[0].Agent != "1001" || c[0].Queue != "general" {
		t.Errorf("complete %+v", c)
	}
}

// waitEvents waits (in real time, bounded) until n events of kind are
// stored: the recorder commits on its own goroutine.
func (h *harness) waitEvents(t *testing.T, kind store.QueueKind, n int) []store.QueueEvent {
	t.Helper()
	var evs []store.QueueEvent
	h.waitFor(t, fmt.Sprintf("%d %s events", n, kind), func() bool {
		all, _ := h.db.QueueEvents(0, 10000)
		evs = evs[:0]
		for _, e := range all {
			if e.Kind == kind {
				evs = append(evs, e)
			}
		}
		return len(evs) >= n
	})
	return evs
}

// The caller keys an hour from 8 to 20 and #: the next time that hour
// comes; any other answer, or none, is "when my turn comes" (zero).
func TestAskWhenHours(t *testing.T) {
	for _, c := range []struct {
		keys string
		want time.Time // zero: when the turn comes
	}{
		{"8#", time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		{"20#", time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)},
		{"10#", time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}, // 10:00 now: not after now
		{"11#", time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)},
		{"7#", time.Time{}},
		{"21#", time.Time{}},
		{"1#", time.Time{}},
		{"#", time.Time{}},
		{"0011#", time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)},
	} {
		h := newHarness(t, "", "")
		h.d.loc = time.UTC
		l := newLine("c")
		w := &waiter{d: h.d, ch: l, e: &entry{}, c: Caller{Lang: "zh"}}
		for _, d := range []byte(c.keys) {
			l.press(d)
		}
		at, err := w.askWhen()
		if err != nil || !at.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v", c.keys, at, err, c.want)
		}
	}
}

// No key within 5 s of the question's end is "when my turn comes"; a key
// restarts the 5 s; hanging up is an error.
func TestAskWhenTimeoutAndHangup(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.loc = time.UTC
	var armed atomic.Int32
	h.d.clk = armCounter{h.clk, &armed}
	l := newLine("c")
	w := &waiter{d: h.d, ch: l, e: &entry{}, c: Caller{Lang: "zh"}}
	res := make(chan time.Time, 1)
	go func() { at, _ := w.askWhen(); res <- at }()
	l.press('1')
	l.press('5')
	// armed at the question's end, and again at each key
	h.waitFor(t, "the timer armed at the last key", func() bool { return armed.Load() == 3 })
	h.clk.Advance(callbackKeyWait - time.Millisecond)
	select {
	case at := <-res:
		t.Fatalf("answered %v before the 5 s were over", at)
	case <-time.After(50 * time.Millisecond):
	}
	h.clk.Advance(time.Millisecond)
	select {
	case at := <-res:
		if want := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC); !at.Equal(want) {
			t.Errorf("after the timeout: %v, want %v (15 keyed)", at, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after the 5 s")
	}
	l2 := newLine("d")
	w.ch = l2
	l2.farHangup()
	if _, err := w.askWhen(); err == nil {
		t.Error("hanging up while choosing is not an error")
	}
}

// armCounter counts the timers armed on a fake clock.
type armCounter struct {
	*clock.Fake
	n *atomic.Int32
}

func (c armCounter) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Fake.AfterFunc(d, f)
	c.n.Add(1)
	return t
}

// A callback whose customer does not answer is retried after the retry
// delay, callback_retries times, then given up: deleted, with a
// callback-failed event saying so.
func TestCallbackGivenUpAfterRetries(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	if _, err := h.d.Book("general", "13800000004", "vip", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		r := h.nextRing(t)
		if r.who != "1001" || r.from != "13800000004" {
			t.Fatalf("attempt %d rang %s from %s", attempt, r.who, r.from)
		}
		r.answer <- newLine("agent")
		d := h.nextRing(t)
		if d.who != "dial:13800000004" {
			t.Fatalf("attempt %d dialled %s", attempt, d.who)
		}
		d.answer <- nil
		h.waitAgent(t, "1001", idle)
		if attempt == 1 {
			h.noRing(t, "before the retry delay")
			h.clk.Advance(time.Minute)
		}
	}
	h.noRing(t, "after the last retry")
	h.clk.Advance(time.Hour)
	h.noRing(t, "an hour after the callback was given up")
	if cbs, _ := h.db.Callbacks(); len(cbs) != 0 {
		t.Errorf("callback still stored: %+v", cbs)
	}
	f := h.waitEvents(t, store.QueueCallbackFailed, 3)
	if len(f) != 3 || f[2].Reason != "no answer after retries" || f[2].Value != 2 || f[0].Value != 1 || f[0].Agent != "1001" {
		t.Errorf("callback-failed %+v", f)
	}
	if r := h.waitEvents(t, store.QueueCallbackRequested, 1); len(r) != 1 || r[0].Tier != "vip" || r[0].Caller != "13800000004" {
		t.Errorf("callback-requested %+v", r)
	}
}

// Book stores the callback with its place and promise: now, or the
// window's opening; a number with anything but digits and + is refused,
// as is an unknown queue, and any beyond the most the box keeps waiting.
func TestBookStoresPlaceAndPromise(t *testing.T) {
	h := newHarness(t, "", "")
	now := h.clk.Now()
	cb, err := h.d.Book("general", "+8613800000005", "key-account", time.Time{})
	if err != nil || !cb.Joined.Equal(now) || !cb.Requested.Equal(now) || !cb.Promised.Equal(now.Add(time.Hour)) || cb.Tier != "key-account" {
		t.Errorf("booked now: %+v %v", cb, err)
	}
	at := now.Add(2 * time.Hour)
	cb, err = h.d.Book("general", "13800000006", "", at)
	if err != nil || !cb.Joined.Equal(at) || !cb.Promised.Equal(at.Add(time.Hour)) || !cb.NotBefore.Equal(at) {
		t.Errorf("booked for a window: %+v %v", cb, err)
	}
	if _, err := h.d.Book("nope", "1", "", time.Time{}); !errors.Is(err, ErrNoQueue) {
		t.Errorf("unknown queue: %v", err)
	}
	for _, n := range []string{"", "138-0000", "call me"} {
		if _, err := h.d.Book("general", n, "", time.Time{}); err == nil {
			t.Errorf("%q booked", n)
		}
	}
	if cbs, _ := h.db.Callbacks(); len(cbs) != 2 {
		t.Errorf("stored %+v", cbs)
	}
	h.d.mu.Lock()
	n := h.d.queues["general"].waiting.len()
	h.d.mu.Unlock()
	if n != 1 {
		t.Errorf("%d waiting, want 1 (the other waits for its window)", n)
	}
	// Two wait now; with room for three, one more is booked, then none.
	defer func(n int) { maxCallbacks = n }(maxCallbacks)
	maxCallbacks = 3
	if _, err := h.d.Book("general", "13800000007", "", at); err != nil {
		t.Errorf("the third callback: %v", err)
	}
	if _, err := h.d.Book("general", "13800000008", "", at); !errors.Is(err, ErrCallbacksFull) {
		t.Errorf("a fourth callback with room for three: %v", err)
	}
}

// The heap gives its entries best first (highest key, then who joined
// first, then the lower id) after any pushes and removals.
func TestHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h heap
	var all []*entry
	t0 := time.Unix(1e9, 0)
	for i := range 200 {
		e := &entry{id: uint64(i), key: int64(rng.IntN(20)), joined: t0.Add(time.Duration(rng.IntN(5)) * time.Second), idx: -1}
		all = append(all, e)
		h.push(e)
	}
	h.push(all[0]) // already in: nothing changes
	for i := 0; i < len(all); i += 3 {
		h.remove(all[i])
		if all[i].idx != -1 {
			t.Fatalf("entry %d removed keeps index %d", i, all[i].idx)
		}
	}
	h.remove(all[0]) // not in: nothing changes
	if h.len() != 200-67 {
		t.Fatalf("%d left, want %d", h.len(), 200-67)
	}
	var got []*entry
	for h.len() > 0 {
		e := h.top()
		got = append(got, e)
		h.remove(e)
	}
	if h.top() != nil {
		t.Error("top of an empty heap")
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.key < b.key || a.key == b.key && better(b, a) {
			t.Fatalf("%d (key %d joined %v id %d) before %d (key %d joined %v id %d)", i-1, a.key, a.joined, a.id, i, b.key, b.joined, b.id)
		}
	}
}

// A caller asked for an agent scores a minute more with that agent; a
// tier adds its weight and a queue its priority, in seconds of waiting.
func TestScoreWeights(t *testing.T) {
	h := newHarness(t, "", "")
	joined := time.Unix(1e9, 0)
	g, c := h.d.queues["general"], h.d.queues["complaints"]
	if k := h.d.key(g, "", joined); k != -joined.UnixMilli() {
		t.Errorf("key %d", k)
	}
	if k := h.d.key(c, "key-account", joined); k != (300+120)*1000-joined.UnixMilli() {
		t.Errorf("key with tier and priority %d", k)
	}
	a1, a2 := h.d.agents["1001"], h.d.agents["1002"]
	e := &entry{q: g, key: 0, preferred: a1}
	if s1, s2 := h.d.pairScore(e, a1), h.d.pairScore(e, a2); s1 != 5*levelWeight+preferredWeight || s2 != 5*levelWeight {
		t.Errorf("scores %d %d", s1, s2)
	}
	e = &entry{q: g, only: a2}
	if s := h.d.pairScore(e, a2); s != 5*levelWeight+preferredWeight {
		t.Errorf("score for the agent held for %d", s)
	}
}

// A queue's settings left out take their defaults; those given are kept;
// members are the agents among its extensions, level 5 unless given.
func TestQueueDefaults(t *testing.T) {
	h := newHarness(t, "", "")
	g, c, s := h.d.queues["general"], h.d.queues["complaints"], h.d.queues["sales"]
	if g.ring != 15*time.Second || g.wrapUp != 10*time.Second || g.retry != time.Minute || g.cfg.CallbackRetries != 1 {
		t.Errorf("general as configured: ring %v wrap-up %v retry %v retries %d", g.ring, g.wrapUp, g.retry, g.cfg.CallbackRetries)
	}
	if c.ring != 20*time.Second || c.every != 30*time.Second || c.retry != 5*time.Minute || c.promise != time.Hour || c.cfg.CallbackRetries != 2 ||
		c.maxWait != 2*time.Minute || c.overAt != 0 {
		t.Errorf("complaints' defaults: ring %v announce %v retry %v promise %v retries %d max wait %v overflow %v",
			c.ring, c.every, c.retry, c.promise, c.cfg.CallbackRetries, c.maxWait, c.overAt)
	}
	if s.overAt != 30*time.Second || s.maxWait != 0 {
		t.Errorf("sales: overflow after %v, max wait %v", s.overAt, s.maxWait)
	}
	a2 := h.d.agents["1002"]
	if len(s.members) != 1 || s.members[0] != a2 || s.levels[a2] != 9 || g.levels[a2] != 5 || len(g.members) != 3 {
		t.Errorf("sales members %v levels %v; general level of 1002 %d", s.members, s.levels, g.levels[a2])
	}
	if len(a2.queues) != 3 {
		t.Errorf("1002 serves %d queues, want 3", len(a2.queues))
	}
	if h.d.dwait != 20*time.Second || h.d.dqueue != "general" {
		t.Errorf("direct wait %v to %q", h.d.dwait, h.d.dqueue)
	}
}

// The best pair is found across the agents: 1002's level 9 in sales
// makes the sales caller, who joined later, its pair and the best of all,
// before the general caller whom 1001 (sorted first) would take.
func TestBestPairAcrossAgents(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002")
	h.joinAt(t, "general", "g", "")
	h.joinAt(t, "sales", "s", "")
	if c, as := h.serve(); c != "s" || !slices.Equal(as, []string{"1002"}) {
		t.Errorf("served %s by %v first, want s by 1002", c, as)
	}
	if c, as := h.serve(); c != "g" || len(as) != 1 {
		t.Errorf("then served %s by %v, want g", c, as)
	}
}

// A caller who asked for an agent of another queue rings that agent,
// though no member of the queue is free.
func TestDirectToAnAgentOutsideTheQueue(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1003")
	if _, err := h.d.join("sales", Caller{Call: "d", Number: "5", Agent: "1003"}); err != nil {
		t.Fatal(err)
	}
	if c, as := h.serve(); c != "5" || !slices.Equal(as, []string{"1003"}) {
		t.Errorf("served %q by %v, want the caller by 1003", c, as)
	}
}

// New on a bare configuration: the defaults of the direct wait and of a
// queue's timers, and the box's zone.
func TestNewDefaults(t *testing.T) {
	cfg := &config.Config{Queues: []config.Queue{{Name: "q"}}}
	d, err := New(cfg, Options{Clock: clock.NewFake(time.Unix(1e9, 0)), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dialer: &dialer{}})
	if err != nil {
		t.Fatal(err)
	}
	q := d.queues["q"]
	if d.dwait != 20*time.Second || q.ring != 20*time.Second || q.wrapUp != 10*time.Second || d.loc != time.Local {
		t.Errorf("direct wait %v, ring %v, wrap-up %v, zone %v", d.dwait, q.ring, q.wrapUp, d.loc)
	}
	loc := time.FixedZone("CST", 8*3600)
	d, _ = New(cfg, Options{Clock: clock.NewFake(time.Unix(1e9, 0)), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dialer: &dialer{}, Location: loc})
	if d.loc != loc {
		t.Errorf("zone %v, want the one given", d.loc)
	}
}

// A prompt replaced just as it ends: the end of the callback question,
// coming after the confirmation began, does not hang the caller up
// before the confirmation is heard to its end.
func TestStaleQuestionEndDoesNotCutTheConfirmation(t *testing.T) {
	_, e := callerOnMusic(t)
	e.l.press('1')
	when := e.l.waitPlaying(t, "the callback question", isPrompt)
	e.l.mu.Lock()
	asked := e.l.play
	e.l.mu.Unlock()
	e.l.press('#')
	e.l.waitPlaying(t, "the callback booked", func(s media.Source) bool { return isPrompt(s) && s != when })
	e.l.events <- media.Event{Kind: media.EventPlayDone, Play: asked}
	select {
	case <-e.l.hung:
		t.Fatal("hung up on the question's end, before the confirmation was heard")
	case <-time.After(50 * time.Millisecond):
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, _, ended := e.l.pull(); ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("callback-booked never ended")
		}
	}
	<-e.l.hung
}
