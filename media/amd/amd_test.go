package amd

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/media/dtmf/dtmftest"
)

// seg is a stretch of the far end's audio: voice (a voiced sound at
// -20 dBm0) or line noise (about -60 dBm0) for ms milliseconds.
type seg struct {
	voice bool
	ms    int
}

func v(ms int) seg { return seg{true, ms} }
func s(ms int) seg { return seg{false, ms} }

// signal renders segs: voice is a 140 Hz buzz with its first 20
// harmonics (a vowel's spectrum, roughly), silence low white noise.
// clicks is n bursts of 60 ms (shorter than a word), 40 ms apart
// (shorter than a silence between words).
func clicks(n int) []seg {
	var c []seg
	for range n {
		c = append(c, v(60), s(40))
	}
	return c
}

func signal(segs ...seg) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []int16
	t := 0
	for _, g := range segs {
		for range g.ms * 8 {
			var x float64
			if g.voice {
				for h := 1; h <= 20; h++ {
					x += math.Sin(2*math.Pi*140*float64(h)*float64(t)/8000) / float64(h)
				}
				x *= 2283 / 1.5 // about -20 dBm0
			} else {
				x = rng.NormFloat64() * 25
			}
			out = append(out, int16(x))
			t++
		}
	}
	return out
}

// The table follows amd.conf's definitions of each parameter with its
// default, each row worked out by hand from them (not from this code).
func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		audio []seg
		want  Verdict
		cause string
		at    int // ms
	}{
		{"a person's hello, then waiting", Config{}, []seg{v(500), s(3000)}, Human, "HUMAN", 1300},
		{"hello after a long pause", Config{}, []seg{s(2400), v(400), s(3000)}, Human, "HUMAN", 3600},
		{"two words, then waiting", Config{}, []seg{v(300), s(200), v(300), s(3000)}, Human, "HUMAN", 1600},
		{"a gap of 60 ms ends a word", Config{}, []seg{v(300), s(60), v(300), s(60), v(300)}, Machine, "MAXWORDS", 820},
		{"gaps under 50 ms do not end a word", Config{}, []seg{v(300), s(40), v(300), s(40), v(300), s(3000)}, Human, "HUMAN", 1780},
		{"nothing said: a machine starting up", Config{}, []seg{s(6000)}, Machine, "INITIALSILENCE", 2500},
		{"speech too quiet to be voice is silence", Config{SilenceThreshold: 4000}, []seg{v(1000), s(5000)}, Machine, "INITIALSILENCE", 2500},
		{"a greeting of three words", Config{}, []seg{v(300), s(200), v(300), s(200), v(300), s(200), v(300)}, Machine, "MAXWORDS", 1100},
		{"one long greeting", Config{}, []seg{v(3000)}, Machine, "LONGGREETING", 1500},
		{"a greeting's length is its voice, not its pauses", Config{MaxWords: 10}, []seg{v(700), s(200), v(700), s(200), v(700)}, Machine, "LONGGREETING", 1900},
		{"a stretch of voice longer than a word may be", Config{Greeting: 10 * time.Second, Total: 10 * time.Second, MaxWordLength: 2 * time.Second}, []seg{v(4000)}, Machine, "MAXWORDLENGTH", 2000},
		{"clicks and noise never make a word", Config{}, clicks(60), NotSure, "TOOLONG", 5000},
		{"still undecided when the audio ends", Config{}, []seg{v(500), s(400)}, Undecided, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(tc.cfg)
			audio := signal(tc.audio...)
			var got Result
			for i := 0; i < len(audio); i += 67 { // odd pieces: frames are cut inside
				got = d.Process(audio[i:min(i+67, len(audio))])
			}
			want := Result{Verdict: tc.want, Cause: tc.cause, At: time.Duration(tc.at) * time.Millisecond}
			if got != want || d.Result() != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestVerdictSticks(t *testing.T) {
	d := New(Config{})
	r := d.Process(signal(s(2600)))
	if r.Verdict != Machine {
		t.Fatalf("%+v", r)
	}
	if again := d.Process(signal(v(500), s(2000))); again != r {
		t.Errorf("a decided detector changed its mind: %+v then %+v", r, again)
	}
	if Defaults().MaxWords != 3 || Defaults().Total != 5*time.Second || Human.String() != "human" || NotSure.String() != "not sure" {
		t.Errorf("defaults %+v", Defaults())
	}
}

func BenchmarkProcess(b *testing.B) {
	audio := signal(v(300), s(200))
	b.ReportAllocs()
	b.SetBytes(int64(len(audio) * 2))
	for b.Loop() {
		d := Detector{cfg: Defaults()}
		d.Process(audio)
	}
}

// Spoken answers, rendered by espeak-ng (the speech owes nothing to
// this package): a person's short answer and then line noise is a
// person; a voicemail greeting is a machine.
func TestSpokenAnswers(t *testing.T) {
	testenv.LookPath(t, "espeak-ng", "espeak-ng")
	testenv.LookPath(t, "sox", "sox")
	for _, tc := range []struct {
		voice, text string
		want        Verdict
	}{
		{"en", "Hello?", Human},
		{"cmn", "喂？", Human},
		{"en", "Hi, you have reached Li Wei. I cannot take your call right now, please leave a message after the tone.", Machine},
		{"cmn", "您好，您拨打的用户暂时无法接通，请在提示音后留言。", Machine},
	} {
		pcm, err := dtmftest.Espeak(tc.voice, tc.text, 50, 160)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, signal(s(4000))...)
		if got := New(Config{}).Process(pcm); got.Verdict != tc.want {
			t.Errorf("%s %q: %+v, want %v", tc.voice, tc.text, got, tc.want)
		}
	}
}
