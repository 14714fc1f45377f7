package rtp

import (
	"bufio"
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/media"
	"jinyin/media/tone"
)

// loopSource plays pcm over and over, never ending.
type loopSource struct {
	pcm []int16
	i   int
}

func (l *loopSource) Fill(dst []int16) int {
	for k := range dst {
		dst[k] = l.pcm[l.i]
		l.i = (l.i + 1) % len(l.pcm)
	}
	return len(dst)
}

// a 1 kHz tone at -10 dBm0 standing for the speech or prompt a call is
// playing when the app sends digits (200 samples: 25 whole periods).
func playing() media.Source { return &loopSource{pcm: tone.Sine(1000, -10, 200)} }

// digitFrames is the frames one in-band digit takes: tone then pause.
const digitFrames = (inbandOnSamples + inbandOffSamples) / media.FrameSamples

// captureInBand sends digits from a session that agreed no
// telephone-event while src plays, ticking it by hand, and returns the
// audio of every packet it sent, decoded, in order. It fails on any packet
// but audio of the codec's payload type in sequence.
func captureInBand(t *testing.T, codec media.Codec, digits string, src media.Source, extraFrames int) []int16 {
	t.Helper()
	s, sink := sinkSession(t, 39000, 39199)
	pt := map[media.Codec]uint8{media.PCMA: 8, media.PCMU: 0}[codec]
	s.Start(Params{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec, CodecPT: pt, Send: true}, func(media.Event) {})
	s.Play(src)
	for i := range len(digits) {
		if err := s.SendDigit(digits[i]); err != nil {
			t.Fatalf("digit %q without telephone-event: %v", digits[i], err)
		}
	}
	var out []int16
	buf := make([]byte, 1500)
	var seq uint16
	for i := 0; i < len(digits)*digitFrames+extraFrames; i++ {
		s.Tick()
		sink.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := sink.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		h, payload, err := Parse(buf[:n])
		if err != nil || h.PayloadType != pt || len(payload) != media.FrameSamples {
			t.Fatalf("frame %d: payload type %d, %d bytes (%v); want only %v audio", i, h.PayloadType, len(payload), err, codec)
		}
		if i > 0 && h.Seq != seq+1 {
			t.Fatalf("frame %d: sequence %d after %d", i, h.Seq, seq)
		}
		seq = h.Seq
		pcm := make([]int16, media.FrameSamples)
		codec.Decode(pcm, payload)
		out = append(out, pcm...)
	}
	return out
}

// levelAt is the dBm0 level of the component of x at freqHz, by a
// Goertzel filter over a Hann window (whose sidelobes keep the other tone
// of the pair and G.711's noise out of the measurement).
func levelAt(x []int16, freqHz float64) float64 {
	n := len(x)
	w := 2 * math.Pi * freqHz / media.RateHz
	var s1, s2, gain float64
	for i, v := range x {
		h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		gain += h
		s1, s2 = float64(v)*h+2*math.Cos(w)*s1-s2, s1
	}
	re, im := s1-s2*math.Cos(w), s2*math.Sin(w)
	return media.LevelOfPeak(2 * math.Hypot(re, im) / gain)
}

// peakHz is the frequency within ±3 % of nearHz where x is strongest,
// in steps of 0.05 %.
func peakHz(x []int16, nearHz float64) float64 {
	best, bestL := nearHz, math.Inf(-1)
	for k := -60; k <= 60; k++ {
		f := nearHz * (1 + float64(k)*0.0005)
		if l := levelAt(x, f); l > bestL {
			best, bestL = f, l
		}
	}
	return best
}

