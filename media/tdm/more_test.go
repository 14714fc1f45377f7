package tdm

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"jinyin/hal"
	"jinyin/media"
)

// stepSlot is a timeslot the test clocks: each ReadBlock says it is
// waiting (on ready) and takes the next block the test hands it; once the
// test closes it the line is gone and reads fail. Each block written is
// handed back to the test.
type stepSlot struct {
	ready chan struct{}
	in    chan []byte
	out   chan []byte
	gone  chan struct{}
	once  sync.Once
}

var errLineGone = errors.New("line gone")

func newStepSlot(t *testing.T) *stepSlot {
	s := &stepSlot{ready: make(chan struct{}), in: make(chan []byte), out: make(chan []byte, 64), gone: make(chan struct{})}
	t.Cleanup(s.close)
	return s
}

func (s *stepSlot) close() { s.once.Do(func() { close(s.gone) }) }

func (s *stepSlot) ReadBlock(p []byte) error {
	select {
	case s.ready <- struct{}{}:
	case <-s.gone:
		return errLineGone
	}
	select {
	case b := <-s.in:
		copy(p, b)
		return nil
	case <-s.gone:
		return errLineGone
	}
}

func (s *stepSlot) WriteBlock(p []byte) error {
	s.out <- slices.Clone(p)
	return nil
}

// reading waits until the channel is in ReadBlock, waiting for the clock.
func (s *stepSlot) reading(t *testing.T) {
	t.Helper()
	select {
	case <-s.ready:
	case <-time.After(3 * time.Second):
		t.Fatal("the channel does not read its timeslot")
	}
}

// give is the tick that ends the read under way, bringing block in.
func (s *stepSlot) give(t *testing.T, in []byte) {
	t.Helper()
	select {
	case s.in <- in:
	case <-time.After(3 * time.Second):
		t.Fatal("the channel does not take its block")
	}
}

// feed is one tick of the line's clock bringing block in.
func (s *stepSlot) feed(t *testing.T, in []byte) {
	t.Helper()
	s.reading(t)
	s.give(t, in)
}

// written is the next block the channel sent.
func (s *stepSlot) written(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-s.out:
		return b
	case <-time.After(3 * time.Second):
		t.Fatal("the channel sent nothing")
	}
	return nil
}

// step is one tick: block in, the channel's answer out. Once it returns the
// channel has heard the block.
func (s *stepSlot) step(t *testing.T, in []byte) []byte {
	t.Helper()
	s.feed(t, in)
	return s.written(t)
}

func fill(b byte) []byte { return bytes.Repeat([]byte{b}, hal.BlockSize) }

// G.711 silence: A-law 0xD5, µ-law 0xFF.
var alawIdle, ulawIdle = fill(0xD5), fill(0xFF)

func waitClosed[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		t.Fatalf("%s not closed", what)
	}
}

func noEvent(t *testing.T, c *Channel) {
	t.Helper()
	select {
	case e, ok := <-c.Events():
		if ok {
			t.Errorf("unexpected event %+v", e)
		}
	default:
	}
}

func TestID(t *testing.T) {
	c := New("pri2/17", newStepSlot(t), media.PCMA, func() error { return nil })
	if c.ID() != "pri2/17" {
		t.Errorf("ID %q", c.ID())
	}
}

