package acd

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/store"
)

// quietLine is a radioLine whose audio can be heard (silence), so that
// it can be bridged to an agent.
type quietLine struct{ *radioLine }

func (quietLine) Listen() media.Source { return silence{} }

// playID is the Play of what the line plays now.
func (l *radioLine) playID() media.PlayID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.play
}

// ends sends the end of what the line plays now, as the channel does
// when a prompt has been heard to its end.
func (l *radioLine) ends() { l.events <- media.Event{Kind: media.EventPlayDone, Play: l.playID()} }

// samples is how long these prompts are, in samples, in Chinese.
func samples(t *testing.T, ids ...string) int {
	t.Helper()
	set, _ := prompt.Default()
	n := 0
	for _, id := range ids {
		pcm, err := set.Get("zh", id)
		if err != nil {
			t.Fatal(err)
		}
		n += len(pcm)
	}
	return n
}

// promptOf is a prompt player of n samples.
func promptOf(n int) func(media.Source) bool {
	return func(s media.Source) bool { p, ok := s.(*prompt.Player); return ok && p.Samples() == n }
}

// stillMusic checks that the line still hears the music a moment (50 ms
// of real time) after the clock moved.
func stillMusic(t *testing.T, l *radioLine, when string) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if !isMusic(l.playing()) {
		t.Fatalf("%s: playing %T, want the music", when, l.playing())
	}
}

