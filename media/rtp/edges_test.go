package rtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseEdges: RFC 3550 §5.1/§5.3.1 packets at the edges of what is
// valid, each worked out octet by octet.
func TestParseEdges(t *testing.T) {
	hdr := func(b0 byte, rest ...byte) []byte {
		return append([]byte{b0, 0x08, 0x12, 0x34, 0, 0, 0x01, 0x40, 0xCA, 0xFE, 0xBA, 0xBE}, rest...)
	}
	for _, c := range []struct {
		name    string
		p       []byte
		payload []byte
	}{
		// 12 octets, no CSRC, no extension, no padding: a valid packet
		// whose payload is empty.
		{"header only", hdr(0x80), []byte{}},
		// X=1: the 4-octet extension header with length 0 (§5.3.1: the
		// length counts 32-bit words after those four), nothing after it.
		{"empty extension, no payload", hdr(0x90, 0xBE, 0xDE, 0x00, 0x00), []byte{}},
		// An extension of two words: 4 + 8 octets skipped.
		{"two-word extension", hdr(0x90, 0x10, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0xAA, 0xBB), []byte{0xAA, 0xBB}},
		// Two CSRCs (CC=2): 8 octets skipped.
		{"two CSRCs", hdr(0x82, 0, 0, 0, 1, 0, 0, 0, 2, 0x55), []byte{0x55}},
		// P=1, the last octet 4: padding of four octets, itself included,
		// takes everything after the header.
		{"padding is the whole payload", hdr(0xA0, 0, 0, 0, 4), []byte{}},
		{"padding of one octet", hdr(0xA0, 0xD5, 0xD5, 1), []byte{0xD5, 0xD5}},
	} {
		h, payload, err := Parse(c.p)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !bytes.Equal(payload, c.payload) {
			t.Errorf("%s: payload % x, want % x", c.name, payload, c.payload)
		}
		if want := (Header{PayloadType: 8, Seq: 0x1234, Timestamp: 0x140, SSRC: 0xCAFEBABE}); h != want {
			t.Errorf("%s: header %+v, want %+v", c.name, h, want)
		}
	}
	// Padding that reaches into the header is an error that says so.
	_, _, err := Parse(hdr(0xA0, 0, 0, 5))
	if !errors.Is(err, ErrShort) || !strings.Contains(err.Error(), "padding of 5") {
		t.Errorf("padding of 5 after 3 payload octets: %v", err)
	}
	// An extension claiming more words than there are.
	if _, _, err := Parse(hdr(0x90, 0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4)); !errors.Is(err, ErrShort) {
		t.Errorf("extension of 2 words carrying 1: %v", err)
	}
}

// TestSerialOrderIsStrict: RFC 1982 "less than" is irreflexive and
// asymmetric, on 16 and 32 bits, across the wrap.
func TestSerialOrderIsStrict(t *testing.T) {
	for _, a := range []uint16{0, 1, 0x7FFF, 0x8000, 0xFFFF} {
		if SeqLess(a, a) {
			t.Errorf("SeqLess(%d, %d)", a, a)
		}
		if b := a + 1; !SeqLess(a, b) || SeqLess(b, a) {
			t.Errorf("%d and %d: SeqLess %v/%v, want true/false", a, b, SeqLess(a, b), SeqLess(b, a))
		}
		if b := a + 0x7FFF; !SeqLess(a, b) || SeqLess(b, a) {
			t.Errorf("%d and %d (half the space less one ahead)", a, b)
		}
	}
	for _, a := range []uint32{0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF} {
		if TSLess(a, a) {
			t.Errorf("TSLess(%d, %d)", a, a)
		}
		if b := a + 160; !TSLess(a, b) || TSLess(b, a) {
			t.Errorf("%d and %d: TSLess %v/%v, want true/false", a, b, TSLess(a, b), TSLess(b, a))
		}
		if b := a + 0x7FFFFFFF; !TSLess(a, b) || TSLess(b, a) {
			t.Errorf("%d and %d (half the space less one ahead)", a, b)
		}
	}
}

// TestRTCPEmptyPacketsInCompound: RFC 3550 §6.5 and §6.6 allow a source
// count of zero ("valid, but useless"): an SDES or BYE of only its 4-octet
// header, here last in a compound packet, is skipped like any other.
func TestRTCPEmptyPacketsInCompound(t *testing.T) {
	for _, tail := range [][]byte{
		{0x80, 0xCA, 0x00, 0x00}, // SDES, SC=0, length 0
		{0x80, 0xCB, 0x00, 0x00}, // BYE, SC=0, length 0
	} {
		p := append(append([]byte(nil), rrBytes...), tail...)
		got, err := ParseReports(p, nil)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], rrReport) {
			t.Errorf("RR + % x: %+v, %v", tail, got, err)
		}
	}
	// Two report blocks, the second read from octet 24 of the blocks.
	two := Report{SSRC: 7, Blocks: []ReportBlock{{SSRC: 1, Jitter: 10}, {SSRC: 2, FractionLost: 128, Lost: -1, ExtendedMax: 3, Jitter: 20, LSR: 4, DLSR: 5}}}
	b := AppendReport(nil, &two)
	if len(b) != 8+48 || b[0] != 0x82 || b[3] != 13 { // length (56/4)-1
		t.Errorf("RR with two blocks: % x", b)
	}
	if got, err := ParseReports(b, nil); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], two) {
		t.Errorf("RR with two blocks parsed as %+v, %v", got, err)
	}
}

