package tdm

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/media"
	"jinyin/media/tone"
)

// digitAudio is a DTMF digit at -10 dBm0 per tone for 100 ms, then 100 ms
// of silence, A-law.
func digitAudio(t testing.TB, d byte) [][]byte {
	r, c, err := tone.DTMFFreqs(d)
	if err != nil {
		t.Fatal(err)
	}
	acc := make([]float64, 1600)
	o1, o2 := tone.NewOsc(r, -10), tone.NewOsc(c, -10)
	o1.Add(acc[:800])
	o2.Add(acc[:800])
	pcm := make([]int16, 1600)
	tone.Mix(pcm, acc)
	var blocks [][]byte
	for i := 0; i < len(pcm); i += hal.BlockSize {
		b := make([]byte, hal.BlockSize)
		media.PCMA.Encode(b, pcm[i:i+hal.BlockSize])
		blocks = append(blocks, b)
	}
	return blocks
}

func next(t *testing.T, c *Channel) media.Event {
	t.Helper()
	select {
	case e := <-c.Events():
		return e
	case <-time.After(3 * time.Second):
		t.Fatal("no event")
	}
	return media.Event{}
}

func TestDigitsPlayAndHangup(t *testing.T) {
	near, far := sim.SlotPair(0xD5)
	defer far.Close()
	hung := make(chan bool, 1)
	c := New("pri1/1", near, media.PCMA, func() error { hung <- true; return nil })
	for _, b := range digitAudio(t, '5') {
		far.WriteBlock(b)
		time.Sleep(20 * time.Millisecond)
	}
	if e := next(t, c); e.Kind != media.EventDigit || e.Digit != '5' || !e.InBand {
		t.Fatalf("event %+v, want digit 5", e)
	}

	c.Play(&fixed{n: 3 * media.FrameSamples, v: 1000})
	if e := next(t, c); e.Kind != media.EventPlayDone {
		t.Fatalf("event %+v, want play done", e)
	}
	heard := false
	block := make([]byte, hal.BlockSize)
	for range 10 {
		far.ReadBlock(block)
		if block[0] != 0xD5 {
			heard = true
		}
	}
	if !heard {
		t.Error("the far end never heard what was played")
	}

	c.End()
	if e := next(t, c); e.Kind != media.EventHangup {
		t.Fatalf("event %+v, want hang-up", e)
	}
	if _, ok := <-c.Events(); ok {
		t.Error("events not closed after the far end hung up")
	}
	if c.Hangup() != nil || len(hung) != 0 {
		t.Error("Hangup after the far end left must not signal again")
	}
}

// A digit the line's signalling takes is not an event for the
// application; one it leaves is.
func TestDigitTap(t *testing.T) {
	near, far := sim.SlotPair(0xD5)
	defer far.Close()
	c := New("fxs1-1", near, media.PCMA, func() error { return nil })
	defer c.Hangup()
	var taken []byte
	c.SetTap(nil, func(d byte) bool {
		taken = append(taken, d)
		return d == '1'
	})
	for _, d := range []byte{'1', '2'} {
		for _, b := range digitAudio(t, d) {
			far.WriteBlock(b)
			time.Sleep(20 * time.Millisecond)
		}
	}
	if e := next(t, c); e.Kind != media.EventDigit || e.Digit != '2' {
		t.Fatalf("event %+v, want digit 2 only (1 was taken)", e)
	}
	if string(taken) != "12" {
		t.Errorf("the tap saw %q", taken)
	}
}

func TestHangupSignals(t *testing.T) {
	near, _ := sim.SlotPair(0xD5)
	hung := 0
	c := New("x", near, media.PCMA, func() error { hung++; return nil })
	c.Hangup()
	c.Hangup()
	<-c.Done()
	if hung != 1 {
		t.Errorf("hangup signalled %d times", hung)
	}
}

// fixed is n samples of v.
type fixed struct{ n, v int }

func (f *fixed) Fill(dst []int16) int {
	k := min(f.n, len(dst))
	for i := range k {
		dst[i] = int16(f.v)
	}
	f.n -= k
	return k
}

// parked is a timeslot whose clock never ticks, so the benchmark drives
// the channel's block path itself.
type parked struct{}

func (parked) ReadBlock(p []byte) error  { select {} }
func (parked) WriteBlock(p []byte) error { return nil }

// BenchmarkBlock is one 20 ms block in and out with a listener: 0 allocs.
func BenchmarkBlock(b *testing.B) {
	c := New("b", parked{}, media.PCMA, func() error { return nil })
	c.Play(&fixed{n: 1 << 62, v: 500})
	var out [media.FrameSamples]int16
	l := c.Listen()
	b.ReportAllocs()
	for b.Loop() {
		c.receive()
		c.send()
		l.Fill(out[:])
	}
}

// endsReplaced is a source that ends in the block it fills, and is
// replaced by next while it fills it: the application's Play landing in
// the same 20 ms as the end of what played before.
type endsReplaced struct {
	c    *Channel
	next media.Source
	ids  chan media.PlayID // the replacing Play's id
}

func (s *endsReplaced) Fill(dst []int16) int {
	s.ids <- s.c.Play(s.next)
	clear(dst[:10])
	return 10
}

// A play replaced just as it ends: its done event names it, not the play
// that replaced it, and the new source plays on.
func TestPlayDoneNamesThePlayThatEnded(t *testing.T) {
	near, far := sim.SlotPair(0xD5)
	defer far.Close()
	c := New("pri1/2", near, media.PCMA, func() error { return nil })
	defer c.Hangup()
	newer := &fixed{n: 1 << 30, v: 4000}
	old := &endsReplaced{c: c, next: newer, ids: make(chan media.PlayID, 1)}
	oldID := c.Play(old)
	e := next(t, c)
	newID := <-old.ids
	if e.Kind != media.EventPlayDone || e.Play != oldID || oldID == newID {
		t.Fatalf("event %+v; the ended play is %d, the one replacing it %d", e, oldID, newID)
	}
	want := make([]byte, hal.BlockSize)
	media.PCMA.Encode(want, slices.Repeat([]int16{4000}, hal.BlockSize))
	block := make([]byte, hal.BlockSize)
	heard := false
	for range 10 {
		far.ReadBlock(block)
		heard = heard || bytes.Equal(block, want)
	}
	if !heard {
		t.Error("the play that replaced the ended one was stopped with it")
	}
	select {
	case e := <-c.Events():
		t.Errorf("event %+v while the new play goes on", e)
	default:
	}
}
