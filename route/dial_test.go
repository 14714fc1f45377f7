package route

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/acd"
	"jinyin/analog"
	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/media/tone"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
)

// bound is how long a test waits for what must happen at once.
const bound = 2 * time.Second

// call is one side of a call under test: it records what is played to it
// and whether it was hung up; a test drives its events (unbuffered, so a
// send returns once the plan has read it).
type call struct {
	id     string
	events chan media.Event
	played chan media.PlayID // each Play's id, when not nil

	mu      sync.Mutex
	plays   []media.Source
	hangups int
}

func newCall(id string) *call { return &call{id: id, events: make(chan media.Event)} }

func (c *call) ID() string { return c.id }
func (c *call) Play(src media.Source) media.PlayID {
	c.mu.Lock()
	c.plays = append(c.plays, src)
	id := media.PlayID(len(c.plays))
	c.mu.Unlock()
	if c.played != nil {
		c.played <- id
	}
	return id
}
func (c *call) Events() <-chan media.Event { return c.events }
func (c *call) Hangup() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hangups++
	return nil
}

// Listen is this side's audio, as the other side of a bridge hears it.
func (c *call) Listen() media.Source { return heard{c} }

func (c *call) state() (plays []media.Source, hangups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.plays), c.hangups
}

// heard is the audio of a call.
type heard struct{ of *call }

func (heard) Fill(dst []int16) int { clear(dst); return len(dst) }

// flashed is an analog phone that answered, hook-flashed and dialled a
// number to hand the caller on to.
type flashed struct {
	*call
	to string
}

func (f flashed) TransferTarget() string { return f.to }

// send hands e to the plan, which must be reading c's events.
func send(t *testing.T, c *call, e media.Event) {
	t.Helper()
	select {
	case c.events <- e:
	case <-time.After(bound):
		t.Fatalf("%s: nobody reads its events to take %+v", c.id, e)
	}
}

func await[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(bound):
		t.Fatalf("%s: did not happen", what)
		panic("unreachable")
	}
}

// fakeSIP places SIP calls with the functions a test gives, and records
// them.
type fakeSIP struct {
	mu    sync.Mutex
	calls []string
	phone func(ctx context.Context) (media.Channel, error)
}

func (s *fakeSIP) Phone(ctx context.Context, ext, from string) (media.Channel, error) {
	s.record("phone " + ext + " from " + from)
	if s.phone == nil {
		return nil, errors.New("no answer")
	}
	return s.phone(ctx)
}

func (s *fakeSIP) Trunk(_ context.Context, trunk, number, from string) (media.Channel, error) {
	s.record("trunk " + trunk + " " + number + " from " + from)
	return nil, errors.New("trunk down")
}

func (s *fakeSIP) record(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func (s *fakeSIP) placed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ringingPhones are FXS phones that answer with callee.
type ringingPhones struct {
	fakePhones
	callee media.Channel
	mu     sync.Mutex
	rung   []string
}

func (p *ringingPhones) Ring(_ context.Context, ext, from string) (media.Channel, error) {
	p.mu.Lock()
	p.rung = append(p.rung, ext+" from "+from)
	p.mu.Unlock()
	return p.callee, nil
}

type fakeIVR struct {
	mu   sync.Mutex
	runs []string
}

func (v *fakeIVR) Run(ch media.Channel, flow string, info ivr.CallInfo) map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.runs = append(v.runs, fmt.Sprintf("%s %s caller=%q dialled=%q", ch.ID(), flow, info.Caller, info.Dialled))
	return nil
}

func (v *fakeIVR) ran() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.runs)
}

// fakeAgents is the ACD as feature codes reach it: every call is
// recorded; err fails them all.
type fakeAgents struct {
	supervisors map[string]bool
	err         error
	mu          sync.Mutex
	calls       []string
}

func (a *fakeAgents) do(c string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, c)
	return a.err
}

func (a *fakeAgents) Login(ext string) error         { return a.do("login " + ext) }
func (a *fakeAgents) Logout(ext string) error        { return a.do("logout " + ext) }
func (a *fakeAgents) Pause(ext, reason string) error { return a.do("pause " + ext + " " + reason) }
func (a *fakeAgents) Unpause(ext string) error       { return a.do("unpause " + ext) }
func (a *fakeAgents) IsSupervisor(ext string) bool   { return a.supervisors[ext] }
func (a *fakeAgents) Monitor(sup media.Channel, supervisor, agent, mode string) error {
	return a.do("monitor " + sup.ID() + " " + supervisor + " " + agent + " " + mode)
}

func (a *fakeAgents) done() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// fakePrompts records the replies asked for.
type fakePrompts struct {
	err   error
	mu    sync.Mutex
	asked []string
}

func (f *fakePrompts) Player(lang string, ids ...string) (*prompt.Player, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, lang+" "+strings.Join(ids, " "))
	if f.err != nil {
		return nil, f.err
	}
	return prompt.PlayerOf(make([]int16, 160)), nil
}

func (f *fakePrompts) replies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// recordingQueues is the queue as Transfer hands callers to it.
type recordingQueues struct {
	fakeQueues
	waited []string
}

func (q *recordingQueues) Wait(ch media.Channel, queue string, c acd.Caller) error {
	q.waited = append(q.waited, fmt.Sprintf("%s queue=%q %+v", ch.ID(), queue, c))
	return errors.New("queue full")
}

