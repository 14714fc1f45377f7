package q921

import (
	"fmt"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// wire joins two links through the frame codec, with a fake clock and a
// switch to lose frames.
type wire struct {
	t        *testing.T
	clk      *clock.Fake
	a, b     *Link
	inFlight []func()
	drop     func(from string, f Frame) bool
	got      map[string][]string
	events   []string
	log      []string
}

func newWire(t *testing.T) *wire {
	w := &wire{t: t, clk: clock.NewFake(time.Unix(0, 0)), got: map[string][]string{}}
	mk := func(name string, network bool, peer func() *Link) *Link {
		return NewLink(Config{Network: network, Clock: w.clk, Post: func(f func()) { f() },
			Send: func(f Frame) {
				b, err := Append(nil, f, true)
				if err != nil {
					t.Fatalf("%s sends unencodable %+v: %v", name, f, err)
				}
				w.log = append(w.log, fmt.Sprintf("%s>%s", name, f.Kind))
				if w.drop != nil && w.drop(name, f) {
					return
				}
				w.inFlight = append(w.inFlight, func() {
					g, err := Parse(b, true)
					if err != nil {
						t.Fatalf("frame from %s does not parse: %v", name, err)
					}
					peer().Receive(g)
				})
			},
			Up:   func() { w.events = append(w.events, name+" up") },
			Down: func() { w.events = append(w.events, name+" down") },
			Data: func(info []byte) { w.got[name] = append(w.got[name], string(info)) },
		})
	}
	w.a = mk("net", true, func() *Link { return w.b })
	w.b = mk("cpe", false, func() *Link { return w.a })
	return w
}

// run delivers frames until none are in flight.
func (w *wire) run() {
	for i := 0; len(w.inFlight) > 0; i++ {
		if i > 10000 {
			w.t.Fatal("frames never stop")
		}
		f := w.inFlight[0]
		w.inFlight = w.inFlight[1:]
		f()
	}
}

// advance moves the clock in steps, delivering frames after each.
func (w *wire) advance(d time.Duration) {
	for step := 100 * time.Millisecond; d > 0; d -= step {
		w.clk.Advance(step)
		w.run()
	}
}

func (w *wire) up(t *testing.T) {
	t.Helper()
	w.a.Start()
	w.b.Start()
	w.run()
	if !w.a.Up() || !w.b.Up() {
		t.Fatalf("link not up: net %v, cpe %v", w.a.State(), w.b.State())
	}
	w.events, w.log = nil, nil
}

func TestEstablishBothRoles(t *testing.T) {
	for _, first := range []string{"net", "cpe", "both"} {
		t.Run(first, func(t *testing.T) {
			w := newWire(t)
			if first != "cpe" {
				w.a.Start()
			}
			if first != "net" {
				w.b.Start()
			}
			w.run()
			if w.a.State() != MultipleFrameEstablished || w.b.State() != MultipleFrameEstablished {
				t.Fatalf("states %v %v, log %v", w.a.State(), w.b.State(), w.log)
			}
		})
	}
}

func TestStateTransitions(t *testing.T) {
	// From the SDL of Q.921 annex B, for frames arriving at the network
	// side (commands from the user side carry C/R 0).
	cases := []struct {
		name      string
		from      State
		in        Frame
		wantState State
		wantSent  string
	}{
		{"SABME in 4 is answered and establishes", TEIAssigned, Frame{Kind: SABME, PF: true}, MultipleFrameEstablished, "UA F1"},
		{"UA in 5 establishes", AwaitingEstablishment, Frame{Kind: UA, PF: true, CR: true}, MultipleFrameEstablished, ""},
		{"DISC in 7 is answered, then re-establishes", MultipleFrameEstablished, Frame{Kind: DISC, PF: true}, AwaitingEstablishment, "UA F1,SABME P1"},
		{"DM F0 in 7 re-establishes", MultipleFrameEstablished, Frame{Kind: DM, CR: true}, AwaitingEstablishment, "SABME P1"},
		{"FRMR in 7 re-establishes", MultipleFrameEstablished, Frame{Kind: FRMR, CR: true}, AwaitingEstablishment, "SABME P1"},
		{"RR P1 command in 7 gets RR F1", MultipleFrameEstablished, Frame{Kind: RR, PF: true}, MultipleFrameEstablished, "RR F1"},
		{"I out of sequence in 7 gets REJ", MultipleFrameEstablished, Frame{Kind: I, NS: 3, Info: []byte{8}}, MultipleFrameEstablished, "REJ F0"},
		{"I in sequence in 7 gets RR", MultipleFrameEstablished, Frame{Kind: I, Info: []byte{8}}, MultipleFrameEstablished, "RR F0"},
		{"N(R) beyond V(S) re-establishes", MultipleFrameEstablished, Frame{Kind: RR, NR: 5, CR: true}, AwaitingEstablishment, "SABME P1"},
		{"I in 4 with P1 gets DM", TEIAssigned, Frame{Kind: I, PF: true, Info: []byte{8}}, TEIAssigned, "DM F1"},
		{"RR F1 response in 8 ends timer recovery", TimerRecovery, Frame{Kind: RR, PF: true, CR: true}, MultipleFrameEstablished, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sent []string
			clk := clock.NewFake(time.Unix(0, 0))
			l := NewLink(Config{Network: true, Clock: clk, Post: func(f func()) { f() }, Send: func(f Frame) {
				pf := "P"
				if f.CR == false { // a response from the network side
					pf = "F"
				}
				sent = append(sent, fmt.Sprintf("%s %s%d", f.Kind, pf, map[bool]int{false: 0, true: 1}[f.PF]))
			}})
			switch c.from {
			case AwaitingEstablishment:
				l.Start()
			case MultipleFrameEstablished:
				l.established()
			case TimerRecovery:
				l.established()
				l.enquire()
			}
			sent = nil
			l.Receive(c.in)
			if l.State() != c.wantState {
				t.Errorf("state %v, want %v", l.State(), c.wantState)
			}
			if got := join(sent); got != c.wantSent {
				t.Errorf("sent %q, want %q", got, c.wantSent)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestWindowAndOrder(t *testing.T) {
	w := newWire(t)
	w.up(t)
	var want []string
	maxOut := 0
	for i := range 40 {
		m := fmt.Sprintf("m%d", i)
		want = append(want, m)
		w.a.Send([]byte(m))
		maxOut = max(maxOut, int((w.a.vs-w.a.va)%128))
	}
	w.run()
	if maxOut > DefaultK {
		t.Errorf("%d frames outstanding, window is %d", maxOut, DefaultK)
	}
	if fmt.Sprint(w.got["cpe"]) != fmt.Sprint(want) {
		t.Errorf("delivered %v", w.got["cpe"])
	}
}

func TestRecoversLostFrames(t *testing.T) {
	w := newWire(t)
	w.up(t)
	n := 0
	w.drop = func(from string, f Frame) bool {
		if from == "net" && f.Kind == I {
			n++
			return n == 3 || n == 9 // lose two I frames
		}
		return false
	}
	for i := range 12 {
		w.a.Send([]byte{byte(i)})
		w.b.Send([]byte{byte(100 + i)})
	}
	w.run()
	w.advance(5 * time.Second) // T200 recovers a frame lost at the end
	if len(w.got["cpe"]) != 12 || len(w.got["net"]) != 12 {
		t.Fatalf("delivered cpe %d, net %d of 12; log %v", len(w.got["cpe"]), len(w.got["net"]), w.log)
	}
	for i, m := range w.got["cpe"] {
		if m[0] != byte(i) {
			t.Fatalf("out of order or duplicated: %v", w.got["cpe"])
		}
	}
	if len(w.events) != 0 {
		t.Errorf("frame loss must not drop the link: %v", w.events)
	}
}

func TestLinkLossAndRecovery(t *testing.T) {
	w := newWire(t)
	w.up(t)
	cut := true
	w.drop = func(string, Frame) bool { return cut }
	w.advance(DefaultT203 + DefaultT200*time.Duration(DefaultN200+1))
	if w.a.Up() || w.b.Up() {
		t.Fatalf("link still up after T203 + N200×T200 with the wire cut: %v %v", w.a.State(), w.b.State())
	}
	if fmt.Sprint(w.events) != "[net down cpe down]" && fmt.Sprint(w.events) != "[cpe down net down]" {
		t.Errorf("events %v", w.events)
	}
	w.a.Send([]byte("after")) // queued while down
	cut = false
	w.events = nil
	w.advance(2 * DefaultT200)
	if !w.a.Up() || !w.b.Up() {
		t.Fatalf("link did not come back: %v %v", w.a.State(), w.b.State())
	}
	if got := w.got["cpe"]; len(got) != 1 || got[0] != "after" {
		t.Errorf("queued frame after recovery: %v", got)
	}
}

func TestIdleLinkIsPolled(t *testing.T) {
	w := newWire(t)
	w.up(t)
	w.advance(3 * DefaultT203)
	if !w.a.Up() || !w.b.Up() || len(w.events) != 0 {
		t.Fatalf("idle link: %v %v %v", w.a.State(), w.b.State(), w.events)
	}
	polls := 0
	for _, l := range w.log {
		if l == "net>RR" || l == "cpe>RR" {
			polls++
		}
	}
	if polls < 4 {
		t.Errorf("T203 did not poll: %v", w.log)
	}
}

func TestPeerReestablishes(t *testing.T) {
	w := newWire(t)
	w.up(t)
	w.b.Receive(Frame{Kind: SABME, PF: true, CR: true})
	w.run()
	if !w.b.Up() || fmt.Sprint(w.events) != "[cpe up]" {
		t.Errorf("after SABME while up: %v %v", w.b.State(), w.events)
	}
}

// probe is one network-side link whose frames are recorded with the time
// they were sent; the test plays the user side by hand. Commands from the
// user side carry C/R 0, its responses C/R 1 (Q.921 §3.3.2 table 1).
type probe struct {
	t     *testing.T
	clk   *clock.Fake
	start time.Time
	l     *Link
	sent  []string
}

func newProbe(t *testing.T, cfg Config) *probe {
	p := &probe{t: t, clk: clock.NewFake(time.Unix(0, 0))}
	p.start = p.clk.Now()
	cfg.Network, cfg.Clock = true, p.clk
	cfg.Post = func(f func()) { f() }
	cfg.Send = func(f Frame) {
		s := f.Kind.String()
		if f.Kind == I {
			s += fmt.Sprintf(" N(S)=%d", f.NS)
		}
		if f.Kind == I || f.Kind == RR || f.Kind == RNR || f.Kind == REJ {
			s += fmt.Sprintf(" N(R)=%d", f.NR)
		}
		if f.PF && f.CR {
			s += " P"
		} else if f.PF {
			s += " F"
		}
		p.sent = append(p.sent, fmt.Sprintf("%v %s", p.clk.Now().Sub(p.start), s))
	}
	p.l = NewLink(cfg)
	return p
}

// up establishes the link at t=0 (SABME P=1 answered by UA F=1) and
// forgets what it sent.
func (p *probe) up() {
	p.l.Start()
	p.l.Receive(Frame{Kind: UA, PF: true, CR: true})
	if p.l.State() != MultipleFrameEstablished {
		p.t.Fatalf("not established: %v", p.l.State())
	}
	p.sent = nil
}

func (p *probe) until(d time.Duration) { p.clk.Advance(p.start.Add(d).Sub(p.clk.Now())) }

func (p *probe) expect(want ...string) {
	p.t.Helper()
	if got := join(p.sent); got != join(want) {
		p.t.Errorf("sent\n %q\nwant\n %q", got, join(want))
	}
	p.sent = nil
}

// System parameters (Q.921 §5.9): zero in the Config takes the default,
// any other value is used as given.
func TestParameters(t *testing.T) {
	t.Run("T200 default 1 s: SABME repeated every second", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.l.Start()
		p.until(2500 * time.Millisecond)
		p.expect("0s SABME P", "1s SABME P", "2s SABME P")
	})
	t.Run("T200 300 ms", func(t *testing.T) {
		p := newProbe(t, Config{T200: 300 * time.Millisecond})
		p.l.Start()
		p.until(700 * time.Millisecond)
		p.expect("0s SABME P", "300ms SABME P", "600ms SABME P")
	})
	// An idle link polls every T203; unanswered, it polls N200 times in
	// all, T200 apart, then re-establishes (§5.6.7, §5.6.8).
	t.Run("T203 default 10 s, N200 default 3", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.until(13500 * time.Millisecond)
		p.expect("10s RR N(R)=0 P", "11s RR N(R)=0 P", "12s RR N(R)=0 P", "13s SABME P")
		if p.l.State() != AwaitingEstablishment {
			t.Errorf("state %v", p.l.State())
		}
	})
	t.Run("T203 2 s, N200 5", func(t *testing.T) {
		p := newProbe(t, Config{T203: 2 * time.Second, N200: 5})
		p.up()
		p.until(7500 * time.Millisecond)
		p.expect("2s RR N(R)=0 P", "3s RR N(R)=0 P", "4s RR N(R)=0 P", "5s RR N(R)=0 P", "6s RR N(R)=0 P", "7s SABME P")
	})
	t.Run("N200 1", func(t *testing.T) {
		p := newProbe(t, Config{N200: 1})
		p.up()
		p.until(11500 * time.Millisecond)
		p.expect("10s RR N(R)=0 P", "11s SABME P")
	})
	t.Run("an answered poll returns to the T203 cycle", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.until(10500 * time.Millisecond)
		p.l.Receive(Frame{Kind: RR, PF: true, CR: true}) // RR response F=1
		p.until(21 * time.Second)
		p.expect("10s RR N(R)=0 P", "20.5s RR N(R)=0 P")
		if p.l.State() != TimerRecovery {
			t.Errorf("state %v", p.l.State())
		}
	})
}

// The window (§5.6.1): at most k I frames outstanding; each
// acknowledgement lets as many new ones go.
func TestWindow(t *testing.T) {
	t.Run("k default 7", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		for i := range 10 {
			p.l.Send([]byte{byte(i)})
		}
		p.expect("0s I N(S)=0 N(R)=0", "0s I N(S)=1 N(R)=0", "0s I N(S)=2 N(R)=0", "0s I N(S)=3 N(R)=0",
			"0s I N(S)=4 N(R)=0", "0s I N(S)=5 N(R)=0", "0s I N(S)=6 N(R)=0")
		p.l.Receive(Frame{Kind: RR, NR: 3, CR: true})
		p.expect("0s I N(S)=7 N(R)=0", "0s I N(S)=8 N(R)=0", "0s I N(S)=9 N(R)=0")
	})
	t.Run("k 2", func(t *testing.T) {
		p := newProbe(t, Config{K: 2})
		p.up()
		for i := range 4 {
			p.l.Send([]byte{byte(i)})
		}
		p.expect("0s I N(S)=0 N(R)=0", "0s I N(S)=1 N(R)=0")
		p.l.Receive(Frame{Kind: RR, NR: 1, CR: true})
		p.expect("0s I N(S)=2 N(R)=0")
	})
}

// Supervisory responses arriving in state 7 with I frames 0, 1 and 2
// outstanding (§5.6.3-5.6.5).
func TestSupervisoryWithFramesOutstanding(t *testing.T) {
	cases := []struct {
		name      string
		in        Frame
		wantSent  []string
		wantState State
	}{
		{"RR N(R)=1 acknowledges I 0", Frame{Kind: RR, NR: 1, CR: true}, nil, MultipleFrameEstablished},
		{"REJ N(R)=1 asks for I 1 and 2 again", Frame{Kind: REJ, NR: 1, CR: true},
			[]string{"0s I N(S)=1 N(R)=0", "0s I N(S)=2 N(R)=0"}, MultipleFrameEstablished},
		{"REJ N(R)=3 acknowledges all", Frame{Kind: REJ, NR: 3, CR: true}, nil, MultipleFrameEstablished},
		{"RNR N(R)=1 acknowledges I 0, holds the rest", Frame{Kind: RNR, NR: 1, CR: true}, nil, MultipleFrameEstablished},
		{"RR N(R)=3 acknowledges all", Frame{Kind: RR, NR: 3, CR: true}, nil, MultipleFrameEstablished},
		{"RR N(R)=4 is a sequence error", Frame{Kind: RR, NR: 4, CR: true}, []string{"0s SABME P"}, AwaitingEstablishment},
		{"RR N(R)=127 is a sequence error", Frame{Kind: RR, NR: 127, CR: true}, []string{"0s SABME P"}, AwaitingEstablishment},
		{"RR command P=1 is answered", Frame{Kind: RR, NR: 1, PF: true}, []string{"0s RR N(R)=0 F"}, MultipleFrameEstablished},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProbe(t, Config{})
			p.up()
			for i := range 3 {
				p.l.Send([]byte{byte(i)})
			}
			p.sent = nil
			p.l.Receive(c.in)
			p.expect(c.wantSent...)
			if p.l.State() != c.wantState {
				t.Errorf("state %v, want %v", p.l.State(), c.wantState)
			}
		})
	}
}

