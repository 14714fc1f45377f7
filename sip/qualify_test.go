package sip

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/siptest"
	"jinyin/media"
)

// fakeCarrier answers OPTIONS with 200 while answering is set, and
// otherwise takes them in silence; it counts the transactions it saw.
type fakeCarrier struct {
	conn      *net.UDPConn
	answering atomic.Bool
	mu        sync.Mutex
	seen      map[string]bool // Call-IDs of OPTIONS
}

func startCarrier(t *testing.T, ip string) *fakeCarrier {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCarrier{conn: conn, seen: map[string]bool{}}
	c.answering.Store(true)
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			if !strings.HasPrefix(msg, "OPTIONS ") {
				continue
			}
			var keep []string
			for _, l := range strings.Split(msg, "\r\n") {
				for _, h := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if strings.HasPrefix(l, h) {
						keep = append(keep, l)
						if h == "Call-ID:" {
							c.mu.Lock()
							c.seen[l] = true
							c.mu.Unlock()
						}
					}
				}
			}
			if c.answering.Load() {
				conn.WriteToUDP([]byte("SIP/2.0 200 OK\r\n"+strings.Join(keep, "\r\n")+"\r\nContent-Length: 0\r\n\r\n"), from)
			}
		}
	}()
	return c
}

func (c *fakeCarrier) probes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// TestTrunkQualify: a trunk with qualify is sent an OPTIONS every
// interval on the box's clock; two unanswered in a row mark it down, and
// a dial through it fails at once with ErrTrunkDown (the route tries its
// next trunk); one answer brings it back.
func TestTrunkQualify(t *testing.T) {
	qualifyWait = 300 * time.Millisecond
	t.Cleanup(func() { qualifyWait = 5 * time.Second })
	carrier := startCarrier(t, "127.0.0.4")
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	s, _ := startServer(t, func(o *Options) {
		o.Clock = clk
		o.Trunks = []config.Trunk{{Name: "carrier", Host: carrier.conn.LocalAddr().String(), Destination: "100", Qualify: "30s"}}
	})
	probe := func(n int) {
		t.Helper()
		clk.Advance(30 * time.Second)
		for deadline := time.Now().Add(3 * time.Second); carrier.probes() < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("OPTIONS %d did not come", n)
			}
		}
	}
	down := func(want bool, what string) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Second); s.Trunks()[0].Down != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: trunk down %v, want %v", what, !want, want)
			}
		}
	}
	if carrier.probes() != 0 {
		t.Fatal("an OPTIONS before the first interval")
	}
	probe(1)
	time.Sleep(50 * time.Millisecond) // real time: the answer crosses loopback
	down(false, "answered")
	carrier.answering.Store(false)
	probe(2)
	time.Sleep(qualifyWait + 200*time.Millisecond) // real time: the probe gives up
	if s.Trunks()[0].Down {
		t.Fatal("down after one unanswered OPTIONS")
	}
	probe(3)
	down(true, "two unanswered")
	if _, err := s.DialTrunk(t.Context(), "carrier", "88880000", "100"); !errors.Is(err, ErrTrunkDown) {
		t.Errorf("a dial through a trunk that is down: %v", err)
	}
	carrier.answering.Store(true)
	probe(4)
	down(false, "answered again")
}

// TestOverloadedRefusesNewCalls: while the overload gate is closed, a new
// call gets 503 with Retry-After, and its record says so; once it opens
// calls are taken again.
func TestOverloadedRefusesNewCalls(t *testing.T) {
	var over atomic.Bool
	over.Store(true)
	recs := make(chan CallRecord, 4)
	_, addr := startServer(t, func(o *Options) {
		o.Overloaded = over.Load
		o.OnCallEnd = func(r CallRecord) { recs <- r }
		o.Router = func(to, from string) (Route, error) {
			return Route{Open: true, App: func(media.Channel) {}}, nil
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, addr, "100")
	if err != nil {
		t.Fatal(err)
	}
	err = call.Answered(ctx)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("a call while overloaded: %v, want 503", err)
	}
	if res := call.Dialog.InviteResponse; res == nil || res.GetHeader("Retry-After") == nil {
		t.Errorf("the 503 has no Retry-After: %v", res)
	}
	call.Close()
	select {
	case r := <-recs:
		if r.Disposition != "refused" || r.Cause != "SIP 503 Service Unavailable" {
			t.Errorf("record %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("no record of the refused call")
	}
	over.Store(false)
	call, err = siptest.Invite(ctx, addr, "100")
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Answered(ctx); err != nil {
		t.Fatalf("a call once the gate opened: %v", err)
	}
	call.Close()
}

// TestRefusedRecordsBounded: a burst of refused calls (here 30 while the
// box is overloaded, within one second of its clock) leaves
// refusedPerSecond records; the rest are counted, not written.
func TestRefusedRecordsBounded(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	var recorded atomic.Int32
	s, addr := startServer(t, func(o *Options) {
		o.Clock = clk
		o.Overloaded = func() bool { return true }
		o.OnCallEnd = func(CallRecord) { recorded.Add(1) }
	})
	for i := range 30 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		call, err := siptest.Invite(ctx, addr, "100")
		if err != nil {
			t.Fatal(err)
		}
		if err := call.Answered(ctx); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("call %d: %v, want 503", i, err)
		}
		call.Close()
		cancel()
	}
	// The last refusal is counted just after its 503 is sent.
	for deadline := time.Now().Add(2 * time.Second); recorded.Load()+int32(s.Unrecorded.Load()) < 30 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if recorded.Load() != refusedPerSecond || s.Unrecorded.Load() != 30-refusedPerSecond {
		t.Errorf("recorded %d, unrecorded %d; want %d and %d", recorded.Load(), s.Unrecorded.Load(), refusedPerSecond, 30-refusedPerSecond)
	}
}
