package rtp

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"jinyin/media"
)

// RTCP packets written out by hand from the layouts of RFC 3550 §6.4.1
// (SR), §6.4.2 (RR), §6.5 (SDES) and §6.6 (BYE), field by field; the
// encoder must produce these bytes and the parser read them back.
var (
	// SR, one report block: 4 header + 4 SSRC + 20 sender info + 24 block
	// = 52 octets, length 52/4-1 = 12.
	srBytes = []byte{
		0x81, 0xC8, 0x00, 0x0C, // V=2 P=0 RC=1, PT=200 SR, length 12
		0x11, 0x22, 0x33, 0x44, // SSRC of sender
		0xEA, 0x1B, 0x2C, 0x3D, // NTP timestamp, most significant word (seconds)
		0x40, 0x00, 0x00, 0x00, // NTP timestamp, least significant word (0.25 s)
		0x00, 0x01, 0x2C, 0x00, // RTP timestamp 76800
		0x00, 0x00, 0x00, 0xFA, // sender's packet count 250
		0x00, 0x00, 0x9C, 0x40, // sender's octet count 40000
		0x55, 0x66, 0x77, 0x88, // SSRC_1 (SSRC of first source)
		0x19, 0xFF, 0xFF, 0xFD, // fraction lost 25/256, cumulative lost -3 (24-bit two's complement)
		0x00, 0x01, 0x11, 0x70, // extended highest sequence number: 1 cycle, seq 0x1170
		0x00, 0x00, 0x00, 0x50, // interarrival jitter 80
		0x2C, 0x3D, 0x40, 0x00, // last SR (LSR): middle 32 bits of that SR's NTP time
		0x00, 0x01, 0x80, 0x00, // delay since last SR (DLSR): 1.5 s in 1/65536 s
	}
	srReport = Report{SSRC: 0x11223344, Sender: true, NTPTime: 0xEA1B2C3D40000000, RTPTime: 76800, PacketCount: 250, OctetCount: 40000,
		Blocks: []ReportBlock{{SSRC: 0x55667788, FractionLost: 25, Lost: -3, ExtendedMax: 0x00011170, Jitter: 80, LSR: 0x2C3D4000, DLSR: 0x00018000}}}

	// RR, one report block: 4 + 4 + 24 = 32 octets, length 7.
	rrBytes = []byte{
		0x81, 0xC9, 0x00, 0x07, // V=2 P=0 RC=1, PT=201 RR, length 7
		0x0A, 0x0B, 0x0C, 0x0D, // SSRC of packet sender
		0xDE, 0xAD, 0xBE, 0xEF, // SSRC_1
		0x00, 0x7F, 0xFF, 0xFF, // fraction lost 0, cumulative lost +8388607 (the 24-bit maximum)
		0x00, 0x00, 0xFF, 0xFF, // extended highest sequence number 65535
		0x00, 0x00, 0x01, 0x00, // jitter 256
		0x00, 0x00, 0x00, 0x00, // LSR 0: no SR received yet
		0x00, 0x00, 0x00, 0x00, // DLSR 0
	}
	rrReport = Report{SSRC: 0x0A0B0C0D, Blocks: []ReportBlock{{SSRC: 0xDEADBEEF, Lost: 0x7FFFFF, ExtendedMax: 0xFFFF, Jitter: 256}}}

	// An RR with no blocks (nothing received yet): 8 octets, length 1.
	rrEmptyBytes  = []byte{0x80, 0xC9, 0x00, 0x01, 0x0A, 0x0B, 0x0C, 0x0D}
	rrEmptyReport = Report{SSRC: 0x0A0B0C0D}

	// BYE of one source, no reason: 8 octets, length 1.
	byeBytes = []byte{
		0x81, 0xCB, 0x00, 0x01, // V=2 P=0 SC=1, PT=203 BYE, length 1
		0x11, 0x22, 0x33, 0x44, // SSRC
	}
)

