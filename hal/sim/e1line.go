package sim

import (
	"sync"
	"time"

	"jinyin/hal"
)

// E1End is one end of a simulated E1 line carrying raw frames
// (hal.E1Frames): what one end writes, the other reads, clocked at 8000
// frames a second, 160 frames (20 ms) per read.
//
// Each end's receiver keeps its own clock, as a line card's does: a reader
// held up gets the frames it missed at once. When the far end has not
// written enough, the receiver repeats the last frame it had (a controlled
// slip, G.822); when the far end writes faster than the line, the oldest
// frames beyond 320 are dropped (the other kind of slip). Until the far
// end writes anything, the line carries all ones (AIS), as a line whose
// far end is not transmitting frames does.
type E1End struct {
	far *E1End

	mu     sync.Mutex
	in     []byte // frames the far end wrote, not yet read
	last   [hal.E1FrameSize]byte
	next   time.Time
	timer  *time.Timer
	closed chan struct{}
	once   sync.Once
	cut    bool
}

var _ hal.E1Frames = (*E1End)(nil)

// e1Block is what one read returns: 20 ms of frames.
const e1Block = 160

// E1Line returns the two ends of a simulated E1 line.
func E1Line() (a, b *E1End) {
	a = &E1End{closed: make(chan struct{})}
	b = &E1End{closed: make(chan struct{}), far: a}
	a.far = b
	for i := range a.last {
		a.last[i], b.last[i] = 0xFF, 0xFF
	}
	return a, b
}

// ReadFrames waits for the next 20 ms tick and returns up to 160 frames.
func (e *E1End) ReadFrames(p []byte) (int, error) {
	e.mu.Lock()
	now := time.Now() // real time: the line's clock
	if e.next.IsZero() || now.Sub(e.next) > backlog*frame {
		e.next = now
	}
	e.next = e.next.Add(frame)
	wait := e.next.Sub(now)
	if e.timer == nil {
		e.timer = time.NewTimer(wait)
	} else {
		e.timer.Reset(wait)
	}
	tick := e.timer.C
	e.mu.Unlock()
	select {
	case <-tick:
	case <-e.closed:
		return 0, ErrClosed
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	n := min(len(p)/hal.E1FrameSize, e1Block) * hal.E1FrameSize
	for i := 0; i < n; i += hal.E1FrameSize {
		switch {
		case e.cut:
			for j := range e.last {
				e.last[j] = 0xFF
			}
		case len(e.in) >= hal.E1FrameSize:
			copy(e.last[:], e.in)
			e.in = e.in[hal.E1FrameSize:]
		}
		copy(p[i:], e.last[:])
	}
	return n, nil
}

// WriteFrames sends whole frames to the far end.
func (e *E1End) WriteFrames(p []byte) error {
	select {
	case <-e.closed:
		return ErrClosed
	default:
	}
	f := e.far
	f.mu.Lock()
	defer f.mu.Unlock()
	f.in = append(f.in, p[:len(p)/hal.E1FrameSize*hal.E1FrameSize]...)
	if over := len(f.in) - 2*e1Block*hal.E1FrameSize; over > 0 {
		f.in = append(f.in[:0], f.in[over:]...)
	}
	return nil
}

// Cut makes this end receive all ones (AIS) until Cut(false), as when
// the far end's equipment fails and the line sends its alarm signal.
func (e *E1End) Cut(ais bool) {
	e.mu.Lock()
	e.cut = ais
	e.mu.Unlock()
}

// Close ends this end's reads and writes.
func (e *E1End) Close() error {
	e.once.Do(func() { close(e.closed) })
	return nil
}