// Hung up, the channel finishes the block it is on, leaves the timeslot
// idle (µ-law silence on a µ-law line) and only then says it is stopped.
func TestStoppedLeavesTheSlotIdle(t *testing.T) {
	s := newStepSlot(t)
	c := New("t1/3", s, media.PCMU, func() error { return nil })
	c.Play(&fixed{n: 1 << 30, v: 8000})
	if b := s.step(t, ulawIdle); bytes.Equal(b, ulawIdle) {
		t.Fatal("nothing played")
	}
	select {
	case <-c.Stopped():
		t.Fatal("stopped while running")
	default:
	}
	s.reading(t)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c.Done(), "Done")
	select {
	case <-c.Stopped():
		t.Fatal("stopped while still in a block")
	default:
	}
	s.give(t, ulawIdle)
	if b := s.written(t); bytes.Equal(b, ulawIdle) {
		t.Error("the block under way was not finished")
	}
	if b := s.written(t); !bytes.Equal(b, ulawIdle) {
		t.Errorf("left the slot with % X..., want µ-law silence", b[:4])
	}
	waitClosed(t, c.Stopped(), "Stopped")
	// Stopped: it neither reads nor writes the slot any more.
	select {
	case <-s.ready:
		t.Error("read the slot after it stopped")
	default:
	}
	select {
	case b := <-s.out:
		t.Errorf("wrote % X... after it stopped", b[:4])
	default:
	}
}

// A timeslot that fails is the far end gone: a hang-up event, then the
// channel ends and stops, and a later Hangup does not signal.
func TestReadErrorEnds(t *testing.T) {
	s := newStepSlot(t)
	signalled := make(chan bool, 1)
	c := New("x", s, media.PCMA, func() error { signalled <- true; return nil })
	s.close()
	if e := next(t, c); e.Kind != media.EventHangup {
		t.Fatalf("event %+v, want hang-up", e)
	}
	waitClosed(t, c.Events(), "Events")
	waitClosed(t, c.Done(), "Done")
	waitClosed(t, c.Stopped(), "Stopped")
	if err := c.Hangup(); err != nil || len(signalled) != 0 {
		t.Errorf("Hangup after the line went: %v, signalled %v", err, len(signalled) != 0)
	}
}

// Hangup passes on the signalling's error, and the channel ends anyway,
// without a hang-up event (the application hung up itself).
func TestHangupError(t *testing.T) {
	s := newStepSlot(t)
	busy := errors.New("d-channel down")
	c := New("x", s, media.PCMA, func() error { return busy })
	if err := c.Hangup(); err != busy {
		t.Errorf("Hangup: %v, want %v", err, busy)
	}
	waitClosed(t, c.Done(), "Done")
	if e, ok := <-c.Events(); ok {
		t.Errorf("event %+v after the application hung up", e)
	}
}

func TestListen(t *testing.T) {
	s := newStepSlot(t)
	c := New("x", s, media.PCMA, func() error { return nil })
	// Nothing heard before Listen is kept for it.
	for range 3 {
		s.step(t, fill(0x80))
	}
	l := c.Listen()
	frame := make([]int16, media.FrameSamples)
	junk := func() {
		for i := range frame {
			frame[i] = 99
		}
	}
	silent := func(what string) {
		t.Helper()
		junk()
		if n := l.Fill(frame); n != len(frame) || slices.ContainsFunc(frame, func(v int16) bool { return v != 0 }) {
			t.Errorf("%s: %d samples, %v..., want a frame of silence", what, n, frame[:4])
		}
	}
	silent("nothing heard yet")

	// Block i carries A-law code 0x90+i: distinct codes, distinct levels.
	block := func(i int) []byte { return fill(byte(0x90 + i)) }
	want := func(i int) []int16 {
		w := make([]int16, hal.BlockSize)
		for k := range w {
			w[k] = g711.DecodeAlawFrame(byte(0x90 + i))
		}
		return w
	}
	expect := func(i int) {
		t.Helper()
		junk()
		if n := l.Fill(frame); n != len(frame) || !slices.Equal(frame, want(i)) {
			t.Errorf("frame %d: %d samples %v..., want %v...", i, n, frame[:4], want(i)[:4])
		}
	}
	for i := range 5 {
		s.step(t, block(i))
	}
	for i := range 3 {
		expect(i)
	}
	// Frames 3 and 4 wait; 5 to 11 arrive: nine frames for eight places,
	// so the oldest goes.
	for i := 5; i < 12; i++ {
		s.step(t, block(i))
	}
	for i := 4; i < 12; i++ {
		expect(i)
	}
	silent("all frames taken")

	// A longer Fill is the frame and silence after it; a shorter one takes
	// the start of the frame, and the frame is used up.
	s.step(t, block(20))
	s.step(t, block(21))
	long := slices.Repeat([]int16{99}, 200)
	if n := l.Fill(long); n != 200 || !slices.Equal(long[:160], want(20)) || slices.ContainsFunc(long[160:], func(v int16) bool { return v != 0 }) {
		t.Errorf("long Fill: %d, %v", n, long[150:170])
	}
	short := make([]int16, 100)
	if n := l.Fill(short); n != 100 || !slices.Equal(short, want(21)[:100]) {
		t.Errorf("short Fill: %d, %v...", n, short[:4])
	}
	silent("after the short Fill")
}

