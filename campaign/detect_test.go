package campaign

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/media"
	"jinyin/media/amd"
	"jinyin/media/sit"
	"jinyin/media/tone"
	"jinyin/store"
)

// speaking is an answered call whose far end says audio (then line
// silence); its channel pulls what it plays as fast as it is filled.
type speaking struct {
	id     string
	audio  []int16
	events chan media.Event

	mu     sync.Mutex
	next   media.PlayID
	frames int // frames the analyser played before it ended
	hungUp bool
}

func (s *speaking) ID() string                 { return s.id }
func (s *speaking) Events() <-chan media.Event { return s.events }
func (s *speaking) Hangup() error              { s.mu.Lock(); s.hungUp = true; s.mu.Unlock(); return nil }
func (s *speaking) Listen() media.Source       { return &pcm{s: s.audio} }

func (s *speaking) Play(src media.Source) media.PlayID {
	s.mu.Lock()
	s.next++
	id := s.next
	s.mu.Unlock()
	if src == nil {
		return id
	}
	go func() {
		var frame [media.FrameSamples]int16
		for i := range 3000 { // a minute of frames at most
			if src.Fill(frame[:]) < len(frame) {
				s.mu.Lock()
				s.frames = i
				s.mu.Unlock()
				s.events <- media.Event{Kind: media.EventPlayDone, Play: id}
				return
			}
			for _, x := range frame {
				if x != 0 {
					panic("the analyser played sound to the far end")
				}
			}
		}
	}()
	return id
}

// pcm is a source of samples, then silence for ever.
type pcm struct{ s []int16 }

func (p *pcm) Fill(dst []int16) int {
	n := copy(dst, p.s)
	p.s = p.s[n:]
	clear(dst[n:])
	return len(dst)
}

