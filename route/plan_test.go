package route

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/acd"
	"jinyin/analog"
	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
)

// demo is the plan of the embedded default (the demo call centre) with
// 1001 and 1002 registered over SIP, 2001 on its FXS port, the span group
// "pri" and the FXO line group "pstn" of the default's board.
func demo(t *testing.T) *Plan {
	t.Helper()
	cfg := demoConfig(t)
	p := New(cfg)
	p.Registrar = fakeRegistrar{"1001": true, "1002": true}
	p.Phones = fakePhones{"2001": true}
	p.Spans = map[string][]Span{"pri": {&fakeSpan{up: true}}}
	p.Lines = map[string][]Line{"pstn": {&fakeLine{}}}
	agents := map[string]bool{}
	for _, q := range cfg.Queues {
		for _, a := range q.Agents {
			agents[a] = true
		}
	}
	p.Queues = fakeQueues(agents)
	return p
}

// TestLookup is the demo's dial plan as README and MISSION.md tell it,
// from each origin: SIP (phones and trunks), an exchange line (PRI, FXO),
// the FXS phone. Refusals say what each signalling answers.
func TestLookup(t *testing.T) {
	p := demo(t)
	ring := func(n string) Dest { return Dest{Kind: Ring, Number: n} }
	flow := func(n, f string, auth bool) Dest { return Dest{Kind: Flow, Number: n, Flow: f, Auth: auth} }
	feature := func(n, code, arg string) Dest {
		return Dest{Kind: Feature, Number: n, Auth: true, Code: code, Arg: arg}
	}
	monitor := func(n, mode string) Dest {
		return Dest{Kind: Monitor, Number: n, Auth: true, Code: n[:3], Arg: n[3:], Mode: mode}
	}
	notFound, needsAuth, absent := refused(NoSuchNumber), refused(NeedsAuth), refused(Unreachable)
	out := func(n string, auth bool) Dest {
		return Dest{Kind: Trunk, Number: n, Auth: auth, Trunks: []string{"pri", "pstn"}}
	}
	for _, c := range []struct {
		number           string
		sip, line, phone Dest
	}{
		// 100, the IVR main menu: trunks land there.
		{"100", flow("100", "main", false), flow("100", "main", false), flow("100", "main", false)},
		// *97 voicemail and *98 the daily announcement ask a SIP phone
		// for its password; an exchange caller has none to give; the FXS
		// phone's wire is its identity.
		{"*97", flow("*97", "voicemail", true), needsAuth, flow("*97", "voicemail", false)},
		{"*98", flow("*98", "announcement", true), needsAuth, flow("*98", "announcement", false)},
		// Agents 1001-1004 ring when registered.
		{"1001", ring("1001"), ring("1001"), ring("1001")},
		{"1002", ring("1002"), ring("1002"), ring("1002")},
		{"1003", absent, absent, absent},
		{"1004", absent, absent, absent},
		// 2001, the front desk's analog phone on FXS port 1.
		{"2001", ring("2001"), ring("2001"), ring("2001")},
		// Agents' feature codes, from their SIP phones only.
		{"*11", feature("*11", "*11", ""), notFound, notFound},
		{"*12", feature("*12", "*12", ""), notFound, notFound},
		{"*13", feature("*13", "*13", "break"), notFound, notFound},
		{"*1302", feature("*1302", "*13", "02"), notFound, notFound},
		{"*14", feature("*14", "*14", ""), notFound, notFound},
		{"*151001", monitor("*151001", acd.Listen), notFound, notFound},
		{"*161001", monitor("*161001", acd.Whisper), notFound, notFound},
		{"*171001", monitor("*171001", acd.Barge), notFound, notFound},
		// Not codes: a code with digits after it that takes none, a
		// reason that is not digits, a supervisor's code without an agent.
		{"*111", notFound, notFound, notFound},
		{"*14x", notFound, notFound, notFound},
		{"*13x", notFound, notFound, notFound},
		{"*15", notFound, notFound, notFound},
		{"*15x", notFound, notFound, notFound},
		// 9 and a number is out through the span group, then the FXO
		// lines ([[outbound]]): a SIP phone proves its extension first;
		// exchange lines never go back out.
		{"913800138000", out("13800138000", true), notFound, out("13800138000", false)},
		{"999", out("99", true), notFound, out("99", false)},
		{"9", notFound, notFound, notFound},
		// Unknown numbers, prefixes of known ones among them.
		{"10", notFound, notFound, notFound},
		{"", notFound, notFound, notFound},
		{"4008", notFound, notFound, notFound},
	} {
		for _, o := range []struct {
			origin Origin
			want   Dest
		}{{FromSIP, c.sip}, {FromLine, c.line}, {FromFXS, c.phone}} {
			if got := p.Lookup(c.number, o.origin); !reflect.DeepEqual(got, o.want) {
				t.Errorf("Lookup(%q, %v) = %+v, want %+v", c.number, o.origin, got, o.want)
			}
		}
	}
}