func TestRTCPReportVectors(t *testing.T) {
	for _, c := range []struct {
		name string
		r    Report
		wire []byte
	}{
		{"SR with one block", srReport, srBytes},
		{"RR with one block", rrReport, rrBytes},
		{"RR without blocks", rrEmptyReport, rrEmptyBytes},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := AppendReport(nil, &c.r); !bytes.Equal(got, c.wire) {
				t.Errorf("encoded\n% x\nwant\n% x", got, c.wire)
			}
			got, err := ParseReports(c.wire, nil)
			if err != nil || len(got) != 1 {
				t.Fatalf("parsed %+v, %v", got, err)
			}
			if !reflect.DeepEqual(got[0], c.r) {
				t.Errorf("parsed %+v\nwant   %+v", got[0], c.r)
			}
		})
	}
}

func TestRTCPSDESAndByeVectors(t *testing.T) {
	for _, c := range []struct {
		cname string
		wire  []byte
	}{
		// SSRC 4 + type 1 + length 1 + 14 text = 20, on a word boundary:
		// four nulls (the end of the item list, then padding). 24 + 4 = 28
		// octets, length 6.
		{"alice@10.0.0.5", []byte{
			0x81, 0xCA, 0x00, 0x06, // V=2 P=0 SC=1, PT=202 SDES, length 6
			0x11, 0x22, 0x33, 0x44, // SSRC/CSRC_1
			0x01, 0x0E, // CNAME=1, length 14
			'a', 'l', 'i', 'c', 'e', '@', '1', '0', '.', '0', '.', '0', '.', '5',
			0x00, 0x00, 0x00, 0x00, // end of list, padding to 32 bits
		}},
		// 4 + 2 + 3 = 9: three nulls to 12; 16 octets, length 3.
		{"box", []byte{
			0x81, 0xCA, 0x00, 0x03,
			0x11, 0x22, 0x33, 0x44,
			0x01, 0x03, 'b', 'o', 'x', 0x00, 0x00, 0x00,
		}},
		// 4 + 2 + 1 = 7: one null to 8; 12 octets, length 2.
		{"x", []byte{
			0x81, 0xCA, 0x00, 0x02,
			0x11, 0x22, 0x33, 0x44,
			0x01, 0x01, 'x', 0x00,
		}},
	} {
		if got := AppendSDES(nil, 0x11223344, c.cname); !bytes.Equal(got, c.wire) {
			t.Errorf("SDES CNAME %q:\n% x\nwant\n% x", c.cname, got, c.wire)
		}
	}
	if got := AppendBye(nil, 0x11223344); !bytes.Equal(got, byeBytes) {
		t.Errorf("BYE:\n% x\nwant\n% x", got, byeBytes)
	}
	// A long CNAME is cut at 255 octets: 4 + 2 + 255 = 261, three nulls
	// to 264, 268 octets, length 66.
	long := AppendSDES(nil, 1, string(bytes.Repeat([]byte{'a'}, 300)))
	if len(long) != 268 || long[2] != 0 || long[3] != 66 || long[9] != 255 || long[8+2+255] != 0 {
		t.Errorf("300-octet CNAME: %d octets, header % x, item length %d", len(long), long[:4], long[9])
	}

	// Decoding: the parser walks the compound packet SR, SDES, BYE, RR
	// by their length fields and returns the two reports.
	var compound []byte
	compound = append(compound, srBytes...)
	compound = append(compound, 0x81, 0xCA, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x01, 0x03, 'b', 'o', 'x', 0x00, 0x00, 0x00)
	compound = append(compound, byeBytes...)
	compound = append(compound, rrBytes...)
	got, err := ParseReports(compound, nil)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], srReport) || !reflect.DeepEqual(got[1], rrReport) {
		t.Errorf("compound SR+SDES+BYE+RR parsed as %+v, %v", got, err)
	}
}

