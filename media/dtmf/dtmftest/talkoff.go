package dtmftest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"

	"jinyin/media/tone"
	"jinyin/media/wav"
)

// Speech lists talk-off utterances: IVR and broadcast-style sentences in
// Mandarin and English, each spoken by espeak-ng at several pitches and rates.
var Speech = []struct{ Voice, Text string }{
	{"cmn", "您好，欢迎致电客户服务中心。查询订单请按二，投诉建议请按五，人工服务请按零。"},
	{"cmn", "今日股市评论：上证指数上涨百分之一点二，成交量明显放大，券商板块领涨，科技股午后回落。"},
	{"cmn", "您的快递已经从深圳发出，预计明天下午三点到达，如需改约请在工作时间内联系我们。"},
	{"cmn", "七八九，一二三，四五六，零。请问您是要退货还是换货？我们会在一小时内给您回电。"},
	{"en", "Thank you for calling. For order status press two. For complaints press five. To speak to an agent press zero."},
	{"en", "Markets closed higher today as technology shares rallied in the afternoon session, led by semiconductor makers."},
	{"en", "Your parcel has left the depot and will arrive tomorrow between nine and eleven in the morning."},
	{"en-us", "One two three four five six seven eight nine zero, star, pound. Please hold while we transfer your call."},
}

// Espeak renders text with espeak-ng and sox into 8 kHz 16-bit samples.
func Espeak(voice, text string, pitch, rateWPM int) ([]int16, error) {
	es := exec.Command("espeak-ng", "-v", voice, "-p", fmt.Sprint(pitch), "-s", fmt.Sprint(rateWPM), "--stdout", text)
	sx := exec.Command("sox", "-t", "wav", "-", "-t", "wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-", "gain", "-n", "-6")
	var err error
	if sx.Stdin, err = es.StdoutPipe(); err != nil {
		return nil, err
	}
	var out, esErr, sxErr bytes.Buffer
	sx.Stdout, sx.Stderr, es.Stderr = &out, &sxErr, &esErr
	if err := sx.Start(); err != nil {
		return nil, err
	}
	if err := es.Run(); err != nil {
		sx.Wait()
		return nil, fmt.Errorf("espeak-ng: %v: %s", err, esErr.String())
	}
	if err := sx.Wait(); err != nil {
		return nil, fmt.Errorf("sox: %v: %s", err, sxErr.String())
	}
	a, err := wav.Decode(&out)
	if err != nil {
		return nil, err
	}
	return a.Samples, nil
}

// Named is one talk-off recording.
type Named struct {
	Name string
	PCM  []int16
}

