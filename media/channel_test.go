package media

import (
	"sync"
	"testing"
	"time"
)

// fake is a Channel, Listener and DigitSender that records what it is asked.
type fake struct {
	events chan Event
	mu     sync.Mutex
	played Source
	sent   []byte
	hungUp bool
}

type nothing struct{}

func (nothing) Fill(dst []int16) int { clear(dst); return len(dst) }

func (f *fake) ID() string           { return "fake" }
func (f *fake) Play(s Source) PlayID { f.mu.Lock(); f.played = s; f.mu.Unlock(); return 0 }
func (f *fake) Events() <-chan Event { return f.events }
func (f *fake) Hangup() error        { f.mu.Lock(); f.hungUp = true; f.mu.Unlock(); return nil }
func (f *fake) Listen() Source       { return nothing{} }
func (f *fake) SendDigit(d byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, d)
	return nil
}

func (f *fake) state() (sent string, hungUp, played bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.sent), f.hungUp, f.played != nil
}

func TestBridgeRelaysDigitsAndHangsUp(t *testing.T) {
	a, b := &fake{events: make(chan Event, 4)}, &fake{events: make(chan Event, 4)}
	done := make(chan error)
	go func() { done <- Bridge(a, b) }()
	a.events <- Event{Kind: EventDigit, Digit: '5'}
	a.events <- Event{Kind: EventDigit, Digit: '7', InBand: true} // already in the audio
	b.events <- Event{Kind: EventDigit, Digit: '#'}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		sa, _, _ := a.state()
		sb, _, _ := b.state()
		if sa == "#" && sb == "5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relayed to a %q, to b %q; want # and 5", sa, sb)
		}
	}
	a.events <- Event{Kind: EventHangup}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("bridge did not end when a hung up")
	}
	_, aHung, aPlayed := a.state()
	_, bHung, bPlayed := b.state()
	if !bHung || aHung || !aPlayed || !bPlayed {
		t.Fatalf("a hung up %v, b hung up %v, audio connected %v %v", aHung, bHung, aPlayed, bPlayed)
	}
}

// playLine is a channel whose events the test scripts.
type playLine struct {
	events chan Event
	next   PlayID
}

func (p *playLine) ID() string           { return "p" }
func (p *playLine) Play(Source) PlayID   { p.next++; return p.next }
func (p *playLine) Events() <-chan Event { return p.events }
func (p *playLine) Hangup() error        { return nil }

// TestPlayToEnd: PlayToEnd returns at its own play's end, not at an
// earlier play's or at a digit; or at hang-up; or when the events close.
func TestPlayToEnd(t *testing.T) {
	for _, c := range []struct {
		name   string
		events []Event
		left   int // events not read
	}{
		{"its end", []Event{{Kind: EventPlayDone, Play: 1}, {Kind: EventDigit, Digit: '5'}, {Kind: EventPlayDone, Play: 2}, {Kind: EventDigit, Digit: '6'}}, 1},
		{"hang-up", []Event{{Kind: EventDigit, Digit: '5'}, {Kind: EventHangup}, {Kind: EventDigit, Digit: '6'}}, 1},
	} {
		l := &playLine{events: make(chan Event, 8), next: 1} // play 1 was before
		for _, e := range c.events {
			l.events <- e
		}
		PlayToEnd(l, nil)
		if len(l.events) != c.left {
			t.Errorf("%s: %d events left, want %d", c.name, len(l.events), c.left)
		}
	}
	l := &playLine{events: make(chan Event)}
	close(l.events)
	PlayToEnd(l, nil) // returns
}
