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

// A run of silenceN samples ends the recording on the frame that
// completes it (Fill returns 0 there), not a frame later; what is kept
// is the sound and at most half a second of the silence after it.
func TestRecorderEndsOnTheFrameThatCompletesTheSilence(t *testing.T) {
	v := int16(8000)
	const quiet = 10 // frames of silence that end it
	r := newRecorder(level{&v}, 10*media.RateHz, quiet*media.FrameSamples)
	frame := make([]int16, media.FrameSamples)
	pastBeep(t, r, frame)
	if r.Fill(frame) == 0 {
		t.Fatal("a frame of sound ended the recording")
	}
	v = 0
	for i := 1; i < quiet; i++ {
		if r.Fill(frame) == 0 {
			t.Fatalf("ended after %d frames of silence, want %d", i, quiet)
		}
	}
	if r.Fill(frame) != 0 {
		t.Fatalf("%d frames of silence did not end it", quiet)
	}
	pcm, heard := r.stop()
	if want := (1 + quiet) * media.FrameSamples; !heard || len(pcm) != want {
		t.Errorf("kept %d samples (heard %v), want %d: the frame of sound and the 200 ms of silence", len(pcm), heard, want)
	}
}

// silenceN 0: no run of silence ends it; a quiet line is recorded to the
// maximum length.
func TestRecorderWithoutSilenceLimitRunsToMax(t *testing.T) {
	v := int16(0)
	const frames = 50
	r := newRecorder(level{&v}, frames*media.FrameSamples, 0)
	frame := make([]int16, media.FrameSamples)
	pastBeep(t, r, frame)
	for i := 1; i < frames; i++ {
		if r.Fill(frame) == 0 {
			t.Fatalf("a silent line ended the recording after %d frames, want %d (the maximum)", i, frames)
		}
	}
	if r.Fill(frame) != 0 {
		t.Fatal("the maximum length did not end it")
	}
	if _, heard := r.stop(); heard {
		t.Error("silence heard as sound")
	}
}