// TalkOff returns the synthetic talk-off set, in a fixed order: signals no
// receiver may take for digits, built from how the sounds are made, not
// from the receiver: two frequency-modulated tones sweeping slowly through
// the low and high groups with vibrato (whistling, a theremin, some hold
// music) at several vibrato rates and depths; a single vibrato whistle with
// its second harmonic; two tones gliding at several rates; chords and a
// melody of equal-tempered notes with decaying harmonics (several land
// within 2 % of a DTMF pair: F5 698 Hz, E6 1319 Hz, F#6 1480 Hz); a
// pentatonic hold-music loop; bells (inharmonic partials); and white and
// pink noise. Levels are those of hold music and speech on a line,
// -20 to -8 dBm0.
func TalkOff() []Named {
	const rate = 8000.0
	var out []Named
	render := func(name string, seconds float64, f func(i int) float64) {
		n := int(seconds * rate)
		acc := make([]float64, n)
		for i := range acc {
			acc[i] = f(i)
		}
		pcm := make([]int16, n)
		tone.Mix(pcm, acc)
		out = append(out, Named{name, pcm})
	}
	peak := func(dBm0 float64) float64 { return 22827 * math.Pow(10, dBm0/20) } // 0 dBm0 sine peaks at 22,827
	// An FM voice: centre sweeping sinusoidally between lo and hi at sweepHz,
	// with vibrato of depth Hz at vibHz.
	type fm struct{ lo, hi, sweepHz, vibHz, depth, phase0 float64 }
	voice := func(v fm) func(i int) float64 {
		ph := 0.0
		return func(i int) float64 {
			t := float64(i) / rate
			c := v.lo + (v.hi-v.lo)*(0.5+0.5*math.Sin(2*math.Pi*v.sweepHz*t+v.phase0))
			f := c + v.depth*math.Sin(2*math.Pi*v.vibHz*t)
			ph += 2 * math.Pi * f / rate
			return math.Sin(ph)
		}
	}
	for i, p := range []struct{ vib, depth, sweepLo, sweepHi, level float64 }{
		{5.5, 25, 0.23, 0.31, -10}, {4.5, 10, 0.17, 0.29, -12}, {6.5, 40, 0.3, 0.19, -10},
		{5, 6, 0.11, 0.13, -14}, {3.5, 15, 0.37, 0.41, -8}, {7, 20, 0.21, 0.27, -16},
	} {
		lo := voice(fm{640, 1000, p.sweepLo, p.vib, p.depth, 0})
		hi := voice(fm{1150, 1700, p.sweepHi, p.vib * 1.1, p.depth * 1.6, 1})
		a := peak(p.level)
		render(fmt.Sprintf("vibrato pair %d (%.1f Hz, ±%.0f Hz)", i+1, p.vib, p.depth), 7, func(i int) float64 { return a * (lo(i) + hi(i)) })
	}
	// Linear sweeps through both groups over 7 s, with vibrato.
	for i, p := range []struct{ vib, depth float64 }{{5, 12}, {6, 30}, {4, 3}} {
		p1, p2 := 0.0, 0.0
		a := peak(-10)
		render(fmt.Sprintf("vibrato sweep %d (%.0f Hz, ±%.0f Hz)", i+1, p.vib, p.depth), 7, func(i int) float64 {
			t := float64(i) / rate
			v := math.Sin(2 * math.Pi * p.vib * t)
			f1 := 650 + 50*t + p.depth*v
			f2 := 1150 + 80*t + 1.7*p.depth*v
			p1 += 2 * math.Pi * f1 / rate
			p2 += 2 * math.Pi * f2 / rate
			return a * (math.Sin(p1) + math.Sin(p2))
		})
	}
	{
		ph := 0.0
		a := peak(-8)
		render("whistle with 2nd harmonic", 7, func(i int) float64 {
			t := float64(i) / rate
			f := 650 + 300*(0.5+0.5*math.Sin(2*math.Pi*0.2*t)) + 20*math.Sin(2*math.Pi*5.5*t)
			ph += 2 * math.Pi * f / rate
			return a * (math.Sin(ph) + 0.7*math.Sin(2*ph+0.3))
		})
	}
	for _, g := range []float64{60, 150, 400} {
		p1, p2 := 0.0, 0.0
		a := peak(-10)
		n := 7 * rate
		render(fmt.Sprintf("two tones gliding %.0f Hz/s", g), 7, func(i int) float64 {
			t := float64(i) / rate
			// up through both groups and back
			x := t
			if float64(i) > n/2 {
				x = 7 - t
			}
			f1 := 620 + g*x*0.45
			f2 := 1120 + g*x
			p1 += 2 * math.Pi * f1 / rate
			p2 += 2 * math.Pi * f2 / rate
			return a * (math.Sin(p1) + math.Sin(p2))
		})
	}
	note := func(midi int) float64 { return 440 * math.Pow(2, float64(midi-69)/12) }
	// A piano-like note: harmonics 1/h, decaying over 1.5 s.
	piano := func(hz, t float64) float64 {
		v := 0.0
		for h := 1.0; h <= 6; h++ {
			v += math.Sin(2*math.Pi*hz*h*t) / h * math.Exp(-t*h/1.5)
		}
		return v
	}
	chordSets := map[string][][]int{
		// F5+E6, F5+F#6, Bb5+F#6 and G5+E6 sit within 2 % of DTMF pairs.
		"chords near DTMF pairs":     {{77, 88}, {77, 90}, {82, 90}, {79, 88}, {77, 81, 88}, {70, 77, 90}, {74, 79, 88}, {65, 77, 90}},
		"chords, common progression": {{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {57, 60, 64}, {62, 66, 69}, {64, 68, 71}, {59, 63, 66}, {61, 65, 68}},
	}
	for _, name := range []string{"chords near DTMF pairs", "chords, common progression"} {
		set := chordSets[name]
		a := peak(-12)
		render(name, 8, func(i int) float64 {
			c := set[(i/4000)%len(set)]
			t := float64(i%4000) / rate
			v := 0.0
			for _, m := range c {
				v += piano(note(m), t)
			}
			return a * v / math.Sqrt(float64(len(c)))
		})
	}
	{
		// Two voices a tenth apart, one note every 250 ms, no decay: flutes.
		mel := []int{77, 79, 81, 82, 84, 86, 88, 89, 90, 88, 86, 84, 82, 81, 79, 77}
		a := peak(-12)
		render("flute duet", 8, func(i int) float64 {
			m := mel[(i/2000)%len(mel)]
			t := float64(i) / rate
			return a * (math.Sin(2*math.Pi*note(m)*t) + 0.1*math.Sin(4*math.Pi*note(m)*t) +
				0.8*math.Sin(2*math.Pi*note(m+16)*t) + 0.08*math.Sin(4*math.Pi*note(m+16)*t))
		})
	}
	{
		penta := []int{69, 71, 73, 76, 78, 81, 83, 85, 88, 90}
		a := peak(-14)
		render("pentatonic hold music", 8, func(i int) float64 {
			t := float64(i%2667) / rate
			k := i / 2667
			return a * (piano(note(penta[k%len(penta)]), t) + 0.7*piano(note(penta[(k*7+3)%len(penta)]), t) + 0.5*piano(note(45+k%3*5), t))
		})
	}
	{
		// Bell partials (inharmonic: 0.56, 0.92, 1.19, 1.71, 2, 2.74 × f).
		parts := []float64{0.56, 0.92, 1.19, 1.71, 2, 2.74}
		bases := []float64{620, 700, 780, 850}
		a := peak(-12)
		render("bells", 8, func(i int) float64 {
			f := bases[(i/8000)%len(bases)]
			t := float64(i%8000) / rate
			v := 0.0
			for j, p := range parts {
				v += math.Sin(2*math.Pi*f*p*t) * math.Exp(-t*(1+float64(j)/2)) / (1 + float64(j)/3)
			}
			return a * v
		})
	}
	{
		r := rand.New(rand.NewPCG(11, 13))
		a := peak(-15) / math.Sqrt2
		render("white noise", 6, func(int) float64 { return a * r.NormFloat64() })
		var b0, b1, b2 float64
		render("pink noise", 6, func(int) float64 {
			w := r.NormFloat64()
			b0 = 0.99765*b0 + w*0.0990460
			b1 = 0.96300*b1 + w*0.2965164
			b2 = 0.57000*b2 + w*1.0526913
			return a * (b0 + b1 + b2 + w*0.1848) / 2
		})
	}
	// The set the receiver started with: whistles, melody, glissando.
	old := music()
	for _, n := range []string{"chords", "glissando", "melody", "two whistles", "whistle"} {
		out = append(out, Named{"old " + n, old[n]})
	}
	return out
}

// music returns the first synthetic talk-off material, 4 s each: chords
// with harmonics, a melody, whistles with vibrato sweeping through the
// DTMF bands, two whistles at once, and a glissando.
// harmonics, a melody, whistles with vibrato sweeping through the DTMF
// bands, two whistles at once, and a glissando.
func music() map[string][]int16 {
	const n = 4 * 8000
	out := map[string][]int16{}
	render := func(name string, f func(i int) float64) {
		acc := make([]float64, n)
		for i := range acc {
			acc[i] = f(i)
		}
		pcm := make([]int16, n)
		tone.Mix(pcm, acc)
		out[name] = pcm
	}
	amp := 6000.0
	note := func(hz float64, i int) float64 { // a note with decaying harmonics
		t := float64(i) / 8000
		v := 0.0
		for h := 1.0; h <= 6; h++ {
			v += math.Sin(2*math.Pi*hz*h*t) / h
		}
		return v
	}
	// Chords change every half second through common progressions.
	chords := [][]float64{{261.6, 329.6, 392.0}, {349.2, 440.0, 523.3}, {392.0, 493.9, 587.3}, {220.0, 261.6, 329.6},
		{293.7, 370.0, 440.0}, {329.6, 415.3, 493.9}, {246.9, 311.1, 370.0}, {277.2, 349.2, 415.3}}
	render("chords", func(i int) float64 {
		c := chords[i/4000%len(chords)]
		return amp / 3 * (note(c[0], i) + note(c[1], i) + note(c[2], i)) / 2
	})
	melody := []float64{659.3, 587.3, 523.3, 587.3, 659.3, 659.3, 659.3, 587.3, 587.3, 587.3, 659.3, 784.0, 784.0, 880.0, 987.8, 1046.5}
	render("melody", func(i int) float64 { return amp * 0.6 * note(melody[i/2000%len(melody)], i) })
	phase1, phase2 := 0.0, 0.0
	render("whistle", func(i int) float64 {
		t := float64(i) / 8000
		f := 700 + 950*(0.5+0.5*math.Sin(2*math.Pi*0.3*t)) + 25*math.Sin(2*math.Pi*5.5*t)
		phase1 += 2 * math.Pi * f / 8000
		return amp * math.Sin(phase1)
	})
	phase1 = 0
	render("two whistles", func(i int) float64 {
		t := float64(i) / 8000
		f1 := 820 + 120*math.Sin(2*math.Pi*0.37*t) + 15*math.Sin(2*math.Pi*6*t)
		f2 := 1400 + 230*math.Sin(2*math.Pi*0.23*t) + 20*math.Sin(2*math.Pi*5*t)
		phase1 += 2 * math.Pi * f1 / 8000
		phase2 += 2 * math.Pi * f2 / 8000
		return amp * (math.Sin(phase1) + math.Sin(phase2))
	})
	phase1 = 0
	render("glissando", func(i int) float64 {
		f := 500 + 1400*float64(i)/n
		phase1 += 2 * math.Pi * f / 8000
		return amp * (math.Sin(phase1) + 0.5*math.Sin(2*phase1))
	})
	return out
}
