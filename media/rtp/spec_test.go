package rtp

import (
	"bytes"
	"slices"
	"testing"
)

// TestEventPayloadVectors: RFC 4733 §2.3's payload, written out: event
// (8 bits), E, R (reserved: ignored on receipt, 0 when sent), volume (6
// bits, -dBm0), duration (16 bits, timestamp units).
func TestEventPayloadVectors(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
		e    Event
		put  []byte // what Put writes, when it differs from wire (the R bit)
	}{
		{"digit 5, start, -10 dBm0, 400 samples", []byte{0x05, 0x0A, 0x01, 0x90}, Event{Code: 5, Volume: 10, Duration: 400}, nil},
		{"#, end, -63 dBm0, 65535", []byte{0x0B, 0xBF, 0xFF, 0xFF}, Event{Code: 11, End: true, Volume: 63, Duration: 65535}, nil},
		{"R bit set by the sender is ignored", []byte{0x01, 0xC7, 0x00, 0xA0}, Event{Code: 1, End: true, Volume: 7, Duration: 160}, []byte{0x01, 0x87, 0x00, 0xA0}},
		{"flash (16)", []byte{0x10, 0x00, 0x03, 0x20}, Event{Code: 16, Duration: 800}, nil},
	} {
		got, err := ParseEvent(c.wire)
		if err != nil || got != c.e {
			t.Errorf("%s: parsed %+v, %v; want %+v", c.name, got, err, c.e)
		}
		want := c.put
		if want == nil {
			want = c.wire
		}
		p := make([]byte, 4)
		c.e.Put(p)
		if !bytes.Equal(p, want) {
			t.Errorf("%s: put % x, want % x", c.name, p, want)
		}
	}
	// Volume is 6 bits: a 7th does not leak into E or R.
	p := make([]byte, 4)
	Event{Code: 2, Volume: 0x7F}.Put(p)
	if p[1] != 0x3F {
		t.Errorf("volume 0x7F put as %#x, want 0x3f", p[1])
	}
	if _, err := ParseEvent([]byte{1, 2, 3}); err == nil {
		t.Error("a 3-octet payload parsed")
	}
}

// TestEventCodes: RFC 4733 §3.2's table of DTMF events.
func TestEventCodes(t *testing.T) {
	table := "0123456789*#ABCD"
	for code := range 16 {
		if d := Digit(uint8(code)); d != table[code] {
			t.Errorf("Digit(%d) = %q, want %q", code, d, table[code])
		}
		if got, err := Code(table[code]); err != nil || got != uint8(code) {
			t.Errorf("Code(%q) = %d, %v; want %d", table[code], got, err, code)
		}
	}
	for _, c := range []struct {
		digit byte
		code  uint8
	}{{'a', 12}, {'b', 13}, {'c', 14}, {'d', 15}} {
		if got, err := Code(c.digit); err != nil || got != c.code {
			t.Errorf("Code(%q) = %d, %v; want %d", c.digit, got, err, c.code)
		}
	}
	for _, d := range []byte{'`', 'e', 'E', '@', '/', ':', '+', 0, 'x'} {
		if got, err := Code(d); err == nil {
			t.Errorf("Code(%q) = %d, want an error", d, got)
		}
	}
	for _, code := range []uint8{16, 17, 255} { // flash and beyond: not digits
		if d := Digit(code); d != 0 {
			t.Errorf("Digit(%d) = %q, want 0", code, d)
		}
	}
}