// voice is ms of a 300 Hz sound at -15 dBm0 (energy is what AMD hears).
func voice(ms int) []int16 { return tone.Sine(300, -15, ms*8) }
func quiet(ms int) []int16 { return make([]int16, ms*8) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// sitTones are the three tones of a SIT at -24 dBm0, Telcordia's
// frequencies and lengths (ms).
func sitTones(f1, f2 float64, ms1, ms2 int) []int16 {
	return concat(tone.Sine(f1, -24, ms1*8), tone.Sine(f2, -24, ms2*8), tone.Sine(1776.7, -24, 380*8))
}

// TestDetection: with detect = "amd" the first seconds of an answered
// call decide its outcome: a person's hello plays the flow; a machine's
// greeting is hung up on and tried again (or, with machine = "message",
// gets the flow once its greeting ends); a SIT's code says vacant
// (never again) or congestion (later); a digit keyed is a person.
func TestDetection(t *testing.T) {
	c := config.Campaign{Name: "amd", Flow: "notice", Trunk: "pstn", Lines: 8, Start: true, MaxAttempts: 3, Detect: "amd",
		Retry: map[string]string{"machine": "2h", "congestion": "30m", "sit": "1h"}}
	msg := c
	msg.Name, msg.Machine, msg.CallerID = "amd-msg", "message", "msg"
	greeting := concat(voice(300), quiet(200), voice(300), quiet(200), voice(300), quiet(200), voice(800), quiet(3000))
	audio := map[string][]int16{
		"13900000001": concat(voice(400), quiet(3000)),
		"13900000002": greeting,
		"13900000003": concat(quiet(300), sitTones(913.8, 1370.6, 274, 274), voice(3000)), // intercept
		"13900000004": concat(quiet(300), sitTones(985.2, 1428.5, 380, 380), voice(3000)), // no circuit
		"13900000005": concat(quiet(300), sitTones(950, 1400, 330, 330), voice(3000)),     // E.180: no code
		"13900000006": quiet(6000),                                                        // a machine that says nothing
	}
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c, msg)
	var calls, msgCalls sync.Map
	f.r.o.Dial = func(ctx context.Context, trunk, number, from string) (media.Channel, error) {
		f.far.dial(ctx, trunk, number, from)
		s := &speaking{id: number, audio: audio[number], events: make(chan media.Event, 8)}
		if number == "13900000007" { // keys a digit at once
			s.audio = quiet(6000)
			s.events <- media.Event{Kind: media.EventDigit, Digit: '1'}
		}
		if strings.Contains(from, "msg") {
			msgCalls.Store(number, s)
		} else {
			calls.Store(number, s)
		}
		return s, nil
	}
	list := "number\n13900000001\n13900000002\n13900000003\n13900000004\n13900000005\n13900000006\n13900000007\n"
	if _, err := f.r.Import("amd", strings.NewReader(list)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Import("amd-msg", strings.NewReader("number\n13900000002\n")); err != nil {
		t.Fatal(err)
	}
	f.tick()
	want := map[string]string{
		"13900000001": "done answered",
		"13900000002": "waiting machine",
		"13900000003": "failed vacant",
		"13900000004": "waiting congestion",
		"13900000005": "waiting sit",
		"13900000006": "waiting machine",
		"13900000007": "done answered",
	}
	cs := f.contacts("amd")
	for n, w := range want {
		if got := string(cs[n].State) + " " + cs[n].Outcome; got != w {
			t.Errorf("%s: %s, want %s", n, got, w)
		}
	}
	if m := f.contacts("amd-msg")["13900000002"]; m.State != store.ContactDone || m.Outcome != string(MessageLeft) {
		t.Errorf("a machine with machine = message: %s %s, want done message-left", m.State, m.Outcome)
	}
	// The message starts once the greeting (2.1 s) is followed by 800 ms
	// of silence: at 2.9 s, not at the 30 s bound.
	if v, ok := msgCalls.Load("13900000002"); !ok || v.(*speaking).frames < 140 || v.(*speaking).frames > 160 {
		t.Errorf("the message to the machine began after %v frames of its audio, want about 145 (2.9 s)", v)
	}
	f.mu.Lock()
	ran := strings.Join(f.ran, ",")
	f.mu.Unlock()
	for _, w := range []string{"amd 13900000001 ", "amd 13900000007 ", "amd-msg 13900000002 "} {
		if !strings.Contains(ran, w) {
			t.Errorf("the flow did not run for %q: %s", w, ran)
		}
	}
	if strings.Count(ran, ",") != 2 {
		t.Errorf("the flow ran for %s; want only the person, the digit and the message", ran)
	}
	calls.Range(func(_, v any) bool {
		if s := v.(*speaking); !s.hungUp {
			t.Errorf("%s not hung up", s.id)
		}
		return true
	})
}

// A campaign without detection plays its flow at once, even to a
// machine.
func TestNoDetection(t *testing.T) {
	for _, d := range []string{"", "none"} {
		c := config.Campaign{Name: "plain", Flow: "notice", Trunk: "pstn", Start: true, Detect: d}
		f := newFixture(t, filepath.Join(t.TempDir(), "db"), c)
		f.r.o.Dial = func(ctx context.Context, trunk, number, from string) (media.Channel, error) {
			return &speaking{id: number, audio: quiet(6000), events: make(chan media.Event, 8)}, nil
		}
		f.r.Import("plain", strings.NewReader("number\n13900000001\n"))
		f.tick()
		if got := f.contacts("plain")["13900000001"]; got.Outcome != "answered" || len(f.ran) != 1 {
			t.Errorf("detect %q: %s, flow ran %q", d, got.Outcome, f.ran)
		}
	}
}

func TestSITOutcomes(t *testing.T) {
	for code, want := range map[string]Outcome{"IC": Vacant, "VC": Vacant, "NC": Congestion, "NC'": Congestion, "RO": Congestion, "RO'": Congestion, "ITU": SIT, "reserved": SIT} {
		if got := sitOutcome(sitCode(code)); got != want {
			t.Errorf("SIT %s: %s, want %s", code, got, want)
		}
	}
}

func sitCode(s string) sit.Code { return sit.Code(s) }

// TestAMDConfig: [campaign.amd] replaces app_amd's defaults key by key.
func TestAMDConfig(t *testing.T) {
	if got, want := amdConfig(config.AMD{}), amd.Defaults(); got != want {
		t.Errorf("no keys: %+v, want the defaults %+v", got, want)
	}
	got := amdConfig(config.AMD{InitialSilence: "3s", Greeting: "2s", AfterGreetingSilence: "1s", Total: "6s", MinWord: "120ms", BetweenWords: "60ms",
		MaxWords: 5, MaxWordLength: "4s", SilenceThreshold: 300})
	want := amd.Config{InitialSilence: 3 * time.Second, Greeting: 2 * time.Second, AfterGreetingSilence: time.Second, Total: 6 * time.Second,
		MinWord: 120 * time.Millisecond, BetweenWords: 60 * time.Millisecond, MaxWords: 5, MaxWordLength: 4 * time.Second, SilenceThreshold: 300}
	if got != want {
		t.Errorf("every key: %+v, want %+v", got, want)
	}
}

// TestSITInEarlyMedia: a network that plays a SIT as early media and
// never answers: the dial's early tap hears it, the dial is given up at
// once (not after ring_for), and the SIT's code is the outcome (intercept:
// vacant, never called again; reorder: congestion, which this retry table leaves out). A dial
// that fails with no SIT heard keeps the signalling's outcome.
func TestSITInEarlyMedia(t *testing.T) {
	intercept := concat(make([]int16, 800), sitTones(913.8, 1370.6, 274, 274), voice(3000))
	reorder := concat(make([]int16, 800), sitTones(913.8, 1428.5, 276, 380), voice(3000)) // RO: low short, high long
	for _, c := range []struct {
		signal []int16
		want   string
	}{{intercept, "failed vacant"}, {reorder, "failed congestion"}, {make([]int16, 4000), "waiting busy"}} {
		f := newFixture(t, filepath.Join(t.TempDir(), "db"), notice)
		var fed int
		f.r.o.Dial = func(ctx context.Context, trunk, number, from string) (media.Channel, error) {
			tap := media.EarlyTapOf(ctx)
			if tap == nil {
				return nil, errors.New("no early tap")
			}
			for i := 0; i+160 <= len(c.signal); i += 160 {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				tap(c.signal[i : i+160])
				fed = i + 160
			}
			return nil, sipRefusal(486)
		}
		f.r.Import("notice", strings.NewReader("number\n13900000001\n"))
		f.tick()
		ct := f.contacts("notice")["13900000001"]
		if got := string(ct.State) + " " + ct.Outcome; got != c.want {
			t.Errorf("%s: got %s", c.want, got)
		}
		if c.want != "waiting busy" && fed > 800+8*(274+274+380)+8*200 {
			t.Errorf("%s: %d samples fed before the dial was given up: not at the SIT", c.want, fed)
		}
		f.db.Close()
	}
}
