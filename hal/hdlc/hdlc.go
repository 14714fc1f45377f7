// Package hdlc is HDLC framing in software, as an E1 timeslot carries the
// ISDN D-channel (Q.921 §2, ISO/IEC 13239): flags, zero-bit stuffing, the
// CRC-16/X.25 frame check sequence, aborts and flag sharing, for line cards
// that hand the binary raw timeslot octets instead of frames (an E1 framer
// on a TDM bus, icE1usb, osmo-e1d in RAW mode).
//
// Bit order: a timeslot octet's most significant bit is the first on the
// line (G.704 numbers it bit 1), and HDLC sends each octet of a frame least
// significant bit first. So the frame octet 0x01 leaves as the bits
// 1 0 0 0 0 0 0 0 and, unstuffed and aligned, fills a timeslot octet as
// 0x80. Checked against the peers the tests run: spandsp's hdlc_tx_get_byte
// and hdlc_rx_put_byte (0.0.6) use this order, libosmocore's osmo_isdnhdlc
// uses it with OSMO_HDLC_F_BITREVERSE (without the flag it puts the first
// bit in the least significant place).
//
// Encoder and Decoder are block processors with caller-owned state, as
// spandsp's hdlc_tx/hdlc_rx: one goroutine uses each, or the caller locks.
// Neither allocates once made.
//
// Layer: hal. It imports hal (the FCS) and the standard library.
package hdlc

import (
	"errors"

	"jinyin/hal"
)

// MaxFrame is the longest frame, FCS excluded, either end handles: Q.921's
// N201 of 260 information octets plus a 2-octet address and a 2-octet
// control field fit with room to spare.
const MaxFrame = 512

// Flag is the HDLC flag, 01111110: symmetric, so the same in either bit
// order.
const Flag = 0x7E

// Errors a Decoder reports for a frame it drops.
var (
	ErrFCS      = errors.New("hdlc: frame check sequence does not match")
	ErrAbort    = errors.New("hdlc: frame aborted (seven or more ones)")
	ErrAlign    = errors.New("hdlc: frame is not a whole number of octets")
	ErrShort    = errors.New("hdlc: frame shorter than its FCS and one octet")
	ErrTooLong  = errors.New("hdlc: frame longer than MaxFrame")
	ErrFull     = errors.New("hdlc: transmit queue full")
	ErrTooLarge = errors.New("hdlc: frame to send is empty or longer than MaxFrame")
)

// crcTable is CRC-16/X.25 (reflected polynomial 0x8408) one octet at a time.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crcGood is what the running CRC (started at 0xFFFF, not inverted) of a
// frame followed by its own FCS comes to: the X.25 residue.
const crcGood = 0xF0B8

func crcByte(crc uint16, b byte) uint16 { return crc>>8 ^ crcTable[byte(crc)^b] }

// Decoder turns the octets of a timeslot back into frames.
type Decoder struct {
	buf   [MaxFrame + 2]byte // the frame and its FCS
	n     int                // whole octets in buf
	cur   byte               // the octet being assembled, least significant bit first
	nb    int                // bits in cur
	ones  int                // 1 bits in a row on the line
	crc   uint16
	hunt  bool // after an abort, an overlong frame or at the start: wait for a flag
	frame func(f []byte, err error)

	// Counts since the Decoder was made.
	Frames, FCSErrors, Aborts, LengthErrors uint64
}

// NewDecoder returns a Decoder that calls frame for each frame it finds:
// with err nil, f is the frame without its FCS, valid until frame returns;
// otherwise f is nil and err says why the frame was dropped (ErrFCS,
// ErrAbort, ErrAlign, ErrShort, ErrTooLong). Idle flags and idle ones are
// not frames.
func NewDecoder(frame func(f []byte, err error)) *Decoder {
	return &Decoder{frame: frame, hunt: true}
}

// Decode takes timeslot octets in line order.
func (d *Decoder) Decode(octets []byte) {
	// The common bit, inside a frame, not after five 1s and not the
	// octet's last, is handled here with the state in locals; bit does
	// the rest (flags, stuffing, aborts, whole octets). This halved the
	// decoder's time (BenchmarkDChannel).
	ones, cur, nb, hunt := d.ones, d.cur, d.nb, d.hunt
	for _, o := range octets {
		for i := 7; i >= 0; i-- {
			b := o >> i & 1
			if ones < 5 && nb < 7 && !hunt {
				if b == 1 {
					ones++
					cur |= 1 << nb
				} else {
					ones = 0
				}
				nb++
				continue
			}
			d.ones, d.cur, d.nb = ones, cur, nb
			d.bit(b)
			ones, cur, nb, hunt = d.ones, d.cur, d.nb, d.hunt
		}
	}
	d.ones, d.cur, d.nb = ones, cur, nb
}

func (d *Decoder) bit(b byte) {
	if b == 1 {
		d.ones++
		if d.ones == 7 { // abort, or the line idles in ones
			if !d.hunt && (d.n > 0 || d.nb > 6) {
				d.Aborts++
				d.frame(nil, ErrAbort)
			}
			d.hunt = true
			return
		}
		if d.ones > 7 {
			return
		}
		d.push(1)
		return
	}
	switch ones := d.ones; {
	case ones == 6: // a flag: its 0 and six 1s went into cur as data
		d.ones = 0
		d.end()
		return
	case ones == 5: // a stuffed 0
		d.ones = 0
		return
	}
	d.ones = 0
	d.push(0)
}

