package rtp

import (
	"bytes"
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"jinyin/media"
)

// peerPair binds a loopback RTP socket on an even port and its RTCP
// socket on the port above, as RFC 3550 §11 pairs them.
func peerPair(t *testing.T) (rtpConn, rtcpConn *net.UDPConn) {
	t.Helper()
	for range 100 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 && port < 65535 {
			if b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1}); err == nil {
				t.Cleanup(func() { a.Close(); b.Close() })
				return a, b
			}
		}
		a.Close()
	}
	t.Fatal("no free even/odd loopback port pair")
	return nil, nil
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// openOn opens a session from a pool over [lo, hi], closed at the end.
func openOn(t *testing.T, lo, hi int) *Session {
	t.Helper()
	s, err := NewPortPool(netip.MustParseAddr("127.0.0.1"), lo, hi).Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// readFrom reads one datagram, failing after a second without one.
func readFrom(t *testing.T, c *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("reading from %v: %v", c.LocalAddr(), err)
	}
	return buf[:n]
}

// waitReadable blocks until a datagram waits on the raw descriptor fd.
func waitReadable(t *testing.T, fd int) {
	t.Helper()
	for range 10 {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 1000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != 1 {
			t.Fatalf("poll: %d %v", n, err)
		}
		return
	}
	t.Fatal("poll interrupted ten times")
}

// ntpSeconds is an NTP timestamp (RFC 3550 §4) in float seconds.
func ntpSeconds(ntp uint64) float64 { return float64(ntp>>32) + float64(uint32(ntp))/(1<<32) }

func nowNTPSeconds() float64 {
	now := time.Now()
	return float64(now.Unix()+2208988800) + float64(now.Nanosecond())/1e9
}

// TestWireAudioEventAudio: what a session sends, packet by packet: audio,
// then an RFC 4733 digit in place of audio, then audio again. RFC 3550
// §5.1: the sequence number goes up by one per packet whatever it
// carries, the timestamp by 160 per 20 ms frame; RFC 4733 §2.5.1: every
// packet of the event carries its start timestamp, the first has the
// marker, the duration grows by 160 to 800 and the end packet goes three
// times. The sender report after them counts the 11 packets and their
// 668 payload octets (§6.4.1).
func TestWireAudioEventAudio(t *testing.T) {
	peer, peerRTCP := peerPair(t)
	s := openOn(t, 39300, 39399)
	s.Start(Params{Remote: addrOf(peer), Codec: media.PCMA, CodecPT: 8, EventPT: 101, Send: true}, func(media.Event) {})
	type sent struct {
		h       Header
		payload []byte
	}
	var got []sent
	tick := func(n int) {
		for range n {
			s.Tick()
			h, payload, err := Parse(readFrom(t, peer))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, sent{h, append([]byte(nil), payload...)})
		}
	}
	tick(2)
	if err := s.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	tick(9)
	seq0, ts0, ssrc := got[0].h.Seq, got[0].h.Timestamp, got[0].h.SSRC
	silence := bytes.Repeat([]byte{0xD5}, 160) // A-law +0 (G.711 Table 1a)
	for i, p := range got {
		if p.h.Seq != seq0+uint16(i) || p.h.SSRC != ssrc {
			t.Errorf("packet %d: seq %d SSRC %08x, want %d %08x", i, p.h.Seq, p.h.SSRC, seq0+uint16(i), ssrc)
		}
		switch {
		case i < 2 || i >= 9: // audio
			wantTS := ts0 + 160*uint32(i)
			if p.h.PayloadType != 8 || p.h.Marker || p.h.Timestamp != wantTS || !bytes.Equal(p.payload, silence) {
				t.Errorf("packet %d: PT %d marker %v ts %d payload % x..., want PCMA silence at ts %d", i, p.h.PayloadType, p.h.Marker, p.h.Timestamp, p.payload[:min(4, len(p.payload))], wantTS)
			}
		default: // the event, packets 2 to 8
			k := i - 2
			e, err := ParseEvent(p.payload)
			want := Event{Code: 5, Volume: 10, Duration: uint16(min(160*(k+1), 800)), End: k >= 4}
			if err != nil || len(p.payload) != 4 || e != want || p.h.PayloadType != 101 || p.h.Timestamp != ts0+320 || p.h.Marker != (k == 0) {
				t.Errorf("event packet %d: PT %d ts %d marker %v %+v, want PT 101 ts %d marker %v %+v", k, p.h.PayloadType, p.h.Timestamp, p.h.Marker, e, ts0+320, k == 0, want)
			}
		}
	}
	s.Close()
	ps := rtcpPackets(t, readFrom(t, peerRTCP))
	r, err := ParseReports(ps[0], nil)
	if err != nil || len(r) != 1 {
		t.Fatalf("report: %+v %v", r, err)
	}
	sr := r[0]
	if !sr.Sender || sr.SSRC != ssrc || sr.PacketCount != 11 || sr.OctetCount != 668 || sr.RTPTime != ts0+11*160 {
		t.Errorf("sender report %+v: want SSRC %08x, 11 packets, 668 octets, RTP time %d", sr, ssrc, ts0+11*160)
	}
	if d := math.Abs(ntpSeconds(sr.NTPTime) - nowNTPSeconds()); d > 2 {
		t.Errorf("NTP time %#x is %.1f s from the wall clock", sr.NTPTime, d)
	}
}