func (o Origin) String() string { return [...]string{"FromSIP", "FromLine", "FromFXS"}[o] }

// TestRefusal: what each signalling answers a refused call with.
func TestRefusal(t *testing.T) {
	for _, c := range []struct {
		r     Refusal
		sip   error
		cause uint8
	}{
		{NoSuchNumber, sip.ErrNotFound, q931.CauseUnallocated}, // 404; cause 1
		{NeedsAuth, sip.ErrNotFound, q931.CauseRejected},       // (SIP asks for a digest instead); cause 21
		{Unreachable, sip.ErrUnavailable, q931.CauseAbsent},    // 480; cause 20
	} {
		if got := c.r.SIPError(); got != c.sip {
			t.Errorf("%v: SIP %v, want %v", c.r, got, c.sip)
		}
		if got := c.r.Cause(); got != c.cause {
			t.Errorf("%v: cause %d, want %d", c.r, got, c.cause)
		}
	}
}

// TestRouter: the SIP router refuses with the errors the SIP layer turns
// into 404 and 480, and asks a digest where the destination does.
func TestRouter(t *testing.T) {
	p := demo(t)
	for _, c := range []struct {
		to   string
		err  error
		auth bool
	}{
		{"100", nil, false}, {"*97", nil, true}, {"*11", nil, true}, {"*151001", nil, true}, {"1001", nil, false},
		{"999", nil, true}, {"555", sip.ErrNotFound, false}, {"1003", sip.ErrUnavailable, false},
	} {
		r, err := p.Router(c.to, "1001")
		if err != c.err || r.Auth != c.auth || (err == nil) != (r.App != nil) {
			t.Errorf("Router(%q) = auth %v, app %v, %v; want auth %v, %v", c.to, r.Auth, r.App != nil, err, c.auth, c.err)
		}
	}
}

// TestResolve is where the IVR's transfers go: the demo's queues, 9 and an
// agent's number (agent:${agent}), an extension, and numbers out through
// the default's span group, its FXO line group and a SIP trunk.
func TestResolve(t *testing.T) {
	p := demo(t)
	for _, c := range []struct {
		target string // as a flow writes it
		want   Dest
		err    string
	}{
		{"queue:general", Dest{Kind: Queue, Queue: "general"}, ""},       // 0, the general queue
		{"queue:complaints", Dest{Kind: Queue, Queue: "complaints"}, ""}, // 5, the complaints desk
		{"agent:1001", Dest{Kind: Queue, Number: "1001"}, ""},            // 9 1001: that agent, through the queue
		{"agent:1004", Dest{Kind: Queue, Number: "1004"}, ""},
		{"agent:2001", Dest{}, `no agent "2001"`}, // a phone, not an agent
		{"agent:9999", Dest{}, `no agent "9999"`},
		{"agent:100", Dest{}, `no agent "100"`},
		{"ext:2001", Dest{Kind: Ring, Number: "2001"}, ""},
		{"ext:1003", Dest{Kind: Ring, Number: "1003"}, ""}, // rung even unregistered: the ring fails, the flow takes its fail branch
		{"ext:100", Dest{}, `no ext "100"`},                // an IVR has no phone
		{"ext:555", Dest{}, `no ext "555"`},
		{"trunk:pri/4008", Dest{Kind: Trunk, Trunks: []string{"pri"}, Number: "4008"}, ""},
		{"trunk:pstn/4008", Dest{Kind: Trunk, Trunks: []string{"pstn"}, Number: "4008"}, ""},
		{"trunk:carrier/95555", Dest{Kind: Trunk, Trunks: []string{"carrier"}, Number: "95555"}, ""},
		{"voicemail:main", Dest{}, `transfer to "voicemail" is not supported`},
	} {
		kind, what, _ := strings.Cut(c.target, ":")
		tg := ivr.Target{Kind: kind, What: what}
		if kind == "trunk" {
			tg.What, tg.Number, _ = strings.Cut(what, "/")
		}
		got, err := p.Resolve(tg)
		if !reflect.DeepEqual(got, c.want) || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("Resolve(%s) = %+v, %v; want %+v, %q", c.target, got, err, c.want, c.err)
		}
	}
}

