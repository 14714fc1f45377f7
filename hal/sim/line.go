package sim

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/hal"
)

// ErrClosed is returned by reads and writes after Close.
var ErrClosed = errors.New("sim: closed")

// Frames is one end of a simulated D-channel: what one end writes, the
// other reads, frame by frame, except while the line is cut.
type Frames struct {
	in     chan []byte
	peer   *Frames
	cut    *atomic.Bool // shared by both ends
	once   sync.Once
	closed chan struct{}
}

var _ hal.DChannel = (*Frames)(nil)

// FramePipe returns the two ends of a D-channel.
func FramePipe() (a, b *Frames) {
	cut := new(atomic.Bool)
	a = &Frames{in: make(chan []byte, 64), cut: cut, closed: make(chan struct{})}
	b = &Frames{in: make(chan []byte, 64), cut: cut, closed: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// ReadFrame waits for the next frame the other end wrote.
func (f *Frames) ReadFrame(p []byte) (int, error) {
	select {
	case b := <-f.in:
		return copy(p, b), nil
	case <-f.closed:
		return 0, ErrClosed
	}
}

// WriteFrame passes a copy of b to the other end; a frame the other end
// has no room for is lost, as on a congested HDLC controller, and so is
// every frame while the line is cut.
func (f *Frames) WriteFrame(b []byte) error {
	select {
	case <-f.closed:
		return ErrClosed
	default:
	}
	if f.cut.Load() {
		return nil
	}
	select {
	case f.peer.in <- append([]byte(nil), b...):
	default:
	}
	return nil
}

// Cut loses every frame written at either end until Cut(false): a line
// without signal carries nothing.
func (f *Frames) Cut(lost bool) { f.cut.Store(lost) }

// Close ends this end's reads and writes.
func (f *Frames) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// Slot is a timeslot clocked by a 20 ms frame clock of its own, as a line
// card's TDM bus clocks its channels: ReadBlock returns every 20 ms with
// what arrived from the far end, or the idle pattern when nothing did.
// The clock keeps its own time, as a card's DMA ring does: a reader that
// was held up (a GC pause, a loaded machine) gets the blocks it missed at
// once rather than one per tick, so a stall neither drops the audio that
// arrived meanwhile nor adds its length to the call's delay for good. (A
// time.Ticker drops the ticks a slow reader misses, which did both: a
// 50 ms DTMF digit was lost behind a 100 ms stall under -race.)
// Blocks from the far end wait in a small ring that drops the oldest when
// the far end's clock runs fast; after running dry it waits for two
// blocks before it plays again, so a far end whose clock jitters by up to
// a block does not punch 20 ms holes into a tone. The socket driver uses
// it too.
type Slot struct {
	idle byte
	out  func(block []byte)

	mu      sync.Mutex
	ring    [8][hal.BlockSize]byte
	head, n int
	primed  bool      // two blocks have arrived since the ring last ran dry
	next    time.Time // when the frame clock next ticks
	timer   *time.Timer
	closed  chan struct{}
	once    sync.Once
}

var _ hal.Timeslot = (*Slot)(nil)

// backlog is the most blocks a slot keeps: 160 ms, the longest stall of
// a reader (or run of a fast far end) it bridges.
const backlog = 8

// frame is the frame clock's period.
const frame = 20 * time.Millisecond

// closedTick is a tick already due.
var closedTick = func() <-chan time.Time { c := make(chan time.Time); close(c); return c }()

// NewSlot returns a timeslot whose written blocks go to out and whose
// silence is idle (0xD5 A-law, 0xFF µ-law).
func NewSlot(idle byte, out func(block []byte)) *Slot {
	return &Slot{idle: idle, out: out, closed: make(chan struct{})}
}

// SlotPair returns the two ends of a simulated timeslot.
func SlotPair(idle byte) (a, b *Slot) {
	a, b = NewSlot(idle, nil), NewSlot(idle, nil)
	a.out, b.out = b.Deliver, a.Deliver
	return a, b
}

// Deliver is a block arriving from the far end.
func (s *Slot) Deliver(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == backlog {
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
	copy(s.ring[(s.head+s.n)%len(s.ring)][:], p)
	s.n++
}

// ReadBlock waits for the next tick and copies the oldest block received,
// or the idle pattern. A tick already past returns at once.
func (s *Slot) ReadBlock(p []byte) error {
	s.mu.Lock()
	now := time.Now() // real time: the slot paces its audio as a line card's frame clock does
	if s.next.IsZero() || now.Sub(s.next) > backlog*frame {
		s.next = now // first read, or a stall longer than the ring: start the clock again
	}
	s.next = s.next.Add(frame)
	var tick <-chan time.Time
	if wait := s.next.Sub(now); wait > 0 {
		if s.timer == nil {
			s.timer = time.NewTimer(wait)
		} else {
			s.timer.Reset(wait)
		}
		tick = s.timer.C
	} else {
		tick = closedTick
	}
	s.mu.Unlock()
	select {
	case <-tick:
	case <-s.closed:
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= 2 {
		s.primed = true
	}
	if s.n == 0 || !s.primed {
		s.primed = false
		for i := range p {
			p[i] = s.idle
		}
		return nil
	}
	copy(p, s.ring[s.head][:])
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	return nil
}

// WriteBlock sends p to the far end.
func (s *Slot) WriteBlock(p []byte) error {
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	if s.out != nil {
		s.out(p)
	}
	return nil
}

// Close stops the clock and ends a waiting ReadBlock.
func (s *Slot) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.mu.Lock()
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
	})
	return nil
}