// TestReceiverReportBeforeSending: a session that has sent nothing yet
// reports as a receiver (RFC 3550 §6.4: SR only from active senders), with
// no reception block while it has no source.
func TestReceiverReportBeforeSending(t *testing.T) {
	peer, peerRTCP := peerPair(t)
	s := openOn(t, 39400, 39499)
	s.Start(Params{Remote: addrOf(peer), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	s.Close()
	ps := rtcpPackets(t, readFrom(t, peerRTCP))
	if len(ps) != 3 || ps[0][1] != TypeRR || ps[0][0] != 0x80 || len(ps[0]) != 8 {
		t.Fatalf("packets % x, want an RR without blocks first", ps)
	}
}

// aLawSrc is a stored A-law prompt.
type aLawSrc struct{ a []byte }

func (s *aLawSrc) FillALaw(dst []byte) int {
	n := copy(dst, s.a)
	s.a = s.a[n:]
	return n
}

func (s *aLawSrc) Fill(dst []int16) int {
	n := min(len(dst), len(s.a))
	for i := range n {
		dst[i] = alawToLinear(s.a[i])
	}
	s.a = s.a[n:]
	return n
}

// TestALawPromptEndsMidFrame: a prompt that ends 100 samples into a frame
// fills the other 60 with the call codec's silence (µ-law 0xFF), not with
// what the frame before held, and its play ends with that frame.
func TestALawPromptEndsMidFrame(t *testing.T) {
	peer, _ := peerPair(t)
	s := openOn(t, 39500, 39599)
	var evs []media.Event
	s.Start(Params{Remote: addrOf(peer), Codec: media.PCMU, CodecPT: 0, Send: true}, func(e media.Event) { evs = append(evs, e) })
	prompt := bytes.Repeat([]byte{0xAA}, 260) // A-law 0xAA: +32256 (G.711 Table 1a)
	id := s.Play(&aLawSrc{a: prompt})
	want := linearToUlaw(alawToLinear(0xAA))
	s.Tick()
	_, p1, _ := Parse(readFrom(t, peer))
	if !bytes.Equal(p1, bytes.Repeat([]byte{want}, 160)) || len(evs) != 0 {
		t.Fatalf("first frame % x..., events %+v", p1[:4], evs)
	}
	s.Tick()
	_, p2, _ := Parse(readFrom(t, peer))
	if !bytes.Equal(p2[:100], bytes.Repeat([]byte{want}, 100)) || !bytes.Equal(p2[100:], bytes.Repeat([]byte{0xFF}, 60)) {
		t.Errorf("last frame: % x, want 100 × %02x then 60 × ff", p2, want)
	}
	if len(evs) != 1 || evs[0].Kind != media.EventPlayDone || evs[0].Play != id {
		t.Errorf("events %+v, want the play-done of %d", evs, id)
	}
}

// TestPlayIDsCountFromOne: media.PlayID's contract: each Play gets the
// next id, from 1.
func TestPlayIDsCountFromOne(t *testing.T) {
	s := openOn(t, 39600, 39699)
	for want := media.PlayID(1); want <= 3; want++ {
		if got := s.Play(nil); got != want {
			t.Errorf("Play: id %d, want %d", got, want)
		}
	}
}

// rtpPacket is a PCMA packet of the given payload.
func rtpPacket(seq uint16, ts, ssrc uint32, pt uint8, payload []byte) []byte {
	b := make([]byte, HeaderLen+len(payload))
	Header{PayloadType: pt, Seq: seq, Timestamp: ts, SSRC: ssrc}.Put(b)
	copy(b[HeaderLen:], payload)
	return b
}

// TestStrictLatching: a packet from the SDP address is taken at once; a
// source at another address only after three in a row with consecutive
// sequence numbers (a gap starts the count again); once latched, nothing
// else is taken.
func TestStrictLatching(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:40000")
	nat := netip.MustParseAddrPort("127.0.0.2:50000")
	other := netip.MustParseAddrPort("127.0.0.3:50000")
	frame := make([]byte, 160)
	s := openOn(t, 39700, 39799)
	s.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	latchedTo := func() (bool, netip.AddrPort) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.latched, s.remote
	}
	for i, seq := range []uint16{10, 11, 13, 14} { // the gap at 13 restarts the count
		s.packet(rtpPacket(seq, 0, 1, 8, frame), nat)
		if l, r := latchedTo(); l || r != sdp || s.Foreign.Load() != uint64(i+1) {
			t.Fatalf("after %d packets from the NAT address: latched %v to %v, foreign %d", i+1, l, r, s.Foreign.Load())
		}
	}
	s.packet(rtpPacket(15, 0, 1, 8, frame), nat) // 13, 14, 15: three in a row
	if l, r := latchedTo(); !l || r != nat || s.Foreign.Load() != 4 {
		t.Fatalf("after three in sequence: latched %v to %v, foreign %d", l, r, s.Foreign.Load())
	}
	for seq := range uint16(5) {
		s.packet(rtpPacket(seq, 0, 2, 8, frame), other)
	}
	if _, r := latchedTo(); r != nat || s.Foreign.Load() != 9 {
		t.Errorf("another source took the stream: %v, foreign %d", r, s.Foreign.Load())
	}

	u := openOn(t, 39800, 39899)
	u.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	u.packet(rtpPacket(7, 0, 3, 8, frame), sdp)
	if u.Foreign.Load() != 0 || !u.latched || u.remote != sdp {
		t.Errorf("a packet from the SDP address not taken at once: foreign %d latched %v", u.Foreign.Load(), u.latched)
	}
}

// TestSSRCChangeRestartsStatistics: the latched source's new SSRC is a new
// stream for RFC 3550 A.1: its statistics start over, on probation.
func TestSSRCChangeRestartsStatistics(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:40002")
	s := openOn(t, 39900, 39999)
	s.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	frame := make([]byte, 160)
	for seq := uint16(100); seq < 110; seq++ {
		s.packet(rtpPacket(seq, uint32(seq)*160, 0xAAAA, 8, frame), sdp)
	}
	if rec, lost, _ := s.Stats(); rec != 9 || lost != 0 {
		t.Fatalf("first SSRC: received %d lost %d, want 9 0", rec, lost)
	}
	for seq := uint16(5000); seq < 5003; seq++ {
		s.packet(rtpPacket(seq, 0, 0xBBBB, 8, frame), sdp)
	}
	if rec, lost, _ := s.Stats(); rec != 2 || lost != 0 {
		t.Errorf("after the SSRC change: received %d lost %d, want 2 0", rec, lost)
	}
}

// TestSessionJitterInMilliseconds: packets whose timestamps step 160
// (20 ms) arriving all at once: each transit differs from the last by 160
// samples, so after the first counted packet and 18 more J = 160·(1 −
// (15/16)^18) ≈ 110 samples (RFC 3550 A.8), 13.7 ms; Stats says ms.
func TestSessionJitterInMilliseconds(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:40004")
	s := openOn(t, 40100, 40199)
	s.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	frame := make([]byte, 160)
	for i := range uint16(20) {
		s.packet(rtpPacket(1+i, 1000+160*uint32(i), 9, 8, frame), sdp)
	}
	rec, lost, jitterMs := s.Stats()
	if rec != 19 || lost != 0 {
		t.Errorf("received %d lost %d, want 19 0", rec, lost)
	}
	// Arrival spread (scheduling) only lowers |D|; allow for some.
	if jitterMs < 9 || jitterMs > 14 {
		t.Errorf("jitter %.2f ms, want about 13.7", jitterMs)
	}
}

// TestListenPlaysReceivedAudio: Listen hears the source's audio packets
// through the jitter buffer, decoded; telephone-event packets are not
// audio (their sequence number plays as a lost frame, silence).
func TestListenPlaysReceivedAudio(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:40006")
	s := openOn(t, 40200, 40299)
	s.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, EventPT: 101, Send: true}, func(media.Event) {})
	s.packet(rtpPacket(1, 0, 9, 8, bytes.Repeat([]byte{0xAA}, 160)), sdp) // before Listen: not kept
	l := s.Listen()
	ev := make([]byte, 4)
	Event{Code: 1, Volume: 10, Duration: 160}.Put(ev)
	s.packet(rtpPacket(2, 160, 9, 8, bytes.Repeat([]byte{0x2A}, 160)), sdp)
	s.packet(rtpPacket(3, 320, 9, 101, ev), sdp)
	s.packet(rtpPacket(4, 320, 9, 8, bytes.Repeat([]byte{0xD5}, 160)), sdp)
	want := []int16{alawToLinear(0x2A), 0, alawToLinear(0xD5)} // -32256, lost, +8
	dst := make([]int16, 160)
	for i, w := range want {
		for k := range dst {
			dst[k] = 1234
		}
		if n := l.Fill(dst); n != 160 {
			t.Fatalf("frame %d: filled %d", i, n)
		}
		for k, v := range dst {
			if v != w {
				t.Fatalf("frame %d sample %d: %d, want %d", i, k, v, w)
			}
		}
	}
}

