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

// DChannel is a span's D-channel as layer 2 sees it: one HDLC frame
// (address, control, information) per read or write, without flags. The
// frame check sequence is the driver's business: hardware checks it, and
// the socket driver adds and strips the 2 octets DAHDI carries.
type DChannel interface {
	// ReadFrame reads the next frame into p and returns its length; it
	// blocks until one arrives or the channel is closed.
	ReadFrame(p []byte) (int, error)
	// WriteFrame sends one frame.
	WriteFrame(f []byte) error
	Close() error
}

// BlockSize is one block of a timeslot: 20 ms of 64 kbit/s G.711, the
// 160 octets DAHDI moves per chunk at its default 20 ms.
const BlockSize = 160

// Timeslot is a stream of G.711 octets clocked by the line: an E1/T1
// B-channel, or an analog port's audio after its codec.
type Timeslot interface {
	// ReadBlock waits for the next 20 ms block and copies the received
	// octets into p (BlockSize long). The line's clock paces it: a
	// timeslot always carries something, idle pattern when nothing is
	// said.
	ReadBlock(p []byte) error
	// WriteBlock queues p (BlockSize long) to go out on the line.
	WriteBlock(p []byte) error
}

// CheckBChannel reports whether channel n of a span of that type ("e1",
// "t1") carries calls, and if not why: E1 has timeslots 1-31, 16 being
// the D-channel; T1 has channels 1-24, 24 being the D-channel. The one
// rule for the config's channels and the span drivers.
func CheckBChannel(spanType string, n int) error {
	last, d := 31, 16
	if spanType == "t1" {
		last, d = 24, 24
	}
	switch {
	case n < 1 || n > last:
		return fmt.Errorf("channel %d does not exist on %s (1-%d)", n, strings.ToUpper(spanType), last)
	case n == d:
		return fmt.Errorf("channel %d is the D-channel on %s; it cannot carry calls", n, strings.ToUpper(spanType))
	}
	return nil
}

// IdleOctet is what an idle timeslot carries on a span of that type:
// A-law 0xD5 on E1, µ-law 0xFF on T1.
func IdleOctet(spanType string) byte {
	if spanType == "t1" {
		return 0xFF
	}
	return 0xD5
}

// E1FrameSize is one E1 frame (G.704 §2.3): 32 timeslots of one octet,
// timeslot 0 first, every 125 µs; each octet's most significant bit is
// the first on the line (G.704's bit 1).
const E1FrameSize = 32

// E1Frames is a line that hands the binary whole E1 frames, not channels:
// an E1 framer on a TDM bus, an icE1usb, a test's synthetic line. The line
// clocks it: ReadFrames returns as frames arrive, and what WriteFrames is
// given goes out one frame per 125 µs.
type E1Frames interface {
	// ReadFrames waits for the next frames and copies whole frames into
	// p (a multiple of E1FrameSize long), returning how many octets.
	ReadFrames(p []byte) (int, error)
	// WriteFrames queues whole frames to go out.
	WriteFrames(p []byte) error
	// Close releases the line; a ReadFrames waiting returns an error.
	Close() error
}

// PRI is a span that carries ISDN PRI signalling: an optional feature,
// found by type assertion.
type PRI interface {
	// DChannel opens the span's D-channel (timeslot 16 on E1, 24 on T1).
	DChannel() (DChannel, error)
	// BChannel is the timeslot of a B-channel, numbered as Q.931's
	// channel identification numbers it (E1: 1-15 and 17-31).
	BChannel(n int) (Timeslot, error)
}

// FCS is the HDLC frame check sequence (ISO/IEC 13239 CRC-16, as Q.921
// §2.7 uses; CRC-16/X-25): reflected polynomial 0x8408, initial and final
// value 0xFFFF. For drivers that carry frames in software, and for layer 2
// to check frames that arrive with theirs.
func FCS(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// Port is an analog port: its audio after the codec, and its line side,
// FXS or FXO, found by type assertion.
type Port interface {
	Timeslot
	Close() error
}

// FXS is a port that feeds a phone or a fax (a SLIC): it supplies
// battery, rings the phone and sees its hook. The ring cadence, hook-flash
// timing and debouncing are the caller's: the port reports the line as it
// is now.
type FXS interface {
	Port
	// Ring applies (on) or removes ringing voltage.
	Ring(on bool) error
	// SetPolarity reverses the loop battery (answer supervision, and the
	// signal some phones want before on-hook caller ID).
	SetPolarity(reversed bool) error
	// OffHook reports whether loop current flows: the handset is up.
	OffHook() bool
	// LoopVolts is the tip-ring voltage now, for line tests: about -48 on
	// hook, -6 to -10 off hook.
	LoopVolts() float64
}

// FXO is a port on an exchange line (a DAA): it sees ringing and the
// line's polarity and goes off hook to answer or seize the line.
type FXO interface {
	Port
	// SetHook takes the line off hook (true) or puts it back on hook.
	SetHook(off bool) error
	// Ringing reports ringing voltage on the line now.
	Ringing() bool
	// Reversed reports the line's polarity: exchanges reverse it on
	// answer and again on clearing (disconnect supervision).
	Reversed() bool
	// LoopCurrent reports loop current while off hook: a drop is the
	// exchange clearing (CPC, calling party control).
	LoopCurrent() bool
}
