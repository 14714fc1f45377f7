package sip

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
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