// TestEventExpiresAfterASilentSecond: an RFC 4733 event whose end packets
// never come is ended once a second passes without an event packet, and
// not before.
func TestEventExpiresAfterASilentSecond(t *testing.T) {
	sdp := netip.MustParseAddrPort("127.0.0.1:9")
	s := openOn(t, 40300, 40399)
	var c collector
	s.Start(Params{Remote: sdp, Codec: media.PCMA, CodecPT: 8, EventPT: 101, Send: true}, c.on)
	ev := make([]byte, 4)
	Event{Code: 3, Volume: 10, Duration: 160}.Put(ev)
	s.packet(rtpPacket(1, 8000, 9, 101, ev), sdp)
	s.Tick() // a moment later: still under way
	if s.events.State != EventActive || c.digits != "3" {
		t.Fatalf("state %d digits %q, want the event active and 3 reported", s.events.State, c.digits)
	}
	s.lastEvt = s.lastEvt.Add(-1100 * time.Millisecond) // as if its last packet came 1.1 s ago
	s.Tick()
	if s.events.State != EventEnded {
		t.Errorf("state %d after a silent second, want ended", s.events.State)
	}
}

// TestRTCPInAndDLSR: the peer's SR reaches the session's RTCP port (its RTP
// port + 1); of its blocks, the one about our SSRC is kept. Our next report
// carries LSR, the middle 32 bits of that SR's NTP time, and DLSR, the
// delay since it came in 1/65536 s (RFC 3550 §6.4.1).
func TestRTCPInAndDLSR(t *testing.T) {
	peer, peerRTCP := peerPair(t)
	s := openOn(t, 40400, 40499)
	s.Start(Params{Remote: addrOf(peer), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	s.packet(rtpPacket(1, 0, 0x1234, 8, make([]byte, 160)), addrOf(peer)) // latch
	ours := ReportBlock{SSRC: s.ssrc, FractionLost: 12, Lost: 3, ExtendedMax: 70000, Jitter: 40, LSR: 0x01020304, DLSR: 0x8000}
	sr := Report{SSRC: 0x1234, Sender: true, NTPTime: 0xEA1B2C3D_40000000, RTPTime: 8000, PacketCount: 10, OctetCount: 1600,
		Blocks: []ReportBlock{ours, {SSRC: s.ssrc ^ 1, Lost: 99}}}
	pkt := AppendSDES(AppendReport(nil, &sr), 0x1234, "peer")
	if _, err := peerRTCP.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(s.Local().Port()) + 1}); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, s.rtcpFD)
	s.Tick()
	readFrom(t, peer) // this tick's audio
	if got := s.PeerReport.Load(); got == nil || *got != ours {
		t.Fatalf("peer report %+v, want %+v", got, ours)
	}
	s.mu.Lock()
	s.lastSRAt = s.lastSRAt.Add(-1500 * time.Millisecond) // as if the SR came 1.5 s ago
	s.mu.Unlock()
	s.Close()
	r, err := ParseReports(readFrom(t, peerRTCP), nil)
	if err != nil || len(r) != 1 || len(r[0].Blocks) != 1 {
		t.Fatalf("our report: %+v %v", r, err)
	}
	b := r[0].Blocks[0]
	if b.SSRC != 0x1234 || b.LSR != 0x2C3D4000 {
		t.Errorf("block %+v: want SSRC 1234 and LSR 2c3d4000", b)
	}
	if b.DLSR < 1500*65536/1000 || b.DLSR > 2500*65536/1000 { // 1.5 s, give or take the test's own time
		t.Errorf("DLSR %d (%.3f s), want 1.5 s", b.DLSR, float64(b.DLSR)/65536)
	}
}

