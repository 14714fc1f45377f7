package fsk

import (
	"math"
	"math/cmplx"

	"jinyin/media"
)

// win is the correlators' window, 1 ms: a bit is 6.67 samples, and 8
// samples put Bell 202's space tone in the mark correlator's null (and V.23's
// 24 dB down).
const win = 8

// Demodulator finds caller ID messages in audio.
type Demodulator struct {
	onMsg  func(CallerID)
	rotM   complex128 // per-sample phase steps of the two tones
	rotS   complex128
	ph     complex128 // running phasor of the mark tone
	phS    complex128
	pm     [win]complex128 // products in the window, for the sliding sums
	ps     [win]complex128
	sq     [win]float64
	i      int
	accM   complex128
	accS   complex128
	energy float64
	floor  float64 // energy in the window below which there is no carrier

	// UART
	inByte bool
	prev   bool    // the last decision (mark)
	next   float64 // samples to the next bit's middle
	bit    int     // 0 start, 1-8 data, 9 stop
	cur    byte
	buf    [64]byte
	n      int
	quiet  int // samples without carrier
}

// NewDemodulator returns a demodulator for std that calls onMsg with each
// message whose checksum is right.
func NewDemodulator(std Standard, onMsg func(CallerID)) *Demodulator {
	step := func(f float64) complex128 { return cmplx.Rect(1, -2*math.Pi*f/media.RateHz) }
	d := &Demodulator{onMsg: onMsg, rotM: step(std.MarkHz), rotS: step(std.SpaceHz), ph: 1, phS: 1, prev: true}
	p := media.PeakAt(-40) // EN 300 659-1: the receiver works down to -40 dBm
	d.floor = p * p / 2 * win
	return d
}

// Process runs a block of audio.
func (d *Demodulator) Process(pcm []int16) {
	for _, s := range pcm {
		x := float64(s)
		m, sp := complex(x, 0)*d.ph, complex(x, 0)*d.phS
		d.accM += m - d.pm[d.i]
		d.accS += sp - d.ps[d.i]
		d.energy += x*x - d.sq[d.i]
		d.pm[d.i], d.ps[d.i], d.sq[d.i] = m, sp, x*x
		d.i = (d.i + 1) % win
		d.ph *= d.rotM
		d.phS *= d.rotS
		if d.i == 0 { // keep the phasors on the unit circle
			d.ph /= complex(cmplx.Abs(d.ph), 0)
			d.phS /= complex(cmplx.Abs(d.phS), 0)
		}
		d.sample(sq(d.accM) > sq(d.accS), d.energy > d.floor)
	}
}

func sq(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// samplesPerBit at 8 kHz and 1200 baud.
const samplesPerBit = float64(media.RateHz) / Baud

// sample runs the UART on one decision.
func (d *Demodulator) sample(mark, carrier bool) {
	if !carrier {
		if d.quiet++; d.quiet > media.RateHz/20 { // 50 ms without carrier: the message is over
			d.n, d.inByte = 0, false
		}
		d.prev = true
		return
	}
	d.quiet = 0
	if !d.inByte {
		if d.prev && !mark { // the falling edge of a start bit
			d.inByte, d.bit, d.cur = true, 0, 0
			d.next = samplesPerBit / 2
		}
		d.prev = mark
		return
	}
	d.prev = mark
	if d.next--; d.next > 0 {
		return
	}
	d.next += samplesPerBit
	switch {
	case d.bit == 0:
		if mark { // a glitch, not a start bit
			d.inByte = false
			return
		}
	case d.bit <= 8:
		if mark {
			d.cur |= 1 << (d.bit - 1)
		}
	default:
		d.inByte = false
		if mark { // a good stop bit
			d.octet(d.cur)
		}
		return
	}
	d.bit++
}

// octet keeps a received octet and looks for a whole message ending here.
func (d *Demodulator) octet(b byte) {
	if d.n == len(d.buf) {
		copy(d.buf[:], d.buf[1:])
		d.n--
	}
	d.buf[d.n] = b
	d.n++
	for start := 0; start+3 <= d.n; start++ {
		t, l := d.buf[start], int(d.buf[start+1])
		if (t != TypeMDMF && t != TypeSDMF) || start+l+3 != d.n {
			continue
		}
		if c, err := Decode(d.buf[start:d.n]); err == nil {
			d.n = 0
			if d.onMsg != nil {
				d.onMsg(c)
			}
			return
		}
	}
}
