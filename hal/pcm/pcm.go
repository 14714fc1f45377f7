// Package pcm is a PCM highway's slots as hal.Timeslots: the frames a TDM
// port brings in (hal/alsa), one octet per slot, gathered into the
// 160-octet blocks media/tdm moves, every slot's blocks starting on the
// same frame, and put back together going out. hal/rawe1 uses its Slot
// for an E1's B-channels; Highway serves the analog ports' slots (the
// CM4's two, an FXS and an FXO).
//
// The highway's clock is the only clock: a frame goes out for each frame
// that comes in. A reader more than 4 blocks behind loses its oldest
// block, and so does a writer more than 4 blocks ahead: each is a slip. A
// slot nobody has read for 8 blocks (a channel between calls) drops its
// blocks without counting them, and its next reader starts on the line's
// next block. A writer with nothing queued when a block is due sends
// idle.
//
// Layer: hal. It imports hal and the standard library.
package pcm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"jinyin/hal"
)

// Slot is one slot's blocks. RX and TX are the loop's, the rings are
// shared with the slot's reader and writer.
type Slot struct {
	RX, TX [hal.BlockSize]byte // the block being gathered, the block going out

	idle   byte
	failed func() error // the highway's error once it stops

	mu     sync.Mutex
	rx, tx [4][hal.BlockSize]byte
	rh, rn int
	th, tn int
	slips  *atomic.Uint64
	unread int  // blocks handed over since the reader last read
	absent bool // the reader went away (no read for 8 blocks): drop what waits
	ready  chan struct{}
	stop   chan struct{}
	once   sync.Once
}

// absentAfter is how many blocks unread make a slot's reader absent: a
// channel between calls, not a slow reader. Its blocks are then dropped
// without counting slips, and the next reader starts with the line's
// next block instead of stale ones.
const absentAfter = 8

// NewSlot returns a slot that sends idle until written, counts its slips
// in slips, and fails reads and writes once failed says so.
func NewSlot(idle byte, slips *atomic.Uint64, failed func() error) *Slot {
	sl := &Slot{idle: idle, failed: failed, slips: slips, ready: make(chan struct{}, 1), stop: make(chan struct{})}
	for i := range sl.TX {
		sl.TX[i] = idle
	}
	return sl
}

// Exchange is the end of a block, on the loop: it hands over RX and takes
// the next block to send into TX.
func (sl *Slot) Exchange() {
	sl.mu.Lock()
	if sl.unread++; sl.unread > absentAfter {
		sl.absent = true
	}
	if sl.rn == len(sl.rx) { // the reader is 4 blocks behind: drop its oldest
		sl.rh = (sl.rh + 1) % len(sl.rx)
		sl.rn--
		if !sl.absent {
			sl.slips.Add(1)
		}
	}
	sl.rx[(sl.rh+sl.rn)%len(sl.rx)] = sl.RX
	sl.rn++
	if sl.tn > 0 {
		sl.TX = sl.tx[sl.th]
		sl.th = (sl.th + 1) % len(sl.tx)
		sl.tn--
	} else {
		for i := range sl.TX { // nothing to say: idle, not a slip
			sl.TX[i] = sl.idle
		}
	}
	sl.mu.Unlock()
	sl.Wake()
}

// Wake makes a waiting reader look again.
func (sl *Slot) Wake() {
	select {
	case sl.ready <- struct{}{}:
	default:
	}
}

// Stop ends every waiting and later read with the highway's error.
func (sl *Slot) Stop() { sl.once.Do(func() { close(sl.stop) }) }

// ReadBlock waits for the next block the highway brought.
func (sl *Slot) ReadBlock(p []byte) error {
	for {
		sl.mu.Lock()
		if sl.absent { // a new reader: the blocks waiting are stale
			sl.absent, sl.rn = false, 0
		}
		sl.unread = 0
		if sl.rn > 0 {
			copy(p, sl.rx[sl.rh][:])
			sl.rh = (sl.rh + 1) % len(sl.rx)
			sl.rn--
			sl.mu.Unlock()
			return nil
		}
		sl.mu.Unlock()
		if err := sl.failed(); err != nil {
			return err
		}
		select {
		case <-sl.ready:
		case <-sl.stop:
		}
	}
}

// WriteBlock queues p to go out in a coming block.
func (sl *Slot) WriteBlock(p []byte) error {
	if err := sl.failed(); err != nil {
		return err
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.tn == len(sl.tx) {
		sl.th = (sl.th + 1) % len(sl.tx)
		sl.tn--
		sl.slips.Add(1)
	}
	copy(sl.tx[(sl.th+sl.tn)%len(sl.tx)][:], p)
	sl.tn++
	return nil
}

// ErrClosed is returned once the highway is closed.
var ErrClosed = errors.New("pcm: highway closed")

// Highway is a TDM port's slots.
type Highway struct {
	src   hal.E1Frames // frames of n octets, whatever their size
	n     int
	slots []*Slot
	slips atomic.Uint64

	mu     sync.Mutex
	err    error
	closed chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Open starts a highway of n slots per frame on src, primed with 20 ms of
// idle.
func Open(src hal.E1Frames, n int, idle byte) *Highway {
	h := &Highway{src: src, n: n, closed: make(chan struct{}), done: make(chan struct{})}
	for range n {
		h.slots = append(h.slots, NewSlot(idle, &h.slips, h.failed))
	}
	go h.run()
	return h
}

// Slot is slot i (0 first) of each frame.
func (h *Highway) Slot(i int) (hal.Timeslot, error) {
	if i < 0 || i >= h.n {
		return nil, fmt.Errorf("pcm: no slot %d on a highway of %d", i, h.n)
	}
	return h.slots[i], nil
}

// Slips counts the slots' slips.
func (h *Highway) Slips() uint64 { return h.slips.Load() }

func (h *Highway) failed() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *Highway) run() {
	defer close(h.done)
	buf := make([]byte, hal.BlockSize*h.n)
	out := make([]byte, len(buf))
	pos := 0
	for i := range out {
		out[i] = h.slots[i%h.n].TX[i/h.n]
	}
	err := h.src.WriteFrames(out)
	for err == nil {
		var got int
		if got, err = h.src.ReadFrames(buf); err != nil {
			break
		}
		frames := got / h.n
		for k := range frames {
			for i, sl := range h.slots {
				sl.RX[pos] = buf[k*h.n+i]
				out[k*h.n+i] = sl.TX[pos]
			}
			if pos++; pos == hal.BlockSize {
				pos = 0
				for _, sl := range h.slots {
					sl.Exchange()
				}
			}
		}
		err = h.src.WriteFrames(out[:frames*h.n])
	}
	select {
	case <-h.closed:
		err = ErrClosed
	default:
	}
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
	for _, sl := range h.slots {
		sl.Stop()
	}
}

// Close stops the highway and closes its source.
func (h *Highway) Close() error {
	h.once.Do(func() {
		close(h.closed)
		h.src.Close()
	})
	<-h.done
	return nil
}
