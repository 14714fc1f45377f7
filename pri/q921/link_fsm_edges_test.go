package q921

import (
	"fmt"
	"testing"
	"time"
)

// The data link states are numbered as in Q.921 annex B (SDL): 4 TEI
// assigned, 5 awaiting establishment, 7 multiple frame established, 8
// timer recovery. States this link never enters (1-3, 6) print by number.
func TestStateNames(t *testing.T) {
	for s, want := range map[State]string{
		4: "TEIAssigned", 5: "AwaitingEstablishment", 7: "MultipleFrameEstablished", 8: "TimerRecovery",
		6: "State(6)", 0: "State(0)",
	} {
		if got := s.String(); got != want {
			t.Errorf("State %d: %q, want %q", uint8(s), got, want)
		}
	}
}

// Stop: the timers are released and nothing more goes out, whatever the
// state was. Q.921 T200 (1 s) and T203 (10 s) would otherwise send SABME
// or RR within the 30 s waited here.
func TestStop(t *testing.T) {
	t.Run("while awaiting establishment", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.l.Start()
		p.expect("0s SABME P")
		p.l.Stop()
		p.until(30 * time.Second)
		p.expect()
		if p.l.State() != TEIAssigned || p.l.Up() {
			t.Errorf("state %v after Stop", p.l.State())
		}
	})
	t.Run("while established, with frames outstanding", func(t *testing.T) {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{1})
		p.expect("0s I N(S)=0 N(R)=0")
		p.l.Stop()
		p.until(30 * time.Second)
		p.l.Send([]byte{2})
		p.l.Receive(Frame{Kind: RR, PF: true}) // a command P=1: would get DM F=1 or RR F=1
		p.expect()
		if p.l.State() != TEIAssigned || p.l.Up() {
			t.Errorf("state %v after Stop", p.l.State())
		}
	})
}

// The link is the point-to-point data link SAPI 0, TEI 0 (Q.921 §3.3.3,
// §3.3.4.1; libpri's PTP mode hands on only frames of its own SAPI and
// TEI). Frames of another SAPI or TEI belong to another data link: they
// are neither answered nor change this one.
func TestOtherDataLinksIgnored(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Frame
	}{
		{"SABME on SAPI 16 (packet)", Frame{SAPI: 16, Kind: SABME, PF: true}},
		{"SABME on SAPI 63 (management)", Frame{SAPI: 63, Kind: SABME, PF: true}},
		{"SABME on TEI 127 (group)", Frame{TEI: 127, Kind: SABME, PF: true}},
		{"DISC on TEI 1", Frame{TEI: 1, Kind: DISC, PF: true}},
		{"I P=1 on TEI 64", Frame{TEI: 64, Kind: I, PF: true, Info: []byte{8}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Established: the frame must not take the link down.
			p := newProbe(t, Config{})
			p.up()
			p.l.Receive(c.f)
			p.expect()
			if p.l.State() != MultipleFrameEstablished {
				t.Errorf("established link now %v", p.l.State())
			}
			// TEI assigned: a SABME of another link does not establish this one.
			q := newProbe(t, Config{})
			q.l.Receive(c.f)
			q.expect()
			if q.l.State() != TEIAssigned {
				t.Errorf("idle link now %v", q.l.State())
			}
		})
	}
}

// DM F=1 in state 5 answers our SABME: the peer refuses for now. On a
// PRI the link keeps trying (libpri: DL-RELEASE then MDL-ERROR handling
// re-establishes a point-to-point link); here the next SABME goes out
// when T200 (1 s) runs out, not at once, and the link stays in state 5.
func TestDMRefusalWhileEstablishing(t *testing.T) {
	p := newProbe(t, Config{})
	p.l.Start()
	p.until(300 * time.Millisecond)
	p.l.Receive(Frame{Kind: DM, PF: true, CR: true}) // a response from the user side
	if p.l.State() != AwaitingEstablishment {
		t.Errorf("state %v after DM F=1", p.l.State())
	}
	p.until(1500 * time.Millisecond)
	p.expect("0s SABME P", "1s SABME P")
	// DM F=0 in state 5 is not an answer to SABME P=1: it does not
	// establish the link either.
	p.l.Receive(Frame{Kind: DM, CR: true})
	if p.l.State() != AwaitingEstablishment {
		t.Errorf("state %v after DM F=0", p.l.State())
	}
	p.expect()
}

