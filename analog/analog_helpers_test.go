package analog

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/dtmf"
)

// Helpers for the tests that drive the state machines poll by poll on
// the fake clock (the analog_*_test.go files).

// start is when every fake clock in these tests begins; the port's first
// poll is at start+Poll.
var start = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

// polls advances clk by n polls, one Advance each, so each poll runs to
// the end (with the renewal of a channel it started) before the next.
func polls(clk *clock.Fake, n int) {
	for range n {
		clk.Advance(Poll)
	}
}

// waitFor waits, in real time and at most 5 s, for cond: for work done
// on a goroutine the test does not run (Ring, a channel's audio).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// peakAtDBm0 is the peak of a sine at level dBm0 in 16-bit linear PCM,
// worked from G.711 §A.1: a full-scale sine (peak 32767) is +3.14 dBm0.
func peakAtDBm0(level float64) float64 {
	return 32767 * math.Pow(10, (level-3.14)/20)
}

// sineBlock is one 20 ms block of a sine at freq and level dBm0, phase 0.
func sineBlock(freq, level float64) []int16 {
	b := make([]int16, media.FrameSamples)
	a := peakAtDBm0(level)
	for i := range b {
		b[i] = int16(math.Round(a * math.Sin(2*math.Pi*freq*float64(i)/8000)))
	}
	return b
}

// peak is the largest magnitude in pcm.
func peak(pcm []int16) float64 {
	m := 0.0
	for _, v := range pcm {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// rms is the root mean square of pcm.
func rms(pcm []int16) float64 {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// lineSlot is a timeslot that runs as fast as its channel reads: the
// blocks fed with feed are the next ones read, back to back, and when
// nothing is queued the line is silent (A-law idle) after 2 ms.
// Everything the channel writes is kept, decoded. It makes a port's audio
// independent of the machine's load: a test sees exactly the blocks it
// fed, in order, with no gap between them.
type lineSlot struct {
	closed chan struct{}
	once   sync.Once

	mu        sync.Mutex
	queue     [][]byte
	lastDone  chan struct{} // closed at the read after the last fed block
	afterLast chan struct{} // lastDone of the block just read
	fed       chan struct{} // signalled when blocks are queued
	sent      []int16
	hold      chan struct{} // while set, reads wait for it to close
	held      int           // reads waiting on hold
}

func newLineSlot() *lineSlot {
	return &lineSlot{closed: make(chan struct{}), fed: make(chan struct{}, 1)}
}

func (s *lineSlot) ReadBlock(p []byte) error {
	s.mu.Lock()
	if s.afterLast != nil { // the channel is done with the last fed block
		close(s.afterLast)
		s.afterLast = nil
	}
	hold := s.hold
	if hold != nil {
		s.held++
	}
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-s.closed:
			return sim.ErrClosed
		}
		s.mu.Lock()
		s.held--
		s.mu.Unlock()
	}
	for range 2 {
		s.mu.Lock()
		if len(s.queue) > 0 {
			copy(p, s.queue[0])
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.afterLast, s.lastDone = s.lastDone, nil
			}
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.fed:
		case <-s.closed:
			return sim.ErrClosed
		case <-time.After(2 * time.Millisecond):
		}
	}
	for i := range p {
		p[i] = 0xD5
	}
	return nil
}

func (s *lineSlot) WriteBlock(p []byte) error {
	pcm := make([]int16, len(p))
	media.PCMA.Decode(pcm, p)
	s.mu.Lock()
	s.sent = append(s.sent, pcm...)
	s.mu.Unlock()
	return nil
}

func (s *lineSlot) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// pause holds the line's clock: the channel's next read waits, and so
// does whatever waits for the channel to let go of the timeslot, until
// resume. It returns once the channel is waiting.
func (s *lineSlot) pause(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	s.hold = make(chan struct{})
	s.mu.Unlock()
	waitFor(t, "the channel waiting on the held line", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.held > 0
	})
}

func (s *lineSlot) resume() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
}

