package rtp

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/media"
	"jinyin/media/dtmf"
)

// PortPool hands out RTP/RTCP port pairs (RTP even, RTCP the odd one above)
// from a configured range.
type PortPool struct {
	mu     sync.Mutex
	ip     netip.Addr
	lo, hi int
	next   int
}

// NewPortPool returns a pool over [lo, hi] on the local address ip.
func NewPortPool(ip netip.Addr, lo, hi int) *PortPool {
	lo += lo % 2
	return &PortPool{ip: ip, lo: lo, hi: hi, next: lo + 2*rand.IntN(max((hi-lo)/2, 1))}
}

// open binds the next free pair, trying each pair of the range at most once.
func (p *PortPool) open() (rtpFD, rtcpFD int, local netip.AddrPort, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pairs := (p.hi - p.lo + 1) / 2
	for i := 0; i < pairs; i++ {
		port := p.next
		if p.next += 2; p.next+1 > p.hi {
			p.next = p.lo
		}
		local = netip.AddrPortFrom(p.ip, uint16(port))
		a, err := openUDP(local)
		if err != nil {
			continue
		}
		b, err := openUDP(netip.AddrPortFrom(p.ip, uint16(port+1)))
		if err != nil {
			closeFD(a)
			continue
		}
		return a, b, local, nil
	}
	return -1, -1, netip.AddrPort{}, fmt.Errorf("rtp: no free port pair in %d-%d", p.lo, p.hi)
}

// Params are a session's negotiated media.
type Params struct {
	Remote  netip.AddrPort // from the SDP
	Codec   media.Codec
	CodecPT uint8
	EventPT uint8 // 0: no telephone-event agreed, detect DTMF in-band
	Send    bool  // the box may send (not on hold)
}

// Session is one call leg's RTP: a socket pair, what it sends each 20 ms
// tick, and what it hears, handled on the same tick. Received audio is checked against the stream's
// source (strict RTP: a foreign source does not take over the stream), the
// send address follows the source once it is confirmed (symmetric RTP, for
// phones behind NAT), and DTMF comes from RFC 4733 events or, when the peer
// sends none, from the audio.
type Session struct {
	fdMu       sync.Mutex // held while the descriptors are in use; -1 once closed
	fd, rtcpFD int
	local      netip.AddrPort

	mu     sync.Mutex
	params Params
	remote netip.AddrPort // where to send: the SDP address until latched
	src    media.Source
	play   media.PlayID // the Play src came from
	plays  media.PlayID // the last Play's id
	ended  bool         // closed: Play keeps nothing
	onEvt  func(media.Event)

	digits []byte      // queued to send, under mu
	evSend EventSender // the RFC 4733 event being sent, pacer goroutine only
	evTS   uint32      // its timestamp
	evOn   bool
	tones  inband // the in-band digit being sent, pacer goroutine only

	// Send state, used by the pacer goroutine only.
	ssrc     uint32
	seq      uint16
	ts       uint32
	pcm      [media.FrameSamples]int16
	pkt      [HeaderLen + media.FrameSamples]byte
	sent     uint32
	sentOcts uint32

	// Receive state, used by the read goroutine; latching state and stats
	// under mu, since Update and Stats reach them from other goroutines.
	latched    bool
	candidate  netip.AddrPort
	candSeq    uint16
	candCount  int
	remoteSSRC uint32
	stats      Stats
	events     EventReceiver
	det        *dtmf.Detector
	rpcm       [media.FrameSamples * 4]int16
	rbuf       [batch][512]byte // G.711 at 20 ms is 172 bytes; anything longer is dropped
	lastEvt    time.Time
	// priorRecv and priorLost are what the stream's earlier sources (a
	// phone changes its SSRC on resume) received and lost, under mu, so
	// that Totals keeps them when stats starts again for the new one.
	priorRecv, priorLost uint64

	shard *shard // the pacer shard that ticks it

	jbMu     sync.Mutex
	jb       *JitterBuffer // made when something listens (a bridge, a recording)
	listened atomic.Bool   // jb exists: the packet path checks this, not the lock

	// RTCP (RFC 3550 §6): a sender report with one reception block every
	// rtcpEvery ticks, and what the peer last reported.
	rtcpEvery  int
	rtcpTicks  int
	rtcpBuf    [256]byte
	report     Report
	reports    []Report
	cname      string                      // RFC 7022: random per session, so it says nothing about the box
	lastSRNTP  uint32                      // middle 32 bits of the peer's last SR
	lastSRAt   time.Time                   // when it arrived
	PeerReport atomic.Pointer[ReportBlock] // the peer's last reception report on our stream

	Foreign     atomic.Uint64 // packets dropped from other sources
	Unauthentic atomic.Uint64 // SRTP packets dropped: failed authentication, or replayed

	srtp *srtpState // nil: plain RTP (see SetSRTP)
}