// The line's tap hears each block decoded with the line's law.
func TestTapHearsDecoded(t *testing.T) {
	s := newStepSlot(t)
	c := New("fxo1", s, media.PCMU, func() error { return nil })
	var heard [][]int16
	c.SetTap(func(pcm []int16) { heard = append(heard, slices.Clone(pcm)) }, nil)
	in := make([]byte, hal.BlockSize)
	for i := range in {
		in[i] = byte(i)
	}
	s.step(t, in)
	s.step(t, ulawIdle)
	if len(heard) != 2 {
		t.Fatalf("tap heard %d blocks, want 2", len(heard))
	}
	for i, b := range in {
		if w := g711.DecodeUlawFrame(b); heard[0][i] != w {
			t.Fatalf("sample %d: %d, want µ-law %02X = %d", i, heard[0][i], b, w)
		}
	}
	// µ-law 0xFF is zero.
	if slices.ContainsFunc(heard[1], func(v int16) bool { return v != 0 }) {
		t.Errorf("µ-law silence heard as %v...", heard[1][:4])
	}
	c.SetTap(nil, nil)
	s.step(t, in)
	if len(heard) != 2 {
		t.Error("a removed tap still hears")
	}
}

// alawSrc is a prompt stored as A-law: it plays its bytes.
type alawSrc struct{ b []byte }

func (a *alawSrc) FillALaw(dst []byte) int {
	n := copy(dst, a.b)
	a.b = a.b[n:]
	return n
}

func (a *alawSrc) Fill(dst []int16) int {
	n := min(len(dst), len(a.b))
	for i := range n {
		dst[i] = g711.DecodeAlawFrame(a.b[i])
	}
	a.b = a.b[n:]
	return n
}

// An A-law source on each law: the bytes as they are on an A-law line,
// translated on a µ-law one, silence after the end, and one done event.
func TestPlayALaw(t *testing.T) {
	src := make([]byte, 250)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for _, law := range []media.Codec{media.PCMA, media.PCMU} {
		s := newStepSlot(t)
		c := New("x", s, law, func() error { return nil })
		id := c.Play(&alawSrc{b: slices.Clone(src)})
		want := make([]byte, 2*hal.BlockSize)
		for i := range want {
			switch {
			case i >= len(src) && law == media.PCMA:
				want[i] = 0xD5
			case i >= len(src):
				want[i] = 0xFF
			case law == media.PCMA:
				want[i] = src[i]
			default:
				want[i] = g711.Alaw2UlawFrame(src[i])
			}
		}
		got := append(s.step(t, alawIdle), s.step(t, alawIdle)...)
		if !bytes.Equal(got, want) {
			t.Errorf("%v: sent\n% X\nwant\n% X", law, got, want)
		}
		if e := next(t, c); e.Kind != media.EventPlayDone || e.Play != id {
			t.Errorf("%v: event %+v, want play %d done", law, e, id)
		}
		idle := alawIdle
		if law == media.PCMU {
			idle = ulawIdle
		}
		if b := s.step(t, alawIdle); !bytes.Equal(b, idle) {
			t.Errorf("%v: after the end sent % X...", law, b[:4])
		}
		noEvent(t, c)
		c.Hangup()
	}
}