// TestRTCPParseRejects: packets RFC 3550 §6.4/appendix A.2 makes invalid.
func TestRTCPParseRejects(t *testing.T) {
	short := func(b []byte, n int) []byte { return append([]byte(nil), b[:n]...) }
	withLen := func(b []byte, words uint16) []byte {
		c := append([]byte(nil), b...)
		binary.BigEndian.PutUint16(c[2:], words)
		return c
	}
	for _, c := range []struct {
		name string
		p    []byte
	}{
		{"three octets", short(rrEmptyBytes, 3)},
		{"version 1", append([]byte{0x40}, rrEmptyBytes[1:]...)},
		{"version 3", append([]byte{0xC0}, rrEmptyBytes[1:]...)},
		{"length past the end", withLen(rrEmptyBytes, 2)},
		{"RR without its SSRC", []byte{0x80, 0xC9, 0x00, 0x00}},
		{"SR with 16 of 20 sender info octets", withLen(short(srBytes, 24), 5)},
		{"SR claiming a block it lacks", withLen(short(srBytes, 28), 6)},
		{"RR claiming two blocks, carrying one", append([]byte{0x82}, rrBytes[1:]...)},
		{"a good SR, then a truncated RR", append(append([]byte(nil), srBytes...), rrBytes[:10]...)},
	} {
		if got, err := ParseReports(c.p, nil); err == nil {
			t.Errorf("%s: % x accepted as %+v", c.name, c.p, got)
		}
	}
	// The smallest SR: header, SSRC and sender info, no blocks (28 octets).
	sr0 := withLen(short(srBytes, 28), 6)
	sr0[0] = 0x80
	if got, err := ParseReports(sr0, nil); err != nil || len(got) != 1 || !got[0].Sender || got[0].OctetCount != 40000 || len(got[0].Blocks) != 0 {
		t.Errorf("SR without blocks: %+v, %v", got, err)
	}
	// The destination slice is reused, not appended to.
	dst := []Report{{SSRC: 99}}
	if got, _ := ParseReports(rrEmptyBytes, dst); len(got) != 1 || got[0].SSRC != 0x0A0B0C0D {
		t.Errorf("reused slice: %+v", got)
	}
}

// rtcpPackets splits a compound RTCP packet into its packets.
func rtcpPackets(t *testing.T, p []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(p) > 0 {
		if len(p) < 4 {
			t.Fatalf("trailing % x", p)
		}
		n := 4 * (int(binary.BigEndian.Uint16(p[2:])) + 1)
		if n > len(p) {
			t.Fatalf("packet of %d octets in %d", n, len(p))
		}
		out = append(out, p[:n])
		p = p[n:]
	}
	return out
}

// TestSessionRTCPCompound: what a session sends to the peer's RTCP port
// (its RTP port + 1) is a compound packet of RFC 3550 §6.1: a report first,
// then an SDES with the CNAME of the same SSRC; when it closes, a BYE of
// that SSRC after them (§6.6).
func TestSessionRTCPCompound(t *testing.T) {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	rtcpPort := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 38200, 38299)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.rtcpEvery = 1
	s.Start(Params{Remote: netip.AddrPortFrom(rtcpPort.Addr(), rtcpPort.Port()-1), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	buf := make([]byte, 1500)
	read := func() [][]byte {
		peer.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := peer.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		return rtcpPackets(t, append([]byte(nil), buf[:n]...))
	}
	check := func(ps [][]byte, wantBye bool) {
		t.Helper()
		if want := map[bool]int{false: 2, true: 3}[wantBye]; len(ps) != want {
			t.Fatalf("%d packets, want %d", len(ps), want)
		}
		if pt := ps[0][1]; pt != TypeSR && pt != TypeRR {
			t.Fatalf("first packet type %d, want SR or RR", pt)
		}
		ssrc := binary.BigEndian.Uint32(ps[0][4:])
		sdes := ps[1]
		if sdes[0] != 0x81 || sdes[1] != TypeSDES || binary.BigEndian.Uint32(sdes[4:]) != ssrc || sdes[8] != 1 {
			t.Fatalf("second packet % x, want one SDES chunk with the CNAME of %08x", sdes, ssrc)
		}
		if l := int(sdes[9]); l == 0 || 10+l >= len(sdes) || sdes[10+l] != 0 {
			t.Errorf("CNAME item % x: empty or not null-terminated", sdes[8:])
		}
		if wantBye && !bytes.Equal(ps[2], binary.BigEndian.AppendUint32([]byte{0x81, TypeBYE, 0, 1}, ssrc)) {
			t.Errorf("last packet % x, want a BYE of %08x", ps[2], ssrc)
		}
	}
	s.Tick()
	first := read()
	check(first, false)
	s.Tick()
	if second := read(); !bytes.Equal(second[1], first[1]) {
		t.Errorf("CNAME changed within the session: % x, then % x", first[1], second[1])
	}
	s.Close()
	check(read(), true)
}
