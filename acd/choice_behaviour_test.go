package acd

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"jinyin/internal/cfgtest"
	"jinyin/store"
)

// choiceQueues are queues for the decisions between pairs: a agent
// (1001) of level 9; b and b1, one agent each, b1 a second ahead in
// priority; x and y, both served by 1004 alone, y a second ahead; d,
// where the agent a caller may ask for (1001) is level 1 and the other
// level 7; w, which overflows to b while no one is logged in to it; and
// 1005, an agent of no queue. No direct_queue.
var choiceQueues = cfgtest.Header + agentExtensions("1001", "1002", "1003", "1004", "1005") + `[[queue]]
name = "a"
agents = ["1001"]
levels = { "1001" = 9 }
[[queue]]
name = "b"
agents = ["1002"]
[[queue]]
name = "b1"
agents = ["1003"]
priority = 1
[[queue]]
name = "x"
agents = ["1004"]
[[queue]]
name = "y"
agents = ["1004"]
priority = 1
[[queue]]
name = "d"
agents = ["1001", "1002"]
levels = { "1001" = 1, "1002" = 7 }
[[queue]]
name = "w"
agents = ["1003"]
when_empty = "overflow"
overflow = "b"
`

func agentExtensions(exts ...string) string {
	s := ""
	for _, e := range exts {
		s += fmt.Sprintf("[[extension]]\nnumber = %q\nkind = \"agent\"\n", e)
	}
	return s
}

// served serves every pair there is, one at a time, and says who was
// served by whom ("caller@agent"), at most n of them.
func (h *harness) served(n int) []string {
	var got []string
	for range n {
		c, as := h.serve()
		if c == "" {
			break
		}
		got = append(got, fmt.Sprintf("%s@%v", c, as))
	}
	return got
}

