// Package rawe1 is the span driver for lines that hand the binary whole E1
// frames (hal.E1Frames: an icE1usb, an E1 framer on a SoC TDM port, a
// test's synthetic line) instead of channels: it takes the frames apart
// into the D-channel, through the software HDLC of hal/hdlc, and the 30
// B-channels, in the 160-octet blocks media/tdm moves, and puts them back
// together going out.
//
// Alignment: every B-channel's blocks start on the same frame, so a block
// is the same 20 ms on every channel and from one block to the next; a
// channel opened mid-block starts at the next block. The line's clock is
// the only clock: the driver sends one frame for each frame it receives,
// so nothing drifts. The B-channels are hal/pcm slots: a reader more than
// 4 blocks behind loses its oldest block, and so does a writer more than
// 4 blocks ahead, each a slip in Counters (G.822's controlled slip, here a
// block's worth); a writer with nothing queued sends idle.
//
// Timeslot 0 (G.704 §2.3.2, G.706 §4.1): the driver sends the frame
// alignment signal (0x9B, Si=1) and, in the other frames, NFAS with bit 2
// set, bit 3 the remote alarm (A) and the spare bits set (0xDF, 0xFF with
// A). It receives with the G.706 §4.1 rules: alignment is lost after 3
// frame alignment signals in a row received wrong and regained after FAS,
// NFAS with bit 2 set, then FAS in the frames that follow. AIS is fewer
// than 3 zeros in 2 frames (G.775 §5.2), RAI the A bit in NFAS. It sends
// the A bit while it has LOF, AIS or LOS itself. Not done here: CRC-4
// multiframes (a line configured "crc4" needs a source whose framer makes
// TS0, as icE1usb's does in its CRC-4 mode) and the Sa bits.
//
// Layer: a hal implementation; it imports hal, hal/hdlc, hal/pcm and the
// standard library.
package rawe1

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"jinyin/hal"
	"jinyin/hal/hdlc"
	"jinyin/hal/pcm"
)

// TS0 octets sent (bit 1, Si, the most significant, set: no CRC-4).
const (
	fasOut  = 0x9B // Si 0011011
	nfasOut = 0xDF // Si 1 A=0 Sa4-Sa8=11111
	raiBit  = 0x20 // A, bit 3
)

// ErrClosed is returned once the span is closed.
var ErrClosed = errors.New("rawe1: span closed")

// Span is an E1 span over raw frames.
type Span struct {
	line hal.E1Frames

	mu    sync.Mutex
	cfg   hal.SpanConfig
	enc   *hdlc.Encoder
	slots [32]*pcm.Slot
	err   error // why the line stopped

	// The receive loop's own, not locked.
	dec    *hdlc.Decoder
	pos    int           // frame within the current block
	active [32]*pcm.Slot // the slots this block fills
	rx     ts0
	txOdd  bool
	rbuf   [hal.BlockSize * hal.E1FrameSize]byte
	wbuf   [hal.BlockSize * hal.E1FrameSize]byte
	d16    [hal.BlockSize]byte

	d      dchan
	alarms atomic.Uint32
	slips  atomic.Uint64
	closed chan struct{}
	done   chan struct{}
	once   sync.Once
}

var (
	_ hal.Span      = (*Span)(nil)
	_ hal.PRI       = (*Span)(nil)
	_ hal.Counterer = (*Span)(nil)
)

// Open starts a span on line: it primes the line with 20 ms of idle
// frames and then sends a frame for each one it receives.
func Open(line hal.E1Frames) *Span {
	s := newSpan(line)
	go s.run()
	return s
}

func newSpan(line hal.E1Frames) *Span {
	s := &Span{line: line, enc: hdlc.NewEncoder(), closed: make(chan struct{}), done: make(chan struct{})}
	s.cfg.Type = "e1"
	s.d.init(s)
	s.dec = hdlc.NewDecoder(s.d.received)
	return s
}