// transfer runs Transfer to target in the background; its result arrives
// on the channel.
func transfer(p *Plan, caller media.Channel, target string) <-chan error {
	kind, what, _ := strings.Cut(target, ":")
	tg := ivr.Target{Kind: kind, What: what, Caller: "13800138000"}
	if kind == "trunk" {
		tg.What, tg.Number, _ = strings.Cut(what, "/")
	}
	done := make(chan error, 1)
	go func() { done <- p.Transfer(caller, tg) }()
	return done
}

// TestRingbackIsChinas: while the far end is dialled the caller hears
// China's ring-back (box.country "cn"): 450 Hz, 1 s on, 4 s off (GB/T
// 3380); once it answers the two hear each other, and when the far end
// hangs up the caller's call ends.
func TestRingbackIsChinas(t *testing.T) {
	p := demo(t)
	answer := make(chan struct{})
	callee := newCall("callee")
	p.Lines = map[string][]Line{"pstn": {lineFunc(func(ctx context.Context, number string) (media.Channel, error) {
		if number != "88880000" {
			return nil, fmt.Errorf("dialled %q", number)
		}
		select {
		case <-answer:
			return callee, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})}}
	caller := newCall("caller")
	caller.played = make(chan media.PlayID, 8)
	done := transfer(p, caller, "trunk:pstn/88880000")
	await(t, "ring-back", caller.played)
	plays, _ := caller.state()
	rb, ok := plays[0].(*tone.Player)
	if !ok {
		t.Fatalf("the caller hears %T while the far end is dialled, want ring-back", plays[0])
	}
	on := make([]int16, 8000) // 1 s at 8 kHz
	for i := 0; i < len(on); i += media.FrameSamples {
		rb.Fill(on[i : i+media.FrameSamples])
	}
	crossings := 0
	for i := 1; i < len(on); i++ {
		if (on[i-1] < 0) != (on[i] < 0) {
			crossings++
		}
	}
	if crossings < 880 || crossings > 920 { // 450 Hz: 900 a second
		t.Errorf("ring-back's first second crosses zero %d times, want 900 (450 Hz)", crossings)
	}
	off := make([]int16, media.FrameSamples)
	for i := range 4000 / 20 {
		rb.Fill(off)
		if slices.ContainsFunc(off, func(s int16) bool { return s != 0 }) {
			t.Fatalf("ring-back sounds %d ms into its 4 s pause", 20*i)
		}
	}
	rb.Fill(off)
	if !slices.ContainsFunc(off, func(s int16) bool { return s != 0 }) {
		t.Error("ring-back does not sound again after 4 s off")
	}

	close(answer)
	await(t, "the bridge", caller.played)
	send(t, callee, media.Event{Kind: media.EventHangup})
	if err := await(t, "Transfer's return", done); err != nil {
		t.Errorf("an answered call that ended: %v", err)
	}
	plays, hangups := caller.state()
	want := []media.Source{rb, heard{callee}, nil}
	if !slices.Equal(plays, want) || hangups != 1 {
		t.Errorf("caller heard %v, hung up %d times; want ring-back, the callee, silence, and hung up once", plays, hangups)
	}
	if plays, _ := callee.state(); !slices.Equal(plays, []media.Source{heard{caller}}) {
		t.Errorf("callee heard %v, want the caller", plays)
	}
}

// TestCallerHangsUpWhileDialling: a caller who hangs up (or whose call is
// gone) during ring-back cancels the dial; Transfer returns nil, for the
// call is over, not failed. Digits the caller presses meanwhile do not
// end the ringing.
func TestCallerHangsUpWhileDialling(t *testing.T) {
	for _, gone := range []string{"hangup", "closed"} {
		p := demo(t)
		dialling, cancelled := make(chan struct{}), make(chan struct{})
		p.Lines = map[string][]Line{"pstn": {lineFunc(func(ctx context.Context, _ string) (media.Channel, error) {
			close(dialling)
			<-ctx.Done()
			close(cancelled)
			return nil, ctx.Err()
		})}}
		caller := newCall("caller")
		done := transfer(p, caller, "trunk:pstn/88880000")
		await(t, gone+": dialling", dialling)
		send(t, caller, media.Event{Kind: media.EventDigit, Digit: '5'})
		send(t, caller, media.Event{Kind: media.EventDigit, Digit: '#'})
		select {
		case <-cancelled:
			t.Fatalf("%s: a digit cancelled the dial", gone)
		default:
		}
		if gone == "hangup" {
			send(t, caller, media.Event{Kind: media.EventHangup})
		} else {
			close(caller.events)
		}
		await(t, gone+": the dial cancelled", cancelled)
		if err := await(t, gone+": Transfer's return", done); err != nil {
			t.Errorf("%s: Transfer = %v, want nil", gone, err)
		}
	}
}

// TestCallerHangsUpAsTheFarEndAnswers: a far end that answers just as
// the caller hangs up is hung up, not left up with no one on it.
func TestCallerHangsUpAsTheFarEndAnswers(t *testing.T) {
	p := demo(t)
	callee := newCall("callee")
	dialling := make(chan struct{})
	p.Lines = map[string][]Line{"pstn": {lineFunc(func(ctx context.Context, _ string) (media.Channel, error) {
		close(dialling)
		<-ctx.Done()
		return callee, nil
	})}}
	caller := newCall("caller")
	done := transfer(p, caller, "trunk:pstn/88880000")
	await(t, "dialling", dialling)
	send(t, caller, media.Event{Kind: media.EventHangup})
	if err := await(t, "Transfer's return", done); err != nil {
		t.Errorf("Transfer = %v", err)
	}
	if _, n := callee.state(); n != 1 {
		t.Errorf("the far end that answered late was hung up %d times, want once", n)
	}
	if plays, _ := callee.state(); len(plays) != 0 {
		t.Errorf("the far end was bridged to a caller who had left: %v", plays)
	}
}

// TestDialErrorReturnsToTheIVR: a dial that fails stops the ring-back and
// hands the error back to the flow (its fail branch), leaving the caller
// up.
func TestDialErrorReturnsToTheIVR(t *testing.T) {
	p := demo(t)
	p.Lines = map[string][]Line{"pstn": {&fakeLine{err: errors.New("busy")}}}
	caller := newCall("caller")
	err := await(t, "Transfer's return", transfer(p, caller, "trunk:pstn/88880000"))
	if err == nil || !strings.Contains(err.Error(), `no line of group "pstn" is free`) {
		t.Errorf("Transfer = %v, want no line free", err)
	}
	plays, hangups := caller.state()
	if len(plays) != 2 || plays[1] != nil || hangups != 0 {
		t.Errorf("caller heard %v and was hung up %d times; want ring-back then silence, still up", plays, hangups)
	}
}

// TestCallerLeavesTheBridge: when the caller hangs up during the call the
// far end is hung up; the caller's side is not hung up again.
func TestCallerLeavesTheBridge(t *testing.T) {
	p := demo(t)
	callee := newCall("callee")
	callee.played = make(chan media.PlayID, 1)
	p.Lines = map[string][]Line{"pstn": {lineFunc(func(context.Context, string) (media.Channel, error) { return callee, nil })}}
	caller := newCall("caller")
	done := transfer(p, caller, "trunk:pstn/88880000")
	await(t, "the bridge", callee.played)
	send(t, caller, media.Event{Kind: media.EventHangup})
	if err := await(t, "Transfer's return", done); err != nil {
		t.Errorf("Transfer = %v", err)
	}
	if _, n := callee.state(); n != 1 {
		t.Errorf("far end hung up %d times, want once", n)
	}
	if _, n := caller.state(); n != 0 {
		t.Errorf("caller who left hung up %d times by the plan", n)
	}
}

// TestHookFlashTransfer: an analog phone that answers, hook-flashes and
// dials hands the caller on to that number, as a call from a line (no
// digest to give); a number that goes nowhere ends the caller's call.
func TestHookFlashTransfer(t *testing.T) {
	for _, c := range []struct {
		to      string
		runs    []string
		hangups int
	}{
		{"100", []string{`caller main caller="" dialled="100"`}, 1},
		{"*97", nil, 1}, // needs a digest: refused
		{"999", nil, 1},
		{"", nil, 1}, // no transfer: the callee hung up
	} {
		p := demo(t)
		v := &fakeIVR{}
		p.IVR = v
		callee := newCall("callee")
		callee.played = make(chan media.PlayID, 1)
		phones := &ringingPhones{fakePhones: fakePhones{"2001": true}, callee: flashed{callee, c.to}}
		p.Phones = phones
		caller := newCall("caller")
		done := transfer(p, caller, "ext:2001")
		await(t, c.to+": the bridge", callee.played)
		send(t, callee, media.Event{Kind: media.EventHangup})
		if err := await(t, c.to+": Transfer's return", done); err != nil {
			t.Errorf("%q: Transfer = %v", c.to, err)
		}
		if _, n := caller.state(); !slices.Equal(v.ran(), c.runs) || n != c.hangups {
			t.Errorf("flash to %q: IVR ran %q, caller hung up %d times; want %q, %d", c.to, v.ran(), n, c.runs, c.hangups)
		}
		if !slices.Equal(phones.rung, []string{"2001 from 13800138000"}) {
			t.Errorf("rung %q", phones.rung)
		}
	}
}

// TestTransferTargets: a queue or an agent goes to the queue with the
// caller's details; an extension rings its FXS phone, else its newest
// registered phone, else fails at once; a SIP trunk is dialled with the
// caller's number; a target no one can take fails before anything.
func TestTransferTargets(t *testing.T) {
	p := demo(t)
	q := &recordingQueues{fakeQueues: p.Queues.(fakeQueues)}
	p.Queues = q
	s := &fakeSIP{}
	p.SIP = s
	caller := newCall("caller")
	tg := ivr.Target{Kind: "queue", What: "general", Caller: "13800138000", Tier: "gold", Lang: "en"}
	if err := p.Transfer(caller, tg); err == nil || err.Error() != "queue full" {
		t.Errorf("queue: %v, want the queue's own error", err)
	}
	tg = ivr.Target{Kind: "agent", What: "1002", Caller: "13800138000"}
	if err := p.Transfer(caller, tg); err == nil {
		t.Error("agent: no error")
	}
	want := []string{
		`caller queue="general" {Call:caller Number:13800138000 Tier:gold Lang:en Agent: Data:map[] Within:0s}`,
		`caller queue="" {Call:caller Number:13800138000 Tier: Lang: Agent:1002 Data:map[] Within:0s}`,
	}
	if !slices.Equal(q.waited, want) {
		t.Errorf("queued\n%q\nwant\n%q", q.waited, want)
	}

	if err := await(t, "ext:1001", transfer(p, caller, "ext:1001")); err == nil || err.Error() != "no answer" {
		t.Errorf("ext:1001: %v, want the SIP dial's error", err)
	}
	if err := await(t, "ext:1003", transfer(p, caller, "ext:1003")); !errors.Is(err, errNoOne) {
		t.Errorf("ext:1003 (not registered): %v, want %v", err, errNoOne)
	}
	if err := await(t, "trunk", transfer(p, caller, "trunk:carrier/88880000")); err == nil || err.Error() != "trunk down" {
		t.Errorf("SIP trunk: %v", err)
	}
	if err := await(t, "ext:555", transfer(p, caller, "ext:555")); err == nil {
		t.Error("ext:555: no error")
	}
	wantSIP := []string{"phone 1001 from 13800138000", "trunk carrier 88880000 from 13800138000"}
	if got := s.placed(); !slices.Equal(got, wantSIP) {
		t.Errorf("SIP calls %q, want %q", got, wantSIP)
	}
	// Ring-back only for the calls dialled: the unregistered extension
	// and the unknown one are refused in silence.
	if plays, _ := caller.state(); len(plays) != 4 {
		t.Errorf("caller heard %d sources, want ring-back and silence twice", len(plays))
	}
}

// TestInbound: a call from a line to a refused number is turned away
// with its Q.850 cause (1 unallocated, 21 rejected, 20 subscriber absent)
// and not answered; a taken call is answered, run, then hung up; a line
// that fails to answer drops the call.
func TestInbound(t *testing.T) {
	for _, c := range []struct {
		to       string
		trusted  bool
		cause    int // -1: not refused
		runs     []string
		answered bool
	}{
		{"999", false, 1, nil, false},
		{"*97", false, 21, nil, false},
		{"1003", false, 20, nil, false},
		{"*11", true, 1, nil, false}, // feature codes are for SIP phones
		{"100", false, -1, []string{`caller main caller="2001" dialled="100"`}, true},
		{"*97", true, -1, []string{`caller voicemail caller="2001" dialled="*97"`}, true},
	} {
		for _, answerErr := range []error{nil, errors.New("line dropped")} {
			p := demo(t)
			v := &fakeIVR{}
			p.IVR = v
			caller := newCall("caller")
			answered, cause := false, -1
			answer := func() error { answered = true; return answerErr }
			taken := p.Inbound(caller, c.to, "2001", c.trusted, answer, func(q uint8) { cause = int(q) })
			wantRuns, wantHangups := c.runs, 0
			if answerErr != nil {
				wantRuns = nil
			} else if c.cause < 0 {
				wantHangups = 1
			}
			_, hangups := caller.state()
			if taken != (wantHangups == 1) || cause != c.cause || answered != c.answered || !slices.Equal(v.ran(), wantRuns) || hangups != wantHangups {
				t.Errorf("%s trusted %v answer %v: taken %v, cause %d, answered %v, IVR %q, hung up %d; want cause %d, IVR %q, hung up %d",
					c.to, c.trusted, answerErr, taken, cause, answered, v.ran(), hangups, c.cause, wantRuns, wantHangups)
			}
		}
	}
	// A line already up: no answer to give.
	p := demo(t)
	p.IVR = &fakeIVR{}
	if !p.Inbound(newCall("caller"), "100", "", false, nil, func(uint8) { t.Error("refused") }) {
		t.Error("a call on a line already up was not taken")
	}
}

// TestInboundRingsTheFXSPhone: an exchange call to the front desk's
// extension rings its analog phone with the caller's number; an agent
// rings on its registered SIP phone.
func TestInboundRingsTheFXSPhone(t *testing.T) {
	p := demo(t)
	callee := newCall("desk")
	callee.played = make(chan media.PlayID, 1)
	phones := &ringingPhones{fakePhones: fakePhones{"2001": true}, callee: callee}
	p.Phones = phones
	caller := newCall("caller")
	taken := make(chan bool, 1)
	go func() { taken <- p.Inbound(caller, "2001", "075588880000", false, nil, func(uint8) {}) }()
	await(t, "the bridge", callee.played)
	send(t, callee, media.Event{Kind: media.EventHangup})
	if !await(t, "Inbound's return", taken) {
		t.Error("not taken")
	}
	if !slices.Equal(phones.rung, []string{"2001 from 075588880000"}) {
		t.Errorf("rung %q", phones.rung)
	}

	s := &fakeSIP{}
	p.SIP = s
	if !p.Inbound(newCall("caller"), "1001", "075588880000", false, nil, func(uint8) {}) {
		t.Error("1001 not taken")
	}
	if got := s.placed(); !slices.Equal(got, []string{"phone 1001 from 075588880000"}) {
		t.Errorf("SIP calls %q", got)
	}
}

// runApp answers a SIP call to `to` from `from` as the SIP server would,
// and returns when the App is done; the test drives it meanwhile.
func runApp(t *testing.T, p *Plan, caller *call, to, from string) <-chan struct{} {
	t.Helper()
	r, err := p.Router(to, from)
	if err != nil {
		t.Fatalf("Router(%q): %v", to, err)
	}
	done := make(chan struct{})
	go func() { r.App(caller); close(done) }()
	return done
}

// TestFeatureCodes: an agent's codes reach the ACD for the agent's own
// extension (*13 with its reason, "break" without), and the reply is
// played in the box's language until it ends; a refusal by the ACD says
// the extension is not an agent.
func TestFeatureCodes(t *testing.T) {
	for _, c := range []struct {
		code, acd, reply string
	}{
		{"*11", "login 1001", "logged-in"},
		{"*12", "logout 1001", "logged-out"},
		{"*13", "pause 1001 break", "paused"},
		{"*1302", "pause 1001 02", "paused"},
		{"*14", "unpause 1001", "unpaused"},
	} {
		for _, fail := range []bool{false, true} {
			p := demo(t)
			a := &fakeAgents{}
			if fail {
				a.err = errors.New("not an agent")
				c.reply = "not-an-agent"
			}
			pr := &fakePrompts{}
			p.Agents, p.Prompts = a, pr
			caller := newCall("caller")
			caller.played = make(chan media.PlayID, 1)
			done := runApp(t, p, caller, c.code, "1001")
			id := await(t, c.code+": the reply", caller.played)
			// A stale play's end and a digit do not cut the reply short;
			// its own end does.
			send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id + 1})
			send(t, caller, media.Event{Kind: media.EventDigit, Digit: '1'})
			send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
			await(t, c.code+": the App's return", done)
			if got := a.done(); !slices.Equal(got, []string{c.acd}) {
				t.Errorf("%s: ACD got %q, want %q", c.code, got, c.acd)
			}
			if got := pr.replies(); !slices.Equal(got, []string{"zh " + c.reply}) {
				t.Errorf("%s (fail %v): replies %q, want zh %s", c.code, fail, got, c.reply)
			}
		}
	}
}

