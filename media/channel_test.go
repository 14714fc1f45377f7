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
