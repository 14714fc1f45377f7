package rtp

import (
	"encoding/binary"
	"fmt"
)

// Event is an RFC 4733 telephone-event payload.
type Event struct {
	Code     uint8  // 0-9 digits, 10 *, 11 #, 12-15 A-D, 16 flash
	End      bool   // E bit
	Volume   uint8  // -dBm0, 0-63
	Duration uint16 // in timestamp units (samples at 8 kHz)
}

// ParseEvent reads a telephone-event payload (4 bytes; RFC 4733 §2.3).
func ParseEvent(p []byte) (Event, error) {
	if len(p) < 4 {
		return Event{}, fmt.Errorf("rtp: telephone-event payload of %d bytes, want 4", len(p))
	}
	return Event{Code: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3F, Duration: binary.BigEndian.Uint16(p[2:])}, nil
}

// Put writes e into the 4-byte payload p.
func (e Event) Put(p []byte) {
	p[0] = e.Code
	p[1] = e.Volume & 0x3F
	if e.End {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], e.Duration)
}

// Digit returns the keypad character of an event code, or 0.
func Digit(code uint8) byte {
	const digits = "0123456789*#ABCD"
	if int(code) < len(digits) {
		return digits[code]
	}
	return 0
}

// Code returns the event code of a keypad character.
func Code(digit byte) (uint8, error) {
	const digits = "0123456789*#ABCD"
	for i := 0; i < len(digits); i++ {
		if digits[i] == digit || (digit >= 'a' && digit <= 'd' && digits[i] == digit-32) {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("rtp: %q is not a DTMF digit", digit)
}
