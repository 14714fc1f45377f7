package hdlc

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// line is a test's bit string, written as the line carries it ("0" and
// "1", spaces ignored), packed into timeslot octets first bit most
// significant and padded with flags to a whole octet... by repeating the
// flags before it: callers start and end with whole flags.
func line(t testing.TB, bits string) []byte {
	t.Helper()
	bits = strings.ReplaceAll(bits, " ", "")
	for len(bits)%8 != 0 {
		bits += "1" // idle ones: not a frame
	}
	out := make([]byte, len(bits)/8)
	for i, c := range bits {
		if c == '1' {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

// ref is the spec written out the long way, apart from the Encoder: a
// frame's octets least significant bit first, then its FCS (ISO/IEC 13239
// CRC-16 computed bit by bit, sent low octet first), a 0 after every five
// 1s in a row, between flags.
func ref(frame []byte) string {
	crc := uint16(0xFFFF)
	var data []byte
	data = append(data, frame...)
	for _, o := range frame {
		for i := range 8 {
			bit := uint16(o>>i) & 1
			if (crc^bit)&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	crc = ^crc
	data = append(data, byte(crc), byte(crc>>8))
	var b strings.Builder
	ones := 0
	for _, o := range data {
		for i := range 8 {
			if o>>i&1 == 1 {
				b.WriteByte('1')
				if ones++; ones == 5 {
					b.WriteByte('0')
					ones = 0
				}
			} else {
				b.WriteByte('0')
				ones = 0
			}
		}
	}
	return b.String()
}

const flag = "01111110"

type got struct {
	frames [][]byte
	errs   []error
}

func (g *got) add(f []byte, err error) {
	if err != nil {
		g.errs = append(g.errs, err)
		return
	}
	g.frames = append(g.frames, bytes.Clone(f))
}

// The frame 01 80 as spandsp's hdlc_tx_get_byte sent it in this project's
// first look at its output (its FCS is 0x9297, low octet first; in line
// order 97 92 reads e9 49).
func TestEncodeAsSpandsp(t *testing.T) {
	e := NewEncoder()
	if err := e.Queue([]byte{0x01, 0x80}); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 7)
	e.Encode(out)
	if want := []byte{0x7E, 0x80, 0x01, 0xE9, 0x49, 0x7E, 0x7E}; !bytes.Equal(out, want) {
		t.Errorf("encoded % x, want % x", out, want)
	}
}

// The Encoder sends what the spec written out the long way sends: frames
// of every length with runs of 1s that need stuffing, one flag between
// frames, flags when idle.
func TestEncodeAsTheSpec(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var frames [][]byte
		want := flag
		for range 1 + r.IntN(3) {
			f := make([]byte, 1+r.IntN(40))
			for i := range f {
				f[i] = []byte{0xFF, 0x7E, 0x3F, 0x1F, byte(r.Uint32())}[r.IntN(5)]
			}
			frames = append(frames, f)
			want += ref(f) + flag
		}
		e := NewEncoder()
		for _, f := range frames {
			if err := e.Queue(f); err != nil {
				t.Fatal(err)
			}
		}
		var out []byte
		for e.Pending() > 0 {
			var o [1]byte
			e.Encode(o[:])
			out = append(out, o[0])
		}
		var o [2]byte
		e.Encode(o[:])
		out = append(out, o[:]...)
		// Pad the spec's bits with flags to a whole octet and two more.
		bits := want
		for len(bits) < 8*len(out) {
			bits += flag
		}
		exp := line(t, bits[:8*len(out)])
		if !bytes.Equal(out, exp) {
			t.Fatalf("round %d: frames % x\nencoded % x\nwant    % x", round, frames, out, exp)
		}
	}
}

func TestDecode(t *testing.T) {
	f1, f2 := []byte{0x01, 0x80}, []byte{0x3F, 0xFF, 0x7E, 0x00}
	bad := ref(f1)
	bad = bad[:3] + string('1'^'0'^bad[3]) + bad[4:] // one bit flipped: not a stuffed run
	cases := []struct {
		name   string
		bits   string
		frames [][]byte
		errs   []error
	}{
		{"one frame", flag + ref(f1) + flag, [][]byte{f1}, nil},
		{"flag sharing: one flag between frames", flag + ref(f1) + flag + ref(f2) + flag, [][]byte{f1, f2}, nil},
		{"flags sharing their 0", "0111111011111101111110" + ref(f1) + flag, [][]byte{f1}, nil},
		{"many flags, idle ones between frames", flag + flag + ref(f1) + flag + "11111111111111" + flag + ref(f2) + flag + flag, [][]byte{f1, f2}, nil},
		{"no opening flag: not a frame", ref(f1) + flag + ref(f2) + flag, [][]byte{f2}, nil},
		{"damaged FCS", flag + bad + flag + ref(f2) + flag, [][]byte{f2}, []error{ErrFCS}},
		{"aborted frame, then a good one", flag + ref(f2)[:20] + "1111111" + flag + ref(f1) + flag, [][]byte{f1}, []error{ErrAbort}},
		{"abort in idle: not an error", flag + "11111111" + flag + ref(f1) + flag, [][]byte{f1}, nil},
		{"not whole octets", flag + ref(f1) + "0" + flag + ref(f2) + flag, [][]byte{f2}, []error{ErrAlign}},
		{"one octet and an FCS is a frame", flag + ref([]byte{0x42}) + flag, [][]byte{{0x42}}, nil},
		{"two octets is too short", flag + "0000000001010101" + flag, nil, []error{ErrShort}},
		{"too long, then a good one", flag + ref(make([]byte, MaxFrame+1)) + flag + ref(f1) + flag, [][]byte{f1}, []error{ErrTooLong}},
		{"longest frame", flag + ref(bytes.Repeat([]byte{0xFF}, MaxFrame)) + flag, [][]byte{bytes.Repeat([]byte{0xFF}, MaxFrame)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g got
			d := NewDecoder(g.add)
			d.Decode(line(t, c.bits))
			if fmt.Sprintf("% x", g.frames) != fmt.Sprintf("% x", c.frames) {
				t.Errorf("frames % x, want % x", g.frames, c.frames)
			}
			if len(g.errs) != len(c.errs) {
				t.Fatalf("errors %v, want %v", g.errs, c.errs)
			}
			for i := range c.errs {
				if !errors.Is(g.errs[i], c.errs[i]) {
					t.Errorf("error %d: %v, want %v", i, g.errs[i], c.errs[i])
				}
			}
			if d.Frames != uint64(len(c.frames)) || d.FCSErrors+d.Aborts+d.LengthErrors != uint64(len(c.errs)) {
				t.Errorf("counts %d frames %d FCS %d aborts %d length", d.Frames, d.FCSErrors, d.Aborts, d.LengthErrors)
			}
		})
	}
}

// What the Encoder sends, the Decoder takes back, whatever the frames and
// however the octets are split, with aborts dropping exactly the frame
// they cut.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	e := NewEncoder()
	var g got
	d := NewDecoder(g.add)
	var want [][]byte
	aborts := 0
	buf := make([]byte, 64)
	for range 2000 {
		f := make([]byte, 1+r.IntN(MaxFrame))
		for i := range f {
			f[i] = byte(r.Uint32())
		}
		if err := e.Queue(f); err != nil {
			t.Fatal(err)
		}
		if r.IntN(10) == 0 {
			n := min(r.IntN(len(f))/2+1, len(buf))
			e.Encode(buf[:n])
			d.Decode(buf[:n])
			if !e.Abort() {
				want = append(want, f)
			} else {
				aborts++
			}
		} else {
			want = append(want, f)
		}
		for e.Pending() > 0 {
			n := 1 + r.IntN(len(buf))
			e.Encode(buf[:n])
			d.Decode(buf[:n])
		}
	}
	e.Encode(buf[:4])
	d.Decode(buf[:4])
	if len(g.frames) != len(want) {
		t.Fatalf("%d frames back, want %d (errors %d)", len(g.frames), len(want), len(g.errs))
	}
	for i := range want {
		if !bytes.Equal(g.frames[i], want[i]) {
			t.Fatalf("frame %d: % x, want % x", i, g.frames[i], want[i])
		}
	}
	// An abort within a frame's first octet is only bits to the far end;
	// every later one is an abort.
	if len(g.errs) > aborts || d.Aborts != uint64(len(g.errs)) {
		t.Errorf("%d errors, %d aborts counted, for %d aborts sent", len(g.errs), d.Aborts, aborts)
	}
}

func TestQueue(t *testing.T) {
	e := NewEncoder()
	if err := e.Queue(nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("empty frame: %v", err)
	}
	if err := e.Queue(make([]byte, MaxFrame+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long frame: %v", err)
	}
	for i := range 8 {
		if err := e.Queue([]byte{byte(i)}); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := e.Queue([]byte{9}); !errors.Is(err, ErrFull) {
		t.Errorf("ninth frame: %v", err)
	}
	if e.Pending() != 8 {
		t.Errorf("pending %d", e.Pending())
	}
	if e.Abort() { // before a bit of it went out: nothing to abort
		t.Error("aborted a frame not under way")
	}
	if e.Pending() != 8 {
		t.Errorf("abort with no frame under way dropped one: pending %d", e.Pending())
	}
}

// A second of TS16, the D-channel's 8000 octets, encoded and decoded with
// frames going through, allocates nothing.
func TestNoAllocs(t *testing.T) {
	e := NewEncoder()
	d := NewDecoder(func([]byte, error) {})
	frame := bytes.Repeat([]byte{0x02, 0x01, 0x7F}, 20)
	buf := make([]byte, 160)
	allocs := testing.AllocsPerRun(50, func() {
		for range 50 {
			if e.Pending() < 2 {
				_ = e.Queue(frame)
			}
			e.Encode(buf)
			d.Decode(buf)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per second of D-channel", allocs)
	}
	if d.Frames == 0 {
		t.Error("no frames went through")
	}
}

// BenchmarkDChannel is a second of a busy D-channel: 8000 octets out and
// back in, 20 ms at a time, frames of 120 octets back to back (the same
// as testdata/peer.c's bench for spandsp; scripts/bench-hdlc.sh runs
// both).
func BenchmarkDChannel(b *testing.B) {
	e := NewEncoder()
	d := NewDecoder(func([]byte, error) {})
	frame := make([]byte, 120)
	for i := range frame {
		frame[i] = byte(i * 7)
	}
	buf := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		for range 50 {
			if e.Pending() < 2 {
				_ = e.Queue(frame)
			}
			e.Encode(buf)
			d.Decode(buf)
		}
	}
}

// FuzzDecode: whatever the line carries, a frame the Decoder passes is at
// most MaxFrame long and goes out and back through the codec unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x7E, 0x80, 0x01, 0xE9, 0x49, 0x7E})
	f.Add([]byte{0x7E, 0x7E, 0xFF, 0x7E})
	f.Fuzz(func(t *testing.T, octets []byte) {
		var g got
		NewDecoder(g.add).Decode(octets)
		for _, fr := range g.frames {
			if len(fr) > MaxFrame || len(fr) == 0 {
				t.Fatalf("frame of %d octets", len(fr))
			}
			e := NewEncoder()
			if err := e.Queue(fr); err != nil {
				t.Fatal(err)
			}
			out := make([]byte, 2*len(fr)+8)
			e.Encode(out)
			var back got
			NewDecoder(back.add).Decode(out)
			if len(back.frames) != 1 || !bytes.Equal(back.frames[0], fr) {
				t.Fatalf("% x came back as % x", fr, back.frames)
			}
		}
	})
}
