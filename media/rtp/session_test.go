package rtp

import (
	"context"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/prompt"
)

type pcmSource struct{ pcm []int16 }

func (p *pcmSource) Fill(dst []int16) int {
	n := copy(dst, p.pcm)
	p.pcm = p.pcm[n:]
	return n
}

type collector struct {
	mu     sync.Mutex
	digits string
	done   int
}

func (c *collector) on(e media.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case media.EventDigit:
		c.digits += string(e.Digit)
	case media.EventPlayDone:
		c.done++
	}
}

func (c *collector) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := c.digits
		c.mu.Unlock()
		if got == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("digits %q, want %q", c.digits, want)
}

func newPair(t *testing.T) (*PortPool, *Pacer, context.CancelFunc) {
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 31000, 31999)
	pacer := NewPacer(1)
	ctx, cancel := context.WithCancel(context.Background())
	go pacer.Run(ctx)
	t.Cleanup(cancel)
	return pool, pacer, cancel
}

// TestInBandDTMFBetweenSessions: one session plays DTMF tones in PCMA, the
// other detects them in the audio, with or without telephone-event agreed.
func TestInBandDTMFBetweenSessions(t *testing.T) {
	for _, pt := range []uint8{0, 101} {
		t.Run(fmt.Sprint("event PT ", pt), func(t *testing.T) { inBandBetweenSessions(t, pt) })
	}
}

func inBandBetweenSessions(t *testing.T, eventPT uint8) {
	pool, pacer, _ := newPair(t)
	a, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	var ca, cb collector
	a.Start(Params{Remote: b.Local(), Codec: media.PCMA, CodecPT: 8, EventPT: eventPT, Send: true}, ca.on)
	b.Start(Params{Remote: a.Local(), Codec: media.PCMA, CodecPT: 8, EventPT: eventPT, Send: true}, cb.on)
	pacer.Add(a)
	pacer.Add(b)
	var ts []dtmftest.Tone
	for _, d := range "147#" {
		ts = append(ts, dtmftest.Tone{Digit: byte(d), RowDBm0: -8, ColDBm0: -6, DurationMs: 80, GapMs: 80})
	}
	a.Play(&pcmSource{pcm: dtmftest.Signal(100, ts, 0, 1)})
	cb.wait(t, "147#")
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ca.mu.Lock()
		done := ca.done
		ca.mu.Unlock()
		if done == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("play-done events %d, want 1", done)
		}
	}
	if rec, lost, _ := b.Stats(); rec < 20 || lost != 0 {
		t.Errorf("received %d lost %d", rec, lost)
	}
}

// TestRFC4733FromSIPpAndStrictRTP replays SIPp's capture of digit 1 (its
// first packet has duration 0) into a session, then shows that a second
// source cannot take over the stream.
func TestRFC4733FromSIPpAndStrictRTP(t *testing.T) {
	pool, pacer, _ := newPair(t)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	foreign, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer peer.Close()
	defer foreign.Close()
	var c collector
	s.Start(Params{Remote: peer.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: media.PCMU, CodecPT: 0, EventPT: 101, Send: true}, c.on)
	pacer.Add(s)
	data, err := os.ReadFile("testdata/dtmf_2833_1.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pkts := pcapUDPPayloads(t, data)
	dst := net.UDPAddrFromAddrPort(s.Local())
	for _, p := range pkts {
		peer.WriteToUDP(p, dst)
	}
	c.wait(t, "1")
	// The same digit 9 from a foreign address: dropped.
	for i, p := range pkts {
		q := append([]byte(nil), p...)
		q[12] = 9                                 // event 9
		q[4], q[5], q[6], q[7] = 0, 0, 9, byte(i) // another timestamp
		foreign.WriteToUDP(q, dst)
	}
	time.Sleep(200 * time.Millisecond)
	if s.Foreign.Load() != uint64(len(pkts)) {
		t.Errorf("foreign packets dropped: %d of %d", s.Foreign.Load(), len(pkts))
	}
	c.wait(t, "1")
}

// TestLatchesToNATSource: a peer whose packets come from another address
// than its SDP says is followed after three packets in sequence.
func TestLatchesToNATSource(t *testing.T) {
	pool, _, _ := newPair(t)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	natted, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer natted.Close()
	var c collector
	s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: media.PCMA, CodecPT: 8, Send: true}, c.on)
	pkt := make([]byte, HeaderLen+160)
	for i := 0; i < 4; i++ {
		Header{PayloadType: 8, Seq: uint16(100 + i), Timestamp: uint32(i * 160), SSRC: 5}.Put(pkt)
		natted.WriteToUDP(pkt, net.UDPAddrFromAddrPort(s.Local()))
	}
	time.Sleep(50 * time.Millisecond)
	s.Tick() // sends to the SDP address, then reads the four packets
	s.mu.Lock()
	remote := s.remote
	s.mu.Unlock()
	if remote != natted.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("sending to %v, want the NAT source %v", remote, natted.LocalAddr())
	}
	s.Tick()
	natted.SetReadDeadline(time.Now().Add(time.Second))
	if _, _, err := natted.ReadFromUDP(pkt); err != nil {
		t.Fatalf("no packet sent to the latched source: %v", err)
	}
}