// Sequence numbers checked against V(A)..V(S) once V(A) has moved: after
// I 0 and 1 are acknowledged, with I 2 outstanding, N(R) 2 and 3 are
// valid and 4 is not; nor is 1, now behind V(A).
func TestSequenceErrorAfterAcknowledgement(t *testing.T) {
	for _, c := range []struct {
		nr   uint8
		want State
	}{{2, MultipleFrameEstablished}, {3, MultipleFrameEstablished}, {4, AwaitingEstablishment}, {1, AwaitingEstablishment}, {5, AwaitingEstablishment}} {
		p := newProbe(t, Config{})
		p.up()
		for i := range 3 {
			p.l.Send([]byte{byte(i)})
		}
		p.l.Receive(Frame{Kind: RR, NR: 2, CR: true})
		p.l.Receive(Frame{Kind: RR, NR: c.nr, CR: true})
		if p.l.State() != c.want {
			t.Errorf("N(R)=%d: state %v, want %v", c.nr, p.l.State(), c.want)
		}
	}
}

// T200 runs while I frames are outstanding (§5.6.3.2): an
// acknowledgement of some of them restarts it, of all of them stops it
// and starts T203.
func TestT200AndAcknowledgements(t *testing.T) {
	t.Run("partial acknowledgement restarts T200", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{0})
		p.l.Send([]byte{1})
		p.until(500 * time.Millisecond)
		p.l.Receive(Frame{Kind: RR, NR: 1, CR: true})
		p.until(1400 * time.Millisecond)
		p.expect("0s I N(S)=0 N(R)=0", "0s I N(S)=1 N(R)=0")
		p.until(1600 * time.Millisecond)
		p.expect("1.5s RR N(R)=0 P")
	})
	t.Run("full acknowledgement starts T203", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{0})
		p.until(500 * time.Millisecond)
		p.l.Receive(Frame{Kind: RR, NR: 1, CR: true})
		p.until(11 * time.Second)
		p.expect("0s I N(S)=0 N(R)=0", "10.5s RR N(R)=0 P")
	})
	// In timer recovery an acknowledgement without F=1 does not end the
	// enquiry: T200 keeps running and the poll is repeated (§5.6.7).
	t.Run("acknowledgement in timer recovery", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{0})
		p.until(1500 * time.Millisecond)
		p.l.Receive(Frame{Kind: RR, NR: 1, CR: true})
		p.until(2500 * time.Millisecond)
		p.expect("0s I N(S)=0 N(R)=0", "1s RR N(R)=0 P", "2s RR N(R)=0 P")
		if p.l.State() != TimerRecovery {
			t.Errorf("state %v", p.l.State())
		}
		p.l.Receive(Frame{Kind: RR, NR: 1, PF: true, CR: true})
		p.until(13 * time.Second)
		p.expect("12.5s RR N(R)=0 P")
	})
	// The answer to the poll says the peer lacks I 1: it is sent again.
	t.Run("answer in timer recovery resends from N(R)", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{0})
		p.l.Send([]byte{1})
		p.until(1500 * time.Millisecond)
		p.l.Receive(Frame{Kind: RR, NR: 1, PF: true, CR: true})
		p.expect("0s I N(S)=0 N(R)=0", "0s I N(S)=1 N(R)=0", "1s RR N(R)=0 P", "1.5s I N(S)=1 N(R)=0")
		if p.l.State() != MultipleFrameEstablished {
			t.Errorf("state %v", p.l.State())
		}
	})
}