// TestFeatureReplyEnds: a caller who hangs up during the reply ends it;
// with no prompt to play, the code is done once the ACD has it.
func TestFeatureReplyEnds(t *testing.T) {
	p := demo(t)
	a := &fakeAgents{}
	p.Agents, p.Prompts = a, &fakePrompts{}
	caller := newCall("caller")
	caller.played = make(chan media.PlayID, 1)
	done := runApp(t, p, caller, "*11", "1001")
	await(t, "the reply", caller.played)
	send(t, caller, media.Event{Kind: media.EventHangup})
	await(t, "the App's return", done)

	caller = newCall("caller")
	caller.played = make(chan media.PlayID, 1)
	done = runApp(t, p, caller, "*14", "1001")
	await(t, "the reply", caller.played)
	close(caller.events)
	await(t, "the App's return after the call is gone", done)

	p.Prompts = &fakePrompts{err: errors.New("no prompt")}
	caller = newCall("caller")
	await(t, "the App's return without a prompt", runApp(t, p, caller, "*12", "1001"))
	if plays, _ := caller.state(); len(plays) != 0 {
		t.Errorf("played %v without a prompt", plays)
	}
	if got := a.done(); !slices.Equal(got, []string{"login 1001", "unpause 1001", "logout 1001"}) {
		t.Errorf("ACD got %q", got)
	}
}