// TestDemoTargets: every transfer target of the demo's flows is one the
// table of TestResolve covers (agent:${agent} as agent:NNNN).
func TestDemoTargets(t *testing.T) {
	covered := []string{"queue:general", "queue:complaints", "agent:${agent}"}
	n := 0
	for name, f := range demoConfig(t).Flows {
		for id, node := range f.Nodes {
			if node.Type != "transfer" {
				continue
			}
			n++
			if !slices.Contains(covered, node.Target) {
				t.Errorf("flow %s node %s: target %q is not in TestResolve's table", name, id, node.Target)
			}
		}
	}
	if n != len(covered) {
		t.Errorf("%d transfer nodes in the demo, want %d", n, len(covered))
	}
}

// TestNumber: how far digits dialled on a PRI span or an FXS phone route
// (overlap receiving): an extension whole, a prefix waits, else no match.
func TestNumber(t *testing.T) {
	p := demo(t)
	for _, c := range []struct {
		digits string
		pri    pri.Match
		analog analog.Match
	}{
		{"100", pri.Complete, analog.Complete},
		{"1001", pri.Complete, analog.Complete},
		{"2001", pri.Complete, analog.Complete},
		{"*97", pri.Complete, analog.Complete},
		{"1", pri.MoreDigits, analog.MoreDigits},
		{"10", pri.MoreDigits, analog.MoreDigits},
		{"*9", pri.MoreDigits, analog.MoreDigits},
		{"*1", pri.NoMatch, analog.NoMatch},   // feature codes are not dialled from lines
		{"9", pri.NoMatch, analog.MoreDigits}, // a phone's way out; a line has none
		{"9138", pri.NoMatch, analog.Open},    // out when the dialling pauses
		{"913800138000", pri.NoMatch, analog.Open},
		{"5", pri.NoMatch, analog.NoMatch},
		{"10010", pri.NoMatch, analog.NoMatch},
	} {
		if got := p.PRINumber(c.digits); got != c.pri {
			t.Errorf("PRINumber(%q) = %v, want %v", c.digits, got, c.pri)
		}
		if got := p.AnalogNumber(c.digits); got != c.analog {
			t.Errorf("AnalogNumber(%q) = %v, want %v", c.digits, got, c.analog)
		}
	}
}

