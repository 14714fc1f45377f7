// Package rtp is the box's RTP media plumbing (RFC 3550): the packet
// header, RFC 4733 telephone events (receiver and sender), in-band DTMF
// sent to a peer that agreed no telephone-event, receive statistics with
// loss and interarrival jitter, an adaptive jitter buffer, and RTCP
// sender and receiver reports.
//
// Layer: media; imports the standard library and the box's own media
// packages (G.711, the DTMF receiver, the tone generator), never
// signalling. Everything on the per-packet path works on caller-owned
// buffers and allocates nothing.
package rtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderLen is the fixed RTP header length, without CSRCs or extension.
const HeaderLen = 12

// Header is an RTP fixed header.
type Header struct {
	Marker      bool
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
}

// Errors for errors.Is.
var (
	ErrShort   = errors.New("rtp: packet shorter than its header")
	ErrVersion = errors.New("rtp: not RTP version 2")
)

// Parse reads an RTP packet: its header and the payload, a sub-slice of
// buf (CSRCs, header extension and padding skipped).
func Parse(buf []byte) (h Header, payload []byte, err error) {
	if len(buf) < HeaderLen {
		return h, nil, ErrShort
	}
	if buf[0]>>6 != 2 {
		return h, nil, ErrVersion
	}
	h.Marker = buf[1]&0x80 != 0
	h.PayloadType = buf[1] & 0x7F
	h.Seq = binary.BigEndian.Uint16(buf[2:])
	h.Timestamp = binary.BigEndian.Uint32(buf[4:])
	h.SSRC = binary.BigEndian.Uint32(buf[8:])
	off := HeaderLen + 4*int(buf[0]&0x0F)
	if buf[0]&0x10 != 0 { // extension: 16-bit profile, 16-bit length in words
		if len(buf) < off+4 {
			return h, nil, ErrShort
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(buf[off+2:]))
	}
	end := len(buf)
	if buf[0]&0x20 != 0 { // padding: the last byte counts it
		pad := int(buf[len(buf)-1])
		if pad == 0 || end-pad < off {
			return h, nil, fmt.Errorf("%w: padding of %d bytes", ErrShort, pad)
		}
		end -= pad
	}
	if off > end {
		return h, nil, ErrShort
	}
	return h, buf[off:end], nil
}

// Put writes h as a 12-byte header into buf, which must hold HeaderLen bytes.
func (h Header) Put(buf []byte) {
	buf[0] = 0x80
	buf[1] = h.PayloadType & 0x7F
	if h.Marker {
		buf[1] |= 0x80
	}
	binary.BigEndian.PutUint16(buf[2:], h.Seq)
	binary.BigEndian.PutUint32(buf[4:], h.Timestamp)
	binary.BigEndian.PutUint32(buf[8:], h.SSRC)
}

// SeqLess reports whether a comes before b in sequence-number order, with
// wrap-around (RFC 1982 serial arithmetic on 16 bits).
func SeqLess(a, b uint16) bool { return int16(a-b) < 0 }

// TSLess is SeqLess for 32-bit timestamps.
func TSLess(a, b uint32) bool { return int32(a-b) < 0 }
