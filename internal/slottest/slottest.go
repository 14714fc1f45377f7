// Package slottest plays and records audio on simulated timeslots
// (hal/sim), for tests of the analog ports and of the box: A-law at the
// line's pace, DTMF digits as a phone dials them, and levels.
package slottest

import (
	"math"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/media"
	"jinyin/media/tone"
)

// Play sends pcm into s, one block per 20 ms tick (a ticker: sleeping
// per block drifts, and the far end hears holes).
func Play(s *sim.Slot, pcm []int16) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	b := make([]byte, hal.BlockSize)
	blk := make([]int16, hal.BlockSize)
	for i := 0; i < len(pcm); i += hal.BlockSize {
		clear(blk)
		copy(blk, pcm[i:])
		media.PCMA.Encode(b, blk)
		s.WriteBlock(b)
		<-tick.C
	}
}

// Record reads d of audio from s.
func Record(s *sim.Slot, d time.Duration) []int16 {
	var out []int16
	b := make([]byte, hal.BlockSize)
	pcm := make([]int16, hal.BlockSize)
	for range int(d / (20 * time.Millisecond)) {
		s.ReadBlock(b)
		media.PCMA.Decode(pcm, b)
		out = append(out, pcm...)
	}
	return out
}

// Level is the rms of pcm.
func Level(pcm []int16) float64 {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(pcm)+1))
}

// DTMF is digits as a phone dials them: 120 ms of tone and of silence
// each, long enough to survive a late block under -race.
func DTMF(t testing.TB, digits string) []int16 {
	t.Helper()
	pcm, err := tone.DTMF(digits, 120, -8)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}