// TestMonitorCodes: a supervisor's *15/*16/*17 and an agent's number
// listen to, whisper to or barge in on that agent; anyone else is
// refused before the ACD hears of it.
func TestMonitorCodes(t *testing.T) {
	for _, c := range []struct {
		code, from string
		want       []string
	}{
		{"*151001", "1002", []string{"monitor caller 1002 1001 " + acd.Listen}},
		{"*161003", "1002", []string{"monitor caller 1002 1003 " + acd.Whisper}},
		{"*171004", "1002", []string{"monitor caller 1002 1004 " + acd.Barge}},
		{"*151002", "1001", nil}, // 1001 is not a supervisor
	} {
		for _, fail := range []bool{false, true} {
			p := demo(t)
			a := &fakeAgents{supervisors: map[string]bool{"1002": true}}
			if fail {
				a.err = errors.New("agent not on a call")
			}
			p.Agents = a
			await(t, c.code, runApp(t, p, newCall("caller"), c.code, c.from))
			if got := a.done(); !slices.Equal(got, c.want) {
				t.Errorf("%s from %s: ACD got %q, want %q", c.code, c.from, got, c.want)
			}
		}
	}
}

// TestRouterApps: the SIP router's App runs the IVR flow with the
// caller and the number dialled, or rings the extension's phone; only an
// IVR without auth is open to callers who are not the box's.
func TestRouterApps(t *testing.T) {
	p := demo(t)
	v, s := &fakeIVR{}, &fakeSIP{}
	p.IVR, p.SIP = v, s
	for _, c := range []struct {
		to   string
		open bool
	}{{"100", true}, {"*97", false}, {"1001", false}, {"*11", false}, {"*151001", false}} {
		r, err := p.Router(c.to, "1002")
		if err != nil || r.Open != c.open {
			t.Errorf("Router(%q): open %v, %v; want open %v", c.to, r.Open, err, c.open)
		}
	}
	await(t, "100", runApp(t, p, newCall("caller"), "100", "1002"))
	await(t, "*97", runApp(t, p, newCall("caller"), "*97", "1002"))
	await(t, "1001", runApp(t, p, newCall("caller"), "1001", "1002"))
	want := []string{`caller main caller="1002" dialled="100"`, `caller voicemail caller="1002" dialled="*97"`}
	if !slices.Equal(v.ran(), want) {
		t.Errorf("IVR ran %q, want %q", v.ran(), want)
	}
	if got := s.placed(); !slices.Equal(got, []string{"phone 1001 from 1002"}) {
		t.Errorf("SIP calls %q", got)
	}
}