// T200 unanswered in state 5: Q.921 §5.5.1.3 retransmits SABME up to
// N200 times. A PRI never gives up (libpri's point-to-point MDL-ERROR G
// handling re-establishes at once), so SABME goes out every T200 for as
// long as the peer is silent, past N200 retransmissions and again after.
func TestEstablishmentKeepsAsking(t *testing.T) {
	p := newProbe(t, Config{N200: 2, T200: 500 * time.Millisecond})
	var ups, downs int
	p.l.cfg.Up = func() { ups++ }
	p.l.cfg.Down = func() { downs++ }
	p.l.Start()
	p.until(3200 * time.Millisecond)
	p.expect("0s SABME P", "500ms SABME P", "1s SABME P", "1.5s SABME P", "2s SABME P", "2.5s SABME P", "3s SABME P")
	if p.l.State() != AwaitingEstablishment || ups != 0 || downs != 0 {
		t.Errorf("state %v, %d up, %d down", p.l.State(), ups, downs)
	}
	// The peer answers at last: UA F=1 establishes with fresh state.
	p.l.Receive(Frame{Kind: UA, PF: true, CR: true})
	if p.l.State() != MultipleFrameEstablished || ups != 1 {
		t.Errorf("state %v, %d up after UA", p.l.State(), ups)
	}
	p.l.Send([]byte{1})
	p.expect("3.2s I N(S)=0 N(R)=0")
}

// An I frame whose N(R) is outside V(A)..V(S) is an N(R) sequence error
// (Q.921 §5.8.2; libpri n_r_error_recovery): the link is re-established
// with SABME P=1 and layer 3 is told it went down.
func TestIFrameWithBadNR(t *testing.T) {
	p := newProbe(t, Config{})
	var downs int
	p.l.cfg.Down = func() { downs++ }
	p.up()
	p.l.Send([]byte{1}) // V(S) 1, V(A) 0: N(R) 0 and 1 are valid
	p.expect("0s I N(S)=0 N(R)=0")
	p.l.Receive(Frame{Kind: I, NS: 0, NR: 2, Info: []byte{8}})
	p.expect("0s SABME P")
	if p.l.State() != AwaitingEstablishment || downs != 1 {
		t.Errorf("state %v, %d down", p.l.State(), downs)
	}
}

// N(S) sequence error (Q.921 §5.8.1, §5.6.2.1): the first I frame out of
// sequence gets REJ and sets the reject exception; further ones are
// discarded without another REJ, except that a poll (P=1) is answered by
// RR F=1 (libpri q921_iframe_rx). The expected frame ends the exception.
func TestRejectException(t *testing.T) {
	p := newProbe(t, Config{})
	var got []string
	p.l.cfg.Data = func(info []byte) { got = append(got, string(info)) }
	p.up()
	p.l.Receive(Frame{Kind: I, NS: 1, Info: []byte("b")}) // I 0 was lost
	p.expect("0s REJ N(R)=0")
	p.l.Receive(Frame{Kind: I, NS: 2, Info: []byte("c")})
	p.expect()
	p.l.Receive(Frame{Kind: I, NS: 3, PF: true, Info: []byte("d")})
	p.expect("0s RR N(R)=0 F")
	p.l.Receive(Frame{Kind: I, NS: 0, Info: []byte("a")}) // the retransmission
	p.expect("0s RR N(R)=1")
	// The exception is over: the next gap is rejected again.
	p.l.Receive(Frame{Kind: I, NS: 2, Info: []byte("c")})
	p.expect("0s REJ N(R)=1")
	if fmt.Sprint(got) != "[a]" {
		t.Errorf("delivered %v, want [a]", got)
	}
}

