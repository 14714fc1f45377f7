package media

import (
	"testing"
	"time"
)

// fake is a Channel, Listener and DigitSender that records what it is asked.
type fake struct {
	events chan Event
	played Source
	sent   []byte
	hungUp bool
}

type nothing struct{}

func (nothing) Fill(dst []int16) int { clear(dst); return len(dst) }

func (f *fake) ID() string             { return "fake" }
func (f *fake) Play(s Source)          { f.played = s }
func (f *fake) Events() <-chan Event   { return f.events }
func (f *fake) Hangup() error          { f.hungUp = true; return nil }
func (f *fake) Listen() Source         { return nothing{} }
func (f *fake) SendDigit(d byte) error { f.sent = append(f.sent, d); return nil }

func TestBridgeRelaysDigitsAndHangsUp(t *testing.T) {
	a, b := &fake{events: make(chan Event, 4)}, &fake{events: make(chan Event, 4)}
	done := make(chan error)
	go func() { done <- Bridge(a, b) }()
	a.events <- Event{Kind: EventDigit, Digit: '5'}
	a.events <- Event{Kind: EventDigit, Digit: '7', InBand: true} // already in the audio
	b.events <- Event{Kind: EventDigit, Digit: '#'}
	a.events <- Event{Kind: EventHangup}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("bridge did not end when a hung up")
	}
	if string(b.sent) != "5" || string(a.sent) != "#" || !b.hungUp || a.hungUp {
		t.Fatalf("a sent %q hung up %v; b sent %q hung up %v", a.sent, a.hungUp, b.sent, b.hungUp)
	}
	if a.played == nil || b.played == nil {
		t.Fatal("audio not cross-connected")
	}
}
