// Package dtmftest builds DTMF test signals and holds the ITU-T Q.24 /
// Telcordia GR-181 condition table, for the receiver's unit tests and for
// the corpus scripts/bench-dtmf.sh scores jinyin and spandsp on.
package dtmftest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"jinyin/media"
	"jinyin/media/tone"
)

// Tone describes one digit burst and the conditions around it.
type Tone struct {
	Digit         byte
	RowOffsetFrac float64 // +0.015 = 1.5 % high
	ColOffsetFrac float64
	RowDBm0       float64
	ColDBm0       float64
	DurationMs    int
	GapMs         int // silence after
}

// Signal renders tones after leadMs of silence, then adds white noise at
// snrDB below the mean power of the tones (no noise when snrDB is 0).
func Signal(leadMs int, tones []Tone, snrDB float64, seed uint64) []int16 {
	total := leadMs * 8
	for _, t := range tones {
		total += (t.DurationMs + t.GapMs) * 8
	}
	acc := make([]float64, total)
	pos := leadMs * 8
	var power float64
	for _, t := range tones {
		rowHz, colHz, err := tone.DTMFFreqs(t.Digit)
		if err != nil {
			panic(err)
		}
		n := t.DurationMs * 8
		ro := tone.NewOsc(rowHz*(1+t.RowOffsetFrac), t.RowDBm0)
		co := tone.NewOsc(colHz*(1+t.ColOffsetFrac), t.ColDBm0)
		ro.Add(acc[pos : pos+n])
		co.Add(acc[pos : pos+n])
		pr, pc := media.PeakAt(t.RowDBm0), media.PeakAt(t.ColDBm0)
		power += (pr*pr + pc*pc) / 2 * float64(n)
		pos += n + t.GapMs*8
	}
	if snrDB != 0 {
		var toneSamples int
		for _, t := range tones {
			toneSamples += t.DurationMs * 8
		}
		sigma := math.Sqrt(power / float64(toneSamples) / math.Pow(10, snrDB/10))
		r := rand.New(rand.NewPCG(seed, 7))
		for i := range acc {
			acc[i] += r.NormFloat64() * sigma
		}
	}
	out := make([]int16, total)
	tone.Mix(out, acc)
	return out
}

// Case is one condition with the digits a receiver must report.
type Case struct {
	Name  string
	Tones []Tone
	SNRdB float64
	Want  string
}

// std is a nominal digit: -10 dBm0 per tone, 50 ms on, 50 ms off.
func std(d byte) Tone {
	return Tone{Digit: d, RowDBm0: -10, ColDBm0: -10, DurationMs: 50, GapMs: 50}
}

func each(digits string, f func(Tone) Tone) []Tone {
	var ts []Tone
	for i := 0; i < len(digits); i++ {
		ts = append(ts, f(std(digits[i])))
	}
	return ts
}

const all = "123A456B789C*0#D"

