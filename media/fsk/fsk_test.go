package fsk

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"jinyin/media"
)

func TestMessageRoundTrip(t *testing.T) {
	c := CallerID{Time: "11231030", Number: "13800138000", Name: "ZHANG SAN"}
	got, err := Decode(c.Encode())
	if err != nil || got != c {
		t.Fatalf("%+v %v", got, err)
	}
	bad := c.Encode()
	bad[5]++
	if _, err := Decode(bad); !errors.Is(err, ErrChecksum) {
		t.Errorf("corrupted: %v", err)
	}
	// SDMF from GR-30's example layout: type, length, MMDDHHMM, number, checksum.
	sdmf := []byte{TypeSDMF, 18}
	sdmf = append(sdmf, "01020304"+"6125551212"...)
	sdmf = append(sdmf, checksum(sdmf))
	if got, err := Decode(sdmf); err != nil || got.Number != "6125551212" || got.Time != "01020304" {
		t.Errorf("SDMF: %+v %v", got, err)
	}
}

// demod runs a signal through a demodulator in 20 ms blocks.
func demod(std Standard, pcm []int16) []CallerID {
	var got []CallerID
	d := NewDemodulator(std, func(c CallerID) { got = append(got, c) })
	for i := 0; i < len(pcm); i += media.FrameSamples {
		d.Process(pcm[i:min(i+media.FrameSamples, len(pcm))])
	}
	return got
}

func TestDemodulateGenerated(t *testing.T) {
	want := CallerID{Time: "11231030", Number: "075512345678", Name: "JINYIN"}
	for _, c := range []struct {
		name      string
		std       Standard
		levelDBm0 float64
		snrDB     float64
		g711      bool
		wantOK    bool
	}{
		{"Bell 202 at -13 dBm0", Bell202, -13, 0, false, true},
		{"V.23 at -13 dBm0", V23, -13, 0, false, true},
		{"V.23 at -35 dBm0 through A-law", V23, -35, 0, true, true},
		{"Bell 202 with noise 20 dB down", Bell202, -13, 20, true, true},
		{"V.23 with noise 15 dB down", V23, -20, 15, true, true},
		{"Bell 202 below the -40 dBm0 floor", Bell202, -50, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			std := c.std
			sig := append(make([]int16, 800), Modulate(std, want.Encode(), c.levelDBm0)...)
			sig = append(sig, make([]int16, 800)...)
			if c.snrDB != 0 {
				r := rand.New(rand.NewPCG(1, 2))
				sigma := media.PeakAt(c.levelDBm0) / 1.414 / math.Pow(10, c.snrDB/20)
				for i := range sig {
					sig[i] = clip(float64(sig[i]) + r.NormFloat64()*sigma)
				}
			}
			if c.g711 {
				buf := make([]byte, len(sig))
				media.PCMA.Encode(buf, sig)
				media.PCMA.Decode(sig, buf)
			}
			got := demod(std, sig)
			if c.wantOK && (len(got) != 1 || got[0] != want) {
				t.Fatalf("decoded %+v, want one %+v", got, want)
			}
			if !c.wantOK && len(got) != 0 {
				t.Fatalf("decoded %+v from a signal it should not read", got)
			}
		})
	}
}

func TestNoFalseMessagesInNoise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sig := make([]int16, 10*media.RateHz)
	for i := range sig {
		sig[i] = clip(r.NormFloat64() * 3000)
	}
	if got := demod(V23, sig); len(got) != 0 {
		t.Errorf("noise decoded as %+v", got)
	}
}

func clip(v float64) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}

// BenchmarkDemodulator: 20 ms of FSK per op, 0 allocs.
func BenchmarkDemodulator(b *testing.B) {
	sig := Modulate(V23, CallerID{Number: "13800138000"}.Encode(), -13)
	d := NewDemodulator(V23, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i+media.FrameSamples > len(sig) {
			i = 0
		}
		d.Process(sig[i : i+media.FrameSamples])
		i += media.FrameSamples
	}
}

// FuzzDecode: any octets decode or fail cleanly; a decoded MDMF message
// re-encodes to one that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(CallerID{Time: "11231030", Number: "13800138000", Name: "ZHANG"}.Encode())
	f.Add(CallerID{Absence: "P"}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil || b[0] != TypeMDMF {
			return
		}
		if len(c.Time) > 255 || len(c.Number) > 255 || len(c.Name) > 255 {
			return
		}
		again, err := Decode(c.Encode())
		if err != nil || again != c {
			t.Fatalf("%+v re-encodes to %+v, %v", c, again, err)
		}
	})
}
