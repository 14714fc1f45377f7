package q921

import (
	"fmt"
	"time"

	"jinyin/internal/clock"
	"jinyin/pri/internal/fsmtimer"
)

// State is a data link state of Q.921 §B (SDL, point-to-point, TEI 0).
type State uint8

const (
	TEIAssigned              State = 4 // no link; nothing established
	AwaitingEstablishment    State = 5 // SABME sent, waiting for UA
	MultipleFrameEstablished State = 7 // the link is up
	TimerRecovery            State = 8 // the link is up, asking the peer where it is
)

func (s State) String() string {
	switch s {
	case TEIAssigned:
		return "TEIAssigned"
	case AwaitingEstablishment:
		return "AwaitingEstablishment"
	case MultipleFrameEstablished:
		return "MultipleFrameEstablished"
	case TimerRecovery:
		return "TimerRecovery"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Defaults of the system parameters (Q.921 §5.9).
const (
	DefaultT200 = time.Second      // acknowledgement wait
	DefaultT203 = 10 * time.Second // idle link check
	DefaultN200 = 3                // retransmissions
	DefaultK    = 7                // outstanding I frames on a PRI (SAPI 0)
)

// Config is a link's role, parameters and where it reports.
type Config struct {
	// Network is the network side (pri-net): it decides the C/R bit of
	// commands and responses (Q.921 §3.3.2).
	Network bool
	Clock   clock.Clock
	// Post runs f on the link owner's goroutine; timers expire through it.
	Post func(f func())
	// Send transmits a frame.
	Send func(Frame)
	// Up and Down report the link established (again) and lost; Data
	// delivers the information field of each new I frame in order. They
	// run after the frame or timer that caused them has been handled, so
	// they may call Send.
	Up, Down func()
	Data     func(info []byte)

	T200, T203 time.Duration // zero takes the default
	N200, K    int
}

// Link is one LAPD data link (SAPI 0, TEI 0) in either role. It is not
// safe for concurrent use: its owner calls it, and posts its timers, from
// one goroutine.
type Link struct {
	cfg        Config
	state      State
	vs, va, vr uint8    // send, acknowledge, receive state variables, mod 128
	unacked    [][]byte // I frames V(A).. sent and not acknowledged
	queue      [][]byte // I frames waiting for the window
	rc         int      // retransmission count
	peerBusy   bool     // RNR received
	rejected   bool     // reject exception: REJ sent, waiting for the frame
	t200, t203 *fsmtimer.Timer
	notes      []func()
	inNotes    bool
	sentSince  bool // an I frame went out since pump began: it carried our N(R)
}

// NewLink returns a link in TEIAssigned; Start establishes it.
func NewLink(cfg Config) *Link {
	if cfg.T200 == 0 {
		cfg.T200 = DefaultT200
	}
	if cfg.T203 == 0 {
		cfg.T203 = DefaultT203
	}
	if cfg.N200 == 0 {
		cfg.N200 = DefaultN200
	}
	if cfg.K == 0 {
		cfg.K = DefaultK
	}
	return &Link{cfg: cfg, state: TEIAssigned,
		t200: fsmtimer.New(cfg.Clock, cfg.Post), t203: fsmtimer.New(cfg.Clock, cfg.Post)}
}

// State is the link's state now.
func (l *Link) State() State { return l.state }

// Up reports whether the link is established.
func (l *Link) Up() bool { return l.state == MultipleFrameEstablished || l.state == TimerRecovery }

// Start establishes the link. A PRI keeps its link up: whichever way it
// is lost, the link tries again, every T200, until the peer answers.
func (l *Link) Start() {
	l.establish()
	l.flush()
}

// Stop releases the timers; the link sends nothing more.
func (l *Link) Stop() {
	l.t200.Stop()
	l.t203.Stop()
	l.state = TEIAssigned
	l.cfg.Send = func(Frame) {}
}

// Send queues an I frame's information (a Q.931 message). While the link
// is down it waits in the queue and goes out once the link is up.
func (l *Link) Send(info []byte) {
	l.queue = append(l.queue, info)
	l.pump()
	l.flush()
}

// Receive handles a frame from the peer.
func (l *Link) Receive(f Frame) {
	defer l.flush()
	if f.SAPI != 0 || f.TEI != 0 {
		return // layer 2 management and other SAPIs are not used on a PRI
	}
	cmd := f.CR != l.cfg.Network // the peer's commands carry the peer's bit
	switch f.Kind {
	case SABME:
		l.send(Frame{Kind: UA, PF: f.PF}, false)
		if l.Up() {
			// The peer re-established: what we had sent is lost (Q.921 §5.7.2).
			l.unacked = nil
		}
		l.established()
	case UA:
		if l.state == AwaitingEstablishment && f.PF {
			l.established()
		}
	case DM:
		switch {
		case l.state == AwaitingEstablishment && f.PF:
			// Refused for now; T200 keeps asking.
		case l.state == TimerRecovery || (l.state == MultipleFrameEstablished && !f.PF):
			// Q.921 figure B.7: in state 7 a DM F=1 is only an error
			// (MDL-ERROR B); figure B.8: in timer recovery any DM means the
			// peer's link is down, as libpri's q921_dm_rx re-establishes.
			l.establish()
		}
	case DISC:
		l.send(Frame{Kind: UA, PF: f.PF}, false)
		if l.Up() {
			l.establish()
		}
	case FRMR:
		if l.Up() {
			l.establish()
		}
	case I:
		if !cmd || !l.Up() {
			if !l.Up() && cmd && f.PF {
				l.send(Frame{Kind: DM, PF: true}, false)
			}
			return
		}
		if !l.ackTo(f.NR) {
			return
		}
		if f.NS == l.vr {
			l.vr = (l.vr + 1) % 128
			l.rejected = false
			info := f.Info
			l.note(func() {
				if l.cfg.Data != nil {
					l.cfg.Data(info)
				}
			})
			l.pump()
			if f.PF || !l.sentSince {
				l.send(Frame{Kind: RR, NR: l.vr, PF: f.PF}, false)
			}
		} else if !l.rejected {
			l.rejected = true
			l.send(Frame{Kind: REJ, NR: l.vr, PF: f.PF}, false)
		} else if f.PF {
			l.send(Frame{Kind: RR, NR: l.vr, PF: true}, false)
		}
	case RR, RNR, REJ:
		if !l.Up() {
			if cmd && f.PF {
				l.send(Frame{Kind: DM, PF: true}, false)
			}
			return
		}
		l.peerBusy = f.Kind == RNR
		if cmd && f.PF {
			l.send(Frame{Kind: RR, NR: l.vr, PF: true}, false)
		}
		if l.state == TimerRecovery {
			if !l.ackTo(f.NR) {
				return
			}
			if !cmd && f.PF {
				// The peer's answer to our enquiry: resend what it lacks.
				l.t200.Stop()
				l.startT203()
				l.vs = l.va
				l.state = MultipleFrameEstablished
			}
		} else {
			if !l.ackTo(f.NR) {
				return
			}
			if f.Kind == REJ {
				l.vs = l.va
				l.t200.Stop()
				l.startT203()
			}
		}
		l.pump()
	}
}

// ackTo takes N(R) as acknowledging every frame before it. An N(R)
// outside V(A)..V(S) is a sequence error: the link is re-established.
func (l *Link) ackTo(nr uint8) bool {
	n := int((nr - l.va) % 128)
	if n > int((l.vs-l.va)%128) {
		l.establish()
		return false
	}
	if n == 0 {
		return true
	}
	l.unacked = l.unacked[n:]
	l.va = nr
	if l.state == TimerRecovery {
		return true
	}
	if l.va == l.vs {
		l.t200.Stop()
		l.startT203()
	} else {
		l.t200.Start(l.cfg.T200, l.t200Expired)
	}
	return true
}

// pump sends I frames while the window allows: first those to be sent
// again from V(S), then new ones.
func (l *Link) pump() {
	l.sentSince = false
	if l.state != MultipleFrameEstablished || l.peerBusy {
		return
	}
	for {
		outstanding := int((l.vs - l.va) % 128)
		if outstanding >= l.cfg.K {
			return
		}
		var info []byte
		switch {
		case outstanding < len(l.unacked):
			info = l.unacked[outstanding]
		case len(l.queue) > 0:
			info = l.queue[0]
			l.queue = l.queue[1:]
			l.unacked = append(l.unacked, info)
		default:
			return
		}
		l.send(Frame{Kind: I, NS: l.vs, NR: l.vr, Info: info}, true)
		l.vs = (l.vs + 1) % 128
		l.sentSince = true
		if !l.t200.Running() {
			l.t203.Stop()
			l.t200.Start(l.cfg.T200, l.t200Expired)
		}
	}
}

func (l *Link) t200Expired() {
	defer l.flush()
	switch l.state {
	case AwaitingEstablishment:
		l.rc++
		if l.rc >= l.cfg.N200 {
			// N200 SABMEs unanswered: the peer is not there. Keep asking.
			l.rc = 0
		}
		l.send(Frame{Kind: SABME, PF: true}, true)
		l.t200.Start(l.cfg.T200, l.t200Expired)
	case MultipleFrameEstablished:
		l.rc = 0
		l.enquire()
	case TimerRecovery:
		if l.rc >= l.cfg.N200 {
			l.establish()
			return
		}
		l.enquire()
	}
}

func (l *Link) t203Expired() {
	defer l.flush()
	if l.state == MultipleFrameEstablished {
		l.rc = 0
		l.enquire()
	}
}

// enquire asks the peer for its receive state (RR command, P=1) and
// enters timer recovery.
func (l *Link) enquire() {
	l.state = TimerRecovery
	l.send(Frame{Kind: RR, NR: l.vr, PF: true}, true)
	l.rc++
	l.t200.Start(l.cfg.T200, l.t200Expired)
}

func (l *Link) startT203() { l.t203.Start(l.cfg.T203, l.t203Expired) }

// establish sends SABME and waits for UA; a link that was up reports
// Down. Frames not acknowledged are lost with the link; queued ones wait.
func (l *Link) establish() {
	if l.Up() {
		l.note(l.cfg.Down)
	}
	l.state = AwaitingEstablishment
	l.unacked = nil
	l.vs, l.va, l.vr = 0, 0, 0
	l.rc = 0
	l.peerBusy, l.rejected = false, false
	l.t203.Stop()
	l.send(Frame{Kind: SABME, PF: true}, true)
	l.t200.Start(l.cfg.T200, l.t200Expired)
}

// established enters MultipleFrameEstablished with fresh sequence numbers.
func (l *Link) established() {
	l.state = MultipleFrameEstablished
	l.vs, l.va, l.vr = 0, 0, 0
	l.rc = 0
	l.peerBusy, l.rejected = false, false
	l.t200.Stop()
	l.startT203()
	l.note(l.cfg.Up)
	l.pump()
}

// send transmits a command (C/R as our role's commands) or a response.
func (l *Link) send(f Frame, command bool) {
	f.CR = command == l.cfg.Network
	l.cfg.Send(f)
}

func (l *Link) note(f func()) {
	if f != nil {
		l.notes = append(l.notes, f)
	}
}

// flush runs the reports a frame or timer caused, after the link's own
// work, so that they may call back into the link.
func (l *Link) flush() {
	if l.inNotes {
		return
	}
	l.inNotes = true
	defer func() { l.inNotes = false }()
	for len(l.notes) > 0 {
		f := l.notes[0]
		l.notes = l.notes[1:]
		f()
	}
}
