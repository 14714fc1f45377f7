package analog

import (
	"math"

	"jinyin/media"
	"jinyin/media/tone"
)

// busyDetector hears an exchange's busy (or congestion) tone on a line
// whose far end has cleared: a tone at the country's frequency, switching
// on and off in its cadence. It decides per 20 ms block with a Goertzel
// filter, and reports busy after four on/off periods within 25 % of the
// cadence, so speech and music do not clear a call.
type busyDetector struct {
	coef    float64
	floor   float64 // block energy below which nothing is on the line
	onMs    int
	offMs   int
	on      bool
	runMs   int
	matched int
	flips   int // blocks in a row that disagree with on
}

func newBusyDetector(c tone.Cadence) *busyDetector {
	d := &busyDetector{onMs: 350, offMs: 350}
	f := 450.0
	if len(c.FreqsHz) > 0 {
		f = c.FreqsHz[0]
	}
	if len(c.OnOffMs) >= 2 {
		d.onMs, d.offMs = c.OnOffMs[0], c.OnOffMs[1]
	}
	d.coef = 2 * math.Cos(2*math.Pi*f/media.RateHz)
	p := media.PeakAt(-40)
	d.floor = p * p / 2 * media.FrameSamples
	return d
}

// block takes one 20 ms block and reports whether busy tone is certain.
func (d *busyDetector) block(pcm []int16) bool {
	var s1, s2, energy float64
	for _, x := range pcm {
		v := float64(x)
		s1, s2 = v+d.coef*s1-s2, s1
		energy += v * v
	}
	power := s1*s1 + s2*s2 - d.coef*s1*s2 // |X(f)|^2
	// A pure tone puts about N/2 of the block's energy at its bin.
	on := energy > d.floor && power > 0.6*energy*float64(len(pcm))/2
	// A change holds for two blocks before it counts: one lost or noisy
	// block does not split a tone burst.
	if on != d.on {
		d.flips++
	} else {
		d.flips = 0
	}
	if on == d.on || d.flips < 2 {
		d.runMs += media.FrameMs
		if d.runMs > 2*max(d.onMs, d.offMs) {
			d.matched = 0 // steady tone or silence is not a cadence
		}
		return false
	}
	// The run that ended did not include the block before this one: the
	// change began there.
	run, want := d.runMs-media.FrameMs, d.offMs
	if d.on {
		want = d.onMs
	}
	if math.Abs(float64(run-want)) <= 0.25*float64(want)+media.FrameMs {
		d.matched++
	} else {
		d.matched = 0
	}
	d.on, d.runMs, d.flips = on, 2*media.FrameMs, 0
	return d.matched >= 4
}
