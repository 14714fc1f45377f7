package media

import "testing"

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