// TestDialer: the queue rings agents on their registered phones with the
// caller's number, calls a callback that is one of the box's registered
// extensions on its phone (from the box's name), and any other number out
// through the callback trunk, refusing one with no trunk.
func TestDialer(t *testing.T) {
	p := demo(t)
	s := &fakeSIP{}
	p.SIP = s
	line := &fakeLine{}
	p.Lines = map[string][]Line{"pstn": {line}}
	d := p.Dialer()
	if !d.Registered("1001") || d.Registered("1003") {
		t.Error("Registered: 1001 is registered, 1003 is not")
	}
	ctx := context.Background()
	if _, err := d.Ring(ctx, "1001", "13800138000"); err == nil {
		t.Error("Ring: the SIP error was lost")
	}
	if _, err := d.Dial(ctx, "pstn", "1002"); err == nil {
		t.Error("Dial 1002: the SIP error was lost")
	}
	if got, want := s.placed(), []string{"phone 1001 from 13800138000", "phone 1002 from jinyin-demo"}; !slices.Equal(got, want) {
		t.Errorf("SIP calls %q, want %q", got, want)
	}
	if _, err := d.Dial(ctx, "", "13800138000"); err == nil || !strings.Contains(err.Error(), "callback_trunk") {
		t.Errorf("Dial with no trunk: %v", err)
	}
	if ch, err := d.Dial(ctx, "pstn", "13800138000"); err != nil || ch != line.ch || line.dialled != "13800138000" {
		t.Errorf("Dial through pstn: %v, %v; dialled %q", ch, err, line.dialled)
	}
	// The dial classes hold for callbacks too.
	if _, err := d.Dial(ctx, "pstn", "0044201234567"); !errors.As(err, new(*ErrDialDenied)) {
		t.Errorf("an international callback: %v, want refused", err)
	}
}

