package acd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/cfgtest"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/store"
)

// line is a call as the queue sees it: events the test sends, the
// prompts' sources it was played, hang-up.
type line struct {
	id     string
	events chan media.Event
	mu     sync.Mutex
	plays  media.PlayID // Plays so far; each is its id
	closed bool
	hung   chan struct{}
}

func newLine(id string) *line {
	return &line{id: id, events: make(chan media.Event, 16), hung: make(chan struct{})}
}

func (l *line) ID() string { return l.id }

// Play ends at once: prompts take no time on this line.
func (l *line) Play(src media.Source) media.PlayID {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plays++
	if src != nil && !l.closed {
		select {
		case l.events <- media.Event{Kind: media.EventPlayDone, Play: l.plays}:
		default:
		}
	}
	return l.plays
}
func (l *line) Events() <-chan media.Event { return l.events }
func (l *line) Listen() media.Source       { return silence{} }
func (l *line) Hangup() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.hung)
		close(l.events)
	}
	return nil
}

// farHangup is the far end hanging up.
func (l *line) farHangup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		l.events <- media.Event{Kind: media.EventHangup}
		close(l.events)
		close(l.hung)
	}
}

func (l *line) press(d byte) { l.events <- media.Event{Kind: media.EventDigit, Digit: d} }

type silence struct{}

func (silence) Fill(dst []int16) int { clear(dst); return len(dst) }

// ring is one phone ringing in the fake dialer: the test answers it or
// lets it ring out.
type ring struct {
	who    string // agent, or "dial:NUMBER"
	from   string
	answer chan media.Channel // a line answers; nil rings out
	ctx    context.Context
}

type dialer struct {
	rings      chan *ring
	mu         sync.Mutex
	registered map[string]bool
}

