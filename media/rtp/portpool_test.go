package rtp

import (
	"net/netip"
	"testing"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// TestPortPoolStartsInRange: the first pair a pool tries is a random one
// of its range, RTP on an even port with RTCP above it inside the range.
func TestPortPoolStartsInRange(t *testing.T) {
	for range 300 {
		p := NewPortPool(loopback, 41000, 41199)
		if p.next%2 != 0 || p.next < 41000 || p.next+1 > 41199 {
			t.Fatalf("first pair %d/%d, outside 41000-41199 or odd", p.next, p.next+1)
		}
	}
	// An odd low end moves up to the next even port.
	p := NewPortPool(loopback, 41201, 41204)
	if p.lo != 41202 || p.next != 41202 {
		t.Fatalf("pool 41201-41204: low end %d, first pair %d, want 41202", p.lo, p.next)
	}
	s, err := p.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Local().Port() != 41202 {
		t.Errorf("opened %v, want port 41202", s.Local())
	}
	if _, err := p.Open(); err == nil {
		t.Error("a second pair from 41202-41204 (one pair, 41204 has no RTCP port)")
	}
}

// TestPortPoolWalksAndWraps: a pool of two pairs hands out both, then
// none, and, once the first is closed, that one again: the walk wraps
// round to the start of the range and never leaves it.
func TestPortPoolWalksAndWraps(t *testing.T) {
	p := NewPortPool(loopback, 41300, 41303)
	open := func() *Session {
		t.Helper()
		s, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	first, second := open(), open()
	if first.Local().Port() != 41300 || second.Local().Port() != 41302 {
		t.Fatalf("pairs %v and %v, want ports 41300 and 41302", first.Local(), second.Local())
	}
	if s, err := p.Open(); err == nil {
		s.Close()
		t.Fatalf("a third pair at %v from a range of two", s.Local())
	}
	first.Close()
	if again := open(); again.Local().Port() != 41300 {
		t.Errorf("after closing the first pair: %v, want port 41300", again.Local())
	}
}
