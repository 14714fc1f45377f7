package rtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RTCP packet types (RFC 3550 §12.1).
const (
	TypeSR = 200
	TypeRR = 201
)

// ReportBlock is one reception report (RFC 3550 §6.4.1).
type ReportBlock struct {
	SSRC         uint32
	FractionLost uint8  // 1/256
	Lost         int32  // cumulative, 24 bits signed
	ExtendedMax  uint32 // extended highest sequence number
	Jitter       uint32 // timestamp units
	LSR, DLSR    uint32
}

// Report is a sender report (with Sender set) or a receiver report.
type Report struct {
	SSRC        uint32
	Sender      bool
	NTPTime     uint64
	RTPTime     uint32
	PacketCount uint32
	OctetCount  uint32
	Blocks      []ReportBlock
}

// ErrRTCP is returned for a malformed RTCP packet.
var ErrRTCP = errors.New("rtp: malformed RTCP")

// AppendReport appends r as one SR or RR packet (at most 31 blocks).
func AppendReport(b []byte, r *Report) []byte {
	n := len(r.Blocks)
	pt, words := byte(TypeRR), 1+6*n
	if r.Sender {
		pt, words = TypeSR, 6+6*n
	}
	b = append(b, 0x80|byte(n), pt)
	b = binary.BigEndian.AppendUint16(b, uint16(words))
	b = binary.BigEndian.AppendUint32(b, r.SSRC)
	if r.Sender {
		b = binary.BigEndian.AppendUint64(b, r.NTPTime)
		b = binary.BigEndian.AppendUint32(b, r.RTPTime)
		b = binary.BigEndian.AppendUint32(b, r.PacketCount)
		b = binary.BigEndian.AppendUint32(b, r.OctetCount)
	}
	for _, rb := range r.Blocks {
		b = binary.BigEndian.AppendUint32(b, rb.SSRC)
		b = binary.BigEndian.AppendUint32(b, uint32(rb.FractionLost)<<24|uint32(rb.Lost)&0xFFFFFF)
		b = binary.BigEndian.AppendUint32(b, rb.ExtendedMax)
		b = binary.BigEndian.AppendUint32(b, rb.Jitter)
		b = binary.BigEndian.AppendUint32(b, rb.LSR)
		b = binary.BigEndian.AppendUint32(b, rb.DLSR)
	}
	return b
}

// ParseReports reads the SR and RR packets of a compound RTCP packet into
// dst (reused), skipping other packet types (SDES, BYE, APP).
func ParseReports(p []byte, dst []Report) ([]Report, error) {
	dst = dst[:0]
	for len(p) > 0 {
		if len(p) < 4 || p[0]>>6 != 2 {
			return dst, fmt.Errorf("%w: bad header", ErrRTCP)
		}
		count, pt := int(p[0]&0x1F), p[1]
		size := 4 * (int(binary.BigEndian.Uint16(p[2:])) + 1)
		if size > len(p) {
			return dst, fmt.Errorf("%w: length %d past the end", ErrRTCP, size)
		}
		body := p[4:size]
		p = p[size:]
		if pt != TypeSR && pt != TypeRR {
			continue
		}
		var r Report
		if len(body) < 4 {
			return dst, fmt.Errorf("%w: report without SSRC", ErrRTCP)
		}
		r.SSRC = binary.BigEndian.Uint32(body)
		body = body[4:]
		if pt == TypeSR {
			if len(body) < 20 {
				return dst, fmt.Errorf("%w: short sender info", ErrRTCP)
			}
			r.Sender = true
			r.NTPTime = binary.BigEndian.Uint64(body)
			r.RTPTime = binary.BigEndian.Uint32(body[8:])
			r.PacketCount = binary.BigEndian.Uint32(body[12:])
			r.OctetCount = binary.BigEndian.Uint32(body[16:])
			body = body[20:]
		}
		if len(body) < 24*count {
			return dst, fmt.Errorf("%w: %d report blocks do not fit", ErrRTCP, count)
		}
		for i := 0; i < count; i++ {
			q := body[24*i:]
			lost := int32(binary.BigEndian.Uint32(q[4:])<<8) >> 8
			r.Blocks = append(r.Blocks, ReportBlock{
				SSRC: binary.BigEndian.Uint32(q), FractionLost: q[4], Lost: lost,
				ExtendedMax: binary.BigEndian.Uint32(q[8:]), Jitter: binary.BigEndian.Uint32(q[12:]),
				LSR: binary.BigEndian.Uint32(q[16:]), DLSR: binary.BigEndian.Uint32(q[20:]),
			})
		}
		dst = append(dst, r)
	}
	return dst, nil
}