// TestCloseStopsTicking: a closed session reports false from Tick and the
// pacer drops it; its ports can be bound again.
func TestCloseStopsTicking(t *testing.T) {
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 34000, 34001)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Open(); err == nil {
		t.Fatal("a second pair from a one-pair range")
	}
	s.Close()
	s.Close()
	if s.Tick() {
		t.Error("a closed session ticked")
	}
	again, err := pool.Open()
	if err != nil {
		t.Fatalf("ports not released: %v", err)
	}
	again.Close()
}

// benchSession is a started PCMA session on a port of [lo, hi] sending to
// a loopback sink that discards what it gets; both close with the benchmark.
func benchSession(b *testing.B, lo, hi int) *Session {
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), lo, hi)
	s, err := pool.Open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sink.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	s.Start(Params{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	return s
}

func BenchmarkSessionTick(b *testing.B) {
	s := benchSession(b, 35000, 35999)
	b.ReportAllocs()
	for b.Loop() {
		s.Tick()
	}
}

// TestRTCPReports: two sessions exchange sender reports whose reception
// block describes the other's stream.
func TestRTCPReports(t *testing.T) {
	pool, pacer, _ := newPair(t)
	a, _ := pool.Open()
	b, _ := pool.Open()
	defer a.Close()
	defer b.Close()
	a.rtcpEvery, b.rtcpEvery = 5, 5
	a.Start(Params{Remote: b.Local(), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	b.Start(Params{Remote: a.Local(), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	pacer.Add(a)
	pacer.Add(b)
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if rb := b.PeerReport.Load(); rb != nil && rb.ExtendedMax != 0 {
			if rb.Lost != 0 || rb.FractionLost != 0 {
				t.Errorf("A reports loss on B's stream: %+v", rb)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no reception report from A about B's stream")
		}
	}
}

// TestSendDigitRFC4733: digits sent by one session arrive as RFC 4733
// events at the other, once each.
func TestSendDigitRFC4733(t *testing.T) {
	pool, pacer, _ := newPair(t)
	a, _ := pool.Open()
	b, _ := pool.Open()
	defer a.Close()
	defer b.Close()
	var cb collector
	a.Start(Params{Remote: b.Local(), Codec: media.PCMU, CodecPT: 0, EventPT: 101, Send: true}, func(media.Event) {})
	b.Start(Params{Remote: a.Local(), Codec: media.PCMU, CodecPT: 0, EventPT: 101, Send: true}, cb.on)
	pacer.Add(a)
	pacer.Add(b)
	for _, d := range []byte("9#9") {
		if err := a.SendDigit(d); err != nil {
			t.Fatal(err)
		}
	}
	cb.wait(t, "9#9")
	// Tones of the same keys in the audio just after the events are their
	// echo, not new keys.
	a.Play(&pcmSource{pcm: dtmftest.Signal(100, []dtmftest.Tone{{Digit: '5', RowDBm0: -8, ColDBm0: -6, DurationMs: 100, GapMs: 100}}, 0, 1)})
	time.Sleep(400 * time.Millisecond)
	cb.mu.Lock()
	got := cb.digits
	cb.mu.Unlock()
	if got != "9#9" {
		t.Errorf("digits %q: in-band tones right after events were taken as keys", got)
	}
	if err := a.SendDigit('x'); err == nil {
		t.Error("x accepted as a digit")
	}
}

// alawToLinear expands an A-law code by ITU-T G.711 Table 1a, written out
// here rather than taken from the codec under test: even bits inverted
// (XOR 0x55), bit 7 set for positive, a 3-bit segment and a 4-bit step; the
// 13-bit value is the middle of the step's interval, 2q+1 in segment 0 and
// (2q+33)·2^(seg-1) above, ×8 to 16-bit.
func alawToLinear(c byte) int16 {
	c ^= 0x55
	seg, q := int(c>>4&7), int(c&0x0F)
	v := 2*q + 1
	if seg > 0 {
		v = (2*q + 33) << (seg - 1)
	}
	if c&0x80 == 0 {
		v = -v
	}
	return int16(v * 8)
}

// linearToUlaw compresses a 16-bit sample by ITU-T G.711 Table 2a: the
// 14-bit magnitude, clipped at 8158 and biased by 33, falls in segment s
// when it lies in [32·2^s, 64·2^s); the step is the four bits below the
// leading one; the code is sign, segment and step, all inverted (so +0 is
// 0xFF).
func linearToUlaw(x int16) byte {
	m, sign := int(x)>>2, byte(0)
	if m < 0 {
		m, sign = -m, 0x80
	}
	m = min(m, 8158) + 33
	seg := bits.Len(uint(m)) - 6
	return ^(sign | byte(seg)<<4 | byte(m>>(seg+1))&0x0F)
}

// TestG711Reference pins the two functions above to G.711's table values
// before the wire test trusts them.
func TestG711Reference(t *testing.T) {
	for _, c := range []struct {
		code byte
		pcm  int16
	}{{0xD5, 8}, {0x55, -8}, {0xAA, 32256}, {0x2A, -32256},
		{0xC5, 8 * 33}, // segment 1's first step (32..34 decodes to 33, Table 1a)
		{0xDA, 8 * 31}, // segment 0's last step (30..32 decodes to 31)
	} {
		if got := alawToLinear(c.code); got != c.pcm {
			t.Errorf("A-law 0x%02X = %d, want %d", c.code, got, c.pcm)
		}
	}
	for _, c := range []struct {
		pcm  int16
		code byte
	}{{0, 0xFF}, {8, 0xFE}, {32124, 0x80}, {-32124, 0x00}, {32767, 0x80}, {-32768, 0x00}, {-4, 0x7E},
		{4 * 32, 0xEF}, // 14-bit 32: segment 1's first step, 31..35 (Table 2a)
		{4 * 94, 0xE0}, // 14-bit 94: segment 1's last step, 91..95
		{4 * 96, 0xDF}, // 14-bit 96: segment 2's first step, 95..103
	} {
		if got := linearToUlaw(c.pcm); got != c.code {
			t.Errorf("µ-law of %d = 0x%02X, want 0x%02X", c.pcm, got, c.code)
		}
	}
}

// TestPromptBytesOnTheWire: a prompt played on a PCMA call goes out as the
// A-law bytes it is stored in; on a PCMU call, as their µ-law conversion,
// which the test computes from G.711's tables (alawToLinear, linearToUlaw),
// not with the codec's own conversion.
func TestPromptBytesOnTheWire(t *testing.T) {
	set, err := prompt.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, codec := range []media.Codec{media.PCMA, media.PCMU} {
		pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 38000, 38099)
		s, err := pool.Open()
		if err != nil {
			t.Fatal(err)
		}
		sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		s.Start(Params{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec, CodecPT: map[media.Codec]uint8{media.PCMA: 8, media.PCMU: 0}[codec], Send: true}, func(media.Event) {})
		played, _ := set.Player(prompt.English, "d7")
		s.Play(played)
		want, _ := set.Player(prompt.English, "d7")
		buf, frame := make([]byte, 1500), make([]byte, media.FrameSamples)
		for i := 0; i < 5; i++ {
			s.Tick()
			sink.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := sink.ReadFromUDP(buf)
			if err != nil {
				t.Fatal(err)
			}
			_, payload, _ := Parse(buf[:n])
			want.FillALaw(frame)
			if codec == media.PCMU {
				for i, b := range frame {
					frame[i] = linearToUlaw(alawToLinear(b))
				}
			}
			if string(payload) != string(frame) {
				t.Fatalf("%v frame %d differs from the stored prompt", codec, i)
			}
		}
		s.Close()
		sink.Close()
	}
}

// TestTotalsKeepEarlierSources: when the peer changes its SSRC (a phone
// on resume) Stats starts again for the new source, and Totals still has
// what the first one received; a sequence gap of the new source is lost.
func TestTotalsKeepEarlierSources(t *testing.T) {
	pool, _, _ := newPair(t)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer peer.Close()
	var c collector
	s.Start(Params{Remote: peer.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: media.PCMA, CodecPT: 8, Send: true}, c.on)
	pkt := make([]byte, HeaderLen+160)
	send := func(ssrc uint32, seqs ...int) {
		for _, seq := range seqs {
			Header{PayloadType: 8, Seq: uint16(seq), Timestamp: uint32(seq * 160), SSRC: ssrc}.Put(pkt)
			peer.WriteToUDP(pkt, net.UDPAddrFromAddrPort(s.Local()))
		}
		time.Sleep(50 * time.Millisecond)
		s.Tick()
	}
	send(5, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109)
	first, _, _ := s.Stats()
	if got, lost := s.Totals(); got != uint64(first) || first < 8 || lost != 0 {
		t.Fatalf("first source: totals %d lost %d, stats %d", got, lost, first)
	}
	send(6, 500, 501, 502, 503, 505, 506, 507, 508)
	second, lost, _ := s.Stats()
	if got, tl := s.Totals(); got != uint64(first)+uint64(second) || second > 8 || tl != 1 || lost != 1 {
		t.Errorf("after the SSRC change: totals %d lost %d; stats %d lost %d; the first source had %d", got, tl, second, lost, first)
	}
}
