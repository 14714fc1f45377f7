// Package hal is the hardware abstraction: small interfaces for what line
// cards offer, implemented by per-chip drivers (hal/<chip>) and by the
// simulation (hal/sim) that tests and the default board use.
//
// Layer: the bottom. It imports only the standard library, like periph's
// conn; a driver takes buses and pins, never a device path. Optional
// features are separate small interfaces found by type assertion.
package hal

import (
	"fmt"
	"strings"
)

// Alarms is a set of span alarm conditions (ITU-T G.704/G.775).
type Alarms uint8

const (
	AlarmLOS Alarms = 1 << iota // loss of signal
	AlarmLOF                    // loss of frame alignment
	AlarmAIS                    // alarm indication signal (all ones) from upstream
	AlarmRAI                    // remote alarm indication (far end sees a fault)
)

func (a Alarms) String() string {
	if a == 0 {
		return "none"
	}
	var s []string
	for i, name := range []string{"LOS", "LOF", "AIS", "RAI"} {
		if a&(1<<i) != 0 {
			s = append(s, name)
		}
	}
	if rest := a &^ 0xF; rest != 0 {
		s = append(s, fmt.Sprintf("0x%x", uint8(rest)))
	}
	return strings.Join(s, "|")
}

// SpanConfig is how a span's line interface is set up.
type SpanConfig struct {
	Type    string // "e1" or "t1"
	Framing string // e1: "crc4", "no-crc4"; t1: "esf", "d4"
	Coding  string // e1: "hdb3", "ami"; t1: "b8zs", "ami"
	Clock   string // "line" (recover from the line) or "internal"
}

// Span is one E1/T1 line interface.
type Span interface {
	// Configure sets framing, line code and clock source.
	Configure(SpanConfig) error
	// Alarms reports the alarm conditions present now.
	Alarms() Alarms
	// Close releases the span.
	Close() error
}

// Loopback modes of a span.
const (
	LoopOff     = "off"
	LoopLocal   = "local"   // what the span sends comes back to its receiver (tests the card)
	LoopNetwork = "network" // what the line sends goes back to the line (the carrier tests the line)
)

// Looper is a span that can loop its line: an optional feature, found by
// type assertion.
type Looper interface {
	SetLoopback(mode string) error
	Loopback() string
}

// Counters are a span's error counts since it was opened (G.826 style):
// CRC-4 errors, bipolar violations, frame slips, errored seconds.
type Counters struct {
	CRC, BPV, Slips, ErroredSeconds uint64
}

// Sub is the counts between an earlier reading and c.
func (c Counters) Sub(earlier Counters) Counters {
	return Counters{c.CRC - earlier.CRC, c.BPV - earlier.BPV, c.Slips - earlier.Slips, c.ErroredSeconds - earlier.ErroredSeconds}
}

// Counterer is a span that counts line errors: an optional feature, found
// by type assertion.
type Counterer interface {
	Counters() Counters
}
