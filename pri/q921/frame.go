// Package q921 is ITU-T Q.921 (LAPD, ETSI EN 300 125) as a PRI's D-channel
// speaks it. This file is the frame codec: address, control and
// information fields, and the 2-octet frame check sequence that DAHDI
// delivers after each frame and libpri expects.
package q921

import (
	"errors"
	"fmt"

	"jinyin/hal"
)

// Kind is a frame's type (Q.921 §3.6).
type Kind uint8

const (
	I     Kind = iota + 1 // information, numbered
	RR                    // receive ready
	RNR                   // receive not ready
	REJ                   // reject
	SABME                 // set asynchronous balanced mode extended
	DM                    // disconnected mode
	UI                    // unnumbered information
	DISC                  // disconnect
	UA                    // unnumbered acknowledgement
	FRMR                  // frame reject
	XID                   // exchange identification
)

var kindNames = [...]string{"?", "I", "RR", "RNR", "REJ", "SABME", "DM", "UI", "DISC", "UA", "FRMR", "XID"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Frame is one LAPD frame. NS and NR are modulo 128; PF is the poll bit
// of a command or the final bit of a response.
type Frame struct {
	SAPI uint8 // 0 call control, 63 layer 2 management
	TEI  uint8 // 0 on a point-to-point PRI
	CR   bool  // the command/response bit as on the wire
	Kind Kind
	NS   uint8 // I frames
	NR   uint8 // I and supervisory frames
	PF   bool
	Info []byte // I, UI, FRMR and XID frames
}

// Unnumbered control octets without the P/F bit (Q.921 table 5).
var unnumbered = map[Kind]byte{SABME: 0x6F, DM: 0x0F, UI: 0x03, DISC: 0x43, UA: 0x63, FRMR: 0x87, XID: 0xAF}

// Supervisory control octets (the first of two).
var supervisory = map[Kind]byte{RR: 0x01, RNR: 0x05, REJ: 0x09}

// Errors of Parse, for errors.Is.
var (
	ErrShort   = errors.New("q921: frame too short")
	ErrAddress = errors.New("q921: bad address field")
	ErrControl = errors.New("q921: unknown control field")
	ErrFCS     = errors.New("q921: frame check sequence does not match")
)

// maxInfo is N201, the largest information field (Q.921 §5.9.3).
const maxInfo = 260

// Parse reads a frame. With fcs, the frame ends in its 2 FCS octets, which
// are checked.
func Parse(b []byte, fcs bool) (Frame, error) {
	var f Frame
	if fcs {
		if len(b) < 5 {
			return f, ErrShort
		}
		if FCS(b[:len(b)-2]) != uint16(b[len(b)-2])|uint16(b[len(b)-1])<<8 {
			return f, ErrFCS
		}
		b = b[:len(b)-2]
	}
	if len(b) < 3 {
		return f, ErrShort
	}
	if b[0]&1 != 0 || b[1]&1 != 1 {
		return f, ErrAddress
	}
	f.SAPI, f.CR, f.TEI = b[0]>>2, b[0]&2 != 0, b[1]>>1
	c := b[2]
	switch {
	case c&1 == 0: // I
		if len(b) < 4 {
			return f, ErrShort
		}
		f.Kind, f.NS, f.NR, f.PF = I, c>>1, b[3]>>1, b[3]&1 != 0
		f.Info = b[4:]
	case c&3 == 1: // supervisory
		if len(b) != 4 {
			return f, fmt.Errorf("%w: supervisory frame of %d octets", ErrControl, len(b))
		}
		for k, v := range supervisory {
			if v == c {
				f.Kind = k
			}
		}
		if f.Kind == 0 {
			return f, fmt.Errorf("%w: 0x%02x", ErrControl, c)
		}
		f.NR, f.PF = b[3]>>1, b[3]&1 != 0
	default: // unnumbered
		for k, v := range unnumbered {
			if v == c&^0x10 {
				f.Kind = k
			}
		}
		if f.Kind == 0 {
			return f, fmt.Errorf("%w: 0x%02x", ErrControl, c)
		}
		f.PF = c&0x10 != 0
		f.Info = b[3:]
		if len(f.Info) > 0 && f.Kind != UI && f.Kind != FRMR && f.Kind != XID {
			return f, fmt.Errorf("%w: %v with an information field", ErrControl, f.Kind)
		}
	}
	if len(f.Info) > maxInfo {
		return f, fmt.Errorf("q921: information field of %d octets, more than N201 (%d)", len(f.Info), maxInfo)
	}
	if len(f.Info) == 0 {
		f.Info = nil
	}
	return f, nil
}

// Append appends f to dst, followed by its FCS when fcs is set.
func Append(dst []byte, f Frame, fcs bool) ([]byte, error) {
	if f.SAPI > 63 || f.TEI > 127 || f.NS > 127 || f.NR > 127 {
		return dst, fmt.Errorf("q921: field out of range in %+v", f)
	}
	start := len(dst)
	a0 := f.SAPI << 2
	if f.CR {
		a0 |= 2
	}
	dst = append(dst, a0, f.TEI<<1|1)
	pf := byte(0)
	if f.PF {
		pf = 1
	}
	switch f.Kind {
	case I:
		dst = append(dst, f.NS<<1, f.NR<<1|pf)
		dst = append(dst, f.Info...)
	case RR, RNR, REJ:
		dst = append(dst, supervisory[f.Kind], f.NR<<1|pf)
	default:
		c, ok := unnumbered[f.Kind]
		if !ok {
			return dst[:start], fmt.Errorf("q921: no frame kind %v", f.Kind)
		}
		dst = append(dst, c|pf<<4)
		dst = append(dst, f.Info...)
	}
	if fcs {
		s := FCS(dst[start:])
		dst = append(dst, byte(s), byte(s>>8))
	}
	return dst, nil
}

// FCS is the HDLC frame check sequence, sent low octet first: hal.FCS.
func FCS(b []byte) uint16 { return hal.FCS(b) }
