// Package dtmf is the DTMF receiver: streaming detection of ITU-T Q.23
// digits in 8 kHz linear PCM, meeting the ITU-T Q.24 / Telcordia acceptance
// figures, one Detector per channel with caller-owned state.
//
// Layer: media; imports only the standard library and media.
//
// # How it decides
//
// Audio is cut into blocks of 102 samples (12.75 ms). In each block eight
// Goertzel filters measure the four row and four column frequencies, over
// each half of the block separately, and the block's total energy is
// summed; a block below the silence gate skips the filters. At the
// end of a block the strongest row and column must each stand 8 dB above the
// others in their group (once the two tones' own leakage is taken out of
// the other filters), the twist between them must be within limits, and
// the two tones must carry a large share of the block's energy (a tone that
// fills the whole block carries nearly all of it; speech and music spread
// theirs over many frequencies).
//
// Twist follows Q.24, spandsp and Asterisk: "normal" twist is the row
// (low-group) tone louder, as a long analog loop leaves a keypad's signal,
// accepted up to 8 dB; "reverse" twist is the column (high-group) tone
// louder, accepted up to 4 dB. The defaults leave 1 dB in hand on each.
//
// Frequency tolerance (accept ±1.5 %, reject ±3.5 %) cannot come from the
// filters' bandwidth: at 102 samples a bin is 78 Hz wide and a row tone 3.5 %
// off loses only 1.4 dB, far less than the level range a receiver must
// accept. So the receiver measures each tone's frequency from the phase of
// the filter output: the phase advance between the two halves of a block
// gives a coarse, unambiguous estimate, and the advance between consecutive
// blocks (twice the lag) a fine one, unwrapped with the coarse. The fine
// estimate must be within 2.5 % for both tones in every pair of blocks of a
// digit. The estimate also corrects each tone's measured level for the
// filter's roll-off, so twist and level are judged on the tone, not the bin.
//
// Duration (accept 40 ms, reject 20 ms) is measured, not counted in whole
// blocks: a tone that fills a fraction p of a block carries a fraction p of
// its energy, so the sum of those shares over consecutive blocks is the tone
// length in blocks. A digit is valid when that sum reaches 30 ms, at least
// two blocks are nearly full of the tone (70 % of their energy), and the fine frequency checks
// pass. Pauses are measured the same way: a digit ends once the missed
// blocks add up to 1.5 blocks without it (19 ms), so a 10 ms break is
// bridged and a 40 ms pause is not.
//
// Talk-off (speech, music, whistles taken for digits) is kept down by four
// properties of a keypad's signal that sounds lack, each measured only on
// blocks that already look like a digit:
//   - Frequency stability. Whistles, sung notes and vibrato glide. Between
//     any two full blocks the half-block (coarse) frequencies must agree
//     within 13 Hz, and a digit that lasts three full blocks must hold its
//     fine frequency within 4 Hz between them; both limits widen with the
//     noise the block itself shows (4 σ of the phase measurement), so that
//     a digit at 15 dB SNR is not failed for its noise.
//   - No overtones. The column's second harmonic and the row's third,
//     which fall clear of every DTMF frequency, must be 12 dB below their
//     tones; a piano chord's are 6 to 10 dB down.
//   - No harmonic lock. No DTMF pair is within 1.25 % of 2:1 or 1.5 % of
//     3:2 inside the accept limits; a pair within 0.6 % of either is one
//     sound and its overtone.
//   - Energy in the two tones, as above.
//
// scripts/bench-dtmf.sh scores this against spandsp file by file.
// A digit that lasts three full blocks is reported once its drift check
// has run (about 50 ms after its start); a shorter digit at its end.
package dtmf

import (
	"math"
	"math/cmplx"

	"jinyin/media"
)

const (
	blockSamples = 102 // 12.75 ms at 8 kHz
	halfSamples  = 51
	rateHz       = media.RateHz
)

