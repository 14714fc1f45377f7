// Package fsk is on-hook caller ID: the 1200 baud FSK data transmission
// of Telcordia GR-30 (Bell 202 tones) and ETSI EN 300 659 (ITU-T V.23
// tones), and the message formats both carry (SDMF and MDMF with date and
// time, number, name and the reason a number is absent). The Modulator
// makes the signal an FXS port sends between the first and second ring;
// the Demodulator reads it on an FXO port.
//
// Layer: media. Block processing with caller-owned state, like spandsp's
// fsk_rx: Process(pcm) per block, results by callback; no allocation per
// sample.
package fsk

import (
	"errors"
	"fmt"
	"math"

	"jinyin/media"
)

// Standard is a tone pair: what carries a 1 (mark) and a 0 (space).
type Standard struct {
	Name            string
	MarkHz, SpaceHz float64
}

var (
	Bell202 = Standard{"bell202", 1200, 2200} // Telcordia GR-30 (North America, some of China)
	V23     = Standard{"v23", 1300, 2100}     // ETSI EN 300 659 (Europe, China's YD/T 1403)
)

// Baud is the bit rate of both.
const Baud = 1200

// Parameter types of an MDMF message (GR-30 / EN 300 659-3).
const (
	ParamDateTime    = 0x01
	ParamNumber      = 0x02
	ParamAbsence     = 0x04 // reason the number is absent: 'O' unavailable, 'P' private
	ParamName        = 0x07
	ParamNameAbsence = 0x08
)

// Message types.
const (
	TypeSDMF = 0x04 // single data message format: date/time and number
	TypeMDMF = 0x80 // multiple data message format (call set-up)
)

// CallerID is what a caller ID message says.
type CallerID struct {
	Time    string // "MMDDHHMM"
	Number  string
	Name    string
	Absence string // "O" out of area / unavailable, "P" private
}

// Encode is the MDMF message with its checksum.
func (c CallerID) Encode() []byte {
	var body []byte
	add := func(t byte, v string) {
		if v != "" {
			body = append(body, t, byte(len(v)))
			body = append(body, v...)
		}
	}
	add(ParamDateTime, c.Time)
	add(ParamNumber, c.Number)
	add(ParamAbsence, c.Absence)
	add(ParamName, c.Name)
	msg := append([]byte{TypeMDMF, byte(len(body))}, body...)
	return append(msg, checksum(msg))
}

// checksum makes the message's octets sum to 0 modulo 256.
func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return -s
}

// Errors of Decode.
var (
	ErrChecksum = errors.New("fsk: caller ID checksum does not match")
	ErrFormat   = errors.New("fsk: not a caller ID message")
)

// Decode reads an SDMF or MDMF message (type, length, body, checksum).
func Decode(b []byte) (CallerID, error) {
	var c CallerID
	if len(b) < 3 || int(b[1])+3 > len(b) {
		return c, ErrFormat
	}
	b = b[:int(b[1])+3]
	if checksum(b[:len(b)-1]) != b[len(b)-1] {
		return c, ErrChecksum
	}
	body := b[2 : len(b)-1]
	switch b[0] {
	case TypeSDMF:
		if len(body) < 8 {
			return c, fmt.Errorf("%w: SDMF of %d octets", ErrFormat, len(body))
		}
		c.Time, c.Number = string(body[:8]), string(body[8:])
		if c.Number == "O" || c.Number == "P" {
			c.Absence, c.Number = c.Number, ""
		}
		return c, nil
	case TypeMDMF:
		for len(body) > 0 {
			if len(body) < 2 || int(body[1])+2 > len(body) {
				return c, fmt.Errorf("%w: parameter runs past the message", ErrFormat)
			}
			v := string(body[2 : 2+int(body[1])])
			switch body[0] {
			case ParamDateTime:
				c.Time = v
			case ParamNumber:
				c.Number = v
			case ParamAbsence:
				c.Absence = v
			case ParamName:
				c.Name = v
			}
			body = body[2+int(body[1]):]
		}
		return c, nil
	}
	return c, fmt.Errorf("%w: type 0x%02x", ErrFormat, b[0])
}

// Modulate renders a message as the line carries it: 300 bits of channel
// seizure (alternating 0 and 1), 180 mark bits, then each octet as a
// start bit, 8 data bits LSB first and a stop bit; phase continuous, at
// levelDBm0.
func Modulate(std Standard, msg []byte, levelDBm0 float64) []int16 {
	var bits []bool
	for i := range 300 {
		bits = append(bits, i%2 == 1)
	}
	for range 180 {
		bits = append(bits, true)
	}
	for _, b := range msg {
		bits = append(bits, false)
		for i := range 8 {
			bits = append(bits, b>>i&1 == 1)
		}
		bits = append(bits, true)
	}
	bits = append(bits, true, true, true, true) // a little mark after the last stop bit
	n := len(bits) * media.RateHz / Baud
	out := make([]int16, n)
	peak := media.PeakAt(levelDBm0)
	phase := 0.0
	for i := range out {
		f := std.SpaceHz
		if bits[i*Baud/media.RateHz] {
			f = std.MarkHz
		}
		phase += 2 * math.Pi * f / media.RateHz
		out[i] = int16(math.Round(peak * math.Sin(phase)))
	}
	return out
}
