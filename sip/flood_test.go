package sip

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/security"
)

// TestFloodBannedAtTheDoor: the request-rate limit ([security]
// flood_density in flood_window, Kamailio pike's) is applied where
// requests enter the box. A source sending OPTIONS, which are answered
// (no authentication fails, so only the rate can ban it), gets answers
// up to the density and then nothing; another source is still answered.
func TestFloodBannedAtTheDoor(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	guard, err := security.New(security.Options{Config: config.Security{FloodDensity: 20, FloodWindow: "2s"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var overloaded atomic.Bool
	overloaded.Store(true)
	_, addr := startServer(t, func(o *Options) { o.Clock = clk; o.Guard = guard })
	flood := floodFrom(t, "127.0.0.91", addr, 30)
	if flood != 20 {
		t.Errorf("the flooding source had %d of 30 OPTIONS answered, want the density's 20", flood)
	}
	if !guard.Banned(netip.MustParseAddr("127.0.0.91")) {
		t.Error("the flooding source is not banned")
	}
	if other := floodFrom(t, "127.0.0.92", addr, 5); other != 5 {
		t.Errorf("another source had %d of 5 answered", other)
	}
}

// floodFrom sends n OPTIONS from src to addr, one after the other, each
// waiting up to 200 ms for its answer, and counts the 200s.
func floodFrom(t *testing.T, src, addr string, n int) (answered int) {
	t.Helper()
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	for i := range n {
		fmt.Fprintf(conn, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-flood-%s-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@%s>;tag=f%d\r\nTo: <sip:%s>\r\nCall-ID: flood-%s-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			addr, conn.LocalAddr(), src, i, src, i, addr, src, i)
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if k, err := conn.Read(buf); err == nil && strings.HasPrefix(string(buf[:k]), "SIP/2.0 200") {
			answered++
		}
	}
	return answered
}

// TestEventsAtTheDoor: a request the box cannot read is a
// RequestBadFormat event, and a call refused by the box's limits (here
// the calls-per-second cap over TCP) a SessionLimit event, each with its
// source; a call refused because the box itself is short of CPU (or
// draining) is not a security event.
func TestEventsAtTheDoor(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	guard, err := security.New(security.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var overloaded atomic.Bool
	overloaded.Store(true)
	_, addr := startServer(t, func(o *Options) {
		o.Clock = clk
		o.Guard = guard
		o.Overloaded = func() bool { return overloaded.Load() }
		o.Config.MaxCallsPerSecond = 1
	})
	send := func(src, msg string) string {
		network, local := "udp", net.Addr(&net.UDPAddr{IP: net.ParseIP(src)})
		if strings.Contains(msg, "SIP/2.0/TCP") {
			network, local = "tcp", &net.TCPAddr{IP: net.ParseIP(src)}
		}
		conn, err := (&net.Dialer{LocalAddr: local}).Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, msg, conn.LocalAddr())
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				return ""
			}
			if line, _, _ := strings.Cut(string(buf[:n]), "\r\n"); !strings.HasPrefix(line, "SIP/2.0 1") {
				return line
			}
		}
	}
	bad := "INVITE sip:100@x SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-bad\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:100@x>\r\nCall-ID: bad\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
	if got := send("127.0.0.94", bad); !strings.HasPrefix(got, "SIP/2.0 400") {
		t.Errorf("a CSeq of another method: %q", got)
	}
	invite := "INVITE sip:100@x SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-full\r\nMax-Forwards: 70\r\nFrom: <sip:caller@x>;tag=1\r\nTo: <sip:100@x>\r\nCall-ID: full\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.95>\r\nContent-Length: 0\r\n\r\n"
	clk.Advance(2 * time.Second) // a token in the rate's bucket: the overload refuses it
	if got := send("127.0.0.93", invite); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("an INVITE to a box short of CPU: %q", got)
	}
	overloaded.Store(false)
	clk.Advance(2 * time.Second) // the bucket full again: one call
	tcp := strings.ReplaceAll(invite, "UDP", "TCP")
	for i, want := range []string{"SIP/2.0 4", "SIP/2.0 503"} { // no route for 100 here; then over the rate
		if got := send("127.0.0.95", strings.Replace(tcp, "Call-ID: full", fmt.Sprintf("Call-ID: rate-%d", i), 1)); !strings.HasPrefix(got, want) {
			t.Errorf("INVITE %d over TCP at 1 call/s: %q, want %s", i+1, got, want)
		}
	}
	evs, _ := guard.Events(0, 100)
	var seen []string
	for _, e := range evs {
		host, _, _ := strings.Cut(e.Source, ":")
		seen = append(seen, e.Name+" "+host)
	}
	for _, want := range []string{"RequestBadFormat 127.0.0.94", "SessionLimit 127.0.0.95"} {
		if !slices.Contains(seen, want) {
			t.Errorf("no %s event: %v", want, seen)
		}
	}
	if slices.Contains(seen, "SessionLimit 127.0.0.93") {
		t.Errorf("a call refused for the box's own overload is a security event: %v", seen)
	}
}

// TestOptionsTellsTheLoad: a probe (Kamailio dispatcher's keepalive)
// gets 200 while the box takes calls and 503 with Retry-After while it
// would refuse them, so a dispatcher leaves a draining box out.
func TestOptionsTellsTheLoad(t *testing.T) {
	var overloaded atomic.Bool
	_, addr := startServer(t, func(o *Options) { o.Overloaded = overloaded.Load })
	probe := func() string {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-probe%d\r\nMax-Forwards: 70\r\nFrom: <sip:dispatcher@127.0.0.1>;tag=p\r\n"+
			"To: <sip:%s>\r\nCall-ID: probe-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", addr, conn.LocalAddr(), time.Now().UnixNano(), addr, time.Now().UnixNano())
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if got := probe(); !strings.HasPrefix(got, "SIP/2.0 200") || !strings.Contains(got, "\r\nJinyin-Load: calls=0;max=0\r\n") {
		t.Errorf("a box taking calls: %q", got)
	}
	overloaded.Store(true)
	if got := probe(); !strings.HasPrefix(got, "SIP/2.0 503") || !strings.Contains(got, "\r\nRetry-After: 2\r\n") {
		t.Errorf("a draining box: %q", got)
	}
	overloaded.Store(false)
	if got := probe(); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Errorf("the box taking calls again: %q", got)
	}
}
