// Package tone generates audio: sine oscillators, DTMF digits (ITU-T Q.23)
// and the call-progress tones of each country (dial, ring-back, busy,
// congestion), table-driven.
//
// Layer: media. Generators are block processors with caller-owned state:
// Fill writes into the caller's buffer and allocates nothing.
package tone

import (
	"fmt"
	"math"

	"jinyin/media"
)

// Osc is a sine oscillator: a unit phasor rotated each sample.
type Osc struct {
	re, im     float64 // current phasor
	cosW, sinW float64 // rotation per sample
	peak       float64
}

// NewOsc returns an oscillator at freqHz and levelDBm0 starting at phase 0.
func NewOsc(freqHz, levelDBm0 float64) Osc {
	w := 2 * math.Pi * freqHz / media.RateHz
	return Osc{re: 1, cosW: math.Cos(w), sinW: math.Sin(w), peak: media.PeakAt(levelDBm0)}
}

// Add adds the oscillator's next len(dst) samples to acc.
func (o *Osc) Add(acc []float64) {
	re, im := o.re, o.im
	for i := range acc {
		acc[i] += o.peak * im
		re, im = re*o.cosW-im*o.sinW, re*o.sinW+im*o.cosW
	}
	// Renormalise once per block so rounding never drifts the level.
	g := 1 / math.Hypot(re, im)
	o.re, o.im = re*g, im*g
}

// Sine returns n samples of a sine at freqHz and levelDBm0 (a beep, a test
// voice).
func Sine(freqHz, levelDBm0 float64, n int) []int16 {
	out := make([]int16, n)
	acc := make([]float64, n)
	o := NewOsc(freqHz, levelDBm0)
	o.Add(acc)
	Mix(out, acc)
	return out
}

// Mix converts a float accumulator to 16-bit samples with saturation.
func Mix(dst []int16, acc []float64) {
	for i, v := range acc[:len(dst)] {
		switch {
		case v > 32767:
			dst[i] = 32767
		case v < -32768:
			dst[i] = -32768
		default:
			dst[i] = int16(math.Round(v))
		}
	}
}

// DTMF frequencies (ITU-T Q.23): rows low group, columns high group.
var (
	RowsHz = [4]float64{697, 770, 852, 941}
	ColsHz = [4]float64{1209, 1336, 1477, 1633}
	// Keypad lays the 16 digits out by [row][column].
	Keypad = [4][4]byte{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}
)

// DTMFFreqs returns the row and column frequency of a digit.
func DTMFFreqs(digit byte) (rowHz, colHz float64, err error) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r, row := range Keypad {
		for c, d := range row {
			if d == digit {
				return RowsHz[r], ColsHz[c], nil
			}
		}
	}
	return 0, 0, fmt.Errorf("tone: %q is not a DTMF digit", digit)
}

// DTMF renders digits as an analog line or a fax machine dials them: each
// digit's two tones at levelDBm0 for onMs, then onMs of silence (Q.23:
// at least 40 ms each).
func DTMF(digits string, onMs int, levelDBm0 float64) ([]int16, error) {
	n := onMs * media.RateHz / 1000
	acc := make([]float64, 2*n*len(digits))
	for i := range len(digits) {
		r, c, err := DTMFFreqs(digits[i])
		if err != nil {
			return nil, err
		}
		ro, co := NewOsc(r, levelDBm0), NewOsc(c, levelDBm0)
		ro.Add(acc[2*n*i : 2*n*i+n])
		co.Add(acc[2*n*i : 2*n*i+n])
	}
	out := make([]int16, len(acc))
	Mix(out, acc)
	return out, nil
}

// Pair is one DTMF digit's two oscillators, its row (low group) and
// column (high group) frequency (Q.23), each at its own level: a block
// generator for a digit of any length, sent frame by frame.
type Pair struct{ row, col Osc }

// NewPair returns the tone pair of digit with the low group at rowDBm0
// and the high group at colDBm0, both starting at phase 0.
func NewPair(digit byte, rowDBm0, colDBm0 float64) (Pair, error) {
	r, c, err := DTMFFreqs(digit)
	if err != nil {
		return Pair{}, err
	}
	return Pair{row: NewOsc(r, rowDBm0), col: NewOsc(c, colDBm0)}, nil
}

// Add adds the pair's next len(acc) samples to acc.
func (p *Pair) Add(acc []float64) {
	p.row.Add(acc)
	p.col.Add(acc)
}