// A supervisory command with P=1 while the link is not established is
// answered by DM F=1, as the I frame is (Q.921 annex B, state 4; see
// TestStateTransitions). A response, or a command without a poll, is
// not answered; none of them establishes the link.
func TestSupervisoryWhileDown(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Frame
		want []string
	}{
		{"RR command P=1", Frame{Kind: RR, PF: true}, []string{"0s DM F"}},
		{"RNR command P=1", Frame{Kind: RNR, PF: true}, []string{"0s DM F"}},
		{"REJ command P=1", Frame{Kind: REJ, PF: true}, []string{"0s DM F"}},
		{"RR command P=0", Frame{Kind: RR}, nil},
		{"RR response F=1", Frame{Kind: RR, PF: true, CR: true}, nil},
		{"I response F=1", Frame{Kind: I, PF: true, CR: true, Info: []byte{8}}, nil},
		{"I command P=0", Frame{Kind: I, Info: []byte{8}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProbe(t, Config{})
			p.l.Receive(c.f)
			p.expect(c.want...)
			if p.l.State() != TEIAssigned {
				t.Errorf("state %v", p.l.State())
			}
		})
	}
}

// Up and Data run after the frame that caused them has been handled, so
// they may call Send (Config): the I frame they queue goes out once, with
// the N(R) of the frame just received.
func TestReportsMaySend(t *testing.T) {
	p := newProbe(t, Config{})
	p.l.cfg.Up = func() { p.l.Send([]byte("restart")) }
	p.l.cfg.Data = func(info []byte) { p.l.Send(append([]byte("re:"), info...)) }
	p.l.Start()
	p.l.Receive(Frame{Kind: UA, PF: true, CR: true})
	p.expect("0s SABME P", "0s I N(S)=0 N(R)=0")
	p.l.Receive(Frame{Kind: I, NS: 0, NR: 1, Info: []byte("setup")})
	// The RR acknowledges I 0 of the peer before Data runs; the reply then
	// carries N(R)=1 too.
	p.expect("0s RR N(R)=1", "0s I N(S)=1 N(R)=1")
}

// In timer recovery (state 8) an N(R) outside V(A)..V(S) is an N(R)
// sequence error too (Q.921 §5.8.2; libpri timer_recovery_rr_rej_rx):
// the link is re-established instead of waiting out the enquiry.
func TestBadNRInTimerRecovery(t *testing.T) {
	for _, f := range []Frame{
		{Kind: RR, NR: 2, PF: true, CR: true}, // the answer to our poll
		{Kind: RR, NR: 2, CR: true},
		{Kind: REJ, NR: 127, CR: true},
	} {
		p := newProbe(t, Config{})
		p.up()
		p.l.Send([]byte{1}) // V(S) 1
		p.until(1500 * time.Millisecond)
		p.expect("0s I N(S)=0 N(R)=0", "1s RR N(R)=0 P")
		if p.l.State() != TimerRecovery {
			t.Fatalf("state %v, want TimerRecovery", p.l.State())
		}
		p.l.Receive(f)
		p.expect("1.5s SABME P")
		if p.l.State() != AwaitingEstablishment {
			t.Errorf("%v N(R)=%d: state %v", f.Kind, f.NR, p.l.State())
		}
	}
}

// A DM in timer recovery (state 8), F=1 as the answer to the box's RR
// poll, means the peer's link is down: re-established at once (Q.921
// figure B.8; libpri's q921_dm_rx), not after N200 more polls. In state 7
// a DM F=1 is only an error (figure B.7): the link stays up.
func TestDMInTimerRecovery(t *testing.T) {
	p := newProbe(t, Config{})
	p.up()
	p.until(10500 * time.Millisecond) // T203 (10 s) expired: RR P polled, state 8
	if p.l.State() != TimerRecovery {
		t.Fatalf("state %v after T203, want timer recovery", p.l.State())
	}
	p.expect("10s RR N(R)=0 P")
	p.l.Receive(Frame{Kind: DM, PF: true, CR: true})
	p.expect("10.5s SABME P")
	if p.l.State() != AwaitingEstablishment {
		t.Errorf("state %v after DM F=1 in timer recovery", p.l.State())
	}
	q := newProbe(t, Config{})
	q.up()
	q.l.Receive(Frame{Kind: DM, PF: true, CR: true})
	q.expect()
	if q.l.State() != MultipleFrameEstablished {
		t.Errorf("state %v after DM F=1 in state 7", q.l.State())
	}
}