// Open allocates a port pair from the pool.
func (p *PortPool) Open() (*Session, error) {
	a, b, local, err := p.open()
	if err != nil {
		return nil, err
	}
	s := &Session{fd: a, rtcpFD: b, local: local, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), rtcpEvery: 250}
	s.report.Blocks = make([]ReportBlock, 0, 1)
	s.cname = fmt.Sprintf("%016x%08x", rand.Uint64(), rand.Uint32())
	s.det = dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		// A phone that signals digits as events may leave their tones in
		// the audio too: an in-band digit within inbandQuiet of an event
		// is the same key.
		if !e.End && time.Since(s.lastEvt) > inbandQuiet { // real time: the packets' arrival, as lastEvt
			media.Digits.InBand.Add(1)
			s.emit(media.Event{Kind: media.EventDigit, Digit: e.Digit, InBand: true})
		}
	})
	return s, nil
}

// Local is the session's RTP address, for the SDP.
func (s *Session) Local() netip.AddrPort { return s.local }

// Start applies the negotiated parameters; onEvent gets digits and the end
// of played sources, on the pacer's goroutine: it must not block.
func (s *Session) Start(p Params, onEvent func(media.Event)) {
	s.mu.Lock()
	if p.Remote != s.params.Remote { // started again on another address (early media, then the answer's)
		s.latched = false
	}
	s.params, s.remote, s.onEvt = p, p.Remote, onEvent
	s.mu.Unlock()
}

// Update applies re-negotiated parameters (hold, resume, a new address).
func (s *Session) Update(p Params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Remote != s.params.Remote {
		s.remote, s.latched = p.Remote, false
	}
	s.params = p
}

// Play replaces the source being sent; nil sends silence.
func (s *Session) Play(src media.Source) media.PlayID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plays++
	if s.ended {
		src = nil
	}
	s.src, s.play = src, s.plays
	return s.plays
}

func (s *Session) emit(e media.Event) {
	s.mu.Lock()
	f := s.onEvt
	s.mu.Unlock()
	if f != nil {
		f(e)
	}
}

// Tick is the session's 20 ms: it sends one frame and then handles every
// packet that has arrived since the last tick. The pacer calls it; it
// reports false once the session is closed.
func (s *Session) Tick() bool {
	s.fdMu.Lock()
	defer s.fdMu.Unlock()
	if s.fd < 0 {
		return false
	}
	s.send()
	s.receive()
	return true
}

// SendDigit queues a DTMF digit (0-9, *, #, A-D) to send to the peer.
// With a telephone-event payload type agreed it goes as RFC 4733 events
// (100 ms, then three end packets); without, in-band: its Q.23 tone pair
// (-10 and -8 dBm0) replaces the audio being played for 100 ms, followed
// by 80 ms of silence (see inband.go for where each figure comes from).
// Digits go one after the other, while the session may send (not on hold).
func (s *Session) SendDigit(d byte) error {
	if _, err := Code(d); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.digits = append(s.digits, d)
	return nil
}

// nextDigit takes the first queued digit, or reports false. The queue
// keeps its array (no allocation once it has grown to the longest burst).
func (s *Session) nextDigit() (byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.digits) == 0 {
		return 0, false
	}
	d := s.digits[0]
	s.digits = s.digits[:copy(s.digits, s.digits[1:])]
	return d, true
}

// inbandFrame puts this tick's part of an in-band digit into pcm in
// place of the audio, starting the next queued digit when none is under
// way and no telephone-event is agreed. It reports whether it did.
func (s *Session) inbandFrame(p Params, pcm []int16) bool {
	if !s.tones.busy() {
		if p.EventPT != 0 {
			return false
		}
		s.evOn = false // an event cut short by a re-INVITE that dropped telephone-event
		d, ok := s.nextDigit()
		if !ok {
			return false
		}
		s.tones.start(d)
	}
	s.tones.fill(pcm)
	return true
}

