package media

import (
	"math"
	"testing"
)

// Golden values from ITU-T G.711 tables 1a/1b and 2a/2b (even-bit inversion
// applied for A-law), expanded to 16-bit linear (13-/14-bit value shifted).
func TestG711Golden(t *testing.T) {
	cases := []struct {
		codec Codec
		code  byte
		pcm   int16
	}{
		{PCMA, 0xD5, 8},      // smallest positive step: decision value 0..2 -> +1 (x8)
		{PCMA, 0x55, -8},     // same, negative
		{PCMA, 0xAA, 32256},  // maximum positive: 4032 x 8
		{PCMA, 0x2A, -32256}, // maximum negative
		{PCMU, 0xFF, 0},      // µ-law positive zero
		{PCMU, 0x80, 32124},  // maximum positive: 8031 x 4
		{PCMU, 0x00, -32124}, // maximum negative
		{PCMU, 0xFE, 8},      // first positive step: 2 x 4
	}
	for _, c := range cases {
		var out [1]int16
		c.codec.Decode(out[:], []byte{c.code})
		if out[0] != c.pcm {
			t.Errorf("%v decode 0x%02X = %d, want %d", c.codec, c.code, out[0], c.pcm)
		}
		var back [1]byte
		c.codec.Encode(back[:], out[:])
		if back[0] != c.code {
			t.Errorf("%v encode %d = 0x%02X, want 0x%02X", c.codec, out[0], back[0], c.code)
		}
	}
	for _, c := range []Codec{PCMA, PCMU} {
		var s [1]int16
		c.Decode(s[:], []byte{c.Silence()})
		if s[0] < -8 || s[0] > 8 {
			t.Errorf("%v silence decodes to %d", c, s[0])
		}
	}
}

func BenchmarkG711Frame(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(i*397) - 20000
	}
	buf := make([]byte, FrameSamples)
	for _, c := range []Codec{PCMA, PCMU} {
		b.Run(c.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Encode(buf, pcm)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*FrameSamples), "ns/sample")
		})
		b.Run(c.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Decode(pcm, buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*FrameSamples), "ns/sample")
		})
	}
}

// TestPeakAtG711Reference pins the dBm0 scale to ITU-T G.711's digital
// reference, not to PeakAt's own formula. A-law: a sine whose peaks just
// reach the coder's overload point (±4096 in 13-bit units, full scale in
// 16-bit) is +3.14 dBm0, so 0 dBm0 peaks at 4096·10^(-3.14/20) = 2853.4,
// ×8 = 22,827 in 16-bit linear. µ-law puts its overload (±8159 in 14-bit
// units) at +3.17 dBm0: 8159·10^(-3.17/20)·4 = 22,657, 0.065 dB from
// A-law's, which is why one scale serves both laws' level checks.
func TestPeakAtG711Reference(t *testing.T) {
	for _, c := range []struct {
		levelDBm0 float64
		peak      float64 // 16-bit linear, from G.711 as above
		tol       float64
		why       string
	}{
		// PeakAt scales from 32767, not 32768: 0.64 LSB (0.0002 dB) under
		// the spec's 22,827.06.
		{0, 22827, 1, "A-law 0 dBm0"},
		{3.14, 32767, 1, "A-law overload point is full scale"},
		{-10, 7219, 1, "0 dBm0 peak ×10^(-10/20) = 7218.5"},
	} {
		if got := PeakAt(c.levelDBm0); math.Abs(got-c.peak) > c.tol {
			t.Errorf("PeakAt(%.2f) = %.2f, want %.0f±%.0f (%s)", c.levelDBm0, got, c.peak, c.tol, c.why)
		}
	}
	if got := LevelOfPeak(22657); math.Abs(got) > 0.07 {
		t.Errorf("µ-law's 0 dBm0 peak 22,657 reads as %.3f dBm0, want within 0.07 dB of 0", got)
	}
	if got := LevelOfPeak(22827); math.Abs(got) > 0.001 {
		t.Errorf("LevelOfPeak(22827) = %.4f dBm0, want 0", got)
	}
}