// TestSignallingAdapters: the SIP server without a registration for an
// extension or without the trunk refuses at once, and a stopped PRI span
// fails its dial, each with a nil Channel (not one holding a nil
// pointer).
func TestSignallingAdapters(t *testing.T) {
	reg := sip.NewRegistrar(nil, clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)), nil, nil)
	s := SIPServer{&sip.Server{Registrar: reg}}
	if s.Has("1001") {
		t.Error("1001 registered with no REGISTER")
	}
	ctx := context.Background()
	if ch, err := s.Phone(ctx, "1001", "100"); ch != nil || !errors.Is(err, errNoOne) {
		t.Errorf("Phone: %v, %v; want nil, %v", ch, err, errNoOne)
	}
	if ch, err := s.Trunk(ctx, "carrier", "88880000", "100"); ch != nil || err == nil {
		t.Errorf("Trunk with no trunk: %v, %v", ch, err)
	}
	st := pri.New(pri.Config{Clock: clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)), D: &deadD{closed: make(chan struct{})}, Channels: []int{1}})
	st.Start()
	defer st.Close()
	var ce *pri.CauseError
	if ch, err := (PRIStack{st}).Dial(ctx, "88880000", "100"); ch != nil || !errors.As(err, &ce) || ce.Cause != q931.CauseOutOfOrder {
		t.Errorf("Dial on a span whose D-channel is down: %v, %v; want nil, cause 27 (destination out of order)", ch, err)
	}
	c := &fakeChannel{}
	if ch, err := channel(c, nil); ch != c || err != nil {
		t.Errorf("channel of a call: %v, %v", ch, err)
	}
}

// deadD is a D-channel on which the far end never answers.
type deadD struct {
	once   sync.Once
	closed chan struct{}
}

func (d *deadD) ReadFrame([]byte) (int, error) { <-d.closed; return 0, errors.New("closed") }
func (d *deadD) WriteFrame([]byte) error       { return nil }
func (d *deadD) Close() error                  { d.once.Do(func() { close(d.closed) }); return nil }

// TestNames: what logs and errors say.
func TestNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Refused.String(), "Refused"}, {Trunk.String(), "Trunk"}, {Monitor.String(), "Monitor"},
		{NotRefused.String(), "NotRefused"}, {Unreachable.String(), "Unreachable"},
		{ViaSIP.String(), "SIP"}, {ViaPRI.String(), "PRI"}, {ViaFXO.String(), "FXO"},
		{(&ErrDialDenied{Number: "0044201234567", Class: International, Why: "no"}).Error(), "dialling 0044201234567 is not allowed: no"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	p := demo(t)
	if e, ok := p.Extension("2001"); !ok || e.Number != "2001" {
		t.Errorf("Extension(2001) = %+v, %v", e, ok)
	}
	if _, ok := p.Extension("555"); ok {
		t.Error("Extension(555) found")
	}
}

// logged is a log a test reads after what writes it is done.
type logged struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logged) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logged) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestFailuresAreLogged: an extension that does not answer a SIP call
// and a monitoring the ACD refuses are in the log with why; a call that
// went through says nothing of the kind.
func TestFailuresAreLogged(t *testing.T) {
	for _, fail := range []bool{false, true} {
		p := demo(t)
		log := &logged{}
		p.Log = slog.New(slog.NewTextHandler(log, nil))
		s := &fakeSIP{}
		callee := newCall("callee")
		callee.played = make(chan media.PlayID, 1)
		if !fail {
			s.phone = func(context.Context) (media.Channel, error) { return callee, nil }
		}
		p.SIP = s
		a := &fakeAgents{supervisors: map[string]bool{"1002": true}}
		if fail {
			a.err = errors.New("agent not on a call")
		}
		p.Agents = a
		done := runApp(t, p, newCall("caller"), "1001", "1002")
		if !fail {
			await(t, "the bridge", callee.played)
			send(t, callee, media.Event{Kind: media.EventHangup})
		}
		await(t, "the ring's end", done)
		await(t, "monitoring", runApp(t, p, newCall("caller"), "*151001", "1002"))
		out := log.String()
		for _, want := range []string{`msg="extension did not answer" ext=1001 err="no answer"`, `msg=monitoring supervisor=1002 agent=1001 err="agent not on a call"`} {
			if strings.Contains(out, want) != fail {
				t.Errorf("failing %v: log has %q: %v\n%s", fail, want, !fail, out)
			}
		}
	}
}