// TestStatsRFC3550A1: the sequence checks of RFC 3550 appendix A.1
// (MAX_DROPOUT 3000, MAX_MISORDER 100, MIN_SEQUENTIAL 2), packet by
// packet: whether each is accepted, and the counters after.
func TestStatsRFC3550A1(t *testing.T) {
	type pkt struct {
		seq uint16
		ok  bool
	}
	for _, c := range []struct {
		name                 string
		pkts                 []pkt
		extMax, expect, recv uint32
	}{
		{"probation: two in sequence", []pkt{{100, false}, {101, true}, {102, true}}, 102, 2, 2},
		{"probation restarts on a gap", []pkt{{100, false}, {102, false}, {103, true}, {104, true}}, 104, 2, 2},
		{"a jump of 2999 is a gap", []pkt{{1, false}, {2, true}, {3001, true}}, 3001, 3000, 2},
		{"a jump of 3000 waits for the next", []pkt{{1, false}, {2, true}, {3002, false}, {5, true}}, 5, 4, 2},
		{"a jump confirmed by its successor restarts", []pkt{{1, false}, {2, true}, {3002, false}, {3003, true}, {3004, true}}, 3004, 2, 2},
		{"a jump followed by another jump is dropped", []pkt{{1, false}, {2, true}, {3002, false}, {9000, false}}, 2, 1, 1},
		// udelta = seq - max_seq mod 2^16; above 2^16 - MAX_MISORDER it is
		// a late packet, at or below it a jump.
		{"99 behind is misordered, accepted", []pkt{{1000, false}, {1001, true}, {1002, true}, {903, true}}, 1002, 2, 3},
		{"100 behind is a jump", []pkt{{1000, false}, {1001, true}, {1002, true}, {902, false}}, 1002, 2, 2},
		{"a duplicate counts as received", []pkt{{7, false}, {8, true}, {8, true}}, 8, 1, 2},
		{"wrap: cycles count", []pkt{{65534, false}, {65535, true}, {0, true}, {1, true}}, 1<<16 + 1, 3, 3},
		// The end of probation is init_seq: the count starts at seq 0, with no cycle.
		{"wrap within probation", []pkt{{65535, false}, {0, true}, {1, true}}, 1, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Stats
			for i, p := range c.pkts {
				if got := s.Update(p.seq, uint32(i)*160, uint32(i)*160); got != p.ok {
					t.Errorf("packet %d (seq %d): accepted %v, want %v", i, p.seq, got, p.ok)
				}
			}
			if s.ExtendedMax() != c.extMax || s.Expected() != c.expect || s.Received() != c.recv {
				t.Errorf("extended max %d expected %d received %d, want %d %d %d", s.ExtendedMax(), s.Expected(), s.Received(), c.extMax, c.expect, c.recv)
			}
			if want := int32(c.expect) - int32(c.recv); s.Lost() != want {
				t.Errorf("lost %d, want %d", s.Lost(), want)
			}
		})
	}
	var s Stats
	if s.Expected() != 0 || s.Lost() != 0 || s.FractionLost() != 0 {
		t.Error("a new Stats expects packets")
	}
	s.Update(5, 0, 0)
	if s.Expected() != 0 {
		t.Errorf("on probation: expected %d, want 0", s.Expected())
	}
}

// TestStatsFractionLost: RFC 3550 A.3, fraction = (lost in the interval
// << 8) / expected in the interval, 0 when none are lost or duplicates
// outnumber losses.
func TestStatsFractionLost(t *testing.T) {
	var s Stats
	seq := uint16(0)
	send := func(n int, lost ...int) { // n packets but those at the indexes lost
		for i := range n {
			seq++
			if !slices.Contains(lost, i) {
				s.Update(seq, 0, 0)
			}
		}
	}
	send(2) // out of probation: counting starts at seq 2
	if f := s.FractionLost(); f != 0 {
		t.Errorf("no loss: %d", f)
	}
	send(10, 2, 6) // 10 expected, 8 received: 2·256/10 = 51
	if f := s.FractionLost(); f != 51 {
		t.Errorf("2 of 10 lost: %d/256, want 51", f)
	}
	send(4, 0) // 4 expected, 3 received: 64
	if f := s.FractionLost(); f != 64 {
		t.Errorf("1 of 4 lost: %d/256, want 64", f)
	}
	if f := s.FractionLost(); f != 0 {
		t.Errorf("an empty interval: %d", f)
	}
	s.Update(seq, 0, 0) // a duplicate: more received than expected
	send(1)
	if f := s.FractionLost(); f != 0 {
		t.Errorf("duplicates: %d, want 0", f)
	}
	send(2, 0) // 1 of 2 lost
	if f := s.FractionLost(); f != 128 {
		t.Errorf("1 of 2 lost: %d, want 128", f)
	}
}

// TestStatsJitterRFC3550A8: J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16,
// from the first packet's transit on.
func TestStatsJitterRFC3550A8(t *testing.T) {
	var s Stats
	// Probation: the first packet is not counted, the second starts the
	// transit; then a packet 160 samples late: J = 160/16 = 10; then on
	// time again: D = 160, J = 10 + 150/16 = 19.375.
	s.Update(1, 0, 5000)
	s.Update(2, 160, 160+1000)
	if j := s.Jitter(); j != 0 {
		t.Errorf("after the first counted packet: jitter %d, want 0", j)
	}
	s.Update(3, 320, 320+1000+160)
	if j := s.Jitter(); j != 10 {
		t.Errorf("one packet 160 late: jitter %d, want 10", j)
	}
	s.Update(4, 480, 480+1000)
	if j := s.Jitter(); j != 19 {
		t.Errorf("back on time: jitter %d, want 19 (19.375)", j)
	}
	// Early is as far as late: D = |(-160) - 0|.
	var e Stats
	e.Update(1, 0, 0)
	e.Update(2, 160, 1160)
	e.Update(3, 320, 1160)
	if j := e.Jitter(); j != 10 {
		t.Errorf("one packet 160 early: jitter %d, want 10", j)
	}
	// The transit wraps with the 32-bit clocks.
	var w Stats
	w.Update(1, 0xFFFFFF00, 0xFFFFFF00)
	w.Update(2, 0xFFFFFFA0, 0xFFFFFFA0+5)
	w.Update(3, 0x40, 0x40+5)
	if j := w.Jitter(); j != 0 {
		t.Errorf("steady transit across the timestamp wrap: jitter %d, want 0", j)
	}
}

