package rtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RTCP packet types (RFC 3550 §12.1).
const (
	TypeSR   = 200
	TypeRR   = 201
	TypeSDES = 202
	TypeBYE  = 203
)

// sdesCNAME is the SDES item type of the canonical name (RFC 3550 §12.2).
const sdesCNAME = 1

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
		// Cumulative lost is 24 bits signed: clamped, not wrapped (RFC 3550 A.3).
		lost := min(max(rb.Lost, -0x800000), 0x7FFFFF)
		b = binary.BigEndian.AppendUint32(b, rb.SSRC)
		b = binary.BigEndian.AppendUint32(b, uint32(rb.FractionLost)<<24|uint32(lost)&0xFFFFFF)
		b = binary.BigEndian.AppendUint32(b, rb.ExtendedMax)
		b = binary.BigEndian.AppendUint32(b, rb.Jitter)
		b = binary.BigEndian.AppendUint32(b, rb.LSR)
		b = binary.BigEndian.AppendUint32(b, rb.DLSR)
	}
	return b
}

// AppendSDES appends an SDES packet of one chunk, ssrc and its CNAME item
// (RFC 3550 §6.5.1), which every compound RTCP packet must carry (§6.1).
// The item list ends with a null octet and the chunk is padded with nulls
// to a 32-bit boundary, so a chunk that already ends on one gets four. A
// CNAME is cut at 255 octets, the most an item's length can say.
func AppendSDES(b []byte, ssrc uint32, cname string) []byte {
	cname = cname[:min(len(cname), 255)]
	chunk := 4 + 2 + len(cname)
	nulls := 4 - chunk%4
	b = append(b, 0x81, TypeSDES)
	b = binary.BigEndian.AppendUint16(b, uint16((chunk+nulls)/4))
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = append(b, sdesCNAME, byte(len(cname)))
	b = append(b, cname...)
	return append(b, make([]byte, nulls)...)
}

// AppendBye appends a BYE packet for ssrc, without a reason (RFC 3550 §6.6).
func AppendBye(b []byte, ssrc uint32) []byte {
	b = append(b, 0x81, TypeBYE, 0, 1)
	return binary.BigEndian.AppendUint32(b, ssrc)
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