func (f *dialer) call(ctx context.Context, who, from string) (media.Channel, error) {
	r := &ring{who: who, from: from, answer: make(chan media.Channel, 1), ctx: ctx}
	f.rings <- r
	select {
	case l := <-r.answer:
		if l == nil {
			return nil, errors.New("no answer")
		}
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *dialer) Ring(ctx context.Context, agent, from string) (media.Channel, error) {
	return f.call(ctx, agent, from)
}
func (f *dialer) Dial(ctx context.Context, trunk, number string) (media.Channel, error) {
	return f.call(ctx, "dial:"+number, "")
}
func (f *dialer) Registered(agent string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.registered["-"+agent]
}

const testQueues = cfgtest.Header + `[[extension]]
number = "1001"
kind = "agent"
[[extension]]
number = "1002"
kind = "agent"
[[extension]]
number = "1003"
kind = "agent"
[acd]
tiers = { "key-account" = 300, "registered" = 60 }
direct_wait = "20s"
direct_queue = "general"
[[queue]]
name = "general"
agents = ["1001", "1002", "1003"]
wrap_up = "10s"
ring_timeout = "15s"
callback = true
callback_retries = 1
callback_retry_delay = "1m"
survey = true
[[queue]]
name = "complaints"
agents = ["1001", "1002", "1003"]
priority = 120
max_wait = "2m"
[[queue]]
name = "sales"
agents = ["1002"]
levels = { "1002" = 9 }
overflow_after = "30s"
overflow = "general"
max_length = 2
max_length_dest = "general"
[[queue]]
name = "night"
agents = ["1003"]
when_empty = "leave"
[flow.m]
start = "x"
[flow.m.node.x]
type = "hangup"
[[extension]]
number = "100"
kind = "ivr"
flow = "m"
`

type harness struct {
	d   *ACD
	clk *clock.Fake
	dl  *dialer
	db  *store.DB
	rec *store.Recorder[store.QueueEvent]
	dir string
}

func newHarness(t *testing.T, strategy string, dir string) *harness {
	src := testQueues
	if strategy != "" {
		src = strings.Replace(src, "name = \"general\"\n", "name = \"general\"\nstrategy = \""+strategy+"\"\n", 1)
	}
	return newHarnessConfig(t, src, dir)
}

// newHarnessConfig is a harness on a configuration of the test's own.
func newHarnessConfig(t *testing.T, src, dir string) *harness {
	cfg, err := config.Load("q", []byte(src), nil, config.Env{Boards: cfgtest.Boards})
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := store.NewQueueRecorder(db, time.Millisecond, func(err error) { t.Error(err) })
	set, _ := prompt.Default()
	h := &harness{clk: clock.NewFake(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)), dl: &dialer{rings: make(chan *ring, 16), registered: map[string]bool{}}, db: db, rec: rec, dir: dir}
	h.d, err = New(cfg, Options{Clock: h.clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Events: rec, Dialer: h.dl, Prompts: set, Lang: "zh", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	if h.rec != nil {
		h.d.Close()
		h.rec.Close()
		h.db.Close()
		h.rec = nil
	}
}

func (h *harness) events(t *testing.T, kind store.QueueKind) []store.QueueEvent {
	t.Helper()
	time.Sleep(20 * time.Millisecond) // the recorder commits every millisecond
	all, err := h.db.QueueEvents(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.QueueEvent
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) login(t *testing.T, agents ...string) {
	for _, a := range agents {
		h.d.mu.Lock()
		h.d.agents[a].state.presence = ready
		h.d.mu.Unlock()
	}
}

// joinAt puts a caller in a queue at the fake clock's time, then moves
// the clock a second on.
func (h *harness) joinAt(t *testing.T, queue, caller, tier string) *entry {
	t.Helper()
	e, err := h.d.join(queue, Caller{Call: caller, Number: caller, Tier: tier})
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Second)
	return e
}

// serve takes the next pair and hands the agent back at once.
func (h *harness) serve() (string, []string) {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	e, as := h.d.next(nil)
	if e == nil {
		return "", nil
	}
	var names []string
	for _, a := range as {
		names = append(names, a.ext)
		a.state.activity = idle
		a.calls++
		a.idleSince = h.clk.Now()
	}
	e.gone = true
	h.clk.Advance(time.Second)
	return e.caller, names
}

// Tier weights and queue priority order the callers; among equals, who
// joined first.
func TestTierPriorityAndFairness(t *testing.T) {
	h := newHarness(t, "", "")
	h.joinAt(t, "general", "other-1", "")
	h.joinAt(t, "general", "registered", "registered")
	h.joinAt(t, "general", "other-2", "")
	h.joinAt(t, "complaints", "complaint", "")
	h.joinAt(t, "general", "key", "key-account")
	h.login(t, "1001")
	var got []string
	for {
		c, _ := h.serve()
		if c == "" {
			break
		}
		got = append(got, c)
	}
	want := []string{"key", "complaint", "registered", "other-1", "other-2"}
	if !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// An agent in two queues of equal priority serves their callers in the
// order they joined, across the queues.
func TestFairnessAcrossQueues(t *testing.T) {
	h := newHarness(t, "", "")
	h.joinAt(t, "sales", "s1", "")
	h.joinAt(t, "general", "g1", "")
	h.joinAt(t, "sales", "s2", "")
	h.joinAt(t, "general", "g2", "")
	h.login(t, "1002")
	h.d.queues["sales"].levels[h.d.agents["1002"]] = 5 // as in general
	var got []string
	for c, _ := h.serve(); c != ""; c, _ = h.serve() {
		got = append(got, c)
	}
	if want := []string{"s1", "g1", "s2", "g2"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// A higher skill level wins a caller over a longer-idle agent: 1002 has
// level 9 in sales.
func TestSkillLevel(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002", "1003")
	h.joinAt(t, "sales", "s", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1002"}) {
		t.Errorf("sales caller offered to %v, want 1002 (level 9)", as)
	}
}

func TestStrategies(t *testing.T) {
	for _, c := range []struct {
		strategy string
		setup    func(d *ACD)
		want     []string // agents offered for 3 callers in a row
	}{
		{"longest-idle", func(d *ACD) {
			d.agents["1003"].idleSince = d.clk.Now().Add(-time.Hour)
			d.agents["1001"].idleSince = d.clk.Now().Add(-time.Minute)
		}, []string{"1003", "1001", "1002"}},
		{"fewest-calls", func(d *ACD) { d.agents["1001"].calls, d.agents["1002"].calls, d.agents["1003"].calls = 5, 1, 3 },
			[]string{"1002", "1002", "1003"}},
		{"least-talk", func(d *ACD) {
			d.agents["1001"].talk, d.agents["1002"].talk, d.agents["1003"].talk = time.Minute, time.Hour, time.Second
		}, []string{"1003", "1003", "1003"}},
		{"round-robin", func(d *ACD) {}, []string{"1001", "1002", "1003"}},
		{"ring-all", func(d *ACD) {}, []string{"1001,1002,1003", "1001,1002,1003", "1001,1002,1003"}},
	} {
		t.Run(c.strategy, func(t *testing.T) {
			h := newHarness(t, c.strategy, "")
			h.login(t, "1001", "1002", "1003")
			h.d.mu.Lock()
			for _, a := range h.d.agents {
				a.idleSince = h.clk.Now()
			}
			c.setup(h.d)
			h.d.mu.Unlock()
			var got []string
			for i := 0; i < 3; i++ {
				h.joinAt(t, "general", fmt.Sprint("c", i), "")
				h.d.mu.Lock()
				e, as := h.d.next(nil)
				var names []string
				for _, a := range as {
					names = append(names, a.ext)
					a.state.activity = idle
					a.idleSince = h.clk.Now() // just served: idle shortest now
					a.calls++
				}
				h.d.mu.Unlock()
				if e == nil {
					t.Fatal("no pair")
				}
				got = append(got, strings.Join(names, ","))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("offered %v, want %v", got, c.want)
			}
		})
	}
	h := newHarness(t, "random", "")
	h.login(t, "1001", "1002", "1003")
	seen := map[string]bool{}
	for i := 0; i < 30; i++ {
		h.joinAt(t, "general", fmt.Sprint("r", i), "")
		_, as := h.serve()
		seen[as[0]] = true
	}
	if len(seen) != 3 {
		t.Errorf("random offered only %v in 30 calls", seen)
	}
}

// Agents not logged in, paused, in wrap-up or unregistered get no offer.
func TestOnlyAvailableAgents(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002", "1003")
	h.d.mu.Lock()
	h.d.agents["1001"].state.presence = paused
	h.d.agents["1002"].state.activity = wrapUp
	h.d.mu.Unlock()
	h.dl.mu.Lock()
	h.dl.registered["-1003"] = true
	h.dl.mu.Unlock()
	h.joinAt(t, "general", "c", "")
	if c, as := h.serve(); c != "" {
		t.Errorf("offered to %v", as)
	}
	h.dl.mu.Lock()
	h.dl.registered["-1003"] = false
	h.dl.mu.Unlock()
	if _, as := h.serve(); !slices.Equal(as, []string{"1003"}) {
		t.Errorf("offered to %v, want 1003 once registered", as)
	}
}

// Callers join and are refused by the queue's rules.
func TestJoinRules(t *testing.T) {
	h := newHarness(t, "", "")
	if _, err := h.d.join("night", Caller{Number: "1"}); !errors.Is(err, ErrNoAgents) {
		t.Errorf("night queue with no agent: %v", err)
	}
	h.joinAt(t, "sales", "s1", "")
	h.joinAt(t, "sales", "s2", "")
	e := h.joinAt(t, "sales", "s3", "") // full: max_length_dest general
	if e.q.cfg.Name != "general" {
		t.Errorf("third sales caller in %s, want general", e.q.cfg.Name)
	}
	if _, err := h.d.join("nope", Caller{}); !errors.Is(err, ErrNoQueue) {
		t.Errorf("unknown queue: %v", err)
	}
}

// waitCall runs Wait for a caller in its own goroutine.
func (h *harness) waitCall(queue string, c Caller) (*line, chan error) {
	l := newLine(c.Call)
	done := make(chan error, 1)
	go func() { done <- h.d.Wait(l, queue, c) }()
	return l, done
}

func (h *harness) nextRing(t *testing.T) *ring {
	t.Helper()
	select {
	case r := <-h.dl.rings:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("nothing rang")
		return nil
	}
}

// waitWaiting waits until n callers or callbacks wait in a queue.
func (h *harness) waitWaiting(t *testing.T, queue string, n int) {
	t.Helper()
	h.waitFor(t, fmt.Sprintf("%d waiting in %s", n, queue), func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		return h.d.queues[queue].waiting.len() == n
	})
}

// noRing checks that no phone rings now (in 50 ms of real time).
func (h *harness) noRing(t *testing.T, when string) {
	t.Helper()
	select {
	case r := <-h.dl.rings:
		t.Fatalf("%s rang %s", r.who, when)
	case <-time.After(50 * time.Millisecond):
	}
}

// waitFor advances the fake clock until cond holds.
func (h *harness) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitAgent waits until an agent is in state.
func (h *harness) waitAgent(t *testing.T, ext string, state activity) {
	t.Helper()
	h.waitFor(t, ext+" "+state.String(), func() bool { s, _, _ := h.agentState(ext); return s == state })
}

func (h *harness) agentState(ext string) (activity, bool, string) {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	a := h.d.agents[ext]
	return a.state.activity, a.state.presence.isPaused(), a.reason
}

// A call from join to survey: the agent rings out and is paused, the next
// agent answers, talks, hangs up; the caller keys 4; the agent wraps up
// before the next offer; every step is a queue event.
func TestCallNoAnswerWrapUpSurvey(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002")
	h.d.mu.Lock()
	h.d.agents["1001"].idleSince = h.clk.Now().Add(-time.Hour) // longest idle: offered first
	h.d.mu.Unlock()
	caller, done := h.waitCall("general", Caller{Call: "c1", Number: "138", Lang: "zh"})
	r := h.nextRing(t)
	if r.who != "1001" || r.from != "138" {
		t.Fatalf("rang %s from %s", r.who, r.from)
	}
	h.clk.Advance(2 * time.Second)
	r.answer <- nil // rings out after 2 s
	r = h.nextRing(t)
	if r.who != "1002" {
		t.Fatalf("then rang %s, want 1002", r.who)
	}
	if _, paused, reason := h.agentState("1001"); !paused || reason != "no-answer" {
		t.Errorf("1001 after ringing out: paused %v reason %q", paused, reason)
	}
	agentLine := newLine("agent")
	h.clk.Advance(3 * time.Second) // 1002 answers after ringing 3 s
	r.answer <- agentLine
	h.waitAgent(t, "1002", busy)
	h.clk.Advance(90 * time.Second)
	agentLine.farHangup()
	h.waitAgent(t, "1002", wrapUp)
	caller.press('4')
	// a second caller now waits: 1002 is in wrap-up, 1001 paused
	caller2, done2 := h.waitCall("general", Caller{Call: "c2", Number: "139"})
	h.noRing(t, "during wrap-up")
	h.clk.Advance(10 * time.Second)
	r = h.nextRing(t)
	if r.who != "1002" {
		t.Errorf("after wrap-up rang %s", r.who)
	}
	caller2.farHangup()
	if err := <-done2; err != nil {
		t.Errorf("abandoned caller: %v", err)
	}
	caller.farHangup()
	if err := <-done; err != nil {
		t.Errorf("served caller: %v", err)
	}
	if s := h.events(t, "survey"); len(s) != 1 || s[0].Value != 4 || s[0].Agent != "1002" || s[0].Queue != "general" {
		t.Errorf("survey %+v", s)
	}
	// connect carries the wait (5 s since joining) and the ring time of
	// the agent who answered (3 s), as the README promises.
	if c := h.events(t, "connect"); len(c) != 1 || c[0].Agent != "1002" || c[0].Ring != 3*time.Second || c[0].Wait != 5*time.Second {
		t.Errorf("connect %+v", c)
	}
	if c := h.events(t, "complete"); len(c) != 1 || c[0].Talk != 90*time.Second || c[0].Reason != "agent" {
		t.Errorf("complete %+v", c)
	}
	if a := h.events(t, "abandon"); len(a) != 1 || a[0].Caller != "139" || a[0].Position != 1 {
		t.Errorf("abandon %+v", a)
	}
	if n := h.events(t, "ring-no-answer"); len(n) != 1 || n[0].Agent != "1001" {
		t.Errorf("ring-no-answer %+v", n)
	}
	if p := h.events(t, "pause"); len(p) != 1 || p[0].Reason != "no-answer" {
		t.Errorf("pause %+v", p)
	}
}

// Overflow after 30 s keeps the caller's place; max wait sends the
// caller on with ErrMaxWait.
func TestOverflowAndMaxWait(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001") // not a sales agent
	h.d.mu.Lock()
	h.d.agents["1001"].state.presence = paused
	h.d.mu.Unlock()
	caller, done := h.waitCall("sales", Caller{Call: "s", Number: "1"})
	h.waitWaiting(t, "sales", 1)
	h.clk.Advance(31 * time.Second)
	h.waitWaiting(t, "general", 1)
	h.d.Unpause("1001")
	r := h.nextRing(t)
	if r.who != "1001" {
		t.Errorf("rang %s", r.who)
	}
	r.answer <- nil // rings out: 1001 is paused, no one else serves general
	h.noRing(t, "after the only agent was paused")
	caller.farHangup()
	if err := <-done; err != nil {
		t.Errorf("abandon: %v", err)
	}

	h2 := newHarness(t, "", "")
	_, done2 := h2.waitCall("complaints", Caller{Call: "c", Number: "2"})
	h2.waitWaiting(t, "complaints", 1)
	h2.clk.Advance(2 * time.Minute)
	if err := <-done2; !errors.Is(err, ErrMaxWait) {
		t.Errorf("after max wait: %v", err)
	}
	if a := h2.events(t, "abandon"); len(a) != 1 || a[0].Reason != "max-wait" {
		t.Errorf("abandon %+v", a)
	}
}

// A caller who keyed an agent's number waits for that agent only; after
// direct_wait the queue takes over.
func TestDirectToAgentAndFallback(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001", "1002")
	h.d.mu.Lock()
	h.d.agents["1001"].state.presence = paused
	h.d.mu.Unlock()
	caller, done := h.waitCall("", Caller{Call: "d", Number: "5", Agent: "1001"})
	h.noRing(t, "for a caller waiting for 1001")
	h.clk.Advance(21 * time.Second)
	r := h.nextRing(t)
	if r.who != "1002" {
		t.Errorf("after direct_wait rang %s", r.who)
	}
	l := newLine("a")
	r.answer <- l
	h.waitAgent(t, "1002", busy)
	caller.farHangup() // the caller hangs up: the agent's leg is hung up
	<-done
	<-l.hung
	if tr := h.events(t, "transfer"); len(tr) != 1 {
		t.Errorf("transfer events %+v", tr)
	}
}

// A callback keeps the caller's place: a caller who joined later is not
// served before it; it is dialled once when an agent is free, retried
// once after no answer, and survives a restart.
func TestCallbackKeepsPlaceAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, "", dir)
	first, done := h.waitCall("general", Caller{Call: "cb", Number: "13800000001"})
	h.waitWaiting(t, "general", 1)
	h.clk.Advance(5 * time.Second)
	first.press('1')
	first.press('#') // when my turn comes
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-first.hung
	h.waitCall("general", Caller{Call: "later", Number: "139"})
	h.waitWaiting(t, "general", 2)
	cbs, _ := h.db.Callbacks()
	if len(cbs) != 1 || cbs[0].Number != "13800000001" || cbs[0].Attempts != 0 {
		t.Fatalf("stored callbacks %+v", cbs)
	}
	// Restart: a new ACD on the same store.
	h.close()
	h2 := newHarness(t, "", dir)
	h2.waitCall("general", Caller{Call: "later", Number: "139"}) // the later caller calls again
	h2.waitWaiting(t, "general", 2)
	h2.d.Login("1001")
	r := h2.nextRing(t)
	if r.who != "1001" || r.from != "13800000001" {
		t.Fatalf("rang %s from %s, want the agent for the callback first", r.who, r.from)
	}
	agentLine := newLine("agent")
	r.answer <- agentLine
	d := h2.nextRing(t)
	if d.who != "dial:13800000001" {
		t.Fatalf("dialled %s", d.who)
	}
	if cbs, _ := h2.db.Callbacks(); len(cbs) != 1 || cbs[0].Attempts != 1 {
		t.Errorf("attempt not stored before the dial: %+v", cbs)
	}
	d.answer <- nil    // no answer: retried after a minute, once
	r = h2.nextRing(t) // meanwhile the agent is free: the later caller's turn
	if r.from != "139" {
		t.Fatalf("after the failed callback rang for %s", r.from)
	}
	served := newLine("agent-139")
	r.answer <- served
	h2.waitAgent(t, "1001", busy)
	served.farHangup()
	h2.waitAgent(t, "1001", wrapUp)
	h2.clk.Advance(61 * time.Second) // wrap-up ends, then the retry is due
	r = h2.nextRing(t)
	if r.from != "13800000001" {
		t.Fatalf("retry rang for %s", r.from)
	}
	r.answer <- newLine("agent2")
	d = h2.nextRing(t)
	if d.who != "dial:13800000001" {
		t.Fatalf("second dial %s", d.who)
	}
	cust := newLine("customer")
	d.answer <- cust
	h2.waitAgent(t, "1001", busy)
	cust.farHangup()
	h2.waitAgent(t, "1001", wrapUp)
	if cbs, _ := h2.db.Callbacks(); len(cbs) != 0 {
		t.Errorf("answered callback still stored: %+v", cbs)
	}
	if a := h2.events(t, "callback-answered"); len(a) != 1 || a[0].Value != 1 {
		t.Errorf("callback-answered %+v (Value 1: on time)", a)
	}
	if f := h2.events(t, "callback-dialled"); len(f) != 2 {
		t.Errorf("dialled %d times, want 2 (one retry)", len(f))
	}
}

// BenchmarkNext: 1,000 callers waiting in 4 queues, 300 agents each in 2
// queues: one decision (find the best pair, take it out), then the pair is
// put back for the next iteration.
func BenchmarkNext(b *testing.B) {
	cfg := &config.Config{}
	names := []string{"q0", "q1", "q2", "q3"}
	for i := 0; i < 300; i++ {
		cfg.Extensions = append(cfg.Extensions, config.Extension{Number: fmt.Sprint(2000 + i), Kind: "agent"})
	}
	for qi, n := range names {
		q := config.Queue{Name: n, Priority: qi * 10, Levels: map[string]int{}}
		for i := 0; i < 300; i++ {
			if i%4 == qi || (i+1)%4 == qi {
				ext := fmt.Sprint(2000 + i)
				q.Agents = append(q.Agents, ext)
				q.Levels[ext] = 1 + i%10
			}
		}
		cfg.Queues = append(cfg.Queues, q)
	}
	cfg.ACD.Tiers = map[string]int{"key-account": 300}
	clk := clock.NewFake(time.Unix(1e9, 0))
	d, err := New(cfg, Options{Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dialer: &dialer{registered: map[string]bool{}}})
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range d.agents {
		a.state.presence = ready
	}
	for i := 0; i < 1000; i++ {
		tier := ""
		if i%10 == 0 {
			tier = "key-account"
		}
		clk.Advance(time.Second)
		if _, err := d.join(names[i%4], Caller{Number: fmt.Sprint(i), Tier: tier}); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]*agent, 0, 300)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, as := d.next(buf)
		if e == nil {
			b.Fatal("no pair")
		}
		for _, a := range as {
			a.state.activity = idle
		}
		e.offered = false
		e.q.waiting.push(e)
	}
}

