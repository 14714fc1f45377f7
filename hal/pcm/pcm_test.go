package pcm

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"jinyin/hal"
)

// source is a TDM port a test clocks: ReadFrames returns what the test
// sends, WriteFrames hands what goes out back to the test.
type source struct {
	in     chan []byte
	out    chan []byte
	closed chan struct{}
}

func newSource() *source {
	return &source{in: make(chan []byte), out: make(chan []byte, 16), closed: make(chan struct{})}
}

func (s *source) ReadFrames(p []byte) (int, error) {
	select {
	case b := <-s.in:
		return copy(p, b), nil
	case <-s.closed:
		return 0, errors.New("source closed")
	}
}

func (s *source) WriteFrames(p []byte) error {
	s.out <- bytes.Clone(p)
	return nil
}

func (s *source) Close() error { close(s.closed); return nil }

func recv(t *testing.T, c chan []byte) []byte {
	t.Helper()
	select {
	case b := <-c:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("nothing went out")
	}
	return nil
}

// Two slots (the CM4's FXS and FXO): each slot's octets gathered into its
// own blocks, aligned on the same frame, and blocks written going out in
// the next block, interleaved slot 0 first.
func TestHighway(t *testing.T) {
	src := newSource()
	h := Open(src, 2, 0xD5)
	defer h.Close()
	if prime := recv(t, src.out); len(prime) != 2*hal.BlockSize || prime[0] != 0xD5 || prime[319] != 0xD5 {
		t.Fatalf("primed with % x...", prime[:4])
	}
	s0, _ := h.Slot(0)
	s1, _ := h.Slot(1)
	if _, err := h.Slot(2); err == nil {
		t.Error("slot 2 of 2")
	}
	frames := make([]byte, 2*hal.BlockSize)
	for k := range hal.BlockSize {
		frames[2*k], frames[2*k+1] = byte(k), byte(255-k)
	}
	src.in <- frames[:100] // 50 frames, then the other 110: a block is frames, not reads
	recv(t, src.out)
	src.in <- frames[100:]
	recv(t, src.out)
	b0, b1 := make([]byte, hal.BlockSize), make([]byte, hal.BlockSize)
	if err := s0.ReadBlock(b0); err != nil {
		t.Fatal(err)
	}
	s1.ReadBlock(b1)
	for k := range hal.BlockSize {
		if b0[k] != byte(k) || b1[k] != byte(255-k) {
			t.Fatalf("octet %d: slot 0 %d, slot 1 %d", k, b0[k], b1[k])
		}
	}
	s0.WriteBlock(bytes.Repeat([]byte{0x11}, hal.BlockSize))
	s1.WriteBlock(bytes.Repeat([]byte{0x22}, hal.BlockSize))
	src.in <- frames // the block the writes wait for
	if out := recv(t, src.out); out[0] != 0xD5 {
		t.Errorf("written before its block: % x", out[:4])
	}
	src.in <- frames
	if out := recv(t, src.out); !bytes.Equal(out, bytes.Repeat([]byte{0x11, 0x22}, hal.BlockSize)) {
		t.Errorf("went out % x...", out[:8])
	}
	// 8 blocks unread (2 above, 6 here): 4 kept, 4 lost on each slot.
	for range 6 {
		src.in <- frames
		recv(t, src.out)
	}
	if h.Slips() != 2*4 {
		t.Errorf("%d slips", h.Slips())
	}
	// Left unread longer, the slots are between calls: no more slips, and
	// the next reader hears the line's next block, not stale ones.
	for range 10 {
		src.in <- frames
		recv(t, src.out)
	}
	if h.Slips() != 2*4 {
		t.Errorf("%d slips on idle slots", h.Slips())
	}
	fresh := bytes.Repeat([]byte{0x33, 0x44}, hal.BlockSize)
	got := make(chan []byte)
	go func() {
		b := make([]byte, hal.BlockSize)
		s0.ReadBlock(b)
		got <- b
	}()
	time.Sleep(20 * time.Millisecond) // the reader is waiting
	src.in <- fresh
	recv(t, src.out)
	if b := <-got; b[0] != 0x33 || b[159] != 0x33 {
		t.Errorf("a new reader heard % x..., not the line's next block", b[:4])
	}
	// Two readers waiting on one slot both wake when the highway stops.
	woke := make(chan error, 2)
	for range 2 {
		go func() { woke <- s1.ReadBlock(make([]byte, hal.BlockSize)) }()
	}
	time.Sleep(20 * time.Millisecond)
	h.Close()
	for range 2 {
		select {
		case <-woke:
		case <-time.After(5 * time.Second):
			t.Fatal("a reader was left waiting after Close")
		}
	}
	if err := s0.ReadBlock(b0); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if err := s0.WriteBlock(b0); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

// Blocks queued either way come out in order, across the rings' wrap.
func TestQueuedBlocksInOrder(t *testing.T) {
	src := newSource()
	h := Open(src, 1, 0xD5)
	defer h.Close()
	recv(t, src.out)
	s, _ := h.Slot(0)
	b := make([]byte, hal.BlockSize)
	for round := range 3 { // 9 blocks through rings of 4
		for k := range 3 {
			s.WriteBlock(bytes.Repeat([]byte{byte(10*round + k)}, hal.BlockSize))
		}
		for k := range 3 {
			src.in <- bytes.Repeat([]byte{byte(100 + 10*round + k)}, hal.BlockSize)
			out := recv(t, src.out)
			if k > 0 && out[0] != byte(10*round+k-1) { // each goes out in the block after it is taken
				t.Errorf("round %d block %d went out as %d", round, k, out[0])
			}
		}
		for k := range 3 {
			if err := s.ReadBlock(b); err != nil || b[0] != byte(100+10*round+k) || b[159] != b[0] {
				t.Errorf("round %d read %d: %d %v", round, k, b[0], err)
			}
		}
		src.in <- bytes.Repeat([]byte{0}, hal.BlockSize) // the last written goes out
		if out := recv(t, src.out); out[0] != byte(10*round+2) {
			t.Errorf("round %d last block went out as %d", round, out[0])
		}
		s.ReadBlock(b)
	}
	if h.Slips() != 0 {
		t.Errorf("%d slips", h.Slips())
	}
}
