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