// TestDefaultLimits: a config that says nothing of the toll-fraud caps
// gets [security]'s documented defaults: 30 calls a minute per trunk
// group, and more than 20 destinations within 10 minutes stop it for an
// hour.
func TestDefaultLimits(t *testing.T) {
	tp := newTollPlan(t, func(cfg *config.Config) {
		cfg.Security.OutboundPerMinute, cfg.Security.MaxDestinations = 0, 0
		cfg.Security.DestinationWindow, cfg.Security.BreakerTime = "", ""
		cfg.Security.MaxOutbound = 1000 // these calls never end: TestConcurrentCaps has that cap
	})
	clk := tp.clk
	dial := func(number string) error {
		_, err := tp.DialOut(context.Background(), "pstn", number, "")
		return err
	}
	for i := range 30 {
		if err := dial("88880000"); err != nil {
			t.Fatalf("call %d of the minute: %v", i+1, err)
		}
	}
	if err := dial("88880000"); err == nil {
		t.Fatal("a 31st call in a minute went out")
	}
	clk.Advance(time.Minute)
	// 19 more destinations, 20 in all, over 5 minutes: the 21st within
	// the 10 minutes opens the breaker.
	for i := range 19 {
		clk.Advance(15 * time.Second)
		if err := dial(fmt.Sprint(88880001 + i)); err != nil {
			t.Fatalf("destination %d: %v", i+2, err)
		}
	}
	clk.Advance(15 * time.Second)
	err := dial("88889999")
	if err == nil || !strings.Contains(err.Error(), "stopped for 1h0m0s: more than 20 destinations in 10m0s") {
		t.Fatalf("the 21st destination: %v", err)
	}
}

// TestDestinationWindowEdge: a number dialled destination_window ago has
// left the window (as a call a minute ago has left the minute).
func TestDestinationWindowEdge(t *testing.T) {
	l := newToll(demoConfig(t))
	l.newDests = 2
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at     time.Duration
		number string
	}{{0, "88880001"}, {time.Minute, "88880002"}, {10 * time.Minute, "88880003"}} {
		if _, _, err := l.admit(t0.Add(c.at), "", "pstn", c.number, Local); err != nil {
			t.Errorf("%s at +%v: %v", c.number, c.at, err)
		}
	}
}

// TestNoLimits: limits with no caps set (zero) admit every call.
func TestNoLimits(t *testing.T) {
	l := newToll(demoConfig(t))
	l.perMinute, l.newDests, l.trunkMax, l.trunkSpend = 0, 0, 0, 0
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 100 {
		if _, _, err := l.admit(now, "", "pstn", fmt.Sprint(88880000+i), Local); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
}

// ringingCall is a SIP caller on an Early route: not answered until the
// plan answers it, refused with the status it is given otherwise.
type ringingCall struct {
	*call
	answerErr error
	mu        sync.Mutex
	did       []string
}

func (c *ringingCall) Answer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.did = append(c.did, "answer")
	return c.answerErr
}

func (c *ringingCall) Refuse(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.did = append(c.did, fmt.Sprint("refuse ", status))
}

func (c *ringingCall) done() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.did)
}

