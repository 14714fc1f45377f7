package sim

import (
	"testing"
	"time"

	"jinyin/hal"
)

// A reader held up for 100 ms (a GC pause on a loaded machine) while the
// far end keeps sending one block per 20 ms loses nothing: it gets the
// blocks it missed at once and catches up with the far end. With a
// ticker that drops missed ticks the ring overflowed and the start of
// what arrived meanwhile (the first 50 ms of a DTMF digit) was lost.
func TestSlotReaderStallLosesNothing(t *testing.T) {
	near, far := SlotPair(0xD5)
	defer near.Close()
	defer far.Close()
	const blocks = 20
	var p [hal.BlockSize]byte
	if err := near.ReadBlock(p[:]); err != nil { // starts the frame clock
		t.Fatal(err)
	}
	go func() {
		var b [hal.BlockSize]byte
		for i := 1; i <= blocks; i++ {
			b[0] = byte(i)
			if far.WriteBlock(b[:]) != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(100 * time.Millisecond) // the stall
	var got []byte
	for reads := 0; reads < 3*blocks && len(got) < blocks; reads++ {
		if err := near.ReadBlock(p[:]); err != nil {
			t.Fatal(err)
		}
		if p[0] != 0xD5 {
			got = append(got, p[0])
		}
	}
	for i, b := range got {
		if b != byte(i+1) {
			t.Fatalf("blocks read %v: block %d missing or out of order", got, i+1)
		}
	}
	if len(got) != blocks {
		t.Fatalf("read %d of %d blocks: %v", len(got), blocks, got)
	}
}

// The frame clock keeps time: 25 reads take 500 ms, neither less (a slot
// that returns early plays audio too fast) nor more.
func TestSlotPacesAt20ms(t *testing.T) {
	s := NewSlot(0xD5, nil)
	defer s.Close()
	var p [hal.BlockSize]byte
	start := time.Now()
	for range 25 {
		if err := s.ReadBlock(p[:]); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 480*time.Millisecond {
		t.Fatalf("25 blocks in %v, want 500 ms", d)
	}
	if p[0] != 0xD5 {
		t.Errorf("a slot with nothing from the far end read %#x, want idle 0xD5", p[0])
	}
	go s.Close()
	if err := s.ReadBlock(p[:]); err != ErrClosed {
		t.Errorf("read after close: %v", err)
	}
}