func storeRecording(id, file string, start time.Time) store.Recording {
	return store.Recording{ID: id, File: file, Start: start, Bytes: 1000}
}

// A queue whose rule is to leave when no agent is logged in sends its
// waiting callers on when the last agent logs out.
func TestLeaveWhenEmpty(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1003")
	h.d.Pause("1003", "lunch")
	_, done := h.waitCall("night", Caller{Call: "n", Number: "1"})
	h.waitWaiting(t, "night", 1)
	h.d.Logout("1003")
	if err := <-done; !errors.Is(err, ErrNoAgents) {
		t.Errorf("after the last agent left: %v", err)
	}
	if p := h.events(t, "pause"); len(p) != 1 || p[0].Reason != "lunch" {
		t.Errorf("pause events %+v", p)
	}
	st := h.d.Status()
	if i := slices.IndexFunc(st.Agents, func(a AgentStatus) bool { return a.Ext == "1003" }); i < 0 {
		t.Errorf("1003 not in the status: %+v", st.Agents)
	} else if a := st.Agents[i]; a.LoggedIn || !a.Paused || a.Reason != "lunch" {
		t.Errorf("status of 1003: %+v", a)
	}
}

// A callback booked for a window is not dialled before it opens.
func TestCallbackWindow(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	if _, err := h.d.Book("general", "13800000002", "", h.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.d.Book("general", "not a number", "", time.Time{}); err == nil {
		t.Error("a bad number was booked")
	}
	h.d.match()
	h.noRing(t, "before the window")
	h.clk.Advance(time.Hour)
	if r := h.nextRing(t); r.who != "1001" || r.from != "13800000002" {
		t.Errorf("at the window rang %s for %s", r.who, r.from)
	}
}

// A caller who hangs up between being offered and the ring frees the
// agents offered.
func TestAbandonWhileOffered(t *testing.T) {
	h := newHarness(t, "", "")
	h.login(t, "1001")
	e := h.joinAt(t, "general", "c", "")
	h.d.match() // offers e to 1001: the offer waits in e.offers
	if s, _, _ := h.agentState("1001"); s != ringing {
		t.Fatalf("1001 is %v after the offer", s)
	}
	w := &waiter{d: h.d, ch: newLine("c"), e: e}
	w.abandon("")
	if s, _, _ := h.agentState("1001"); s != idle {
		t.Errorf("1001 is %v after the caller left", s)
	}
	if a := h.events(t, "abandon"); len(a) != 1 {
		t.Errorf("abandon events %+v", a)
	}
}

// After an overflow the new queue's limits run from the overflow: its
// maximum wait counts the time spent in it, not in the queue before.
func TestOverflowArmsTheNewQueuesLimits(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.queues["general"].maxWait = time.Minute
	_, done := h.waitCall("sales", Caller{Call: "s", Number: "1"})
	h.waitWaiting(t, "sales", 1)
	h.clk.Advance(31 * time.Second) // overflow to general at 30 s
	h.waitWaiting(t, "general", 1)
	h.clk.Advance(50 * time.Second) // 81 s waited, 51 s in general
	select {
	case err := <-done:
		t.Fatalf("left after 51 s in general: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.clk.Advance(10 * time.Second)
	select {
	case err := <-done:
		if !errors.Is(err, ErrMaxWait) {
			t.Errorf("after a minute in general: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after a minute in general (max_wait 1m)")
	}
}

// A caller who keys 1 and then an hour is called back at that hour: the
// callback enters the queue then, behind everyone waiting before it.
func TestCallbackAtTheHourChosen(t *testing.T) {
	h := newHarness(t, "", "") // 10:00 UTC; the box's zone is UTC here
	h.d.loc = time.UTC
	caller, done := h.waitCall("general", Caller{Call: "cb", Number: "13800000001"})
	h.waitWaiting(t, "general", 1)
	caller.press('1')
	caller.press('1')
	caller.press('4')
	caller.press('#')
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cbs, _ := h.db.Callbacks()
	want := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	if len(cbs) != 1 || !cbs[0].NotBefore.Equal(want) || !cbs[0].Joined.Equal(want) || !cbs[0].Promised.After(want) {
		t.Fatalf("callback %+v, want it at %v", cbs, want)
	}
	h.login(t, "1001")
	h.d.match()
	h.noRing(t, "before 14:00")
	h.clk.Advance(4 * time.Hour)
	if r := h.nextRing(t); r.from != "13800000001" {
		t.Errorf("at 14:00 rang for %s", r.from)
	}
}

// A supervisor lifts a waiting callback and one booked for later: neither
// rings an agent, both leave the store, and each is a given-up event
// saying who; a second lift, or one of a callback that is not there, is
// refused.
func TestLiftCallback(t *testing.T) {
	h := newHarness(t, "", "")
	now, err := h.d.Book("general", "13800000002", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	later, err := h.d.Book("general", "13800000003", "", h.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{now.ID, later.ID} {
		if err := h.d.Lift(id, "boss"); err != nil {
			t.Fatalf("lift %s: %v", id, err)
		}
	}
	if err := h.d.Lift(now.ID, "boss"); !errors.Is(err, ErrNoCallback) {
		t.Errorf("second lift: %v", err)
	}
	if err := h.d.Lift("nonsense", "boss"); !errors.Is(err, ErrNoCallback) {
		t.Errorf("unknown callback: %v", err)
	}
	if cbs, _ := h.db.Callbacks(); len(cbs) != 0 {
		t.Errorf("stored after the lift: %+v", cbs)
	}
	if st := h.d.Status(); st.Queues[slices.IndexFunc(st.Queues, func(q QueueStatus) bool { return q.Name == "general" })].Callbacks != 0 {
		t.Errorf("still waiting: %+v", st.Queues)
	}
	h.login(t, "1001")
	h.clk.Advance(time.Hour)
	h.d.match()
	h.noRing(t, "after both were lifted")
	evs := h.waitEvents(t, store.QueueCallbackFailed, 2)
	for _, e := range evs {
		if e.Reason != "lifted by boss" || e.Agent != "" {
			t.Errorf("event %+v", e)
		}
	}
}