// TestStatsBadSeqStartsOutOfRange: RFC 3550 A.1 init_seq sets bad_seq to
// RTP_SEQ_MOD + 1, a value no 16-bit sequence number has, so the first
// jump after it is never taken for a confirmed one, even a jump to 65535.
func TestStatsBadSeqStartsOutOfRange(t *testing.T) {
	var s Stats
	s.Update(1000, 0, 0)
	if !s.Update(1001, 160, 160) {
		t.Fatal("second packet in sequence refused")
	}
	// udelta = 65535 - 1001 = 64534: not within MAX_DROPOUT, not within
	// MAX_MISORDER of 2^16: a jump.
	if s.Update(65535, 320, 320) {
		t.Error("a jump to 65535 accepted without its successor")
	}
	// Its successor, 0, confirms it: the source restarted there.
	if !s.Update(0, 480, 480) {
		t.Error("the jump's successor refused")
	}
	if s.ExtendedMax() != 0 || s.Expected() != 1 || s.Received() != 1 {
		t.Errorf("after the restart: extended max %d expected %d received %d, want 0 1 1", s.ExtendedMax(), s.Expected(), s.Received())
	}
}

// TestJitterBufferShedsExactly: the buffer sheds a frame of latency only
// after 25 consecutive pops (half a second) with more than target+2
// frames held: it then skips the oldest frame and lowers the target by
// one, not below the minimum. Holding exactly target+2 sheds nothing.
func TestJitterBufferShedsExactly(t *testing.T) {
	frame := func(seq uint16) []byte { return bytes.Repeat([]byte{byte(seq)}, 160) }
	out := make([]byte, 160)

	// Target 1 and three frames held before every pop: target+2, never
	// shed, for two seconds; every frame plays, in order.
	j := NewJitterBuffer(1, 8)
	for seq := range uint16(3) {
		j.Push(seq, frame(seq))
	}
	for i := range uint16(100) {
		if n, ok := j.Pop(out); !ok || n != 160 || out[0] != byte(i) {
			t.Fatalf("pop %d with target+2 held: %d %v frame %d, want frame %d", i, n, ok, out[0], i)
		}
		j.Push(i+3, frame(i+3))
	}
	if j.Target() != 1 {
		t.Errorf("target %d, want 1", j.Target())
	}

	// Minimum 2; an underrun raises the target to 3.
	k := NewJitterBuffer(2, 8)
	k.Push(0, frame(0))
	k.Push(1, frame(1))
	k.Pop(out)
	k.Pop(out)
	if _, ok := k.Pop(out); ok || k.Target() != 3 {
		t.Fatalf("underrun: target %d", k.Target())
	}
	// Six frames held (target+3) before every pop: pops 1 to 24 play
	// frames 2 to 25; the 25th skips frame 26 and plays 27, the target
	// back to 2.
	for seq := uint16(2); seq < 8; seq++ {
		k.Push(seq, frame(seq))
	}
	for i := uint16(1); i <= 25; i++ {
		if i == 25 && k.Target() != 3 {
			t.Errorf("target %d before the 25th pop, want 3", k.Target())
		}
		want := i + 1
		if i == 25 {
			want = 27
		}
		if n, ok := k.Pop(out); !ok || n != 160 || out[0] != byte(want) {
			t.Fatalf("pop %d: %d %v frame %d, want frame %d", i, n, ok, out[0], want)
		}
		k.Push(i+7, frame(i+7))
	}
	if k.Target() != 2 {
		t.Errorf("target %d after shedding, want 2", k.Target())
	}
	if n, ok := k.Pop(out); !ok || n != 160 || out[0] != 28 {
		t.Errorf("after shedding: %d %v frame %d, want 28", n, ok, out[0])
	}
}

// TestRTCPLostClamps: the cumulative number lost is a signed 24-bit field;
// RFC 3550 A.3: "it should be clamped at 0x7fffff for positive loss or
// 0x800000 for negative loss rather than wrapping around".
func TestRTCPLostClamps(t *testing.T) {
	for _, c := range []struct {
		lost int32
		wire uint32 // the block's second word, fraction lost 0x19
		back int32
	}{
		{0, 0x19000000, 0},
		{3, 0x19000003, 3},
		{-1, 0x19FFFFFF, -1},
		{0x7FFFFF, 0x197FFFFF, 0x7FFFFF},
		{0x800000, 0x197FFFFF, 0x7FFFFF}, // would wrap to -8388608
		{1 << 30, 0x197FFFFF, 0x7FFFFF},
		{-0x800000, 0x19800000, -0x800000},
		{-0x800001, 0x19800000, -0x800000}, // would wrap to +8388607
		{-1 << 31, 0x19800000, -0x800000},
	} {
		b := AppendReport(nil, &Report{SSRC: 1, Blocks: []ReportBlock{{SSRC: 2, FractionLost: 0x19, Lost: c.lost}}})
		if got := binary.BigEndian.Uint32(b[12:]); got != c.wire {
			t.Errorf("lost %d: word %08x, want %08x", c.lost, got, c.wire)
		}
		if r, err := ParseReports(b, nil); err != nil || r[0].Blocks[0].Lost != c.back {
			t.Errorf("lost %d read back as %+v, %v; want %d", c.lost, r, err, c.back)
		}
	}
}
