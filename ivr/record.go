package ivr

import (
	"sync"

	"jinyin/media"
	"jinyin/media/tone"
)

// beep is the tone before a recording: 1 kHz for 250 ms at -10 dBm0.
var beep = tone.Sine(1000, -10, media.RateHz/4)

// silencePeak is the loudest frame still counted as silence: a sine of
// about -45 dBm0, above the noise of a quiet line, below speech.
var silencePeak = int16(media.PeakAt(-45))

// recorder is a Source played to a caller that records what the caller
// says: it plays the beep, then silence, and on each frame takes one frame
// of the caller's audio from the channel's Listen source, so the media
// tick paces the recording and no goroutine of its own is needed. It ends
// (Fill returns 0, EventPlayDone) at max length or after a run of silence;
// stop ends it from the IVR's side (# or hang-up). Fill allocates nothing:
// the buffer holds max samples from the start.
type recorder struct {
	in media.Source

	mu       sync.Mutex
	buf      []int16
	beepAt   int // samples of beep played
	silent   int // samples of silence at the end of buf
	silenceN int // that many end the recording; 0 never
	heard    bool
	done     bool
	frame    [media.FrameSamples * 2]int16
}

func newRecorder(in media.Source, maxSamples, silenceSamples int) *recorder {
	return &recorder{in: in, buf: make([]int16, 0, maxSamples), silenceN: silenceSamples}
}

func (r *recorder) Fill(dst []int16) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return 0
	}
	n := min(len(dst), len(r.frame))
	got := r.frame[:n]
	r.in.Fill(got)
	if r.beepAt < len(beep) {
		c := copy(dst, beep[r.beepAt:])
		clear(dst[c:])
		r.beepAt += c
		return len(dst)
	}
	clear(dst)
	room := cap(r.buf) - len(r.buf)
	if n > room {
		n = room
	}
	r.buf = append(r.buf, got[:n]...)
	var peak int16
	for _, s := range got[:n] {
		peak = max(peak, s, -max(s, -32767))
	}
	if peak <= silencePeak {
		r.silent += n
	} else {
		r.silent, r.heard = 0, true
	}
	if len(r.buf) == cap(r.buf) || (r.silenceN > 0 && r.silent >= r.silenceN) {
		r.done = true
		return 0
	}
	return len(dst)
}

// stop ends the recording and returns what was recorded, without the
// silence at its end beyond half a second, and whether the caller made
// any sound at all.
func (r *recorder) stop() (pcm []int16, heard bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	keep := len(r.buf) - max(0, r.silent-media.RateHz/2)
	return r.buf[:keep], r.heard
}
