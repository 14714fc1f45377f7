package sip

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/media"
)

// recorder is a test App: it records digits and how the call ended, and
// hangs up on a digit when asked to.
type recorder struct {
	mu           sync.Mutex
	digits       string
	remoteHangup bool
	hangupOn     byte
	done         chan struct{}
}

func newRecorder() *recorder { return &recorder{done: make(chan struct{})} }

func (r *recorder) app(ch media.Channel) {
	defer close(r.done)
	for e := range ch.Events() {
		r.mu.Lock()
		switch e.Kind {
		case media.EventDigit:
			r.digits += string(e.Digit)
		case media.EventHangup:
			r.remoteHangup = true
		}
		d := r.digits
		r.mu.Unlock()
		if r.hangupOn != 0 && strings.IndexByte(d, r.hangupOn) >= 0 {
			ch.Hangup()
			return
		}
	}
}

func (r *recorder) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the call's app did not finish within 10 s")
	}
}

func startCallServer(t *testing.T, answerDelayMs int, route func() *recorder) (*Server, string) {
	t.Helper()
	return startServer(t, func(o *Options) {
		o.Config.AnswerDelayMs = answerDelayMs
		o.Router = func(to, from string) (Route, error) {
			if to != "100" {
				return Route{}, ErrNotFound
			}
			return Route{App: route().app, Open: true}, nil
		}
	})
}

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.ActiveCalls() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still active", s.ActiveCalls())
		}
	}
}

func TestSIPpCallerHangsUp(t *testing.T) {
	rec := newRecorder()
	s, addr := startCallServer(t, 0, func() *recorder { return rec })
	if err := sipp(t, addr, "call-caller-hangup.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario failed")
	}
	rec.wait(t)
	if rec.digits != "1" || !rec.remoteHangup {
		t.Errorf("digits %q (want \"1\" from SIPp's duration-0 start packet), remote hang-up %v", rec.digits, rec.remoteHangup)
	}
	waitIdle(t, s)
}

func TestSIPpCalleeHangsUp(t *testing.T) {
	rec := newRecorder()
	rec.hangupOn = '1'
	s, addr := startCallServer(t, 0, func() *recorder { return rec })
	if err := sipp(t, addr, "call-callee-hangup.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario failed: the box did not hang up with BYE")
	}
	rec.wait(t)
	waitIdle(t, s)
}

func TestSIPpCancelBeforeAnswer(t *testing.T) {
	s, addr := startCallServer(t, 3000, newRecorder)
	if err := sipp(t, addr, "call-cancel.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario failed: want 180, then 200 for CANCEL and 487")
	}
	waitIdle(t, s)
}

func TestSIPpHold(t *testing.T) {
	rec := newRecorder()
	s, addr := startCallServer(t, 0, func() *recorder { return rec })
	if err := sipp(t, addr, "call-hold.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario failed: hold must be answered recvonly and resume sendrecv")
	}
	rec.wait(t)
	waitIdle(t, s)
}

// TestSIPpUnknownNumber: a call to a number the router does not know is
// answered 404 Not Found, and no other final response, once the caller has
// authenticated (before, 407).
func TestSIPpUnknownNumber(t *testing.T) {
	s, addr := startCallServer(t, 0, newRecorder)
	if err := sipp(t, addr, "call-unknown.xml", "-s", "999", "-mi", "127.0.0.1", "-mp", "0", "-au", "1001", "-ap", passwords["1001"]); err != nil {
		t.Fatal("SIPp scenario failed: a call to an unknown number must be answered 404")
	}
	waitIdle(t, s)
}

func TestSIPpUpdateRefresh(t *testing.T) {
	rec := newRecorder()
	s, addr := startCallServer(t, 0, func() *recorder { return rec })
	if err := sipp(t, addr, "call-update.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario failed: UPDATE must be answered 200 with Session-Expires")
	}
	rec.wait(t)
	waitIdle(t, s)
}

// TestSIPpCallOverTCP: the same call as TestSIPpCallerHangsUp, over TCP.
func TestSIPpCallOverTCP(t *testing.T) {
	rec := newRecorder()
	s, addr := startCallServer(t, 0, func() *recorder { return rec })
	if err := sipp(t, addr, "call-caller-hangup.xml", "-t", "t1", "-s", "100", "-mi", "127.0.0.1", "-mp", "0"); err != nil {
		t.Fatal("SIPp scenario over TCP failed")
	}
	rec.wait(t)
	if rec.digits != "1" || !rec.remoteHangup {
		t.Errorf("over TCP: digits %q, remote hang-up %v", rec.digits, rec.remoteHangup)
	}
	waitIdle(t, s)
}

// TestGuests: a caller who is neither a trunk nor authenticated reaches an
// open route (the IVR) only when guests are let in; otherwise it is asked
// for a digest like any other stranger.
func TestGuests(t *testing.T) {
	for _, guests := range []bool{true, false} {
		_, addr := startServer(t, func(o *Options) {
			o.Config.Guests = guests
			o.Router = func(to, from string) (Route, error) {
				return Route{Open: true, App: func(ch media.Channel) { ch.Hangup() }}, nil
			}
		})
		dst, _ := net.ResolveUDPAddr("udp", addr)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		got := sendRaw(t, c, dst, rawInvite("100", fmt.Sprintf("guest-%v", guests), c.LocalAddr()), 3*time.Second)
		c.Close()
		if want := map[bool]string{true: "SIP/2.0 200", false: "SIP/2.0 407"}[guests]; !strings.HasPrefix(got, want) {
			t.Errorf("guests %v: %q, want %s", guests, got, want)
		}
	}
}