// TestReceiveDatagramSizes: the receive buffer is 512 octets: a datagram
// of 512 is handled, RTP and RTCP alike; a longer one is dropped whole,
// not read cut short.
func TestReceiveDatagramSizes(t *testing.T) {
	peer, peerRTCP := peerPair(t)
	s := openOn(t, 40500, 40599)
	s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	local := net.UDPAddrFromAddrPort(s.Local())
	for _, c := range []struct {
		size    int
		foreign uint64
	}{{512, 1}, {513, 1}, {600, 1}, {172, 2}} {
		// From an address that is not the SDP's: counted as foreign
		// when it is read and parsed.
		if _, err := peer.WriteToUDP(rtpPacket(1, 0, 5, 8, make([]byte, c.size-HeaderLen)), local); err != nil {
			t.Fatal(err)
		}
		waitReadable(t, s.fd)
		s.Tick()
		if got := s.Foreign.Load(); got != c.foreign {
			t.Errorf("after a %d-octet datagram: %d foreign, want %d", c.size, got, c.foreign)
		}
	}
	rtcpLocal := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: local.Port + 1}
	ours := ReportBlock{SSRC: s.ssrc, Jitter: 7}
	for _, c := range []struct {
		size   int
		jitter uint32
	}{{512, 7}, {516, 8}} {
		// An RR (32 octets), then an APP packet (RFC 3550 §6.7, type 204)
		// making up the size, which the parser skips.
		pkt := AppendReport(nil, &Report{SSRC: 1, Blocks: []ReportBlock{{SSRC: s.ssrc, Jitter: c.jitter}}})
		app := make([]byte, c.size-len(pkt))
		app[0], app[1] = 0x80, 204
		binary.BigEndian.PutUint16(app[2:], uint16(len(app)/4-1))
		pkt = append(pkt, app...)
		if len(pkt) != c.size {
			t.Fatalf("compound of %d octets, want %d", len(pkt), c.size)
		}
		if _, err := peerRTCP.WriteToUDP(pkt, rtcpLocal); err != nil {
			t.Fatal(err)
		}
		waitReadable(t, s.rtcpFD)
		for range rtcpPoll { // the RTCP socket is read every rtcpPoll ticks
			s.Tick()
		}
	}
	if got := s.PeerReport.Load(); got == nil || *got != ours {
		t.Errorf("peer report %+v, want the 512-octet packet's %+v, not the later 516-octet one's", got, ours)
	}
}