// Configure accepts E1 settings; the line code and clock are the line's.
func (s *Span) Configure(c hal.SpanConfig) error {
	if c.Type != "e1" {
		return fmt.Errorf("rawe1: span type %q: raw frames are E1 only", c.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	return nil
}

// Alarms is what timeslot 0 and the line say now.
func (s *Span) Alarms() hal.Alarms { return hal.Alarms(s.alarms.Load()) }

// Counters counts slips; CRC-4 errors and BPVs are the framer's, below.
func (s *Span) Counters() hal.Counters { return hal.Counters{Slips: s.slips.Load()} }

// DChannel is timeslot 16 through the software HDLC.
func (s *Span) DChannel() (hal.DChannel, error) { return &s.d, nil }

// BChannel returns B-channel n (1-15, 17-31): timeslot n.
func (s *Span) BChannel(n int) (hal.Timeslot, error) {
	if err := hal.CheckBChannel("e1", n); err != nil {
		return nil, fmt.Errorf("rawe1: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots[n] == nil {
		s.slots[n] = pcm.NewSlot(0xD5, &s.slips, s.failed)
	}
	return s.slots[n], nil
}

// Close stops the span and closes the line.
func (s *Span) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.line.Close()
	})
	<-s.done
	return nil
}

func (s *Span) stopped(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.alarms.Store(uint32(hal.AlarmLOS))
	s.d.halt()
	for _, sl := range s.slotList() {
		sl.Stop()
	}
}

func (s *Span) slotList() []*pcm.Slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l []*pcm.Slot
	for _, sl := range s.slots {
		if sl != nil {
			l = append(l, sl)
		}
	}
	return l
}

func (s *Span) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Span) run() {
	defer close(s.done)
	s.mu.Lock()
	s.enc.Encode(s.d16[:])
	s.mu.Unlock()
	for i := 0; i < len(s.wbuf); i += hal.E1FrameSize {
		s.frameOut(s.wbuf[i : i+hal.E1FrameSize])
		s.wbuf[i+16] = s.d16[i/hal.E1FrameSize]
	}
	if err := s.line.WriteFrames(s.wbuf[:]); err != nil {
		s.stopped(err)
		return
	}
	for {
		n, err := s.line.ReadFrames(s.rbuf[:])
		if err != nil {
			select {
			case <-s.closed:
				err = ErrClosed
			default:
			}
			s.stopped(err)
			return
		}
		s.process(n)
		if err := s.line.WriteFrames(s.wbuf[:n]); err != nil {
			s.stopped(err)
			return
		}
	}
}

// process takes apart the n octets of frames in rbuf and puts together as
// many in wbuf.
func (s *Span) process(n int) {
	frames := n / hal.E1FrameSize
	s.mu.Lock()
	s.enc.Encode(s.d16[:frames])
	s.mu.Unlock()
	for k := range frames {
		in := s.rbuf[k*hal.E1FrameSize : (k+1)*hal.E1FrameSize]
		out := s.wbuf[k*hal.E1FrameSize : (k+1)*hal.E1FrameSize]
		s.rx.frame(in)
		out[16] = s.d16[k]
		s.d16[k] = in[16]
		for ts, sl := range s.active {
			if sl != nil {
				sl.RX[s.pos] = in[ts]
			}
		}
		s.frameOut(out)
		if s.pos++; s.pos == hal.BlockSize {
			s.block()
		}
	}
	s.alarms.Store(uint32(s.rx.alarms()))
	s.dec.Decode(s.d16[:frames])
}

// frameOut fills out's timeslot 0 and B-channels (timeslot 16 is the
// caller's).
func (s *Span) frameOut(out []byte) {
	if s.txOdd {
		out[0] = nfasOut
		if s.rx.alarms()&(hal.AlarmLOF|hal.AlarmAIS|hal.AlarmLOS) != 0 {
			out[0] |= raiBit
		}
	} else {
		out[0] = fasOut
	}
	s.txOdd = !s.txOdd
	for ts := 1; ts < hal.E1FrameSize; ts++ {
		if ts == 16 {
			continue
		}
		if sl := s.active[ts]; sl != nil {
			out[ts] = sl.TX[s.pos]
		} else {
			out[ts] = 0xD5 // A-law idle
		}
	}
}

// block is the end of a 20 ms block: hand each channel what it received,
// take what it sends next, and start the channels opened meanwhile.
func (s *Span) block() {
	s.pos = 0
	for _, sl := range s.active {
		if sl != nil {
			sl.Exchange()
		}
	}
	s.mu.Lock()
	s.active = s.slots
	s.mu.Unlock()
}