// The best pair of all is served first even when an agent earlier in
// order has a pair of its own with a caller who joined earlier: 1001's
// level 9 for the later caller of a is 40 s more than 1002's level 5 for
// the earlier caller of b, who only waited a second longer.
func TestBestPairBeatsAnEarlierCallerOfAWorsePair(t *testing.T) {
	h := newHarnessConfig(t, choiceQueues, "")
	h.login(t, "1001", "1002")
	h.joinAt(t, "b", "early", "")
	h.joinAt(t, "a", "late", "")
	if got, want := h.served(3), []string{"late@[1001]", "early@[1002]"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// Equal scores with different agents: the caller of b joined a second
// before the caller of b1, whose queue is a second ahead; the scores are
// equal, so whoever joined first is served first, though b1's agent comes
// later in order.
func TestEqualScoresAcrossAgentsJoinedFirst(t *testing.T) {
	h := newHarnessConfig(t, choiceQueues, "")
	h.login(t, "1002", "1003")
	h.joinAt(t, "b", "first", "")
	h.joinAt(t, "b1", "second", "")
	if got, want := h.served(3), []string{"first@[1002]", "second@[1003]"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// Equal scores for one agent in two queues: the head of x joined a second
// before the head of y, a second ahead; the one who joined first is
// served first, whichever queue the agent looks at last.
func TestEqualScoresForOneAgentJoinedFirst(t *testing.T) {
	h := newHarnessConfig(t, choiceQueues, "")
	h.login(t, "1004")
	h.joinAt(t, "x", "first", "")
	h.joinAt(t, "y", "second", "")
	if got, want := h.served(3), []string{"first@[1004]", "second@[1004]"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// A caller who asked for 1001 rings 1001 only, though 1002's higher
// level (7 against 1's 1 and the minute for being asked for) gives 1002
// the same score: until direct_wait is over the caller waits for 1001.
func TestDirectCallerRingsOnlyTheAgentAskedFor(t *testing.T) {
	h := newHarnessConfig(t, choiceQueues, "")
	h.login(t, "1001", "1002")
	if _, err := h.d.join("d", Caller{Call: "c", Number: "5", Agent: "1001"}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.served(2), []string{"5@[1001]"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// A direct caller joins the queue dialled; with no queue dialled, the
// direct_queue, else the first queue of the agent asked for; an agent of
// no queue with no direct_queue is no queue to wait in.
func TestDirectCallerQueue(t *testing.T) {
	h := newHarness(t, "", "")
	e, err := h.d.join("complaints", Caller{Call: "c", Number: "5", Agent: "1001"})
	if err != nil || e.q.cfg.Name != "complaints" {
		t.Fatalf("asked for 1001 through complaints: in %v (%v)", e, err)
	}
	if ev := h.waitEvents(t, store.QueueEnter, 1); ev[0].Queue != "complaints" || ev[0].Agent != "1001" {
		t.Errorf("enter %+v", ev[0])
	}
	h2 := newHarnessConfig(t, choiceQueues, "")
	e, err = h2.d.join("", Caller{Call: "c", Number: "5", Agent: "1002"})
	if err != nil || e.q.cfg.Name != "b" {
		t.Errorf("asked for 1002 with no queue and no direct_queue: in %v (%v), want b, 1002's first", e, err)
	}
	if _, err := h2.d.join("", Caller{Call: "c", Number: "6", Agent: "1005"}); !errors.Is(err, ErrNoQueue) {
		t.Errorf("asked for 1005, of no queue: %v, want ErrNoQueue", err)
	}
}

// when_empty = "overflow": while no agent is logged in to w its callers
// join b; once one is, they wait in w.
func TestWhenEmptyOverflow(t *testing.T) {
	h := newHarnessConfig(t, choiceQueues, "")
	if e := h.joinAt(t, "w", "c1", ""); e.q.cfg.Name != "b" {
		t.Errorf("no one in w: the caller is in %s, want b", e.q.cfg.Name)
	}
	h.d.Login("1003")
	if e := h.joinAt(t, "w", "c2", ""); e.q.cfg.Name != "w" {
		t.Errorf("1003 logged in: the caller is in %s, want w", e.q.cfg.Name)
	}
}

// fullChain is five queues of one place each, each full sending callers
// to the next, and two that send to each other.
var fullChain = cfgtest.Header + agentExtensions("1001") + `[[queue]]
name = "f1"
agents = ["1001"]
max_length = 1
max_length_dest = "f2"
[[queue]]
name = "f2"
agents = ["1001"]
max_length = 1
max_length_dest = "f3"
[[queue]]
name = "f3"
agents = ["1001"]
max_length = 1
max_length_dest = "f4"
[[queue]]
name = "f4"
agents = ["1001"]
max_length = 1
max_length_dest = "f5"
[[queue]]
name = "f5"
agents = ["1001"]
[[queue]]
name = "p"
agents = ["1001"]
max_length = 1
max_length_dest = "q"
[[queue]]
name = "q"
agents = ["1001"]
max_length = 1
max_length_dest = "p"
`

// A full queue sends its callers on three times at most: from f1 through
// f2 and f3 to f4, full too, the caller is refused rather than reaching
// f5; two full queues that send to each other refuse the caller too.
func TestFullQueuesSendOnThreeTimesAtMost(t *testing.T) {
	h := newHarnessConfig(t, fullChain, "")
	for _, q := range []string{"f1", "f2", "f3", "f4", "p", "q"} {
		h.joinAt(t, q, "in-"+q, "")
	}
	if e, err := h.d.join("f3", Caller{Call: "c", Number: "1"}); err != nil || e.q.cfg.Name != "f5" {
		t.Errorf("from f3 (two hops to f5): %v %v, want in f5", e, err)
	}
	if _, err := h.d.join("f1", Caller{Call: "c", Number: "2"}); !errors.Is(err, ErrFull) {
		t.Errorf("from f1 (four hops to f5): %v, want ErrFull", err)
	}
	if _, err := h.d.join("p", Caller{Call: "c", Number: "3"}); !errors.Is(err, ErrFull) {
		t.Errorf("p and q full, each sending to the other: %v, want ErrFull", err)
	}
}

// Strategies among agents equally fit whose first measure is tied:
// fewest-calls and least-talk then take the longest idle of those tied,
// not an agent who is idle longer with more calls or talk.
func TestStrategyTieBreaks(t *testing.T) {
	for _, c := range []struct {
		strategy string
		set      func(a *agent, n int)
	}{
		{"fewest-calls", func(a *agent, n int) { a.calls = n }},
		{"least-talk", func(a *agent, n int) { a.talk = time.Duration(n) * time.Minute }},
	} {
		t.Run(c.strategy, func(t *testing.T) {
			h := newHarness(t, c.strategy, "")
			h.login(t, "1001", "1002", "1003")
			now := h.clk.Now()
			h.d.mu.Lock()
			for _, x := range []struct {
				ext  string
				n    int
				idle time.Duration
			}{{"1001", 1, time.Hour}, {"1002", 1, time.Minute}, {"1003", 2, 2 * time.Hour}} {
				a := h.d.agents[x.ext]
				c.set(a, x.n)
				a.idleSince = now.Add(-x.idle)
			}
			h.d.mu.Unlock()
			h.joinAt(t, "general", "c", "")
			if _, as := h.serve(); !slices.Equal(as, []string{"1001"}) {
				t.Errorf("offered to %v, want 1001 (tied with 1002, idle longer)", as)
			}
		})
	}
}

// Round-robin remembers the member served last, even one who was the
// only agent free: after 1002 took a call alone, the next goes to 1003;
// and it goes on past a member who is not free to the next who is.
func TestRoundRobinMemory(t *testing.T) {
	h := newHarness(t, "round-robin", "")
	h.d.Login("1001")
	h.d.Login("1002")
	h.d.Login("1003")
	h.d.Pause("1001", "")
	h.d.Pause("1003", "")
	h.joinAt(t, "general", "c0", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1002"}) {
		t.Fatalf("c0 offered to %v, want 1002, the only one free", as)
	}
	h.d.Unpause("1001")
	h.d.Unpause("1003")
	var got []string
	for i := 1; i <= 3; i++ {
		h.joinAt(t, "general", fmt.Sprint("c", i), "")
		_, as := h.serve()
		got = append(got, fmt.Sprint(as))
	}
	if want := []string{"[1003]", "[1001]", "[1002]"}; !slices.Equal(got, want) {
		t.Errorf("after 1002 served alone: %v, want %v", got, want)
	}
	// 1002 served last; 1003, next, is paused: 1001, after it.
	h.d.Pause("1003", "")
	h.joinAt(t, "general", "c4", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1001"}) {
		t.Errorf("c4 offered to %v, want 1001 (1003 paused)", as)
	}
	h.joinAt(t, "general", "c5", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1002"}) {
		t.Errorf("c5 offered to %v, want 1002, after 1001", as)
	}
	// 1001, the first member, takes a call alone: the next after it is
	// 1002.
	h.d.Pause("1002", "")
	h.joinAt(t, "general", "c6", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1001"}) {
		t.Errorf("c6 offered to %v, want 1001, the only one free", as)
	}
	h.d.Unpause("1002")
	h.d.Unpause("1003")
	h.joinAt(t, "general", "c7", "")
	if _, as := h.serve(); !slices.Equal(as, []string{"1002"}) {
		t.Errorf("c7 offered to %v, want 1002, after 1001", as)
	}
}

// In a round-robin queue too, a caller who asked for an agent of another
// queue rings that agent.
func TestRoundRobinDirectToAnAgentOutsideTheQueue(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.queues["sales"].cfg.Strategy = "round-robin"
	h.login(t, "1003")
	if _, err := h.d.join("sales", Caller{Call: "d", Number: "5", Agent: "1003"}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.served(2), []string{"5@[1003]"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// Members logged in, not paused, registered and idle are counted
// available, each once.
func TestStatusCountsAvailable(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	h.d.Login("1002")
	st := h.d.Status()
	g := st.Queues[slices.IndexFunc(st.Queues, func(q QueueStatus) bool { return q.Name == "general" })]
	if want := (QueueStatus{Name: "general", Available: 2, LoggedOut: 1}); !reflect.DeepEqual(g, want) {
		t.Errorf("general %+v, want %+v", g, want)
	}
}

// Equal keys: the caller who joined a minute later but is registered
// (60 s of weight) has the same key as the caller before; the one who
// joined first is first, the other second, and each is told so.
func TestPositionAmongEqualKeys(t *testing.T) {
	h := newHarness(t, "", "")
	a := h.joinAt(t, "general", "a", "")
	h.clk.Advance(59 * time.Second)
	b := h.joinAt(t, "general", "b", "registered")
	h.d.mu.Lock()
	pa, pb, same := h.d.position(a), h.d.position(b), a.key == b.key
	h.d.mu.Unlock()
	if !same {
		t.Fatalf("fixture: keys %d and %d differ", a.key, b.key)
	}
	if pa != 1 || pb != 2 {
		t.Errorf("positions %d and %d, want 1 and 2", pa, pb)
	}
}

// A caller who asked for an agent not logged in and hung up is gone for
// that agent too: when the agent logs in, it rings for the next caller.
func TestDirectCallerWhoHungUpIsNotOffered(t *testing.T) {
	h := newHarness(t, "", "")
	l, done := h.waitCall("", Caller{Call: "d", Number: "5", Agent: "1001"})
	h.waitFor(t, "the direct caller waiting", func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		return len(h.d.direct[h.d.agents["1001"]]) == 1
	})
	h.clk.Advance(5 * time.Second)
	l.farHangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	g, gdone := h.waitCall("general", Caller{Call: "g", Number: "6"})
	h.waitWaiting(t, "general", 1)
	h.d.Login("1001")
	if r := h.nextRing(t); r.who != "1001" || r.from != "6" {
		t.Errorf("rang %s for %s, want 1001 for 6", r.who, r.from)
	}
	g.farHangup()
	if err := <-gdone; err != nil {
		t.Error(err)
	}
}

// Login and pause, with the pause's reason, survive a restart.
func TestAgentStatesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, "", dir)
	h.d.Login("1001")
	h.d.Pause("1001", "lunch")
	h.d.Login("1002")
	h.close()
	h2 := newHarness(t, "", dir)
	st := h2.d.Status()
	want := []AgentStatus{
		{Ext: "1001", LoggedIn: true, Paused: true, Reason: "lunch", State: "idle", Registered: true},
		{Ext: "1002", LoggedIn: true, State: "idle", Registered: true},
		{Ext: "1003", State: "idle", Registered: true},
	}
	if !reflect.DeepEqual(st.Agents, want) {
		t.Errorf("after the restart %+v, want %+v", st.Agents, want)
	}
}
