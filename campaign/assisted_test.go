package campaign

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/media"
	"jinyin/media/sit"
	"jinyin/store"
)

// agents is a queue of the test's: its staff as set, and each number's
// call taken by an agent for the time given, or not (0: no agent in time).
type agents struct {
	mu         sync.Mutex
	free, busy int
	handled    map[string]time.Duration
	connected  []string // "number within data.order"
	sorry      []string
}

func (a *agents) Staff(queue string) (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if queue != "sales" {
		return 0, 0
	}
	return a.free, a.busy
}

func (a *agents) setFree(n int) {
	a.mu.Lock()
	a.free = n
	a.mu.Unlock()
}

func (a *agents) Connect(ch media.Channel, queue, number string, data map[string]string, within time.Duration) (time.Duration, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.connected = append(a.connected, number+" "+within.String()+" "+data["order"])
	if d := a.handled[number]; d > 0 {
		return d, nil
	}
	return 0, errors.New("no agent in time")
}

var followUp = config.Campaign{Name: "follow-up", Queue: "sales", Trunk: "pstn", Lines: 10, Start: true, CallbackNumber: "4008001234"}

func assisted(t *testing.T, path string, a *agents) *fixture {
	f := newFixture(t, path, followUp)
	f.r.o.Agents = a
	f.r.o.Sorry = func(ch media.Channel, c config.Campaign) {
		a.mu.Lock()
		a.sorry = append(a.sorry, ch.ID()+" "+c.CallbackNumber)
		a.mu.Unlock()
	}
	return f
}

// An agent-assisted campaign dials by its agents: none free, none
// dialled; one free, one dialled (Pacing: a second call at the 30 %
// answer rate assumed before 20 outcomes would overflow one agent with a
// chance of 9 %, above the 1.8 % planned); each person who answers is put
// to the queue with the contact's data and 2 s to find an agent, and the
// agent's time goes into the pacing's average; one not taken in time is
// abandoned: told where to call back, tried again after 2 h, and counted
// against the cap, in the progress, across a restart (the answer rate
// too) and in the report, with the agents' time on the calls.
func TestAssistedCampaign(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a := &agents{handled: map[string]time.Duration{"13900000001": 95 * time.Second}}
	f := assisted(t, path, a)
	if _, err := f.r.Import("follow-up", strings.NewReader("number,order\n13900000001,A1\n13900000002,A2\n13900000003,A3\n13900000004,A4\n")); err != nil {
		t.Fatal(err)
	}
	f.tick()
	if got := f.far.called(); len(got) != 0 {
		t.Fatalf("dialled %q with no agent free", got)
	}
	a.setFree(1)
	f.tick()
	if got := f.far.called(); len(got) != 1 {
		t.Fatalf("dialled %q with one agent free, want one call", got)
	}
	p, _ := f.r.Progress("follow-up")
	if want := (AbandonRate{Live: 1, WindowH: 720, Cap: 0.03}); p.Abandon == nil || *p.Abandon != want {
		t.Errorf("after the call an agent took: %+v, want %+v", p.Abandon, want)
	}
	if h := f.r.camps["follow-up"].pacing.handle; h != 95*time.Second {
		t.Errorf("the pacing's handle time %v, want the agent's 95 s", h)
	}
	f.tick()
	if want := []string{"13900000001 2s A1", "13900000002 2s A2"}; !equalSets(a.connected, want) {
		t.Errorf("put to the queue: %q, want %q", a.connected, want)
	}
	if len(a.sorry) != 1 || a.sorry[0] != "13900000002 4008001234" {
		t.Errorf("told to call back: %q", a.sorry)
	}
	cs := f.contacts("follow-up")
	if c := cs["13900000001"]; c.State != store.ContactDone || c.Outcome != string(Answered) {
		t.Errorf("the contact an agent took: %+v", c)
	}
	if c := cs["13900000002"]; c.State != store.ContactWaiting || c.Outcome != string(Abandoned) || !c.NotBefore.Equal(f.clk.Now().Add(2*time.Hour)) {
		t.Errorf("the contact abandoned: %+v, want waiting 2 h", c)
	}
	want := AbandonRate{Live: 2, Abandoned: 1, Campaign: 0.5, Window: 0.5, WindowH: 720, Cap: 0.03}
	p, err := f.r.Progress("follow-up")
	if err != nil || p.Abandon == nil || *p.Abandon != want {
		t.Fatalf("progress %+v %v, want abandons %+v", p.Abandon, err, want)
	}
	// Spent: 1 abandon of 2 live is far past 1.8 %: one call per free
	// agent, no more.
	a.setFree(1)
	f.tick()
	if got := f.far.called(); len(got) != 3 {
		t.Fatalf("after the budget was spent, with one agent free: %q, want one more call", got)
	}
	f.db.Close()

	f2 := assisted(t, path, a)
	defer f2.db.Close()
	p, _ = f2.r.Progress("follow-up")
	want = AbandonRate{Live: 3, Abandoned: 2, Campaign: 2.0 / 3, Window: 2.0 / 3, WindowH: 720, Cap: 0.03}
	if p.Abandon == nil || *p.Abandon != want {
		t.Errorf("after a restart, abandons %+v, want %+v (rebuilt from the attempts)", p.Abandon, want)
	}
	if rp := f2.r.camps["follow-up"].pacing; rp.dialled != 3 || rp.answered != 3 {
		t.Errorf("after a restart, %d dialled and %d answered, want 3 and 3", rp.dialled, rp.answered)
	}
	rep, err := f2.r.Report("follow-up", f.clk.Now().Add(-time.Hour), f.clk.Now().Add(time.Hour), 0)
	if err != nil || len(rep) != 1 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if r := rep[0]; r.Live != 3 || r.Abandoned != 2 || r.AbandonRate != 2.0/3 || r.AbandonCap != 0.03 || r.AgentSeconds != 95 || r.Reached != 1 {
		t.Errorf("report %+v", r)
	}
}