// sendEvent sends this tick's telephone-event packet instead of audio,
// starting the next queued digit when none is under way. It reports
// whether it sent one.
func (s *Session) sendEvent(p Params, remote netip.AddrPort) bool {
	if !s.evOn {
		d, ok := s.nextDigit()
		if !ok {
			return false
		}
		code, _ := Code(d)
		s.evSend.Start(code, 800, media.FrameSamples)
		s.evTS, s.evOn = s.ts, true
	}
	e, marker, ok := s.evSend.Next()
	if !ok {
		s.evOn = false
		return false
	}
	Header{PayloadType: p.EventPT, Marker: marker, Seq: s.seq, Timestamp: s.evTS, SSRC: s.ssrc}.Put(s.pkt[:])
	e.Put(s.pkt[HeaderLen:])
	if remote.IsValid() && s.sendRTP(s.pkt[:HeaderLen+4], remote) == nil {
		s.sent++
		s.sentOcts += 4
	}
	s.seq++
	return true
}

func (s *Session) send() {
	s.mu.Lock()
	src, play, p, remote := s.src, s.play, s.params, s.remote
	s.mu.Unlock()
	// The frame goes into the packet: copied as A-law when the source
	// has it (prompts) and the call is G.711, else encoded from linear.
	payload := s.pkt[HeaderLen:]
	n := len(payload)
	if a, ok := src.(media.ALawSource); ok {
		n = a.FillALaw(payload)
		p.Codec.FromALaw(payload[:n])
		for i := n; i < len(payload); i++ {
			payload[i] = p.Codec.Silence()
		}
	} else {
		if src != nil {
			n = src.Fill(s.pcm[:])
		}
		clear(s.pcm[n:])
		p.Codec.Encode(payload, s.pcm[:])
	}
	if p.Send && s.inbandFrame(p, s.pcm[:]) {
		// An in-band digit: its frame replaces the source's (which plays
		// on underneath, unheard, so that its timing is kept).
		p.Codec.Encode(payload, s.pcm[:])
	}
	ended := src != nil && n < len(payload)
	if ended {
		s.mu.Lock()
		if s.play == play { // not replaced while it filled this frame
			s.src = nil
		}
		s.mu.Unlock()
	}
	if p.Send && p.EventPT != 0 && !s.tones.busy() && s.sendEvent(p, remote) {
		// this tick carried a telephone event in place of audio
	} else if p.Send && remote.IsValid() {
		Header{PayloadType: p.CodecPT, Seq: s.seq, Timestamp: s.ts, SSRC: s.ssrc}.Put(s.pkt[:])
		if s.sendRTP(s.pkt[:], remote) == nil {
			s.sent++
			s.sentOcts += media.FrameSamples
		}
		s.seq++
	}
	s.ts += media.FrameSamples // the clock runs on hold too (RFC 3550 §5.1)
	if ended {
		s.emit(media.Event{Kind: media.EventPlayDone, Play: play})
	}
}

// receive handles the packets waiting on the sockets.
// rtcpPoll is how often (in ticks) the RTCP socket is read: reports come
// every few seconds, and reading an empty socket every tick was a quarter
// of the media path's system calls.
const rtcpPoll = 10

func (s *Session) receive() {
	// Until a batch comes back short, the socket may hold more (a burst
	// after a network stall): one recvmmsg per tick in the usual case.
	for {
		var lens [batch]int
		var froms [batch]netip.AddrPort
		got, err := recvBatch(s.fd, &s.rbuf, &lens, &froms)
		for i := range got {
			if lens[i] > len(s.rbuf[i]) {
				continue
			}
			if pkt, ok := s.openRTP(s.rbuf[i][:lens[i]]); ok {
				s.packet(pkt, froms[i])
			}
		}
		if err != nil || got < batch {
			break
		}
	}
	if s.rtcpTicks%rtcpPoll == 0 {
		for {
			n, _, err := recvFrom(s.rtcpFD, s.rbuf[0][:])
			if err != nil {
				break
			}
			if n > len(s.rbuf[0]) {
				continue
			}
			if pkt, ok := s.openRTCP(s.rbuf[0][:n]); ok {
				s.rtcpIn(pkt)
			}
		}
	}
	if s.rtcpTicks++; s.rtcpTicks >= s.rtcpEvery {
		s.rtcpTicks = 0
		s.rtcpOut(false)
	}
	if s.events.State == EventActive && time.Since(s.lastEvt) > time.Second { // real time: a second with no event packet arriving
		s.events.Expire(1, func(DigitEvent) {})
	}
}