// feed plays pcm into the port, in blocks back to back, and returns once
// the channel has heard all of it (it reads the next block only when it
// is done with the last).
func (s *lineSlot) feed(t *testing.T, pcm []int16) {
	t.Helper()
	blk := make([]int16, hal.BlockSize)
	done := make(chan struct{})
	s.mu.Lock()
	for i := 0; i < len(pcm); i += hal.BlockSize {
		clear(blk)
		copy(blk, pcm[i:])
		b := make([]byte, hal.BlockSize)
		media.PCMA.Encode(b, blk)
		s.queue = append(s.queue, b)
	}
	s.lastDone = done
	s.mu.Unlock()
	select {
	case s.fed <- struct{}{}:
	default:
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the port stopped reading its line (%d samples fed)", len(pcm))
	}
}

// sentFrom is what the port has sent since sample n.
func (s *lineSlot) sentFrom(n int) []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.sent[min(n, len(s.sent)):]...)
}

// sentLen is how many samples the port has sent.
func (s *lineSlot) sentLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// awaitSent waits until the port has sent n samples since from, and
// returns them.
func (s *lineSlot) awaitSent(t *testing.T, from, n int) []int16 {
	t.Helper()
	waitFor(t, "the port's audio", func() bool { return s.sentLen() >= from+n })
	return s.sentFrom(from)[:n]
}

// fxoLine is a simulated exchange line (hook, ringing, polarity, loop
// current) whose audio is a lineSlot.
type fxoLine struct {
	*sim.FXOPort
	*lineSlot
}

func newFXOLine() *fxoLine { return &fxoLine{sim.NewFXO(), newLineSlot()} }

func (l *fxoLine) ReadBlock(p []byte) error  { return l.lineSlot.ReadBlock(p) }
func (l *fxoLine) WriteBlock(p []byte) error { return l.lineSlot.WriteBlock(p) }
func (l *fxoLine) Close() error              { l.lineSlot.Close(); return l.FXOPort.Close() }

// fxsLine is a simulated phone (hook, bell) whose audio is a lineSlot.
type fxsLine struct {
	*sim.FXSPort
	*lineSlot
}

func newFXSLine() *fxsLine { return &fxsLine{sim.NewFXS(), newLineSlot()} }

func (l *fxsLine) ReadBlock(p []byte) error  { return l.lineSlot.ReadBlock(p) }
func (l *fxsLine) WriteBlock(p []byte) error { return l.lineSlot.WriteBlock(p) }
func (l *fxsLine) Close() error              { l.lineSlot.Close(); return l.FXSPort.Close() }

// spyClock is the fake clock, telling the test each AfterFunc longer
// than a poll (the port's own timers: dial tone, digits, flash).
type spyClock struct {
	*clock.Fake
	timers chan time.Duration
}

func newSpyClock() *spyClock {
	return &spyClock{clock.NewFake(start), make(chan time.Duration, 16)}
}

func (c *spyClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Fake.AfterFunc(d, f)
	if d != Poll {
		select {
		case c.timers <- d:
		default: // a test that does not look at the timers
		}
	}
	return t
}

// nextTimer is the next timer the port set.
func (c *spyClock) nextTimer(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.timers:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the port set no timer")
		return 0
	}
}

// logRecords is a slog handler keeping every record, at every level.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

// transitions is the "from>to" of each debug record with message msg.
func (h *logRecords) transitions(msg string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level != slog.LevelDebug || r.Message != msg {
			continue
		}
		var from, to string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "from":
				from = a.Value.String()
			case "to":
				to = a.Value.String()
			}
			return true
		})
		out = append(out, from+">"+to)
	}
	return out
}

// dtmfHeard is the digits the detector hears in pcm and the RMS level of
// the first tone: samples 40 to n after the first one out of silence.
func dtmfHeard(t *testing.T, pcm []int16, n int) (string, float64) {
	t.Helper()
	var got []byte
	det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			got = append(got, e.Digit)
		}
	})
	det.Process(pcm)
	first := 0
	for first < len(pcm) && pcm[first] > -200 && pcm[first] < 200 {
		first++
	}
	if first+n > len(pcm) {
		t.Fatal("no DTMF tone heard")
	}
	return string(got), rms(pcm[first+40 : first+n])
}