// TestStartAgainUnlatches: a session started again on another address
// (early media from one, the answer's SDP naming another) learns its far
// end afresh; started again on the same address, it stays latched.
func TestStartAgainUnlatches(t *testing.T) {
	s := openOn(t, 40600, 40699)
	a, b := netip.MustParseAddrPort("127.0.0.1:9000"), netip.MustParseAddrPort("127.0.0.1:9002")
	s.Start(Params{Remote: a, Codec: media.PCMA, CodecPT: 8, Send: true}, nil)
	s.mu.Lock()
	s.latched = true
	s.mu.Unlock()
	s.Start(Params{Remote: a, Codec: media.PCMA, CodecPT: 8, Send: true}, nil)
	s.mu.Lock()
	same := s.latched
	s.mu.Unlock()
	s.Start(Params{Remote: b, Codec: media.PCMA, CodecPT: 8, Send: true}, nil)
	s.mu.Lock()
	other, remote := s.latched, s.remote
	s.mu.Unlock()
	if !same || other || remote != b {
		t.Errorf("latched after a start on the same address %v, on another %v (remote %v)", same, other, remote)
	}
}

// TestReceiveDrainsABurst: packets that queued up (a burst after a
// network stall) are all read in one tick, batch after batch.
func TestReceiveDrainsABurst(t *testing.T) {
	peer, _ := peerPair(t)
	s := openOn(t, 40700, 40799)
	s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	local := net.UDPAddrFromAddrPort(s.Local())
	for i := range 2*batch + 1 {
		// Out of sequence: the address never latches, all are foreign.
		if _, err := peer.WriteToUDP(rtpPacket(uint16(10*i), 160*uint32(i), 5, 8, make([]byte, 160)), local); err != nil {
			t.Fatal(err)
		}
	}
	waitReadable(t, s.fd)
	time.Sleep(10 * time.Millisecond) // all of them on the socket
	s.Tick()
	if got := s.Foreign.Load(); got != 2*batch+1 {
		t.Errorf("read in one tick: %d of %d packets", got, 2*batch+1)
	}
}