func (s *Session) packet(buf []byte, from netip.AddrPort) {
	h, payload, err := Parse(buf)
	if err != nil {
		return
	}
	s.mu.Lock()
	ok := s.accept(from, h)
	if ok {
		s.stats.Update(h.Seq, h.Timestamp, uint32(time.Now().UnixNano()/125000)) // real time: the arrival, in 8 kHz units, for jitter (RFC 3550 A.8)
	}
	p := s.params
	s.mu.Unlock()
	if !ok {
		s.Foreign.Add(1)
		return
	}
	if h.PayloadType == p.CodecPT && s.listened.Load() {
		s.jbMu.Lock()
		s.jb.Push(h.Seq, payload)
		s.jbMu.Unlock()
	}
	switch {
	case p.EventPT != 0 && h.PayloadType == p.EventPT:
		if e, err := ParseEvent(payload); err == nil {
			s.events.Packet(h, e, func(d DigitEvent) {
				if !d.End {
					media.Digits.Signalled.Add(1)
					s.emit(media.Event{Kind: media.EventDigit, Digit: d.Digit})
				}
			})
			s.lastEvt = time.Now() // real time: when the event packet arrived
		}
	case h.PayloadType == p.CodecPT && len(payload) <= len(s.rpcm):
		// In-band detection runs whether or not telephone-event was
		// negotiated: gateways that offer it still pass some callers'
		// digits as tones (0.56 µs a packet with the AVX2 kernel).
		pcm := s.rpcm[:len(payload)]
		p.Codec.Decode(pcm, payload)
		s.det.Process(pcm)
	}
}

// inbandQuiet is how long after the last packet of an RFC 4733 event
// in-band digits are taken for its echo in the audio.
const inbandQuiet = 250 * time.Millisecond

// latchProbation is how many consecutive packets a new source must send
// before the stream follows it.
const latchProbation = 3

// accept applies strict RTP with learning. Before the stream has a
// source, a packet from the SDP address is taken at once; another address
// must first send latchProbation packets in a row with consecutive
// sequence numbers (a phone behind NAT whose address differs from its
// SDP), after which the box sends there too (symmetric RTP). Once latched,
// packets from any other address are dropped: a foreign source cannot take
// the stream over. The latched source may change its SSRC (phones do on
// resume). Called with mu held.
func (s *Session) accept(from netip.AddrPort, h Header) bool {
	if s.latched {
		if from != s.remote {
			return false
		}
		if h.SSRC != s.remoteSSRC {
			s.priorRecv += uint64(s.stats.Received())
			s.priorLost += uint64(max(s.stats.Lost(), 0))
			s.remoteSSRC, s.stats = h.SSRC, Stats{}
		}
		return true
	}
	if from == s.candidate && h.Seq == s.candSeq+1 {
		s.candCount++
	} else {
		s.candidate, s.candCount = from, 1
	}
	s.candSeq = h.Seq
	if from == s.remote || s.candCount >= latchProbation {
		s.latched, s.remote, s.remoteSSRC = true, from, h.SSRC
		return true
	}
	return false
}

// rtcpIn reads the peer's reports: the block about our stream, and the
// time of its sender report for our LSR/DLSR.
func (s *Session) rtcpIn(p []byte) {
	var err error
	s.reports, err = ParseReports(p, s.reports[:0])
	if err != nil {
		return
	}
	for i := range s.reports {
		r := &s.reports[i]
		if r.Sender {
			s.lastSRNTP, s.lastSRAt = uint32(r.NTPTime>>16), time.Now() // real time: DLSR is a measured delay (RFC 3550 §6.4.1)
		}
		for _, b := range r.Blocks {
			if b.SSRC == s.ssrc {
				rb := b
				s.PeerReport.Store(&rb)
			}
		}
	}
}

