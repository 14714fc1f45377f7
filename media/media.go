// Package media is the box's audio: G.711 conversion here, and in
// subpackages the DTMF receiver (dtmf), tone and DTMF generation (tone), WAV
// files (wav), the spoken prompt set (prompt), music on hold (music), caller
// ID by FSK (fsk), RTP (rtp) and TDM timeslots (tdm).
//
// Layer: beside signalling, above hal; it imports only the standard library
// and github.com/zaf/g711. Nothing here knows about SIP, PRI or the IVR.
// Every per-sample and per-frame function works on caller-owned buffers and
// allocates nothing.
package media

import (
	"math"

	"github.com/zaf/g711"
)

// Sample rate of every stream in the box, and the frame the box moves.
const (
	RateHz       = 8000
	FrameMs      = 20
	FrameSamples = RateHz * FrameMs / 1000 // 160 samples, 160 bytes of G.711
)

// Codec is a G.711 companding law.
type Codec uint8

const (
	PCMA Codec = iota // A-law: E1 and China's default
	PCMU              // µ-law
)

func (c Codec) String() string {
	if c == PCMU {
		return "PCMU"
	}
	return "PCMA"
}

// Decode expands len(src) G.711 bytes into dst, which must be at least as long.
func (c Codec) Decode(dst []int16, src []byte) {
	dst = dst[:len(src)]
	if c == PCMU {
		for i, b := range src {
			dst[i] = g711.DecodeUlawFrame(b)
		}
		return
	}
	for i, b := range src {
		dst[i] = g711.DecodeAlawFrame(b)
	}
}

// Encode compresses len(src) samples into dst, which must be at least as long.
func (c Codec) Encode(dst []byte, src []int16) {
	dst = dst[:len(src)]
	if c == PCMU {
		for i, s := range src {
			dst[i] = g711.EncodeUlawFrame(s)
		}
		return
	}
	for i, s := range src {
		dst[i] = g711.EncodeAlawFrame(s)
	}
}

// FromALaw converts A-law bytes in p to this codec in place (a table
// lookup per byte for µ-law; nothing for A-law).
func (c Codec) FromALaw(p []byte) {
	if c == PCMU {
		for i, b := range p {
			p[i] = g711.Alaw2UlawFrame(b)
		}
	}
}

// Silence is the G.711 byte for zero signal.
func (c Codec) Silence() byte {
	if c == PCMU {
		return 0xFF
	}
	return 0xD5
}

// MaxSineDBm0 is the level of a full-scale sine in the G.711 digital
// reference (G.711 §A.1: a sine at the overload point is +3.14 dBm0), the
// convention spandsp uses too, so both receivers read levels alike.
const MaxSineDBm0 = 3.14

// PeakAt returns the 16-bit peak amplitude of a sine at levelDBm0.
func PeakAt(levelDBm0 float64) float64 {
	return 32767 * math.Pow(10, (levelDBm0-MaxSineDBm0)/20)
}

// LevelOfPeak is the inverse of PeakAt: the dBm0 level of a sine of that peak.
func LevelOfPeak(peak float64) float64 {
	return 20*math.Log10(peak/32767) + MaxSineDBm0
}