// TestExtensionAnswersTheCaller: a SIP call to an extension rings it
// before the caller is answered (sip.Route.Early); the caller is answered
// only when the phone answers, and refused with why it did not: 486 for
// a SIP phone's 486 Busy Here or 600 Busy Everywhere and for an analog
// phone off hook, 480 for no answer in 30 s and for any other failure. A
// caller whose answer fails does not leave the phone up.
func TestExtensionAnswersTheCaller(t *testing.T) {
	busy := func(code int) error {
		return fmt.Errorf("sip: dial: %w", &sipgo.ErrDialogResponse{Res: gosip.NewResponse(code, "Busy")})
	}
	for _, c := range []struct {
		name      string
		ext       string
		err       error // the phone's answer to the ring; nil: it answers
		answerErr error
		want      []string
	}{
		{"answers", "1001", nil, nil, []string{"answer"}},
		{"486", "1001", busy(486), nil, []string{"refuse 486"}},
		{"600", "1001", busy(600), nil, []string{"refuse 486"}},
		{"603", "1001", busy(603), nil, []string{"refuse 480"}},
		{"off hook", "2001", analog.ErrBusy, nil, []string{"refuse 486"}},
		{"unreachable", "1001", errors.New("sip: dial: no route"), nil, []string{"refuse 480"}},
		{"no answer", "1001", context.Canceled, nil, []string{"refuse 480"}},
		{"the caller's answer fails", "1001", nil, errors.New("no ACK"), []string{"answer"}},
	} {
		p := demo(t)
		clk := clock.NewFake(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
		p.Clock = clk
		callee := newCall("callee")
		ringing := make(chan struct{})
		ring := func(ctx context.Context) (media.Channel, error) {
			close(ringing)
			if c.err == context.Canceled {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			if c.err != nil {
				return nil, c.err
			}
			return callee, nil
		}
		p.SIP = &fakeSIP{phone: ring}
		p.Phones = &phoneFunc{fakePhones: fakePhones{"2001": true}, ring: ring}
		r, err := p.Router(c.ext, "1002")
		if err != nil || !r.Early {
			t.Fatalf("%s: Router(%s) = early %v, %v; want an Early route", c.name, c.ext, r.Early, err)
		}
		caller := &ringingCall{call: newCall("caller"), answerErr: c.answerErr}
		done := make(chan struct{})
		go func() { r.App(caller); close(done) }()
		await(t, c.name+": ringing", ringing)
		if c.err == context.Canceled {
			clk.Advance(ringTimeout - time.Millisecond)
			select {
			case <-done:
				t.Fatalf("%s: gave up before 30 s", c.name)
			case <-time.After(20 * time.Millisecond):
			}
			clk.Advance(time.Millisecond)
		}
		if c.err == nil && c.answerErr == nil {
			send(t, callee, media.Event{Kind: media.EventHangup})
		}
		await(t, c.name+": the App's return", done)
		if got := caller.done(); !slices.Equal(got, c.want) {
			t.Errorf("%s: the caller was %q, want %q", c.name, got, c.want)
		}
		_, calleeHangups := callee.state()
		if c.answerErr != nil && calleeHangups != 1 {
			t.Errorf("%s: the phone hung up %d times, want once", c.name, calleeHangups)
		}
	}
}

// phoneFunc are FXS phones rung by a function.
type phoneFunc struct {
	fakePhones
	ring func(ctx context.Context) (media.Channel, error)
}

func (p *phoneFunc) Ring(ctx context.Context, _, _ string) (media.Channel, error) { return p.ring(ctx) }

// TestLineCallToAnExtension: a PRI call to an extension is alerted, not
// answered, while the phone rings; it is answered when the phone answers
// and cleared with cause 17 (user busy) when the phone is busy, 19 (no
// answer) when it rings out; the phone of a caller whose answer fails is
// hung up.
func TestLineCallToAnExtension(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       error
		answerErr error
		want      string
		taken     bool
	}{
		{"answers", nil, nil, "alert answer", true},
		{"busy", &pri.CauseError{Cause: q931.CauseBusy}, nil, "alert refuse 17", false},
		{"no answer", context.Canceled, nil, "alert refuse 19", false},
		{"answer fails", nil, errors.New("line dropped"), "alert answer", false},
	} {
		p := demo(t)
		clk := clock.NewFake(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
		p.Clock = clk
		callee := newCall("callee")
		ringing := make(chan struct{})
		p.SIP = &fakeSIP{phone: func(ctx context.Context) (media.Channel, error) {
			close(ringing)
			switch {
			case c.err == context.Canceled:
				<-ctx.Done()
				return nil, ctx.Err()
			case c.err != nil:
				return nil, c.err
			}
			return callee, nil
		}}
		caller := &alertingCall{call: newCall("caller")}
		var did []string
		var mu sync.Mutex
		log := func(s string) { mu.Lock(); did = append(did, s); mu.Unlock() }
		caller.alert = func() { log("alert") }
		taken := make(chan bool, 1)
		go func() {
			taken <- p.Inbound(caller, "1001", "075588880000", false,
				func() error { log("answer"); return c.answerErr },
				func(v uint8) { log(fmt.Sprint("refuse ", v)) })
		}()
		await(t, c.name+": ringing", ringing)
		if c.err == context.Canceled {
			clk.Advance(ringTimeout) // set before the phone is rung
		}
		if c.err == nil && c.answerErr == nil {
			send(t, callee, media.Event{Kind: media.EventHangup})
		}
		if got := await(t, c.name+": Inbound's return", taken); got != c.taken {
			t.Errorf("%s: taken %v, want %v", c.name, got, c.taken)
		}
		mu.Lock()
		if got := strings.Join(did, " "); got != c.want {
			t.Errorf("%s: the line was told %q, want %q", c.name, got, c.want)
		}
		mu.Unlock()
		if _, hangups := caller.state(); (hangups > 0) != c.taken {
			t.Errorf("%s: the caller was hung up %d times; a caller not taken is refused instead", c.name, hangups)
		}
		if _, n := callee.state(); c.answerErr != nil && n != 1 {
			t.Errorf("%s: the phone was hung up %d times, want once", c.name, n)
		}
	}
}

// alertingCall is a PRI caller: told when the called party is alerted.
type alertingCall struct {
	*call
	alert func()
}

func (c *alertingCall) Alert() { c.alert() }

// TestRemoteSeat: an agent whose phone is registered at another box of
// the fleet is rung through the trunk to that box, with its own number
// and the caller's, without the toll rules (no dial class of the box
// lets short numbers out); it counts as reachable though no phone is
// registered here.
func TestRemoteSeat(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Trunks = append(cfg.Trunks, config.Trunk{Name: "branch", Host: "127.0.0.2:5060"})
	for i := range cfg.Extensions {
		if cfg.Extensions[i].Number == "1003" {
			cfg.Extensions[i].Remote = "branch"
		}
	}
	p := New(cfg)
	p.Registrar = fakeRegistrar{"1001": true}
	s := &fakeSIP{}
	p.SIP = s
	d := p.Dialer()
	if !d.Registered("1003") || d.Registered("1002") {
		t.Error("Registered: the remote seat 1003 is, 1002 (no phone) is not")
	}
	ctx := context.Background()
	d.Ring(ctx, "1003", "13800138000")
	d.Ring(ctx, "1001", "13800138000")
	if got, want := s.placed(), []string{"trunk branch 1003 from 13800138000", "phone 1001 from 13800138000"}; !slices.Equal(got, want) {
		t.Errorf("SIP calls %q, want %q", got, want)
	}
}
