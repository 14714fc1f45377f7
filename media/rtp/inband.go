package rtp

import (
	"jinyin/media"
	"jinyin/media/tone"
)

// In-band DTMF, for a far end that agreed no telephone-event: each digit
// is its Q.23 tone pair in the audio, in place of what is being played.
const (
	// The low group at -10 dBm0: the level the box's RFC 4733 events
	// declare (volume 10, EventSender), so a digit is as loud whichever
	// way it goes. Q.23 leaves sending levels to each network.
	inbandRowDBm0 = -10.0
	// The high group 2 dB above the low one (-8 dBm0): the pre-emphasis
	// telephones have always sent against the line's greater loss at the
	// higher frequencies; receivers accept far more twist either way
	// (spandsp's, per its dtmf.h: up to 8 dB normal, 4 dB reverse).
	inbandColDBm0 = inbandRowDBm0 + 2
	// 100 ms of tone: as long as the box's RFC 4733 digits (800
	// samples), well above the 40 ms that most administrations' rows of
	// Q.24 have receivers accept and Telcordia's (Bell System) 50 ms
	// minimum tone. Whole frames (5), so a digit starts and ends on a
	// frame boundary.
	inbandOnSamples = 100 * media.RateHz / 1000
	// Then 80 ms (4 frames) of silence before whatever follows (the next
	// queued digit, or the source's audio again): above Q.24's usual 40
	// ms minimum pause, Telcordia's 45 ms and the 50 ms spandsp's
	// receiver assumes (dtmf.h).
	inbandOffSamples = 80 * media.RateHz / 1000
)

// A digit and its pause are whole frames, so the frames they replace are
// wholly theirs (this fails to compile otherwise).
var _ = [1]struct{}{}[inbandOnSamples%media.FrameSamples+inbandOffSamples%media.FrameSamples]

// inband sends queued digits as tones, one frame at a time; the pacer
// goroutine owns it. The frequencies are exact (Q.23 allows ±1.8 %): the
// oscillator rotates by the digit's own frequency every sample.
type inband struct {
	pair tone.Pair
	on   int // samples of tone left of the digit under way
	off  int // samples of silence left after it
	acc  [media.FrameSamples]float64
}

// busy reports whether a digit or its pause is under way.
func (b *inband) busy() bool { return b.on > 0 || b.off > 0 }

// start begins digit d, already checked by Code.
func (b *inband) start(d byte) {
	b.pair, _ = tone.NewPair(d, inbandRowDBm0, inbandColDBm0)
	b.on, b.off = inbandOnSamples, inbandOffSamples
}

// fill writes the next frame of the digit under way into pcm, replacing
// the audio there: tone, then silence.
func (b *inband) fill(pcm []int16) {
	n := min(b.on, len(pcm))
	if n > 0 {
		acc := b.acc[:n]
		clear(acc)
		b.pair.Add(acc)
		tone.Mix(pcm[:n], acc)
		b.on -= n
	}
	m := min(b.off, len(pcm)-n)
	clear(pcm[n : n+m])
	b.off -= m
}