// Q24 returns the accept/reject table: each accept case plays all 16 digits
// and must yield all 16; each reject case must yield none.
//
// The figures and where they come from (ITU-T Q.24 collects the national
// receiver specifications; the values used are those of its AT&T/Telcordia
// column, the same as ETSI ES 201 235-3 where that is stricter):
//   - Frequency: operate within ±1.5 %, do not operate beyond ±3.5 %
//     (Q.24 Table A.1; ETSI ES 201 235-3 §4.2).
//   - Level: operate from -25 dBm0 to 0 dBm0 per tone (Telcordia GR-506 via
//     Q.24); the table plays -26 dBm0 to keep 1 dB in hand. Do not operate
//     at -55 dBm0 (the Telcordia non-operate level).
//   - Twist: the low-group (row) tone may be up to 8 dB louder than the
//     high-group (column) tone ("normal" twist: a long loop attenuates the
//     high group more) and the column up to 4 dB louder than the row
//     ("reverse" twist) (Q.24 Table A.1, Telcordia; spandsp's dtmf_rx and
//     Asterisk's dsp.c use the same pair: col < row*reverse && col*normal > row).
//     Each limit is played 0.5 dB inside (accept) and 2 dB outside (reject).
//   - Duration: operate on 40 ms, do not operate on 20 ms or less
//     (Telcordia: 40 ms operate, 23 ms non-operate; ES 201 235-3 §4.4).
//   - Pause: two tones 40 ms apart are two digits (Q.24 Table A.1, 40 ms
//     minimum interdigit pause).
//   - Interruption: a break of 10 ms inside a tone does not make it two
//     digits (Q.24 Table A.1 / Telcordia signal interruption 10 ms).
//   - Noise: operate at 15 dB signal-to-noise, white noise in the band
//     (Telcordia's Gaussian-noise figure, as Q.24 quotes it).
func Q24() []Case {
	var cs []Case
	add := func(name, want string, snr float64, f func(Tone) Tone) {
		cs = append(cs, Case{Name: name, Tones: each(all, f), SNRdB: snr, Want: want})
	}
	add("nominal", all, 0, func(t Tone) Tone { return t })
	for _, off := range []float64{-0.015, 0.015} {
		add(fmt.Sprintf("accept row %+.1f%%", off*100), all, 0, func(t Tone) Tone { t.RowOffsetFrac = off; return t })
		add(fmt.Sprintf("accept col %+.1f%%", off*100), all, 0, func(t Tone) Tone { t.ColOffsetFrac = off; return t })
		add(fmt.Sprintf("accept both %+.1f%%", off*100), all, 0, func(t Tone) Tone { t.RowOffsetFrac, t.ColOffsetFrac = off, off; return t })
	}
	for _, off := range []float64{-0.035, 0.035} {
		add(fmt.Sprintf("reject row %+.1f%%", off*100), "", 0, func(t Tone) Tone { t.RowOffsetFrac = off; return t })
		add(fmt.Sprintf("reject col %+.1f%%", off*100), "", 0, func(t Tone) Tone { t.ColOffsetFrac = off; return t })
	}
	add("accept 40 ms tone, 40 ms gap", all, 0, func(t Tone) Tone { t.DurationMs, t.GapMs = 40, 40; return t })
	add("reject 20 ms tone", "", 0, func(t Tone) Tone { t.DurationMs = 20; return t })
	add("reject 15 ms tone", "", 0, func(t Tone) Tone { t.DurationMs = 15; return t })
	add("accept -26 dBm0 per tone", all, 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -26, -26; return t })
	add("accept 0 dBm0 per tone", all, 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = 0, 0; return t })
	add("reject -55 dBm0 per tone", "", 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -55, -55; return t })
	// Twist: row is the low group, col the high group.
	add("accept normal twist 7.5 dB (row louder)", all, 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -6, -13.5; return t })
	add("reject normal twist 10 dB (row louder)", "", 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -6, -16; return t })
	add("accept reverse twist 3.5 dB (col louder)", all, 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -9.5, -6; return t })
	add("reject reverse twist 6 dB (col louder)", "", 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -12, -6; return t })
	add("accept normal twist 7.5 dB, row at -20 dBm0", all, 0, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -20, -27.5; return t })
	add("accept reverse twist 3.5 dB at 15 dB SNR", all, 15, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -13.5, -10; return t })
	add("accept normal twist 7.5 dB at 15 dB SNR", all, 15, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -6, -13.5; return t })
	add("accept at 15 dB SNR", all, 15, func(t Tone) Tone { return t })
	add("accept -26 dBm0 at 15 dB SNR", all, 15, func(t Tone) Tone { t.RowDBm0, t.ColDBm0 = -26, -26; return t })
	cs = append(cs, Case{Name: "repeated digit, 40 ms gaps", Tones: []Tone{
		{Digit: '5', RowDBm0: -10, ColDBm0: -10, DurationMs: 40, GapMs: 40},
		{Digit: '5', RowDBm0: -10, ColDBm0: -10, DurationMs: 40, GapMs: 40},
		{Digit: '5', RowDBm0: -10, ColDBm0: -10, DurationMs: 40, GapMs: 40},
	}, Want: "555"})
	var broken []Tone
	for i := 0; i < len(all); i++ {
		broken = append(broken,
			Tone{Digit: all[i], RowDBm0: -10, ColDBm0: -10, DurationMs: 50, GapMs: 10},
			Tone{Digit: all[i], RowDBm0: -10, ColDBm0: -10, DurationMs: 50, GapMs: 60})
	}
	cs = append(cs, Case{Name: "10 ms interruption is one digit", Tones: broken, Want: all})
	return cs
}

// RandomString is a keyed string as an independent check built one: n
// digits at random levels from -26 to 0 dBm0 per tone with the twist
// within the limits (column 7.5 dB below to 3.5 dB above the row), each
// tone up to ±1 % off, 45-105 ms on and off, in white noise 20 dB below
// the string's mean tone power, so that the weakest digits sit only a few
// dB above the noise. It returns the signal and the digits keyed.
func RandomString(n int, seed uint64) ([]int16, string) {
	r := rand.New(rand.NewPCG(seed, 99))
	var ts []Tone
	var want []byte
	for range n {
		d := all[r.IntN(len(all))]
		var row, col float64
		for {
			row, col = -26+26*r.Float64(), -26+26*r.Float64()
			if col-row >= -7.5 && col-row <= 3.5 && row+col < -3 { // and no clipping
				break
			}
		}
		ts = append(ts, Tone{Digit: d, RowDBm0: row, ColDBm0: col,
			RowOffsetFrac: (2*r.Float64() - 1) * 0.01, ColOffsetFrac: (2*r.Float64() - 1) * 0.01,
			DurationMs: 45 + r.IntN(60), GapMs: 45 + r.IntN(60)})
		want = append(want, d)
	}
	return Signal(100, ts, 20, seed), string(want)
}

// Found is how many of the digits keyed (want) a receiver reported (got)
// in order: the length of their longest common subsequence.
func Found(got, want string) int {
	prev := make([]int, len(want)+1)
	for i := range len(got) {
		cur := make([]int, len(want)+1)
		for j := range len(want) {
			if got[i] == want[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev = cur
	}
	return prev[len(want)]
}
