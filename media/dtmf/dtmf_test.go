package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"

	"jinyin/internal/testenv"
	"jinyin/media/dtmf/dtmftest"
)

// kernels lists the Goertzel kernels this machine can run, so that every
// table test covers the assembly and the portable code alike.
func kernels() map[string]func(*[blockSamples]float32, *[8]float32, *[4][8]float32) {
	ks := map[string]func(*[blockSamples]float32, *[8]float32, *[4][8]float32){"generic": goertzelGeneric}
	if goertzel != nil {
		ks["default"] = goertzel
	}
	return ks
}

func withKernel(t *testing.T, k func(*[blockSamples]float32, *[8]float32, *[4][8]float32)) {
	saved := goertzel
	goertzel = k
	t.Cleanup(func() { goertzel = saved })
}

// TestKernelsAgree compares the selected kernel (AVX2 on amd64 that has it)
// with the portable one on random blocks.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x [blockSamples]float32
	for trial := 0; trial < 200; trial++ {
		for i := range x {
			x[i] = float32(r.IntN(65536) - 32768)
		}
		var a, b [4][8]float32
		goertzelGeneric(&x, &coef, &a)
		goertzel(&x, &coef, &b)
		var scale float64
		for i := range a {
			for k := range a[i] {
				scale = math.Max(scale, math.Abs(float64(a[i][k])))
			}
		}
		for i := range a {
			for k := range a[i] {
				if d := math.Abs(float64(a[i][k] - b[i][k])); d > 1e-5*scale {
					t.Fatalf("trial %d state %d filter %d: generic %v, selected %v", trial, i, k, a[i][k], b[i][k])
				}
			}
		}
	}
}

func detect(pcm []int16, block int) (digits string, events []Event) {
	d := NewDetector(Config{}, func(e Event) {
		if !e.End {
			digits += string(e.Digit)
		}
		events = append(events, e)
	})
	for len(pcm) > 0 {
		n := min(block, len(pcm))
		d.Process(pcm[:n])
		pcm = pcm[n:]
	}
	d.Flush()
	return digits, events
}

// TestQ24 plays every condition of the ITU-T Q.24 / Telcordia table, in
// 20 ms frames and in odd block sizes, with several noise seeds.
func TestQ24(t *testing.T) {
	for kname, kernel := range kernels() {
		for _, c := range dtmftest.Q24() {
			t.Run(kname+"/"+c.Name, func(t *testing.T) {
				withKernel(t, kernel)
				for seed := uint64(1); seed <= 3; seed++ {
					pcm := dtmftest.Signal(100, c.Tones, c.SNRdB, seed)
					for _, block := range []int{160, 37, 1000} {
						if got, _ := detect(pcm, block); got != c.Want {
							t.Fatalf("seed %d, block %d: got %q, want %q", seed, block, got, c.Want)
						}
					}
				}
			})
		}
	}
}

// TestLeadingOffsets moves the tone across block boundaries: every alignment
// of a 40 ms tone must be accepted and of a 20 ms tone rejected.
func TestAlignment(t *testing.T) {
	for lead := 0; lead < blockSamples; lead += 3 {
		for _, c := range []struct {
			ms   int
			want string
		}{{40, "7"}, {20, ""}} {
			pcm := make([]int16, lead)
			pcm = append(pcm, dtmftest.Signal(0, []dtmftest.Tone{{Digit: '7', RowDBm0: -10, ColDBm0: -10, DurationMs: c.ms, GapMs: 60}}, 0, 1)...)
			if got, _ := detect(pcm, 160); got != c.want {
				t.Errorf("lead %d samples, %d ms tone: got %q, want %q", lead, c.ms, got, c.want)
			}
		}
	}
}

func TestEventTiming(t *testing.T) {
	pcm := dtmftest.Signal(200, []dtmftest.Tone{
		{Digit: '1', RowDBm0: -10, ColDBm0: -10, DurationMs: 100, GapMs: 100},
		{Digit: '#', RowDBm0: -10, ColDBm0: -10, DurationMs: 60, GapMs: 100},
	}, 0, 1)
	_, ev := detect(pcm, 160)
	if len(ev) != 4 {
		t.Fatalf("events %+v", ev)
	}
	for i, w := range []struct {
		start, dur int64
	}{{1600, 800}, {3200, 480}} {
		e := ev[2*i+1]
		if !e.End || abs(e.Start-w.start) > 16 || abs(e.Duration-w.dur) > 24 {
			t.Errorf("digit %c: start %d duration %d samples, want %d and %d (±2-3 ms)", e.Digit, e.Start, e.Duration, w.start, w.dur)
		}
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkDetector feeds 20 ms frames of a digit sequence in noise, the
// steady state of a channel in the IVR. Reports ns per sample and how many
// real-time channels one core runs.
func BenchmarkDetector(b *testing.B) {
	for name, k := range kernels() {
		b.Run(name, func(b *testing.B) {
			saved := goertzel
			goertzel = k
			defer func() { goertzel = saved }()
			benchmarkDetector(b)
		})
	}
}

func benchmarkDetector(b *testing.B) {
	var ts []dtmftest.Tone
	for _, c := range "0123456789" {
		ts = append(ts, dtmftest.Tone{Digit: byte(c), RowDBm0: -10, ColDBm0: -8, DurationMs: 60, GapMs: 60})
	}
	pcm := dtmftest.Signal(0, ts, 20, 1)
	pcm = pcm[:len(pcm)/160*160]
	digits := 0
	d := NewDetector(Config{}, func(e Event) {
		if !e.End {
			digits++
		}
	})
	b.ReportAllocs()
	b.SetBytes(160 * 2)
	frames := 0
	for b.Loop() {
		off := frames % (len(pcm) / 160) * 160
		d.Process(pcm[off : off+160])
		frames++
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(frames*160)
	b.ReportMetric(ns, "ns/sample")
	b.ReportMetric(1e9/ns/8000, "channels/core")
	if frames > 10*len(pcm)/160 && digits == 0 {
		b.Fatal("no digits detected: the benchmark measures nothing")
	}
}

// TestTalkOffMusic: synthetic chords, melody and whistles yield no digit.
// The two simultaneous vibrato whistles cross valid DTMF pairs; the drift
// check rejects all but one moment of them (spandsp reports 13 digits on
// the same signal, see scripts/bench-dtmf.sh), and this pins that.
func TestTalkOffMusic(t *testing.T) {
	for name, pcm := range dtmftest.Music() {
		got, _ := detect(pcm, 160)
		limit := 0
		if name == "two whistles" {
			limit = 1
		}
		if len(got) > limit {
			t.Errorf("%s: talk-off digits %q", name, got)
		}
	}
}

// TestTalkOffSpeech: Mandarin and English speech from espeak-ng, at three
// pitches and rates, yields no digit.
func TestTalkOffSpeech(t *testing.T) {
	testenv.LookPath(t, "espeak-ng", "espeak-ng")
	testenv.LookPath(t, "sox", "sox")
	for _, s := range dtmftest.Speech {
		for _, v := range []struct{ pitch, rate int }{{30, 150}, {50, 175}, {80, 200}} {
			pcm, err := dtmftest.Espeak(s.Voice, s.Text, v.pitch, v.rate)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := detect(pcm, 160); got != "" {
				t.Errorf("%s p%d s%d %q: talk-off digits %q", s.Voice, v.pitch, v.rate, s.Text, got)
			}
		}
	}
}