// TestSendDigitInBand: without telephone-event a digit goes as its Q.23
// pair in the audio: row tone at -10 dBm0, column tone at -8 dBm0, for
// 100 ms, in place of the source (not mixed with it), then 80 ms of
// silence; the source is heard again after the last digit.
func TestSendDigitInBand(t *testing.T) {
	const digits = "1234567890*#ABCD"
	const after = 10 // frames after the last pause
	pcm := captureInBand(t, media.PCMA, digits, playing(), after)
	frame := func(i int) []int16 { return pcm[i*media.FrameSamples : (i+1)*media.FrameSamples] }
	for k := range len(digits) {
		d := digits[k]
		rowHz, colHz, _ := tone.DTMFFreqs(d)
		on := pcm[k*digitFrames*media.FrameSamples:][:inbandOnSamples]
		row, col, src := levelAt(on, rowHz), levelAt(on, colHz), levelAt(on, 1000)
		if math.Abs(row-inbandRowDBm0) > 0.3 || math.Abs(col-inbandColDBm0) > 0.3 {
			t.Errorf("digit %c: %.0f Hz at %.2f dBm0, %.0f Hz at %.2f dBm0; want -10 and -8", d, rowHz, row, colHz, col)
		}
		if src > -45 {
			t.Errorf("digit %c: the source's 1 kHz at %.1f dBm0 under the tone: want it replaced", d, src)
		}
		// Each tone peaks at its Q.23 frequency to within 0.1 %, where
		// Q.23 allows ±1.8 %.
		for _, f := range []float64{rowHz, colHz} {
			if got := peakHz(on, f); math.Abs(got/f-1) > 0.001 {
				t.Errorf("digit %c: the %v Hz tone peaks at %.1f Hz", d, f, got)
			}
		}
		for f := k*digitFrames + inbandOnSamples/media.FrameSamples; f < (k+1)*digitFrames; f++ {
			for _, v := range frame(f) {
				if v > 8 || v < -8 { // A-law's smallest step either side of zero
					t.Fatalf("digit %c: pause frame %d has sample %d: want silence", d, f, v)
				}
			}
		}
	}
	tail := pcm[len(digits)*digitFrames*media.FrameSamples:]
	if l := levelAt(tail, 1000); math.Abs(l+10) > 0.5 {
		t.Errorf("after the digits the source's 1 kHz is at %.1f dBm0, want -10 again", l)
	}
}

// TestSendDigitInBandHeardBySession: the box's own receiver on the other
// end hears the in-band digits.
func TestSendDigitInBandHeardBySession(t *testing.T) {
	pool, pacer, _ := newPair(t)
	a, _ := pool.Open()
	b, _ := pool.Open()
	defer a.Close()
	defer b.Close()
	var cb collector
	a.Start(Params{Remote: b.Local(), Codec: media.PCMU, CodecPT: 0, Send: true}, func(media.Event) {})
	b.Start(Params{Remote: a.Local(), Codec: media.PCMU, CodecPT: 0, Send: true}, cb.on)
	pacer.Add(a)
	pacer.Add(b)
	a.Play(playing())
	for _, d := range []byte("159#") {
		if err := a.SendDigit(d); err != nil {
			t.Fatal(err)
		}
	}
	cb.wait(t, "159#")
}

// TestSendDigitInBandSpandsp: spandsp's DTMF receiver, the independent
// peer, hears exactly the 16 digits sent in-band on a PCMA and a PCMU
// call while a tone plays, as a far end without telephone-event would.
func TestSendDigitInBandSpandsp(t *testing.T) {
	rx := buildSpandspRx(t)
	const digits = "1234567890*#ABCD"
	for _, codec := range []media.Codec{media.PCMA, media.PCMU} {
		t.Run(codec.String(), func(t *testing.T) {
			pcm := captureInBand(t, codec, digits, playing(), 25)
			file := filepath.Join(t.TempDir(), "sent.s16")
			raw := make([]byte, 2*len(pcm))
			for i, v := range pcm {
				binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
			}
			if err := os.WriteFile(file, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(rx, "1", file).CombinedOutput()
			if err != nil {
				t.Fatalf("dtmf_rx: %v\n%s", err, out)
			}
			heard, found := "", false
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), file+":"); ok {
					heard, found = strings.TrimSpace(rest), true
				}
			}
			if !found || heard != digits {
				t.Errorf("spandsp heard %q, want %q\n%s", heard, digits, out)
			}
		})
	}
}

// buildSpandspRx builds scripts/spandsp/dtmf_rx.c against the system's
// spandsp (Debian libspandsp-dev) into the test's temporary directory.
func buildSpandspRx(t *testing.T) string {
	return testenv.BuildSpandsp(t, filepath.Join("..", "..", "scripts", "spandsp", "dtmf_rx.c"))
}

// BenchmarkSessionTickInBand is BenchmarkSessionTick with in-band digits
// always under way in place of a playing source: the tone generator adds
// nothing to allocate.
func BenchmarkSessionTickInBand(b *testing.B) {
	s := benchSession(b, 39200, 39299)
	s.Play(playing())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%digitFrames == 0 {
			s.SendDigit("1234567890*#ABCD"[i/digitFrames%16])
		}
		s.Tick()
		i++
	}
}

// sinkSession is a session from the port range lo-hi and a loopback
// socket for it to send to, both closed when the test ends.
func sinkSession(t *testing.T, lo, hi int) (*Session, *net.UDPConn) {
	t.Helper()
	s, err := NewPortPool(netip.MustParseAddr("127.0.0.1"), lo, hi).Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return s, sink
}
