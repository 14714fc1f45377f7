package ivr

import (
	"testing"

	"jinyin/media"
)

// level is the caller's audio for the recorder tests: every sample at v.
type level struct{ v *int16 }

func (l level) Fill(dst []int16) int {
	for i := range dst {
		dst[i] = *l.v
	}
	return len(dst)
}

// pastBeep plays r's beep as the media tick would, a frame at a time, and
// fails if the recording ends during it.
func pastBeep(t *testing.T, r *recorder, frame []int16) {
	t.Helper()
	for i := 0; i*len(frame) < len(beep); i++ {
		if r.Fill(frame) == 0 {
			t.Fatal("the recording ended during the beep")
		}
	}
}

// The loudest frame still counted as silence is one whose peak is
// silencePeak; one sample above it, either way of zero, is sound.
func TestRecorderSilencePeakIsSilence(t *testing.T) {
	for _, c := range []struct {
		v     int16
		heard bool
	}{
		{silencePeak, false},
		{-silencePeak, false},
		{silencePeak + 1, true},
		{-silencePeak - 1, true},
		{-32768, true}, // the most negative sample: loud, not silence by overflow
	} {
		v := c.v
		r := newRecorder(level{&v}, media.RateHz, 0)
		frame := make([]int16, media.FrameSamples)
		pastBeep(t, r, frame)
		for range 5 {
			r.Fill(frame)
		}
		if _, heard := r.stop(); heard != c.heard {
			t.Errorf("frames at %d: heard %v, want %v", c.v, heard, c.heard)
		}
	}
}