// TestJitterBufferRules: the buffer's rules one by one: it holds target
// frames before playing, drops late and duplicate frames and oversized
// payloads, restarts on a jump past its slots, grows its target by one per
// underrun up to the maximum, and plays each frame once in order.
func TestJitterBufferRules(t *testing.T) {
	frame := func(b byte) []byte { return bytes.Repeat([]byte{b}, 160) }
	out := make([]byte, 320)
	pop := func(j *JitterBuffer) (byte, bool) {
		n, ok := j.Pop(out)
		if ok && n != 160 {
			t.Fatalf("popped %d octets", n)
		}
		return out[0], ok
	}

	j := NewJitterBuffer(2, 4)
	if _, ok := pop(j); ok {
		t.Error("played before anything arrived")
	}
	j.Push(10, frame(10))
	if _, ok := pop(j); ok {
		t.Error("played with 1 of 2 frames held")
	}
	j.Push(11, frame(11))
	j.Push(11, frame(99)) // duplicate: the first copy stays
	if b, ok := pop(j); !ok || b != 10 {
		t.Errorf("first pop: %d %v, want frame 10", b, ok)
	}
	j.Push(9, frame(9)) // late
	if j.Late != 1 {
		t.Errorf("late %d, want 1", j.Late)
	}
	if b, ok := pop(j); !ok || b != 11 {
		t.Errorf("second pop: %d %v, want frame 11 (not the duplicate)", b, ok)
	}
	j.Push(12, make([]byte, jbMaxPayload+1))
	if j.Dropped != 1 {
		t.Errorf("dropped %d, want 1", j.Dropped)
	}
	j.Push(12, make([]byte, jbMaxPayload)) // the largest that fits
	if j.Dropped != 1 {
		t.Errorf("a %d-octet payload dropped", jbMaxPayload)
	}
	if n, ok := j.Pop(out); !ok || n != jbMaxPayload {
		t.Errorf("largest payload popped as %d %v", n, ok)
	}
	// Empty: an underrun raises the target from 2 to 3.
	if _, ok := pop(j); ok || j.Underruns != 1 || j.Target() != 3 {
		t.Errorf("underrun: underruns %d target %d", j.Underruns, j.Target())
	}
	for _, seq := range []uint16{13, 14} {
		j.Push(seq, frame(byte(seq)))
	}
	if _, ok := pop(j); ok {
		t.Error("played with 2 of the new target 3 frames")
	}
	j.Push(15, frame(15))
	if b, ok := pop(j); !ok || b != 13 {
		t.Errorf("after refilling: %d %v, want 13", b, ok)
	}
	// A frame lost in the middle plays as nothing, in its turn.
	j.Push(17, frame(17))
	pop(j) // 14
	pop(j) // 15
	if _, ok := pop(j); ok {
		t.Error("the missing frame 16 played")
	}
	if b, ok := pop(j); !ok || b != 17 {
		t.Errorf("after the gap: %d %v, want 17", b, ok)
	}
	// A frame jbSlots or more ahead of the next to play starts over
	// there, prebuffering again (target 3).
	j.Push(18+jbSlots-1, frame(9)) // 31 ahead: kept in its slot
	j.Push(18+jbSlots, frame(1))   // 32 ahead: a new start
	j.Push(19+jbSlots, frame(2))
	if _, ok := pop(j); ok {
		t.Error("played right after the jump, before prebuffering")
	}
	j.Push(20+jbSlots, frame(3))
	if b, ok := pop(j); !ok || b != 1 {
		t.Errorf("after a jump: %d %v, want the jump's first frame", b, ok)
	}
	// The target grows no further than the maximum.
	k := NewJitterBuffer(1, 2)
	for i := range 5 {
		k.Push(uint16(100*i), frame(0)) // a jump each time: prebuffer again
		k.Push(uint16(100*i+1), frame(0))
		pop(k)
		pop(k)
		pop(k) // underrun
	}
	if k.Underruns != 5 {
		t.Errorf("%d underruns, want 5", k.Underruns)
	}
	if k.Target() != 2 {
		t.Errorf("target %d after 5 underruns, want the maximum 2", k.Target())
	}
	if b := NewJitterBuffer(0, 100); b.Target() != 1 || b.maxT != jbSlots-2 {
		t.Errorf("NewJitterBuffer(0, 100): target %d max %d, want 1 and %d", b.Target(), b.maxT, jbSlots-2)
	}
	if b := NewJitterBuffer(5, 3); b.maxT != 5 {
		t.Errorf("NewJitterBuffer(5, 3): max %d, want 5", b.maxT)
	}
}