// ntpEpoch is 1900-01-01 in Unix seconds.
const ntpEpoch = 2208988800

// rtcpOut sends a sender report (or a receiver report when on hold) and
// the session's CNAME to the peer's RTCP port, the RTP port plus one; with
// bye, a BYE after them (RFC 3550 §6.6: a BYE goes in a compound packet
// that starts with a report). Under fdMu, which serialises it with Tick.
func (s *Session) rtcpOut(bye bool) {
	s.mu.Lock()
	remote, latched, p := s.remote, s.latched, s.params
	r := &s.report
	r.SSRC, r.Sender = s.ssrc, p.Send && s.sent > 0
	now := time.Now() // real time: a sender report's NTP timestamp is the wall clock (RFC 3550 §6.4.1)
	r.NTPTime = uint64(now.Unix()+ntpEpoch)<<32 | uint64(now.Nanosecond())<<32/1e9
	r.RTPTime, r.PacketCount, r.OctetCount = s.ts, s.sent, s.sentOcts
	r.Blocks = r.Blocks[:0]
	if latched {
		b := ReportBlock{SSRC: s.remoteSSRC, FractionLost: s.stats.FractionLost(), Lost: s.stats.Lost(),
			ExtendedMax: s.stats.ExtendedMax(), Jitter: s.stats.Jitter(), LSR: s.lastSRNTP}
		if !s.lastSRAt.IsZero() {
			b.DLSR = uint32(now.Sub(s.lastSRAt) * 65536 / time.Second)
		}
		r.Blocks = append(r.Blocks, b)
	}
	s.mu.Unlock()
	if !remote.IsValid() {
		return
	}
	pkt := AppendReport(s.rtcpBuf[:0], r)
	pkt = AppendSDES(pkt, s.ssrc, s.cname)
	if bye {
		pkt = AppendBye(pkt, s.ssrc)
	}
	s.sendRTCP(pkt, netip.AddrPortFrom(remote.Addr(), remote.Port()+1))
}

// Listen returns the audio this session receives, through an adaptive
// jitter buffer (20-160 ms), decoded, one frame per Fill.
func (s *Session) Listen() media.Source {
	s.jbMu.Lock()
	defer s.jbMu.Unlock()
	if s.jb == nil {
		s.jb = NewJitterBuffer(1, 8)
		s.listened.Store(true)
	}
	return &listener{s: s}
}

type listener struct {
	s   *Session
	buf [320]byte
}

// Fill pops one frame. It runs on the tick of whoever plays it, so the
// buffer is shared under jbMu with the receiving tick.
func (l *listener) Fill(dst []int16) int {
	l.s.jbMu.Lock()
	n, ok := l.s.jb.Pop(l.buf[:])
	l.s.jbMu.Unlock()
	l.s.mu.Lock()
	codec := l.s.params.Codec
	l.s.mu.Unlock()
	if !ok || n == 0 {
		clear(dst)
		return len(dst)
	}
	n = min(n, len(dst))
	codec.Decode(dst[:n], l.buf[:n])
	clear(dst[n:])
	return len(dst)
}

// Stats returns the receive statistics so far (loss, jitter).
func (s *Session) Stats() (received uint32, lost int32, jitterMs float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.Received(), s.stats.Lost(), float64(s.stats.Jitter()) / 8
}

// Totals are the packets the session has received and lost over its
// life, its stream's every source added up (Stats is the current
// source's); loss net of duplicates counts 0 where it is negative.
func (s *Session) Totals() (received, lost uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.priorRecv + uint64(s.stats.Received()), s.priorLost + uint64(max(s.stats.Lost(), 0))
}

// Close says BYE to the peer and releases the sockets; the pacer drops
// the session at its next tick.
func (s *Session) Close() {
	s.fdMu.Lock()
	defer s.fdMu.Unlock()
	if s.fd < 0 {
		return
	}
	s.rtcpOut(true)
	closeFD(s.fd)
	closeFD(s.rtcpFD)
	s.fd, s.rtcpFD = -1, -1
	s.mu.Lock()
	s.src, s.ended = nil, true // what was playing (a queue call's recording taps among it) goes with the call
	s.mu.Unlock()
}