// ts0 follows timeslot 0 of the received frames.
type ts0 struct {
	aligned     bool
	odd         bool // this frame should be NFAS
	bad         int  // FAS received wrong in a row
	search      int  // while not aligned: 0 looking for FAS, 1 for NFAS, 2 for FAS again
	rai         bool
	zeros, half int // zeros counted over two frames, and which of the two
	ais         bool
}

func isFAS(b byte) bool { return b&0x7F == 0x1B }

func (t *ts0) frame(f []byte) {
	z := 0
	for _, o := range f {
		z += 8 - bits.OnesCount8(o)
	}
	t.zeros += z
	if t.half++; t.half == 2 {
		t.ais = t.zeros < 3
		t.zeros, t.half = 0, 0
	}
	b := f[0]
	if !t.aligned {
		switch {
		case t.search == 1 && b&0x40 != 0:
			t.search = 2
		case t.search == 2 && isFAS(b):
			t.aligned, t.bad, t.odd = true, 0, true
			return
		case isFAS(b):
			t.search = 1
		default:
			t.search = 0
		}
		return
	}
	if t.odd {
		t.rai = b&raiBit != 0
	} else if isFAS(b) {
		t.bad = 0
	} else if t.bad++; t.bad == 3 {
		t.aligned, t.search, t.rai = false, 0, false
	}
	t.odd = !t.odd
}

func (t *ts0) alarms() hal.Alarms {
	var a hal.Alarms
	if t.ais {
		a |= hal.AlarmAIS
	}
	if !t.aligned {
		a |= hal.AlarmLOF
	} else if t.rai {
		a |= hal.AlarmRAI
	}
	return a
}

// dchan is timeslot 16's frames: received ones wait in a ring of 8.
type dchan struct {
	s    *Span
	mu   sync.Mutex
	ring [8]struct {
		b [hdlc.MaxFrame]byte
		n int
	}
	h, n  int
	ready chan struct{}
	shut  atomic.Bool
	stop  chan struct{} // closed when the span stops or the channel closes
	once  sync.Once
}

func (d *dchan) init(s *Span) { d.s, d.ready, d.stop = s, make(chan struct{}, 1), make(chan struct{}) }

// halt ends every waiting and later read.
func (d *dchan) halt() { d.once.Do(func() { close(d.stop) }) }

// received is the Decoder's callback: a frame in, or one dropped (Q.921
// recovers a dropped frame by retransmission).
func (d *dchan) received(f []byte, err error) {
	if err != nil {
		return
	}
	d.mu.Lock()
	if d.n == len(d.ring) { // layer 2 is 8 frames behind: lose the oldest
		d.h = (d.h + 1) % len(d.ring)
		d.n--
	}
	r := &d.ring[(d.h+d.n)%len(d.ring)]
	r.n = copy(r.b[:], f)
	d.n++
	d.mu.Unlock()
	d.wake()
}

func (d *dchan) wake() {
	select {
	case d.ready <- struct{}{}:
	default:
	}
}

// ReadFrame waits for the next frame, without its FCS.
func (d *dchan) ReadFrame(p []byte) (int, error) {
	for {
		d.mu.Lock()
		if d.n > 0 {
			r := &d.ring[d.h]
			n := copy(p, r.b[:r.n])
			d.h = (d.h + 1) % len(d.ring)
			d.n--
			d.mu.Unlock()
			return n, nil
		}
		d.mu.Unlock()
		if err := d.s.failed(); err != nil {
			return 0, err
		}
		if d.shut.Load() {
			return 0, ErrClosed
		}
		select {
		case <-d.ready:
		case <-d.stop:
		}
	}
}

// WriteFrame queues f for the HDLC transmitter.
func (d *dchan) WriteFrame(f []byte) error {
	if err := d.s.failed(); err != nil {
		return err
	}
	if d.shut.Load() {
		return ErrClosed
	}
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if err := d.s.enc.Queue(f); err != nil {
		return fmt.Errorf("rawe1: D-channel: %w", err)
	}
	return nil
}

// Close ends the D-channel's reads (a waiting one too) and writes; the
// span and its B-channels go on.
func (d *dchan) Close() error {
	d.shut.Store(true)
	d.halt()
	return nil
}