func (d *Decoder) push(b byte) {
	if d.hunt {
		return
	}
	d.cur |= b << d.nb
	d.nb++
	if d.nb < 8 {
		return
	}
	if d.n == len(d.buf) {
		d.LengthErrors++
		d.frame(nil, ErrTooLong)
		d.hunt = true
		return
	}
	d.buf[d.n] = d.cur
	d.crc = crcByte(d.crc, d.cur)
	d.n++
	d.cur, d.nb = 0, 0
}

// end is a flag: the frame before it, if any, is over, and the next begins.
func (d *Decoder) end() {
	n, nb, crc, hunt := d.n, d.nb, d.crc, d.hunt
	d.n, d.nb, d.cur, d.crc, d.hunt = 0, 0, 0, 0xFFFF, false
	switch {
	case hunt || n == 0: // flags back to back (or sharing a 0), or the first flag
	case nb != 7:
		d.LengthErrors++
		d.frame(nil, ErrAlign)
	case n < 3:
		d.LengthErrors++
		d.frame(nil, ErrShort)
	case crc != crcGood:
		d.FCSErrors++
		d.frame(nil, ErrFCS)
	default:
		d.Frames++
		d.frame(d.buf[:n-2], nil)
	}
}

// Encoder turns frames into timeslot octets: each queued frame with its
// FCS, zero-bit stuffed, one flag between frames (the closing flag of one
// is the opening flag of the next), and flags when there is nothing to
// send, as Q.921 §2.2 has a PRI's D-channel fill the time between frames.
type Encoder struct {
	q [8]struct {
		b [MaxFrame + 2]byte
		n int
	}
	head, size int

	out  uint32 // bits waiting to go out, the first in bit 31 downwards
	outN int
	cur  int // octets of q[head] sent; -1 when no frame is under way
	ones int
	abrt bool
}

// NewEncoder returns an Encoder that sends flags until a frame is queued.
// It starts with a flag, so every frame has an opening flag: idle is flags
// and every frame and abort ends in one.
func NewEncoder() *Encoder { return &Encoder{cur: -1, out: Flag << 24, outN: 8} }

// Queue adds f, without its FCS, to the frames to send: ErrFull when 8
// frames wait already, ErrTooLarge when f is empty or longer than
// MaxFrame. f is copied.
func (e *Encoder) Queue(f []byte) error {
	if len(f) == 0 || len(f) > MaxFrame {
		return ErrTooLarge
	}
	if e.size == len(e.q) {
		return ErrFull
	}
	s := &e.q[(e.head+e.size)%len(e.q)]
	s.n = copy(s.b[:], f)
	fcs := hal.FCS(f)
	s.b[s.n], s.b[s.n+1] = byte(fcs), byte(fcs>>8)
	s.n += 2
	e.size++
	return nil
}

// Pending is how many queued frames have not yet gone out whole.
func (e *Encoder) Pending() int { return e.size }

// Abort ends the frame under way with an abort (seven 1s, then flags), so
// the far end drops it, and reports whether there was one: a frame none
// of whose bits are out yet is not under way. The frames queued after it
// go out as usual.
func (e *Encoder) Abort() bool {
	if e.cur < 0 {
		return false
	}
	e.cur = -1
	e.head = (e.head + 1) % len(e.q)
	e.size--
	e.abrt = true
	return true
}

func (e *Encoder) emit(bits uint32, n int) {
	e.out |= bits << (32 - n - e.outN)
	e.outN += n
}

// Encode fills p with the next octets of the line.
func (e *Encoder) Encode(p []byte) {
	for i := range p {
		for e.outN < 8 {
			e.more()
		}
		p[i] = byte(e.out >> 24)
		e.out <<= 8
		e.outN -= 8
	}
}

// more puts at least one bit in out.
func (e *Encoder) more() {
	if e.abrt { // 0xFF: more than the seven 1s an abort needs
		e.abrt = false
		e.emit(0xFF, 8)
		e.ones = 0
		e.emit(Flag, 8)
		return
	}
	if e.cur < 0 {
		if e.size == 0 {
			e.emit(Flag, 8)
			return
		}
		e.cur = 0
	}
	f := &e.q[e.head]
	if e.cur == f.n { // closing flag, which opens the next frame too
		e.emit(Flag, 8)
		e.ones = 0
		e.cur = -1
		e.head = (e.head + 1) % len(e.q)
		e.size--
		return
	}
	st := &stuffed[e.ones][f.b[e.cur]]
	e.cur++
	e.ones = int(st.ones)
	e.emit(uint32(st.bits), int(st.n))
}

// stuffing is one octet on the line: least significant bit first, a 0
// after every five 1s, given the 1s already in a row before it. At most
// 10 bits (two stuffed 0s), the first in time the most significant.
type stuffing struct {
	bits    uint16
	n, ones uint8
}

// stuffed is every octet after 0-4 1s in a row: the encoder's one lookup
// per octet (it halved the encoder's time against a bit at a time).
var stuffed = func() (t [5][256]stuffing) {
	for before := range t {
		for o := range t[before] {
			var bits uint16
			n, ones := uint8(0), before
			for i := range 8 {
				b := uint16(o >> i & 1)
				bits = bits<<1 | b
				n++
				if b == 0 {
					ones = 0
					continue
				}
				if ones++; ones == 5 {
					bits <<= 1
					n++
					ones = 0
				}
			}
			t[before][o] = stuffing{bits, n, uint8(ones)}
		}
	}
	return t
}()