// The hold prompt comes back holdGap (8 s) after the last prompt ended:
// an announcement in between starts the 8 s again, and the hold prompt
// is not played 8 s after the one before it.
func TestHoldPromptGapRunsFromTheLastPrompt(t *testing.T) {
	dir := t.TempDir()
	writeMusic(t, filepath.Join(dir, "hold.wav"), chords(2, 450))
	h := newHarnessConfig(t, withMusic(filepath.Join(dir, "hold.wav")), "")
	h.d.queues["general"].every = 9 * time.Second
	l := newRadioLine("h")
	done := make(chan error, 1)
	go func() { done <- h.d.Wait(l, "general", Caller{Call: "h"}) }()
	hold := l.waitPlaying(t, "the hold prompt", isPrompt)
	h.clk.Advance(2 * time.Second)
	l.ends() // 2 s: the hold prompt ends
	l.waitPlaying(t, "the music after the hold prompt", isMusic)
	h.clk.Advance(7 * time.Second) // 9 s: the announcement
	l.waitPlaying(t, "the announcement", func(s media.Source) bool { return isPrompt(s) && s != hold })
	h.clk.Advance(500 * time.Millisecond)
	l.ends() // 9.5 s: the announcement ends
	l.waitPlaying(t, "the music after the announcement", isMusic)
	h.clk.Advance(500 * time.Millisecond)
	stillMusic(t, l, "10 s, 8 s after the hold prompt ended but 0.5 s after the announcement")
	h.clk.Advance(7500*time.Millisecond - time.Millisecond)
	stillMusic(t, l, "a millisecond before 8 s after the announcement")
	h.clk.Advance(time.Millisecond)
	l.waitPlaying(t, "the hold prompt 8 s after the announcement ended", promptOf(samples(t, "queue-hold")))
	l.Hangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// In a queue that offers callbacks, a caller with a number hears the
// offer after the hold prompt and after each position announcement; a
// caller whose number is withheld, who cannot be called back, does not.
// Alone in the queue with no agent logged in, the announcement is
// position 1 and 3 minutes (the default talk time, shared by one).
func TestCallbackOfferOnlyToCallersWithANumber(t *testing.T) {
	pos, _ := prompt.Quantity("zh", 1)
	mins, _ := prompt.Duration("zh", 3*time.Minute)
	announcement := append(append(append([]string{"position-before"}, pos...), "position-after", "wait-before"), mins...)
	h := newHarness(t, "", "")
	for _, c := range []struct {
		number string
		offer  int // samples of the offer heard
	}{{"13800000014", samples(t, "callback-offer")}, {"", 0}} {
		l := newRadioLine("c" + c.number)
		done := make(chan error, 1)
		go func() { done <- h.d.Wait(l, "general", Caller{Call: "c" + c.number, Number: c.number}) }()
		hold := l.waitPlaying(t, "the hold prompt", isPrompt)
		if got, want := hold.(*prompt.Player).Samples(), samples(t, "queue-hold")+c.offer; got != want {
			t.Errorf("number %q: the first prompts are %d samples, want %d", c.number, got, want)
		}
		h.clk.Advance(30 * time.Second)
		ann := l.waitPlaying(t, "the announcement", func(s media.Source) bool { return isPrompt(s) && s != hold })
		if got, want := ann.(*prompt.Player).Samples(), samples(t, announcement...)+c.offer; got != want {
			t.Errorf("number %q: the announcement is %d samples, want %d", c.number, got, want)
		}
		l.Hangup()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// A caller hearing sales' music who overflows to general, which has
// none, hears general's silence, not sales' music.
func TestOverflowTakesTheNewQueuesMusic(t *testing.T) {
	dir := t.TempDir()
	writeMusic(t, filepath.Join(dir, "hold.wav"), chords(2, 450))
	src := strings.Replace(testQueues, "name = \"sales\"\n", "name = \"sales\"\nmusic = \""+filepath.Join(dir, "hold.wav")+"\"\n", 1)
	h := newHarnessConfig(t, src, "")
	h.d.queues["sales"].overAt, h.d.queues["sales"].every = 5*time.Second, 0
	l := newRadioLine("s")
	done := make(chan error, 1)
	go func() { done <- h.d.Wait(l, "sales", Caller{Call: "s"}) }()
	l.waitPlaying(t, "the hold prompt", isPrompt)
	l.ends()
	l.waitPlaying(t, "sales' music", isMusic)
	h.clk.Advance(5 * time.Second)
	h.waitWaiting(t, "general", 1)
	l.waitPlaying(t, "general's silence", func(s media.Source) bool { return s == nil })
	l.Hangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A caller who books a callback has not abandoned the queue: the
// statistics have the callback requested and no abandon.
func TestBookedCallbackIsNoAbandon(t *testing.T) {
	h := newHarness(t, "", "")
	l, done := h.waitCall("general", Caller{Call: "cb", Number: "13800000015"})
	h.waitWaiting(t, "general", 1)
	h.clk.Advance(7 * time.Second)
	l.press('1')
	l.press('#')
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := h.waitEvents(t, store.QueueCallbackRequested, 1); r[0].Caller != "13800000015" || r[0].Wait != 7*time.Second {
		t.Errorf("callback-requested %+v", r[0])
	}
	if a := h.events(t, store.QueueAbandon); len(a) != 0 {
		t.Errorf("abandon %+v for a caller who booked a callback", a)
	}
}

// armLog is a fake clock that notes each timer armed: when, and for how
// long.
type armLog struct {
	*clock.Fake
	mu   sync.Mutex
	arms []struct {
		at time.Time
		d  time.Duration
	}
}

func (c *armLog) AfterFunc(d time.Duration, f func()) clock.Timer {
	now := c.Fake.Now()
	t := c.Fake.AfterFunc(d, f)
	c.mu.Lock()
	c.arms = append(c.arms, struct {
		at time.Time
		d  time.Duration
	}{now, d})
	c.mu.Unlock()
	return t
}

// armed reports whether a timer of d was armed at the clock's time now.
func (c *armLog) armed(d time.Duration) bool {
	now := c.Fake.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.arms, func(a struct {
		at time.Time
		d  time.Duration
	}) bool {
		return a.d == d && a.at.Equal(now)
	})
}

// surveyCall connects a caller on line to 1001 and has the agent hang
// up: the caller is left with the survey.
func (h *harness) surveyCall(t *testing.T, caller media.Channel) chan error {
	t.Helper()
	h.login(t, "1001")
	done := make(chan error, 1)
	go func() { done <- h.d.Wait(caller, "general", Caller{Call: "c", Number: "138"}) }()
	r := h.nextRing(t)
	agentLine := newLine("agent")
	r.answer <- agentLine
	h.waitAgent(t, "1001", busy)
	agentLine.farHangup()
	h.waitAgent(t, "1001", wrapUp)
	return done
}

// The caller has 8 s from the end of the survey question to key a
// score: a question that plays 5 s leaves the caller 8 s after it, not 3.
func TestSurveyKeyTimeRunsFromTheQuestionsEnd(t *testing.T) {
	h := newHarness(t, "", "")
	clk := &armLog{Fake: h.clk}
	h.d.clk = clk
	caller := quietLine{newRadioLine("c")}
	done := h.surveyCall(t, caller)
	caller.waitPlaying(t, "the survey question", promptOf(samples(t, "survey")))
	h.waitFor(t, "the survey's time armed", func() bool { return clk.armed(surveyWait) })
	h.clk.Advance(5 * time.Second)
	caller.ends()
	h.waitFor(t, "the survey's time armed again at the question's end", func() bool { return clk.armed(surveyWait) })
	h.clk.Advance(surveyWait - time.Second) // 12 s after the question began
	caller.press('4')
	if s := h.waitEvents(t, store.QueueSurvey, 1); s[0].Value != 4 || s[0].Agent != "1001" {
		t.Errorf("survey %+v", s[0])
	}
	caller.Hangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// 1 and 5 are scores, 6 is not; once a score is keyed and the thanks
// heard, the caller goes on (Wait returns) without having to hang up.
func TestSurveyScoresOneToFive(t *testing.T) {
	for _, c := range []struct {
		keys string
		want int
	}{{"1", 1}, {"65", 5}} {
		h := newHarness(t, "", "")
		caller := newLine("c")
		done := h.surveyCall(t, caller)
		for _, k := range []byte(c.keys) {
			caller.press(k)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("keys %q: the caller is kept after the thanks", c.keys)
		}
		if s := h.events(t, store.QueueSurvey); len(s) != 1 || s[0].Value != c.want {
			t.Errorf("keys %q: survey %+v, want one of %d", c.keys, s, c.want)
		}
		select {
		case <-caller.hung:
			t.Errorf("keys %q: the queue hung the caller up after the survey", c.keys)
		default:
		}
	}
}

// The agent who answers for a callback hears that the customer is being
// called before the dial.
func TestCallbackAgentHearsTheCallingPrompt(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.Login("1001")
	if _, err := h.d.Book("general", "13800000016", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	r := h.nextRing(t)
	agentLine := newRadioLine("agent")
	r.answer <- agentLine
	d := h.nextRing(t)
	if !promptOf(samples(t, "callback-calling"))(agentLine.playing()) {
		t.Errorf("while the customer is dialled the agent hears %T, want callback-calling", agentLine.playing())
	}
	d.answer <- nil
	h.waitEvents(t, store.QueueCallbackFailed, 1)
}

// A recording whose file could not be made safe on the disk (here a
// file that cannot be synced) is logged as an error and not listed.
func TestRecordingNotListedWhenTheDiskRefusesIt(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data = h.dir
	log := captureLog(h)
	e := h.joinAt(t, "general", "13800000017", "")
	now := h.clk.Now()
	path := filepath.Join(h.dir, "recordings", now.Format("2006-01-02"), now.UTC().Format("20060102T150405.000")+"-1001.wav")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, path); err != nil {
		t.Fatal(err)
	}
	r, err := h.d.startRecording(e, h.d.agents["1001"])
	if err != nil {
		t.Fatal(err)
	}
	r.tap(0)(frames(1, 1))
	r.tap(1)(frames(1, 2))
	r.finish(h.d)
	if recs, _ := h.db.Recordings(); len(recs) != 0 {
		t.Errorf("recordings %+v", recs)
	}
	if s := log.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "acd: recording") {
		t.Errorf("logged %q", s)
	}
}

// With draws that never pick, a share of a quarter samples an agent's
// recording as soon as the agent would otherwise be more than one
// recording behind: the 5th (1.25 due), the 9th, the 13th, the 17th;
// exactly one behind (the 4th, the 8th) is no reason.
func TestSamplingCatchesUpWhenMoreThanOneBehind(t *testing.T) {
	h := newHarness(t, "", "")
	day := h.clk.Now()
	h.d.sample = 0.25
	h.d.rng = rand.New(fixedDraw(1 << 51))
	var picked []int
	for i := 1; i <= 18; i++ {
		if h.d.sampled("1001", day) {
			picked = append(picked, i)
		}
	}
	if want := []int{5, 9, 13, 17}; !slices.Equal(picked, want) {
		t.Errorf("sampled recordings %v, want %v", picked, want)
	}
}