// TestDialOutFallback: a span group tries its spans in order, skipping
// those whose link is down and handing on when one has no B-channel free
// (cause 34), and stops at any other answer; a line group tries its lines
// in order until one is free, unless the caller has given up.
func TestDialOutFallback(t *testing.T) {
	noCircuit := &pri.CauseError{Cause: q931.CauseNoCircuit}
	busy := &pri.CauseError{Cause: q931.CauseBusy}
	for _, c := range []struct {
		name    string
		spans   []*fakeSpan
		answers int // the span that answers, -1 for none
		tried   []int
	}{
		{"first up answers", []*fakeSpan{{up: true}, {up: true}}, 0, []int{0}},
		{"down is skipped", []*fakeSpan{{up: false}, {up: true}}, 1, []int{1}},
		{"no circuit hands on", []*fakeSpan{{up: true, err: noCircuit}, {up: true}}, 1, []int{0, 1}},
		{"busy is the number's own", []*fakeSpan{{up: true, err: busy}, {up: true}}, -1, []int{0}},
		{"all down", []*fakeSpan{{up: false}}, -1, nil},
	} {
		p := demo(t)
		var spans []Span
		for _, s := range c.spans {
			spans = append(spans, s)
		}
		p.Spans = map[string][]Span{"pri": spans}
		ch, err := p.DialOut(context.Background(), "pri", "4008", "100")
		var tried []int
		for i, s := range c.spans {
			if s.dialled != "" {
				tried = append(tried, i)
			}
		}
		if !slices.Equal(tried, c.tried) || (c.answers < 0) != (err != nil) || (c.answers >= 0 && ch != c.spans[c.answers].ch) {
			t.Errorf("%s: tried %v, want %v; %v", c.name, tried, c.tried, err)
		}
	}

	// The calling number goes out when it is one, not when it is a name.
	for from, want := range map[string]string{"100": "100", "88880000": "88880000", "jinyin-demo": "", "": ""} {
		s := &fakeSpan{up: true}
		p := demo(t)
		p.Spans = map[string][]Span{"pri": {s}}
		if _, err := p.DialOut(context.Background(), "pri", "4008", from); err != nil || s.from != want {
			t.Errorf("calling %q: SETUP with %q (%v), want %q", from, s.from, err, want)
		}
	}

	busyLine, freeLine := &fakeLine{err: errors.New("busy")}, &fakeLine{}
	p := demo(t)
	p.Lines = map[string][]Line{"pstn": {busyLine, freeLine}}
	if ch, err := p.DialOut(context.Background(), "pstn", "4008", ""); err != nil || ch != freeLine.ch || busyLine.dialled != "4008" {
		t.Errorf("line group: %v, %v", ch, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	busyLine.dialled, freeLine.dialled = "", ""
	if _, err := p.DialOut(ctx, "pstn", "4008", ""); err == nil || freeLine.dialled != "" {
		t.Errorf("line group after the caller gave up: %v, second line dialled %q", err, freeLine.dialled)
	}
}

// demoConfig is the embedded default, loaded for the sim board.
func demoConfig(t *testing.T) *config.Config {
	t.Helper()
	env := config.Env{Boards: map[string][]string{"sim": {"sim"}}, Ports: map[string][]string{"sim": {"sim"}}}
	cfg, err := config.Load(config.DefaultName, config.Default(), nil, env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type fakeRegistrar map[string]bool

func (r fakeRegistrar) Has(ext string) bool { return r[ext] }

type fakePhones map[string]bool

func (p fakePhones) Has(ext string) bool { return p[ext] }
func (p fakePhones) Ring(context.Context, string, string) (media.Channel, error) {
	return nil, fmt.Errorf("not rung in these tests")
}

type fakeQueues map[string]bool

func (q fakeQueues) IsAgent(ext string) bool                      { return q[ext] }
func (q fakeQueues) Wait(media.Channel, string, acd.Caller) error { return nil }

// fakeChannel is a call that a fake dialler returns.
type fakeChannel struct{ media.Channel }

type fakeSpan struct {
	up            bool
	err           error
	dialled, from string
	ch            media.Channel
}

func (s *fakeSpan) LinkUp() bool { return s.up }
func (s *fakeSpan) Dial(_ context.Context, called, from string) (media.Channel, error) {
	s.dialled, s.from = called, from
	if s.err != nil {
		return nil, s.err
	}
	s.ch = &fakeChannel{}
	return s.ch, nil
}

type fakeLine struct {
	err     error
	dialled string
	ch      media.Channel
}

func (l *fakeLine) Dial(ctx context.Context, number string) (media.Channel, error) {
	l.dialled = number
	if l.err != nil {
		return nil, l.err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	l.ch = &fakeChannel{}
	return l.ch, nil
}

// TestRingTimeoutOnTheClock: an outbound call that nobody answers is given
// up after 30 s of the box's clock (not of real time), and the caller's
// Transfer returns with the dialler's error so the flow goes on.
func TestRingTimeoutOnTheClock(t *testing.T) {
	p := demo(t)
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	p.Clock = clk
	dialling := make(chan struct{})
	p.Lines = map[string][]Line{"pstn": {lineFunc(func(ctx context.Context, _ string) (media.Channel, error) {
		close(dialling)
		<-ctx.Done()
		return nil, ctx.Err()
	})}}
	caller := &waitingCaller{events: make(chan media.Event)}
	done := make(chan error, 1)
	go func() { done <- p.Transfer(caller, ivr.Target{Kind: "trunk", What: "pstn", Number: "4008"}) }()
	<-dialling
	clk.Advance(29 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("gave up after 29 s: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(time.Second)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("after 30 s: %v, want the cancelled dial", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still ringing 30 s after the dial on the box's clock")
	}
}

type lineFunc func(context.Context, string) (media.Channel, error)

func (f lineFunc) Dial(ctx context.Context, number string) (media.Channel, error) {
	return f(ctx, number)
}

// waitingCaller is a caller who waits in silence and never hangs up.
type waitingCaller struct{ events chan media.Event }

func (c *waitingCaller) ID() string                     { return "caller" }
func (c *waitingCaller) Play(media.Source) media.PlayID { return 0 }
func (c *waitingCaller) Events() <-chan media.Event     { return c.events }
func (c *waitingCaller) Hangup() error                  { return nil }
