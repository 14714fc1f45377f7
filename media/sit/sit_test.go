package sit

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/tone"
	"jinyin/media/wav"
)

// step is one tone (hz 0: silence) of ms milliseconds.
type step struct {
	hz float64
	ms int
}

// render plays steps at level dBm0 with white noise 30 dB below it,
// after 200 ms of the noise alone and followed by 500 ms of it.
func render(level float64, steps ...step) []int16 {
	rng := rand.New(rand.NewPCG(3, 4))
	amp := 22827 * math.Pow(10, level/20)
	noise := amp / math.Sqrt2 * math.Pow(10, -30.0/20)
	var out []int16
	add := func(hz float64, ms int) {
		for i := range ms * 8 {
			x := rng.NormFloat64() * noise
			if hz > 0 {
				x += amp * math.Sin(2*math.Pi*hz*float64(i)/8000)
			}
			out = append(out, int16(x))
		}
	}
	add(0, 200)
	for _, s := range steps {
		add(s.hz, s.ms)
	}
	add(0, 500)
	return out
}

// Telcordia's frequencies and lengths, from its table (SR-2275 as
// published by the operating companies), not from this package.
const (
	lo1, hi1, lo2, hi2, third = 913.8, 985.2, 1370.6, 1428.5, 1776.7
	short, long               = 274, 380
)

func detect(pcm []int16) Result {
	d := New()
	var r Result
	for i := 0; i < len(pcm); i += 97 {
		r = d.Process(pcm[i:min(i+97, len(pcm))])
	}
	return r
}

func TestCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		want  Code
	}{
		{"intercept", []step{{lo1, short}, {lo2, short}, {third, long}}, Intercept},
		{"vacant code", []step{{hi1, long}, {lo2, short}, {third, long}}, VacantCode},
		{"no circuit", []step{{hi1, long}, {hi2, long}, {third, long}}, NoCircuit},
		{"no circuit, carrier", []step{{lo1, long}, {lo2, long}, {third, long}}, NoCircuitCarrier},
		{"reorder", []step{{lo1, short}, {hi2, long}, {third, long}}, Reorder},
		{"reorder, carrier", []step{{hi1, short}, {lo2, long}, {third, long}}, ReorderCarrier},
		{"reserved", []step{{lo1, long}, {hi2, short}, {third, long}}, Reserved},
		{"reserved too", []step{{hi1, short}, {hi2, short}, {third, long}}, Reserved},
		{"E.180", []step{{950, 330}, {1400, 330}, {1800, 330}}, ITU},
		// E.180's tolerances take in Telcordia's frequencies and lengths:
		// tones at its limits read as the code they fall on.
		{"E.180 at its limits: -50 Hz, 260 ms, 30 ms gaps", []step{{900, 260}, {0, 30}, {1350, 260}, {0, 30}, {1750, 260}}, Intercept},
		{"E.180 at its limits: +50 Hz, 400 ms", []step{{1000, 400}, {1450, 400}, {1850, 400}}, NoCircuit},
		{"Telcordia's shortest short and longest long", []step{{lo1, 220}, {hi2, 460}, {third, 460}}, Reorder},
		{"Telcordia's longest short and shortest long", []step{{lo1, 320}, {hi2, 340}, {third, 340}}, Reorder},
		{"a SIT after a ring", []step{{440, 1000}, {0, 500}, {hi1, long}, {lo2, short}, {third, long}}, VacantCode},
		// Not SITs.
		{"the first tone alone (a call blocker)", []step{{lo1, short}}, ""},
		{"two tones", []step{{lo1, short}, {lo2, short}}, ""},
		{"falling", []step{{third, long}, {lo2, short}, {lo1, short}}, ""},
		{"tones too short", []step{{950, 150}, {1400, 150}, {1800, 150}}, ""},
		{"tones too long", []step{{950, 600}, {1400, 600}, {1800, 600}}, ""},
		{"a gap too long", []step{{950, 330}, {0, 100}, {1400, 330}, {1800, 330}}, ""},
		{"a steady 1800 Hz", []step{{1800, 3000}}, ""},
		{"a 1 kHz test tone", []step{{1004, 3000}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := detect(render(-20, tc.steps...)); got.Code != tc.want {
				t.Errorf("heard %q, want %q", got.Code, tc.want)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	ic := []step{{lo1, short}, {lo2, short}, {third, long}}
	for _, tc := range []struct {
		dBm0 float64
		want Code
	}{{0, Intercept}, {-24, Intercept}, {-40, Intercept}, {-50, ""}} {
		if got := detect(render(tc.dBm0, ic...)); got.Code != tc.want {
			t.Errorf("intercept at %v dBm0: %q, want %q", tc.dBm0, got.Code, tc.want)
		}
	}
	// It ends with the third tone: 200 ms of noise, 274+274+380 ms.
	r := detect(render(-20, ic...))
	if r.At < 1120*time.Millisecond || r.At > 1200*time.Millisecond {
		t.Errorf("heard at %v, want just after the third tone (1128 ms)", r.At)
	}
	d := New()
	d.Process(render(-20, ic...))
	if again := d.Process(render(-20, []step{{hi1, long}, {hi2, long}, {third, long}}...)); again != r || d.Result() != r {
		t.Errorf("a detector that heard a SIT changed its result: %+v then %+v", r, again)
	}
}

// Call progress tones, DTMF and speech are not SITs.
func TestNotSIT(t *testing.T) {
	busy := render(-20, step{480, 500}, step{0, 500}, step{480, 500})
	if r := detect(busy); r.Code != "" {
		t.Errorf("a busy tone heard as %q", r.Code)
	}
	digits, err := tone.DTMF("0123456789*#", 100, -10)
	if err != nil {
		t.Fatal(err)
	}
	if r := detect(digits); r.Code != "" {
		t.Errorf("DTMF heard as %q", r.Code)
	}
	testenv.LookPath(t, "espeak-ng", "espeak-ng")
	testenv.LookPath(t, "sox", "sox")
	for _, s := range dtmftest.Speech {
		for _, pitch := range []int{20, 50, 90} {
			pcm, err := dtmftest.Espeak(s.Voice, s.Text, pitch, 160)
			if err != nil {
				t.Fatal(err)
			}
			if r := detect(pcm); r.Code != "" {
				t.Errorf("%s speech (pitch %d) %q heard as %q", s.Voice, pitch, s.Text, r.Code)
			}
		}
	}
}

// SITs made by sox, a generator that owes nothing to this package: each
// tone a sine of sox's at -24 dBFS, back to back.
func TestSoxSIT(t *testing.T) {
	testenv.LookPath(t, "sox", "sox")
	for _, tc := range []struct {
		tones [][2]string // seconds, Hz
		want  Code
	}{
		{[][2]string{{"0.274", "913.8"}, {"0.274", "1370.6"}, {"0.380", "1776.7"}}, Intercept},
		{[][2]string{{"0.380", "985.2"}, {"0.380", "1428.5"}, {"0.380", "1776.7"}}, NoCircuit},
		{[][2]string{{"0.380", "985.2"}, {"0.274", "1370.6"}, {"0.380", "1776.7"}}, VacantCode},
		{[][2]string{{"0.33", "950"}, {"0.33", "1400"}, {"0.33", "1800"}}, ITU},
	} {
		pcm := make([]int16, 1600) // 200 ms of silence before
		for _, tn := range tc.tones {
			out, err := exec.Command("sox", "-n", "-t", "wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-", "synth", tn[0], "sine", tn[1], "gain", "-n", "-24").Output()
			if err != nil {
				t.Fatal(err)
			}
			a, err := wav.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			pcm = append(pcm, a.Samples...)
		}
		pcm = append(pcm, make([]int16, 4000)...)
		if r := detect(pcm); r.Code != tc.want {
			t.Errorf("sox %v: %q, want %q", tc.tones, r.Code, tc.want)
		}
	}
}

func BenchmarkProcess(b *testing.B) {
	pcm := render(-20, step{lo1, short}, step{lo2, short}, step{third, long})
	b.ReportAllocs()
	b.SetBytes(int64(len(pcm) * 2))
	for b.Loop() {
		var d Detector
		d.Process(pcm)
	}
}