var freqsHz = [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

var keypad = [4][4]byte{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}

// Config holds the receiver's limits; the zero value of a field means its default.
type Config struct {
	MinLevelDBm0      float64 // weakest tone accepted; default -30 (Q.24 asks -26)
	NormalTwistDB     float64 // row (low group) above column (high group); default 9 (Q.24 asks 8)
	ReverseTwistDB    float64 // column (high group) above row (low group); default 5 (Q.24 asks 4)
	FreqToleranceFrac float64 // default 0.025 (accept 1.5 %, reject 3.5 %)
	MinDurationMs     float64 // default 30 (accept 40 ms, reject 20 ms)
}

func (c *Config) defaults() {
	if c.MinLevelDBm0 == 0 {
		c.MinLevelDBm0 = -30
	}
	if c.NormalTwistDB == 0 {
		c.NormalTwistDB = 9
	}
	if c.ReverseTwistDB == 0 {
		c.ReverseTwistDB = 5
	}
	if c.FreqToleranceFrac == 0 {
		c.FreqToleranceFrac = 0.025
	}
	if c.MinDurationMs == 0 {
		c.MinDurationMs = 30
	}
}

// Event reports a digit. The receiver reports each digit twice: when it is
// recognised (End false, Duration 0) and when it ends (End true).
type Event struct {
	Digit    byte
	Start    int64 // sample index where the tone began, from the first sample processed
	Duration int64 // samples the tone lasted; set when End
	End      bool
}

// Detector is one channel's DTMF receiver. It is not safe for concurrent use.
type Detector struct {
	cfg     Config
	onEvent func(Event)

	// The block being filled, and its measurements.
	fbuf   [blockSamples]float32
	gst    [4][8]float32 // filter states after each half
	pos    int           // samples in fbuf
	mid    [8]complex128 // first-half filter outputs
	energy float64       // sum of squares of the block's samples
	block  int64         // index of the current block

	// Derived thresholds.
	minEnergy    float64 // silence gate on block energy
	minPeak      float64 // tone peak amplitude at MinLevelDBm0
	normalTwist  float64 // amplitude ratios
	reverseTwist float64
	minOcc       float64 // run length in blocks for a digit

	prevY      [8]complex128 // previous block's full outputs
	prevCoarse [8]float64    // previous block's reliable coarse offsets, else 0
	prevEnergy float64
	prevCand   int8    // previous block's candidate key index, -1 none
	driftSigma float64 // this block's noise-driven spread of a drift measure, Hz

	run run
}

type run struct {
	key      int8 // keypad index r*4+c, -1 none
	start    int64
	occ      float64 // tone length so far, in blocks
	core     int     // blocks nearly full of the tone
	checked  bool    // a fine frequency check passed
	bad      bool    // a fine frequency check failed: never report
	reported bool
	misses   int        // blocks missed since the tone was last seen
	gap      float64    // the pause so far, in blocks
	lastFull bool       // the previous block of the run was nearly full
	fine     [2]float64 // row and column offsets from the last pair of full blocks
	fines    int        // pairs of full blocks measured
}

// NewDetector returns a receiver that calls onEvent for each digit start
// and end. onEvent runs on the caller's goroutine, inside Process.
func NewDetector(cfg Config, onEvent func(Event)) *Detector {
	cfg.defaults()
	d := &Detector{cfg: cfg, onEvent: onEvent, prevCand: -1}
	d.run.key = -1
	silence := media.PeakAt(-42)
	d.minEnergy = silence * silence / 2 * blockSamples
	d.minPeak = media.PeakAt(cfg.MinLevelDBm0)
	d.normalTwist = math.Pow(10, cfg.NormalTwistDB/20)
	d.reverseTwist = math.Pow(10, cfg.ReverseTwistDB/20)
	d.minOcc = cfg.MinDurationMs / 1000 * rateHz / blockSamples
	return d
}

// Reset forgets all state, as for a new call.
func (d *Detector) Reset() {
	*d = *NewDetector(d.cfg, d.onEvent)
}

// Process feeds any number of samples; digits are reported through the callback.
func (d *Detector) Process(pcm []int16) {
	for len(pcm) > 0 {
		n := min(len(pcm), blockSamples-d.pos)
		dst := d.fbuf[d.pos : d.pos+n]
		src := pcm[:n]
		// Four sums, so that the adds do not wait on each other: this loop
		// is all a silent channel costs.
		var e0, e1, e2, e3 float32
		for len(src) >= 4 {
			s, o := src[:4:4], dst[:4:4]
			v0, v1, v2, v3 := float32(s[0]), float32(s[1]), float32(s[2]), float32(s[3])
			o[0], o[1], o[2], o[3] = v0, v1, v2, v3
			e0 += v0 * v0
			e1 += v1 * v1
			e2 += v2 * v2
			e3 += v3 * v3
			src, dst = src[4:], dst[4:]
		}
		for i, v := range src {
			f := float32(v)
			dst[i] = f
			e0 += f * f
		}
		d.energy += float64(e0) + float64(e1) + float64(e2) + float64(e3)
		d.pos += n
		pcm = pcm[n:]
		if d.pos == blockSamples {
			d.processBlock()
		}
	}
}

// processBlock measures a full block. A block below the silence gate
// cannot hold a digit, so its filters are not run at all: a quiet channel
// costs one multiply-add per sample.
func (d *Detector) processBlock() {
	var y [8]complex128
	if d.energy >= d.minEnergy {
		goertzel(&d.fbuf, &coef, &d.gst)
		st := &d.gst
		for k := range 8 {
			// Each half ran from rest: a and b are the DFTs of the halves,
			// each from its own start; the block's is a + e^{-jω·51}·b.
			ya, yb := output(k, st[0][k], st[1][k]), output(k, st[2][k], st[3][k])
			d.mid[k] = ya
			y[k] = cmplx.Conj(phFull[k]) * phHalf[k] * (ya + rotHalf[k]*yb)
		}
	}
	d.endBlock(&y)
	d.pos, d.energy = 0, 0
}

// goertzel runs the eight filters (coefficients 2cos(ω)) over each half of
// x, each half from rest, and leaves s[n-1], s[n-2] of the first half in
// st[0], st[1] and of the second in st[2], st[3]. The two halves are
// independent chains, which is what lets the AVX2 kernel overlap them.
var goertzel = goertzelGeneric

var coef [8]float32

// goertzelGeneric is the portable kernel: the recurrence
// s[n] = (x[n] - s[n-2]) + 2cos(ω)·s[n-1], written so that the subtraction
// runs beside the multiply and the loop-carried chain is one multiply-add;
// four filters per pass, so that their states stay in registers.
func goertzelGeneric(x *[blockSamples]float32, coef *[8]float32, st *[4][8]float32) {
	for h := range 2 {
		seg := x[h*halfSamples : (h+1)*halfSamples]
		for g := 0; g < 8; g += 4 {
			c0, c1, c2, c3 := coef[g], coef[g+1], coef[g+2], coef[g+3]
			var a0, b0, a1, b1, a2, b2, a3, b3 float32
			for _, v := range seg {
				a0, b0 = (v-b0)+c0*a0, a0
				a1, b1 = (v-b1)+c1*a1, a1
				a2, b2 = (v-b2)+c2*a2, a2
				a3, b3 = (v-b3)+c3*a3, a3
			}
			st[2*h][g], st[2*h][g+1], st[2*h][g+2], st[2*h][g+3] = a0, a1, a2, a3
			st[2*h+1][g], st[2*h+1][g+1], st[2*h+1][g+2], st[2*h+1][g+3] = b0, b1, b2, b3
		}
	}
}

// Flush ends the input: a digit still sounding is ended at the last sample.
func (d *Detector) Flush() {
	d.endRun()
}

// Per-filter constants for turning states into phasors.
var (
	cosW, sinW [8]float64
	rotHalf    [8]complex128 // e^{-jω·51}
	rotBlock   [8]complex128 // e^{-jω·102}
)

func init() {
	for k, f := range freqsHz {
		w := 2 * math.Pi * f / rateHz
		cosW[k], sinW[k] = math.Cos(w), math.Sin(w)
		coef[k] = float32(2 * math.Cos(w))
		rotHalf[k] = cmplx.Rect(1, -w*halfSamples)
		rotBlock[k] = cmplx.Rect(1, -w*blockSamples)
	}
}

// Leakage between filters: a tone at ω_j shows in the DFT at ω_k as
// P·K(ω_j-ω_k) + conj(P)·K(-ω_j-ω_k), with P its complex amplitude and
// K(Δ) = Σ_{n<M} e^{jΔn}. The tables hold K/M for the full block and the
// half, so that with P taken from filter j's own output the leak into
// filter k can be subtracted (cancelLeak).
var (
	leakFull, leakHalf [8][8][2]complex128 // [k][j]{direct, image}
	phFull, phHalf     [8]complex128       // e^{-jω(M-1)}: output -> DFT
)

func kern(delta float64, m int) complex128 {
	if math.Abs(math.Sin(delta/2)) < 1e-12 {
		return complex(float64(m), 0)
	}
	return cmplx.Rect(math.Sin(float64(m)*delta/2)/math.Sin(delta/2), delta*float64(m-1)/2)
}

func init() {
	for k, fk := range freqsHz {
		wk := 2 * math.Pi * fk / rateHz
		phFull[k] = cmplx.Rect(1, -wk*(blockSamples-1))
		phHalf[k] = cmplx.Rect(1, -wk*(halfSamples-1))
		for j, fj := range freqsHz {
			wj := 2 * math.Pi * fj / rateHz
			leakFull[k][j] = [2]complex128{kern(wj-wk, blockSamples) / blockSamples, kern(-wj-wk, blockSamples) / blockSamples}
			leakHalf[k][j] = [2]complex128{kern(wj-wk, halfSamples) / halfSamples, kern(-wj-wk, halfSamples) / halfSamples}
		}
	}
}

// cancelLeak removes from filters r and c (outputs y, half outputs mid)
// what each one's tone leaks into the other. Without it the stronger tone
// of a twisted pair moves the weaker one's measured phase by up to 11 Hz
// of apparent frequency; with it, by about a tenth of that.
func cancelLeak(y, mid *[8]complex128, r, c int) {
	fix := func(out *[8]complex128, ph *[8]complex128, leak *[8][8][2]complex128) {
		pr, pc := ph[r]*out[r], ph[c]*out[c] // DFTs; the tables hold K/M
		lr := pc*leak[r][c][0] + cmplx.Conj(pc)*leak[r][c][1]
		lc := pr*leak[c][r][0] + cmplx.Conj(pr)*leak[c][r][1]
		out[r] -= cmplx.Conj(ph[r]) * lr
		out[c] -= cmplx.Conj(ph[c]) * lc
	}
	fix(y, &phFull, &leakFull)
	fix(mid, &phHalf, &leakHalf)
}

// output returns filter k's y = s[n-1] - e^{-jω}·s[n-2]: the DFT of the
// samples so far at the filter's frequency, up to a fixed phase factor.
func output(k int, s1, s2 float32) complex128 {
	return complex(float64(s1)-cosW[k]*float64(s2), sinW[k]*float64(s2))
}

// overtones says whether the block, full of key's two tones, also holds
// their overtones. A keypad's oscillators are nearly pure (ETSI ES 201
// 235-2 allows other components 20 dB down); a note of music or a hummed
// vowel has overtones at whole multiples. The column's second harmonic and
// the row's third fall clear of every DTMF frequency (2418-3266 and
// 2091-2823 Hz), where no DTMF tone leaks more than -25 dB, so they are
// measured on this block's samples (two Goertzel filters at the measured
// frequencies); either above -12 dB of its tone fails the block. It runs
// only on full blocks of a digit not yet reported.
func (d *Detector) overtones(key int8, y *[8]complex128) bool {
	r, c := int(key/4), 4+int(key%4)
	offR, _ := d.coarseOffsetHz(r, y)
	offC, _ := d.coarseOffsetHz(c, y)
	// The tones as their filters read them: up to 1.6 dB low for a tone
	// 2.5 % off, which only makes the test stricter there.
	ar, ac := math.Sqrt(sq(y[r])), math.Sqrt(sq(y[c]))
	k3 := float32(2 * math.Cos(2*math.Pi*3*(freqsHz[r]+offR)/rateHz))
	k2 := float32(2 * math.Cos(2*math.Pi*2*(freqsHz[c]+offC)/rateHz))
	var a1, a2, b1, b2 float32
	for _, v := range d.fbuf {
		a1, a2 = (v-a2)+k3*a1, a1
		b1, b2 = (v-b2)+k2*b1, b1
	}
	h3 := float64(a1*a1 + a2*a2 - k3*a1*a2)
	h2 := float64(b1*b1 + b2*b2 - k2*b1*b2)
	return h3 > ar*ar/16 || h2 > ac*ac/16
}

// sinc is the filter's amplitude response to a tone offHz from its centre.
func sinc(offHz float64) float64 {
	x := math.Pi * offHz * blockSamples / rateHz
	if math.Abs(x) < 1e-9 {
		return 1
	}
	return math.Abs(math.Sin(x) / x)
}

func (d *Detector) endBlock(yp *[8]complex128) {
	y := *yp
	cand, occ, full := d.classify(&y)
	prevY, prevEnergy, prev, prevCoarse := d.prevY, d.prevEnergy, d.prevCand, d.prevCoarse
	d.prevY, d.prevEnergy, d.prevCand = y, d.energy, cand
	d.prevCoarse = [8]float64{}
	if cand >= 0 {
		r, c := int(cand/4), 4+int(cand%4)
		if hz, ok := d.coarseOffsetHz(r, &y); ok {
			d.prevCoarse[r] = hz
		}
		if hz, ok := d.coarseOffsetHz(c, &y); ok {
			d.prevCoarse[c] = hz
		}
	}
	blockStart := d.block * blockSamples
	energy := d.energy
	d.block++

	switch {
	case cand >= 0 && cand == d.run.key:
		if full && !d.run.reported && d.overtones(cand, &y) {
			d.run.bad = true
		}
		d.run.misses, d.run.gap = 0, 0
		d.run.occ += occ
		if full {
			d.run.core++
		}
		if prev == cand {
			d.checkFrequency(cand, &y, &prevY, &prevCoarse, full)
		}
		d.run.lastFull = full
		if d.run.bad && d.run.reported {
			d.endRun()
			return
		}
		// A digit long enough for a drift check waits for it; a shorter
		// one is reported when it ends (endRun).
		if !d.run.reported && d.run.valid(d.minOcc) && d.run.fines >= 2 {
			d.run.reported = true
			d.emit(Event{Digit: keyDigit(cand), Start: d.run.start})
		}
	case cand >= 0:
		d.endRun()
		// The tone may have begun in the previous block, too little of it
		// there to classify: count that share into its length and start.
		lead := share(cand, &prevY, prevEnergy)
		d.run = run{key: cand, occ: occ + lead, start: blockStart - int64(lead*blockSamples), lastFull: full}
		if lead == 0 {
			d.run.start = blockStart + int64((1-occ)*blockSamples)
		}
		if full {
			d.run.core = 1
			d.run.bad = d.overtones(cand, &y)
		}
	default:
		if d.run.key < 0 {
			return
		}
		// A run ends on a pause, measured like the tone: the parts of the
		// missed blocks that do not hold it. A 10 ms break (Q.24: to be
		// bridged) costs less than 1.5 blocks, a 40 ms pause (to be
		// recognised) at least 2.5.
		tail := share(d.run.key, &y, energy)
		d.run.misses++
		d.run.gap += 1 - tail
		if d.run.misses == 1 {
			d.run.occ += tail // the tone's tail
		}
		if d.run.gap >= 1.5 || d.run.misses >= 3 {
			d.endRun()
		}
	}
}

// share is the fraction of a block's energy in the two tones of key,
// uncorrected: the part of a block that a tone at its start or end fills.
// Blocks the tone barely touches count as 0.
func share(key int8, y *[8]complex128, energy float64) float64 {
	if energy == 0 {
		return 0
	}
	r, c := int(key/4), 4+int(key%4)
	a2 := 4 * (sq(y[r]) + sq(y[c])) / (blockSamples * blockSamples)
	s := a2 / 2 * blockSamples / float64(energy)
	if s < 0.1 {
		return 0
	}
	return min(s, 1)
}

func keyDigit(key int8) byte { return keypad[key/4][key%4] }

func (d *Detector) emit(e Event) {
	if d.onEvent != nil {
		d.onEvent(e)
	}
}

// valid says whether the run so far is a digit: long enough, nearly
// filling two blocks, and on frequency.
func (r *run) valid(minOcc float64) bool {
	return !r.bad && r.checked && r.core >= 2 && r.occ >= minOcc
}

func (d *Detector) endRun() {
	if !d.run.reported && d.run.key >= 0 && d.run.valid(d.minOcc) {
		d.run.reported = true
		d.emit(Event{Digit: keyDigit(d.run.key), Start: d.run.start})
	}
	if d.run.reported {
		d.emit(Event{Digit: keyDigit(d.run.key), Start: d.run.start, Duration: int64(d.run.occ * blockSamples), End: true})
	}
	d.run = run{key: -1}
}

// classify decides whether the block holds a DTMF pair. It returns the
// keypad index (-1 for none), the share of the block the tone fills, and
// whether the block is nearly full of it.
func (d *Detector) classify(y *[8]complex128) (key int8, occ float64, full bool) {
	e := d.energy
	if e < d.minEnergy {
		return -1, 0, false
	}
	var mag [8]float64
	for k := range y {
		mag[k] = sq(y[k])
	}
	r, c := argmax4(mag[0:4]), 4+argmax4(mag[4:8])
	// Speech and music spread their energy: when the two strongest
	// filters hold less than a tenth of the block, no correction below
	// (for leakage, or the roll-off of a tone up to 2.5 % off, at most
	// 2.7x) can bring them to the 40 % a digit needs.
	if 2*(mag[r]+mag[c])/blockSamples < 0.1*e {
		return -1, 0, false
	}
	cancelLeak(y, &d.mid, r, c)
	// Each peak 8 dB (6.3x in energy) above the rest of its group, once
	// the two tones' own leakage is taken out of the other filters: a row
	// tone 8 dB above its column leaks into the column's neighbours nearly
	// as much as the column's own sidelobes, and together they would fail
	// a true digit on some alignments.
	pr, pc := phFull[r]*y[r], phFull[c]*y[c]
	for k := range 8 {
		if k == r || k == c {
			mag[k] = sq(y[k])
			continue
		}
		l := pr*leakFull[k][r][0] + cmplx.Conj(pr)*leakFull[k][r][1] + pc*leakFull[k][c][0] + cmplx.Conj(pc)*leakFull[k][c][1]
		mag[k] = sq(y[k] - cmplx.Conj(phFull[k])*l)
	}
	for k := range 4 {
		if (k != r && mag[k]*6.3 > mag[r]) || (k+4 != c && mag[k+4]*6.3 > mag[c]) {
			return -1, 0, false
		}
	}
	// Amplitudes, with the other tone's leakage removed (the louder tone of
	// a pair twisted by 8 dB moves the weaker's level by up to ±1.7 dB
	// otherwise) and corrected for the coarse frequency offset.
	offR, _ := d.coarseOffsetHz(r, y)
	offC, _ := d.coarseOffsetHz(c, y)
	ar := 2 * math.Sqrt(sq(y[r])) / (blockSamples * sinc(offR))
	ac := 2 * math.Sqrt(sq(y[c])) / (blockSamples * sinc(offC))
	// Normal twist: the row (low group) louder, as a long loop leaves it;
	// reverse twist: the column (high group) louder.
	if ar > ac*d.normalTwist || ac > ar*d.reverseTwist {
		return -1, 0, false
	}
	occ = (ar*ar + ac*ac) / 2 * blockSamples / e
	if occ < 0.4 {
		return -1, 0, false
	}
	// Nearly full: 70 % of the block's energy in the two tones. A weak
	// digit in line noise (-25 dBm0 tones, noise 20 dB below the string's
	// loud ones) carries 70-80 %; a tone's edge block less.
	full = occ >= 0.7
	// What is not the two tones is noise to the phase measurement: a tone
	// of peak amplitude A over N samples in noise of power σ² has its DFT
	// phase spread by σ/(A·√(N/2)), and a drift measure (φ3 - 2φ2 + φ1,
	// over the lag of 102) by √6 times that, in Hz ×rate/(2π·102).
	if resid := e/blockSamples - (ar*ar+ac*ac)/2; resid > 0 {
		phase := math.Sqrt(resid) / (min(ar, ac) * math.Sqrt(halfSamples))
		d.driftSigma = math.Sqrt(6) * phase * rateHz / (2 * math.Pi * blockSamples)
	} else {
		d.driftSigma = 0
	}
	if full && (ar < d.minPeak || ac < d.minPeak) {
		return -1, 0, false
	}
	return int8(r*4 + c - 4), min(occ, 1), full
}

func argmax4(m []float64) int {
	best := 0
	for k := 1; k < 4; k++ {
		if m[k] > m[best] {
			best = k
		}
	}
	return best
}

// coarseOffsetHz estimates how far the tone in filter k is from the
// filter's frequency, from the phase advance between the block's halves:
// with a = DFT of the first half and b = DFT of the second half, each from
// its own start, b·conj(a) turns by ω·51 for a tone at ω. Unambiguous to
// ±78 Hz.
// The estimate is only as good as the weaker half: when the tone fills one
// half of the block and not the other (its start or end), ok is false.
func (d *Detector) coarseOffsetHz(k int, y *[8]complex128) (hz float64, ok bool) {
	a := d.mid[k]
	// b = e^{jω51}(F - a) with F, a the DFTs; in terms of the outputs
	// y (full) and a (half), b·conj(a)·e^{-jω0·51} = (y·e^{-jω0·51} - a)·conj(a).
	b := y[k]*rotHalf[k] - a
	ea, eb := sq(a), sq(b)
	if ea < eb/4 || eb < ea/4 {
		return 0, false
	}
	return cmplx.Phase(b*cmplx.Conj(a)) * rateHz / (2 * math.Pi * halfSamples), true
}

func sq(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// fineOffsetHz is the offset from the advance between this block and the
// previous one (lag 102, ambiguous every 78 Hz), unwrapped with the coarse.
func (d *Detector) fineOffsetHz(k int, y, prev *[8]complex128, prevCoarse *[8]float64) float64 {
	coarse, ok := d.coarseOffsetHz(k, y)
	if !ok {
		coarse = prevCoarse[k] // the previous block's, or 0 if it had none either
	}
	phi := cmplx.Phase(y[k] * cmplx.Conj(prev[k]) * rotBlock[k])
	want := 2 * math.Pi * coarse * blockSamples / rateHz
	phi += 2 * math.Pi * math.Round((want-phi)/(2*math.Pi))
	return phi * rateHz / (2 * math.Pi * blockSamples)
}

// maxDriftHz is how far a tone's frequency may move between consecutive
// pairs of full blocks (12.75 ms apart). A generator is crystal-stable; over
// the Q.24 table (noise at 15 dB SNR, twist at its limits, ±1.5 %) the
// measured value moves by at most 2.8 Hz once leakage is cancelled. The
// vibrato whistles of the talk-off set move by 5 to 40 Hz.
const maxDriftHz = 4

// coarseDriftHz is how far the half-block frequency estimates of two
// consecutive full blocks may differ. On the Q.24 accept cases (±1.5 %,
// twist at its limits, 20 alignments each) they differ by up to 12.8 Hz
// without noise: the other tone's leakage, cancelled at the nominal
// frequencies, is off for a tone 1.5 % away. A glide or the steep part of
// a vibrato moves 15 to 40 Hz in 12.75 ms.
const coarseDriftHz = 13

// checkFrequency runs the fine frequency check on this block and the
// previous one, and the drift check when both are full.
func (d *Detector) checkFrequency(key int8, y, prev *[8]complex128, prevCoarse *[8]float64, full bool) {
	r, c := int(key/4), 4+int(key%4)
	tol := d.cfg.FreqToleranceFrac
	fr, fc := d.fineOffsetHz(r, y, prev, prevCoarse), d.fineOffsetHz(c, y, prev, prevCoarse)
	// The DTMF frequencies were chosen so that no pair is in a simple
	// ratio; within the accept limits (±1.5 %) the nearest come to 1.25 %
	// of 2:1 ('2', '6', '9') and 1.5 % of 3:2 ('8'). A pair locked within
	// 0.6 % of either is one sound's overtones (a whistle and its octave, a
	// glide with its harmonic), not a keypad.
	hr, hc := freqsHz[r]+fr, freqsHz[c]+fc
	if math.Abs(hc-2*hr) < 0.006*hc || math.Abs(2*hc-3*hr) < 0.006*2*hc {
		d.run.bad = true
		return
	}
	if math.Abs(fr) > tol*freqsHz[r] || math.Abs(fc) > tol*freqsHz[c] {
		d.run.bad = true
		return
	}
	d.run.checked = true
	if !full || !d.run.lastFull {
		return // a partial block's phase centre is off: no drift measure
	}
	// Two full blocks: each block's own (coarse) frequency must agree with
	// the previous one's, so that a digit too short for the fine drift
	// check below still shows it holds its frequency. Its noise is 2.3
	// times the fine measure's (half the lag, half the samples).
	cr, okR := d.coarseOffsetHz(r, y)
	cc, okC := d.coarseOffsetHz(c, y)
	climit := coarseDriftHz + 4*2.3*min(d.driftSigma, 2)
	if okR && okC && prevCoarse[r] != 0 && prevCoarse[c] != 0 &&
		(math.Abs(cr-prevCoarse[r]) > climit || math.Abs(cc-prevCoarse[c]) > climit) {
		d.run.bad = true
		return
	}
	// The limit widens with the measurement's own noise (4 σ), so that a
	// digit in noise is not failed for the noise's jitter, while a clean
	// whistle, whose σ is near 0, is held to maxDriftHz.
	limit := maxDriftHz + 4*min(d.driftSigma, 2)
	if d.run.fines > 0 && (math.Abs(fr-d.run.fine[0]) > limit || math.Abs(fc-d.run.fine[1]) > limit) {
		d.run.bad = true
		return
	}
	d.run.fine = [2]float64{fr, fc}
	d.run.fines++
}
