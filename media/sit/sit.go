// Package sit hears Special Information Tones: the three rising tones a
// network plays before an announcement that the call cannot be completed
// (ITU-T E.180 / Q.35: 950, 1400 and 1800 Hz ±50 Hz, each 330 ±70 ms),
// and reads the Telcordia code their variants carry (the first two tones
// low or high in frequency, short or long), so that an outbound dialler
// can drop a vacant number and try a congested route later instead of
// playing its message to a recording. One Detector per call, with
// caller-owned state; it allocates nothing per frame.
//
// Layer: media; imports only the standard library and media.
//
// # The codes
//
// Telcordia's tones are 913.8 Hz (low) or 985.2 Hz (high), then
// 1370.6 Hz (low) or 1428.5 Hz (high), then 1776.7 Hz, each 274 ms
// (short) or 380 ms (long); the third is always long:
//
//	code  first       second      meaning
//	IC    low short   low short   intercept: vacant number, number changed
//	VC    high long   low short   vacant code
//	NC    high long   high long   no circuit (within the local network)
//	NC'   low long    low long    no circuit (long distance carrier)
//	RO    low short   high long   reorder: equipment irregularity (local)
//	RO'   high short  low long    reorder (long distance carrier)
//
// A SIT whose first two tones sit at ITU's 950 and 1400 Hz carries no
// code (ITU); one with a combination outside the table is Reserved.
// E.180's tolerances take in Telcordia's frequencies and lengths, so an
// E.180 SIT whose tones are off nominal reads as the code it falls on.
//
// # How it hears them
//
// Every 20 ms block, Goertzel filters 12.5 Hz apart across each tone's
// band (and on the Telcordia frequencies) give each band's share of the
// block's energy. A tone fills its band's share; speech and noise spread
// theirs. A tone is a run of blocks in which its band holds a share, with
// at least three blocks where it holds most of the energy; its length is
// the sum of its shares, so the blocks the tone only partly fills count
// in part, and the measure is good to a few ms rather than a block. Three
// such tones in rising bands, each following the last within 40 ms and
// lasting 200-480 ms (E.180's 260-400 ms and Telcordia's 220-460 ms with
// the measure's margin), are a SIT. Blocks below -45 dBm0 hold no tone.
package sit

import (
	"math"
	"time"

	"jinyin/media"
)

// Code is a SIT's Telcordia code ("" when nothing was heard).
type Code string

const (
	Intercept        Code = "IC"
	VacantCode       Code = "VC"
	NoCircuit        Code = "NC"
	NoCircuitCarrier Code = "NC'"
	Reorder          Code = "RO"
	ReorderCarrier   Code = "RO'"
	Reserved         Code = "reserved" // a combination the table leaves for future use
	ITU              Code = "ITU"      // E.180's tones, which carry no code
)

// Result is a SIT heard: its code and how far into the audio it ended.
type Result struct {
	Code Code
	At   time.Duration
}

const (
	block      = media.FrameSamples // 20 ms
	blockDur   = media.FrameMs * time.Millisecond
	minTone    = 200 * time.Millisecond
	maxTone    = 480 * time.Millisecond
	longFrom   = 327 * time.Millisecond // halfway between 274 and 380 ms
	maxGap     = 2                      // blocks between one tone's end and the next one's start
	coreShare  = 0.55                   // a block the tone fills
	edgeShare  = 0.1                    // a block the tone touches
	coreBlocks = 3
)

// bands: each tone's filters, 12.5 Hz apart across E.180's ±50 Hz (the
// third widened to take Telcordia's 1776.7 Hz) and on Telcordia's own
// frequencies; lowAt and highAt are where a measured tone is low or high.
var bands = [3]struct {
	lo, hi, lowAt, highAt float64
	exact                 []float64
}{
	{900, 1000, 932, 967, []float64{913.8, 985.2}},
	{1350, 1450, 1385, 1414, []float64{1370.6, 1428.5}},
	{1725, 1850, 0, 0, []float64{1776.7}},
}

const maxBins = 12

type filter struct {
	hz, coef float64
}

var filters [3][]filter

func init() {
	for b, band := range bands {
		for f := band.lo; f <= band.hi; f += 12.5 {
			filters[b] = append(filters[b], newFilter(f))
		}
		for _, f := range band.exact {
			filters[b] = append(filters[b], newFilter(f))
		}
		if len(filters[b]) > maxBins {
			panic("sit: too many filters in a band")
		}
	}
}

