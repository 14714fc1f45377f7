package analog

import (
	"math/rand"
	"testing"

	"jinyin/media"
	"jinyin/media/tone"
)

// Busy tones of ITU-T E.180 Supplement 2 used below. Germany's is on
// whole 20 ms blocks (24 on, 24 off), so the detector's decisions can be
// counted block by block.
var (
	busyDE = tone.Cadence{FreqsHz: []float64{425}, OnOffMs: []int{480, 480}}
	busyJP = tone.Cadence{FreqsHz: []float64{400}, OnOffMs: []int{500, 500}}
)

// cadence is periods of freq at level dBm0 for onMs then silence for
// offMs, tone first, in 20 ms blocks (onMs, offMs multiples of 20).
func cadence(freq, level float64, onMs, offMs, periods int) [][]int16 {
	var out [][]int16
	for range periods {
		for range onMs / media.FrameMs {
			out = append(out, sineBlock(freq, level))
		}
		for range offMs / media.FrameMs {
			out = append(out, make([]int16, media.FrameSamples))
		}
	}
	return out
}

// firstBusy is the index of the first block after which d reports busy,
// or -1.
func firstBusy(d *busyDetector, blocks [][]int16) int {
	for i, b := range blocks {
		if d.block(b) {
			return i
		}
	}
	return -1
}

// Worked by hand for a cadence of n blocks on, n off, tone first: a
// change counts on its second block (one odd block is not a change), so
// the ends of the four bursts before busy are seen at blocks 1+n, 1+2n,
// 1+3n and 1+4n (the change at block 1 ends the silence before the tone,
// whose length matches nothing). Busy is reported at block 1+4n exactly,
// not a block earlier or later.
func TestBusyDetectorReportsOnTheFourthPeriod(t *testing.T) {
	const n = 480 / media.FrameMs // 24 blocks
	d := newBusyDetector(busyDE)
	blocks := cadence(425, -10, 480, 480, 6)
	if got, want := firstBusy(d, blocks), 1+4*n; got != want {
		t.Fatalf("busy after block %d, want %d (four 480 ms bursts, tone and silence)", got, want)
	}
}

// A burst counts when it is within 25 % of the cadence plus a block
// (the detector's tolerance): 480 ms ± 140 ms, so 340 and 620 ms bursts
// count and 320 and 640 ms do not. At the edges busy comes on the fourth
// period, at block 1+4n, as worked above.
func TestBusyDetectorTolerance(t *testing.T) {
	for _, c := range []struct {
		ms   int
		busy bool
	}{{340, true}, {620, true}, {320, false}, {640, false}} {
		n := c.ms / media.FrameMs
		d := newBusyDetector(busyDE)
		got := firstBusy(d, cadence(425, -10, c.ms, c.ms, 8))
		want := -1
		if c.busy {
			want = 1 + 4*n
		}
		if got != want {
			t.Errorf("%d ms on, %d ms off against a 480/480 cadence: busy after block %d, want %d", c.ms, c.ms, got, want)
		}
	}
}

// Steady tone and silence are no cadence, however long they last.
func TestBusyDetectorSteadyToneOrSilence(t *testing.T) {
	d := newBusyDetector(busyDE)
	var blocks [][]int16
	for range 500 { // 10 s
		blocks = append(blocks, sineBlock(425, -10))
	}
	if i := firstBusy(d, blocks); i >= 0 {
		t.Errorf("10 s of steady 425 Hz heard as busy at block %d", i)
	}
	d = newBusyDetector(busyDE)
	silence := make([][]int16, 500)
	for i := range silence {
		silence[i] = make([]int16, media.FrameSamples)
	}
	if i := firstBusy(d, silence); i >= 0 {
		t.Errorf("10 s of silence heard as busy at block %d", i)
	}
}