// A machine hung up on counts as a person abandoned (AMD may have taken
// one for a machine), and is not put to an agent.
func TestAssistedMachineCountsAsAbandoned(t *testing.T) {
	f := assisted(t, filepath.Join(t.TempDir(), "db"), &agents{free: 1})
	ru := f.r.camps["follow-up"]
	ru.ringing = 2
	f.r.paced(ru, Machine, 3*time.Second)
	f.r.paced(ru, Busy, 0)
	if ru.ringing != 0 || ru.pacing.live != 1 || ru.pacing.abandoned != 1 || ru.pacing.dialled != 2 || ru.pacing.answered != 0 {
		t.Errorf("pacing after a machine and a busy: %+v", *ru.pacing)
	}
}

func equalSets(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	n := map[string]int{}
	for _, x := range b {
		n[x]++
	}
	return maps.Equal(m, n)
}

// With detect = "amd", a person's 2 s run from the end of their greeting:
// AMD says "human" after 800 ms of silence, so the queue has 1.2 s left.
func TestAssistedWithinAfterTheGreeting(t *testing.T) {
	a := &agents{free: 1, handled: map[string]time.Duration{"13900000001": time.Minute}}
	c := followUp
	c.Detect = "amd"
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c)
	defer f.db.Close()
	f.r.o.Agents = a
	f.r.o.Dial = func(ctx context.Context, trunk, number, from string) (media.Channel, error) {
		return &speaking{id: number, audio: concat(voice(400), quiet(3000)), events: make(chan media.Event, 8)}, nil
	}
	f.r.Import("follow-up", strings.NewReader("number,order\n13900000001,A1\n"))
	f.tick()
	if want := []string{"13900000001 1.2s A1"}; !equalSets(a.connected, want) {
		t.Errorf("put to the queue: %q, want %q", a.connected, want)
	}
}

// The early-media tap gives up a dial only while it rings: once the dial
// has returned (answered), a SIT heard cancels nothing.
func TestEarlySITOnlyWhileRinging(t *testing.T) {
	cancelled := false
	e := &earlySIT{det: sit.New(), cancel: func() { cancelled = true }}
	e.over.Store(true)
	signal := concat(quiet(100), sitTones(913.8, 1370.6, 274, 274), quiet(500))
	for i := 0; i+160 <= len(signal); i += 160 {
		e.hear(signal[i : i+160])
	}
	if cancelled || e.code() != "" {
		t.Errorf("after the dial returned: cancelled %v, code %q", cancelled, e.code())
	}
	e = &earlySIT{det: sit.New(), cancel: func() { cancelled = true }}
	for i := 0; i+160 <= len(signal); i += 160 {
		e.hear(signal[i : i+160])
	}
	if !cancelled || e.code() != sit.Intercept {
		t.Errorf("while ringing: cancelled %v, code %q", cancelled, e.code())
	}
}