func newFilter(hz float64) filter {
	return filter{hz, 2 * math.Cos(2*math.Pi*hz/media.RateHz)}
}

// floor is -45 dBm0 as a block's mean square (0 dBm0 is a sine peaking
// at 22,827, mean square 22827²/2).
var floor = 22827.0 * 22827 / 2 * math.Pow(10, -4.5)

// run is a tone: a run of blocks in which one band holds a share.
type run struct {
	start, end int     // blocks: first, one past last
	dur        float64 // in blocks: the sum of the shares
	core       int     // blocks it fills
	power      [maxBins]float64
}

func (t run) length() time.Duration { return time.Duration(t.dur * float64(blockDur)) }

// Detector is one call's SIT analysis.
type Detector struct {
	buf [block]float64
	n   int
	at  int // blocks analysed

	cur  [3]run // the run in progress in each band (dur 0: none)
	last [3]run // the last complete tone in each band
	res  Result
}

// New returns a detector.
func New() *Detector { return &Detector{} }

// Process analyses pcm (8 kHz linear) and returns the SIT once one is
// heard; after that it returns the same result and ignores its input.
func (d *Detector) Process(pcm []int16) Result {
	for _, s := range pcm {
		if d.res.Code != "" {
			break
		}
		d.buf[d.n] = float64(s)
		if d.n++; d.n == block {
			d.n = 0
			d.endBlock()
		}
	}
	return d.res
}

// Result is the SIT heard so far ("" code until one is).
func (d *Detector) Result() Result { return d.res }

func (d *Detector) endBlock() {
	var energy float64
	for _, x := range d.buf {
		energy += x * x
	}
	energy /= block
	for b := range bands {
		var share float64
		var pw [maxBins]float64
		if energy >= floor {
			for i, f := range filters[b] {
				pw[i] = power(&d.buf, f.coef) / energy
				share = max(share, pw[i])
			}
		}
		c := &d.cur[b]
		if share >= edgeShare {
			if c.dur == 0 {
				*c = run{start: d.at}
			}
			c.dur += min(share, 1)
			if share >= coreShare {
				c.core++
				for i := range pw {
					c.power[i] += pw[i]
				}
			}
			c.end = d.at + 1
			continue
		}
		if c.dur > 0 {
			if c.core >= coreBlocks {
				d.last[b] = *c
				if b == 2 {
					d.check()
				}
			}
			*c = run{}
		}
	}
	d.at++
}

// power is the Goertzel filter's power at coef over the block, as the
// mean square of a sine at its frequency would read (a full-block sine
// of amplitude A reads A²/2).
func power(x *[block]float64, coef float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+coef*s1-s2, s1
	}
	return 2 * (s1*s1 + s2*s2 - coef*s1*s2) / (block * block)
}

// check reads the tones when a third tone has ended: a SIT when the
// three follow each other and each has a SIT's length.
func (d *Detector) check() {
	t1, t2, t3 := d.last[0], d.last[1], d.last[2]
	if t1.end == 0 || t2.end == 0 || t2.start > t1.end+maxGap || t3.start > t2.end+maxGap || t2.start < t1.start || t3.start < t2.start {
		return
	}
	for _, t := range [3]run{t1, t2, t3} {
		if l := t.length(); l < minTone || l > maxTone {
			return
		}
	}
	d.res = Result{Code: code(d.freq(0, t1), d.freq(1, t2), t1.length() >= longFrom, t2.length() >= longFrom), At: time.Duration(d.at+1) * blockDur}
}

// freq says where tone t of band b lies: 'L' low, 'H' high, 'M' between
// (E.180's nominal frequency).
func (d *Detector) freq(b int, t run) byte {
	best := 0
	for i := range filters[b] {
		if t.power[i] > t.power[best] {
			best = i
		}
	}
	switch hz := filters[b][best].hz; {
	case hz < bands[b].lowAt:
		return 'L'
	case hz > bands[b].highAt:
		return 'H'
	}
	return 'M'
}

func code(f1, f2 byte, long1, long2 bool) Code {
	if f1 == 'M' || f2 == 'M' {
		return ITU
	}
	d := func(long bool) byte {
		if long {
			return 'L'
		}
		return 'S'
	}
	switch string([]byte{f1, f2, d(long1), d(long2)}) {
	case "LLSS":
		return Intercept
	case "HLLS":
		return VacantCode
	case "HHLL":
		return NoCircuit
	case "LLLL":
		return NoCircuitCarrier
	case "LHSL":
		return Reorder
	case "HLSL":
		return ReorderCarrier
	}
	return Reserved
}