// Only the country's frequency counts: a 1000 Hz tone or white noise in
// the 480/480 cadence is not Germany's 425 Hz busy tone, and Japan's
// 400 Hz tone is heard by a detector set for it (400 Hz is a whole
// Goertzel bin, 50 Hz, below the 450 Hz default).
func TestBusyDetectorFrequency(t *testing.T) {
	d := newBusyDetector(busyDE)
	if i := firstBusy(d, cadence(1000, -10, 480, 480, 8)); i >= 0 {
		t.Errorf("1000 Hz in the busy cadence heard as busy at block %d", i)
	}
	rnd := rand.New(rand.NewSource(1))
	var noise [][]int16
	for _, b := range cadence(425, -10, 480, 480, 8) {
		if b[40] != 0 { // a tone block: noise at about the same power
			for i := range b {
				b[i] = int16(rnd.NormFloat64() * 2000)
			}
		}
		noise = append(noise, b)
	}
	d = newBusyDetector(busyDE)
	if i := firstBusy(d, noise); i >= 0 {
		t.Errorf("noise bursts in the busy cadence heard as busy at block %d", i)
	}
	d = newBusyDetector(busyJP)
	if got, want := firstBusy(d, cadence(400, -10, 500, 500, 6)), 1+4*25; got != want {
		t.Errorf("Japan's 400 Hz 500/500 busy: busy after block %d, want %d", got, want)
	}
	d = newBusyDetector(busyDE)
	if i := firstBusy(d, cadence(400, -10, 480, 480, 8)); i >= 0 {
		t.Errorf("400 Hz heard by a 425 Hz detector as busy at block %d", i)
	}
}

// A tone 30 or 35 Hz off the country's frequency (far outside an
// exchange's few Hz of tolerance) is not its busy tone. Worked by hand:
// a 20 ms block's bin is 50 Hz wide, and a tone δ bins off keeps
// (sin πδ / πδ)² of its power there: 0.25 at 395 Hz (δ = 0.6) and 0.14
// at 460 Hz (δ = 0.7) against a 425 Hz detector, below the 0.6 a tone
// needs.
func TestBusyDetectorNearbyFrequency(t *testing.T) {
	for _, f := range []float64{395, 460} {
		if i := firstBusy(newBusyDetector(busyDE), cadence(f, -10, 480, 480, 8)); i >= 0 {
			t.Errorf("%.0f Hz heard by a 425 Hz detector as busy at block %d", f, i)
		}
	}
	// and 5 Hz off (420 Hz, δ = 0.1: 0.97 of the power) still is.
	if got, want := firstBusy(newBusyDetector(busyDE), cadence(420, -10, 480, 480, 6)), 1+4*24; got != want {
		t.Errorf("420 Hz against a 425 Hz detector: busy after block %d, want %d", got, want)
	}
}

// With no cadence configured the detector listens for China's busy tone,
// 450 Hz 350 ms on, 350 ms off (YD/T 1277, the package's default). Its
// bursts are 17.5 blocks, so busy comes during the fifth period: after
// four whole periods (4 × 35 blocks) and before the fifth ends.
func TestBusyDetectorDefaultsToChina(t *testing.T) {
	p := tone.NewPlayer(tone.Cadence{FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{350, 350}}, media.FrameSamples)
	var blocks [][]int16
	for range 10 * 35 {
		b := make([]int16, media.FrameSamples)
		p.Fill(b)
		blocks = append(blocks, b)
	}
	i := firstBusy(newBusyDetector(tone.Cadence{}), blocks)
	if i < 70 || i > 72 {
		t.Errorf("China busy tone with the default detector: busy after block %d, want 70-72", i)
	}
	// China's 700/700 congestion tone is not the default cadence.
	if i := firstBusy(newBusyDetector(tone.Cadence{}), cadence(450, -10, 700, 700, 8)); i >= 0 {
		t.Errorf("700/700 ms heard as the default 350/350 busy at block %d", i)
	}
}

// The detector ignores what is below -40 dBm0 (nothing on the line): a
// tone at -36 dBm0 in the cadence is busy, one at -44 dBm0 is not.
func TestBusyDetectorLevelFloor(t *testing.T) {
	const n = 480 / media.FrameMs
	if got, want := firstBusy(newBusyDetector(busyDE), cadence(425, -36, 480, 480, 6)), 1+4*n; got != want {
		t.Errorf("busy tone at -36 dBm0: busy after block %d, want %d", got, want)
	}
	if i := firstBusy(newBusyDetector(busyDE), cadence(425, -44, 480, 480, 8)); i >= 0 {
		t.Errorf("busy tone at -44 dBm0 (below the floor) heard as busy at block %d", i)
	}
}
