package ivr

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
)

// fakeChannel records what is played and lets the test send events.
type fakeChannel struct {
	played  []int // samples of each source played
	events  chan media.Event
	hungUp  chan struct{}
	playing chan struct{}
}

func newFake() *fakeChannel {
	return &fakeChannel{events: make(chan media.Event, 8), hungUp: make(chan struct{}), playing: make(chan struct{}, 8)}
}

func (f *fakeChannel) ID() string { return "fake" }
func (f *fakeChannel) Play(src media.Source) {
	n, buf := 0, make([]int16, 160)
	for {
		k := src.Fill(buf)
		n += k
		if k < len(buf) {
			break
		}
	}
	f.played = append(f.played, n)
	f.playing <- struct{}{}
}
func (f *fakeChannel) Events() <-chan media.Event { return f.events }
func (f *fakeChannel) Hangup() error              { close(f.hungUp); return nil }

func TestWelcomeRepeatsAndSaysGoodbye(t *testing.T) {
	set, err := prompt.Default()
	if err != nil {
		t.Fatal(err)
	}
	welcome, _ := set.Player(prompt.English, "welcome", "main-menu")
	menu, _ := set.Player(prompt.English, "main-menu")
	goodbye, _ := set.Player(prompt.English, "goodbye")
	ch := newFake()
	done := make(chan struct{})
	go func() {
		Welcome(ch, set, prompt.English, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.NewFake(time.Unix(0, 0)))
		close(done)
	}()
	<-ch.playing
	ch.events <- media.Event{Kind: media.EventDigit, Digit: '5'} // logged, nothing played
	ch.events <- media.Event{Kind: media.EventDigit, Digit: '*'} // menu again
	<-ch.playing
	ch.events <- media.Event{Kind: media.EventPlayDone} // ended without a key: menu, third time
	<-ch.playing
	ch.events <- media.Event{Kind: media.EventPlayDone} // three plays: goodbye
	<-ch.playing
	ch.events <- media.Event{Kind: media.EventPlayDone} // goodbye played: hang up
	select {
	case <-ch.hungUp:
	case <-time.After(2 * time.Second):
		t.Fatal("no hang-up after the goodbye")
	}
	<-done
	want := []int{welcome.Samples(), menu.Samples(), menu.Samples(), goodbye.Samples()}
	if len(ch.played) != len(want) {
		t.Fatalf("played %v samples, want %v", ch.played, want)
	}
	for i := range want {
		if ch.played[i] != want[i] {
			t.Fatalf("played %v samples, want %v", ch.played, want)
		}
	}
}

func TestWelcomeEndsOnHangup(t *testing.T) {
	set, _ := prompt.Default()
	ch := newFake()
	done := make(chan struct{})
	go func() {
		Welcome(ch, set, prompt.Mandarin, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.NewFake(time.Unix(0, 0)))
		close(done)
	}()
	<-ch.playing
	ch.events <- media.Event{Kind: media.EventHangup}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Welcome did not return after the caller hung up")
	}
}

func TestWelcomeHangsUpWhenIdle(t *testing.T) {
	set, _ := prompt.Default()
	clk := clock.NewFake(time.Unix(0, 0))
	ch := newFake()
	done := make(chan struct{})
	go func() {
		Welcome(ch, set, prompt.English, slog.New(slog.NewTextHandler(io.Discard, nil)), clk)
		close(done)
	}()
	<-ch.playing
	clk.Advance(59 * time.Second)
	select {
	case <-ch.hungUp:
		t.Fatal("hung up before a minute of silence")
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Second)
	select {
	case <-ch.hungUp:
	case <-time.After(2 * time.Second):
		t.Fatal("no hang-up after a minute without a key")
	}
	<-done
}