// A linear source on a µ-law line: encoded, then silence where it ends.
func TestPlayLinearMuLaw(t *testing.T) {
	s := newStepSlot(t)
	c := New("x", s, media.PCMU, func() error { return nil })
	id := c.Play(&fixed{n: 100, v: 1000})
	b := s.step(t, ulawIdle)
	w := g711.EncodeUlawFrame(1000)
	if !bytes.Equal(b[:100], bytes.Repeat([]byte{w}, 100)) || !bytes.Equal(b[100:], ulawIdle[100:]) {
		t.Errorf("sent % X", b)
	}
	if e := next(t, c); e.Kind != media.EventPlayDone || e.Play != id {
		t.Errorf("event %+v, want play %d done", e, id)
	}
}

// A play that ends after the channel was hung up has no event to give:
// the events are closed.
func TestPlayDoneAfterHangup(t *testing.T) {
	s := newStepSlot(t)
	c := New("x", s, media.PCMA, func() error { return nil })
	c.Play(&fixed{n: 10, v: 1000})
	s.reading(t)
	c.Hangup()
	s.give(t, alawIdle)
	s.written(t) // the last block, where the play ends
	s.written(t) // idle
	waitClosed(t, c.Stopped(), "Stopped")
	if e, ok := <-c.Events(); ok {
		t.Errorf("event %+v after Hangup", e)
	}
}

// An application that does not read its events does not stall the line:
// events beyond what the queue holds are dropped, the first kept in order,
// and the far end hanging up still ends the channel.
func TestUnreadEventsDoNotStall(t *testing.T) {
	s := newStepSlot(t)
	c := New("x", s, media.PCMA, func() error { return nil })
	const plays = 40
	for range plays {
		c.Play(&fixed{n: 10, v: 1000})
		s.step(t, alawIdle) // each play ends in its block
	}
	ended := make(chan struct{})
	go func() { c.End(); close(ended) }()
	waitClosed(t, ended, "End (blocked on a full queue?)")
	waitClosed(t, c.Done(), "Done")
	var ids []media.PlayID
	for i := 0; i <= plays+1; i++ {
		e, ok := <-c.Events()
		if !ok {
			break
		}
		if e.Kind == media.EventPlayDone {
			ids = append(ids, e.Play)
		}
	}
	if len(ids) == 0 || len(ids) >= plays {
		t.Fatalf("%d done events of %d unread plays", len(ids), plays)
	}
	for i, id := range ids {
		if id != media.PlayID(i+1) {
			t.Fatalf("done events for plays %v, want the first ones in order", ids)
		}
	}
	if _, ok := <-c.Events(); ok {
		t.Error("events not closed")
	}
}

// After a linear source, nothing playing is silence (0xFF in µ-law, G.711
// table 2's code for 0), whether the source ended or Play(nil) replaced
// it: never the last block sent again.
func TestSilenceAfterLinearSource(t *testing.T) {
	s := newStepSlot(t)
	c := New("x", s, media.PCMU, func() error { return nil })
	silence := bytes.Repeat([]byte{0xFF}, hal.BlockSize)
	c.Play(&fixed{n: 1 << 30, v: 4000})
	if b := s.step(t, ulawIdle); bytes.Equal(b, silence) {
		t.Fatal("nothing played")
	}
	c.Play(nil)
	for i := range 2 {
		if b := s.step(t, ulawIdle); !bytes.Equal(b, silence) {
			t.Fatalf("block %d after Play(nil): % X", i+1, b[:8])
		}
	}
	c.Play(&fixed{n: 250, v: 4000}) // ends within the second block
	s.step(t, ulawIdle)
	s.step(t, ulawIdle)
	next(t, c)
	if b := s.step(t, ulawIdle); !bytes.Equal(b, silence) {
		t.Fatalf("the block after the source ended: % X", b[:8])
	}
}
