package acd

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/media/music"
	"jinyin/media/prompt"
	"jinyin/media/wav"
)

// radioLine is a call whose audio is taken 20 ms at a time, as a
// channel's pacer takes it: pull reads one frame of what plays and, when
// a prompt ends, reports EventPlayDone as a channel does.
type radioLine struct {
	id     string
	events chan media.Event
	mu     sync.Mutex
	src    media.Source
	play   media.PlayID // the Play src came from
	plays  media.PlayID
	closed bool
	hung   chan struct{}
}

func newRadioLine(id string) *radioLine {
	return &radioLine{id: id, events: make(chan media.Event, 16), hung: make(chan struct{})}
}

func (l *radioLine) ID() string { return l.id }
func (l *radioLine) Play(src media.Source) media.PlayID {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plays++
	l.src, l.play = src, l.plays
	return l.plays
}
func (l *radioLine) Events() <-chan media.Event { return l.events }
func (l *radioLine) Hangup() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.hung)
		close(l.events)
	}
	return nil
}
func (l *radioLine) press(d byte) { l.events <- media.Event{Kind: media.EventDigit, Digit: d} }

func (l *radioLine) playing() media.Source {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src
}

// pull takes the next frame as A-law (silence when nothing plays) and
// says what it came from.
func (l *radioLine) pull() (frame []byte, src media.Source, ended bool) {
	l.mu.Lock()
	src, play, closed := l.src, l.play, l.closed
	l.mu.Unlock()
	frame = bytes.Repeat([]byte{media.PCMA.Silence()}, media.FrameSamples)
	if src == nil || closed {
		return frame, src, false
	}
	a, ok := src.(media.ALawSource)
	if !ok {
		panic(fmt.Sprintf("%T is not an A-law source: the queue plays prompts and music as A-law", src))
	}
	if n := a.FillALaw(frame); n < len(frame) {
		l.mu.Lock()
		if l.play == play {
			l.src = nil
		}
		l.mu.Unlock()
		l.events <- media.Event{Kind: media.EventPlayDone, Play: play}
		return frame, src, true
	}
	return frame, src, false
}

// waitPlaying waits (in real time, bounded) until what plays passes ok.
func (l *radioLine) waitPlaying(t *testing.T, what string, ok func(media.Source) bool) media.Source {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Microsecond) {
		if src := l.playing(); ok(src) {
			return src
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: waited for %s; playing %T", l.id, what, l.playing())
		}
	}
}

func isMusic(src media.Source) bool  { _, ok := src.(*music.Reader); return ok }
func isPrompt(src media.Source) bool { _, ok := src.(*prompt.Player); return ok }

// heard is one frame a caller heard.
type heard struct {
	at    time.Time
	frame []byte
	src   media.Source
}

// ear is a waiting caller the test listens through. It knows when the
// queue is due to play a prompt (the announce interval from joining,
// holdGap after a prompt ends unless another has begun since), so that
// the test lets the caller's goroutine play it before taking the next
// frame.
type ear struct {
	l        *radioLine
	announce map[time.Time]bool
	hold     time.Time
	heard    []heard
	done     chan error
}

// wait puts a caller in a queue, waits for the first prompt, and
// expects the announcements every `every` for the next `span`.
func (h *harness) wait(t *testing.T, queue string, c Caller, every, span time.Duration) *ear {
	t.Helper()
	e := &ear{l: newRadioLine(c.Call), announce: map[time.Time]bool{}, done: make(chan error, 1)}
	n := h.d.queues[queue].waiting.len()
	go func() { e.done <- h.d.Wait(e.l, queue, c) }()
	h.waitWaiting(t, queue, n+1)
	e.l.waitPlaying(t, "the hold prompt", isPrompt)
	for at := every; at <= span; at += every {
		e.announce[h.clk.Now().Add(at)] = true
	}
	return e
}

// air runs ticks of 20 ms: each caller hears a frame, then the clock
// moves on. A prompt that ends is followed by the music before the next
// frame; a prompt that falls due is playing before the next frame.
func (h *harness) air(t *testing.T, ears []*ear, ticks int, each func(tick int)) {
	t.Helper()
	for tick := range ticks {
		now := h.clk.Now()
		for _, e := range ears {
			frame, src, ended := e.l.pull()
			e.heard = append(e.heard, heard{at: now, frame: frame, src: src})
			if ended {
				e.hold = now.Add(holdGap)
				e.l.waitPlaying(t, "the music after a prompt ended at "+now.Format("15:04:05.000"), isMusic)
			}
		}
		if each != nil {
			each(tick)
		}
		playing := make([]media.Source, len(ears))
		for i, e := range ears {
			playing[i] = e.l.playing()
		}
		h.clk.Advance(media.FrameMs * time.Millisecond)
		for i, e := range ears {
			if now := h.clk.Now(); e.announce[now] || e.hold.Equal(now) {
				e.l.waitPlaying(t, "a prompt due at "+now.Format("15:04:05.000"), func(s media.Source) bool { return isPrompt(s) && s != playing[i] })
				e.hold = time.Time{} // the next is holdGap after this one ends
			}
		}
	}
}

// chords is music with no silent frame in it: a few seconds of two
// tones changing every 100 ms, so that a frame heard tells where in the
// music it is.
func chords(seconds float64, base float64) []int16 {
	s := make([]int16, int(seconds*media.RateHz))
	for i := range s {
		step := float64(i / 800)
		f1, f2 := base+37*math.Mod(step, 7), 1.5*base+23*math.Mod(step, 5)
		x := float64(i) / media.RateHz
		s[i] = int16(3000*math.Sin(2*math.Pi*f1*x) + 2000*math.Sin(2*math.Pi*f2*x) + 500)
	}
	return s
}

func writeMusic(t *testing.T, path string, samples []int16) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := wav.Encode(&b, wav.ALaw, samples); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a := make([]byte, len(samples))
	media.PCMA.Encode(a, samples)
	return a
}

// withMusic is the test queues with music for the general queue.
func withMusic(path string) string {
	return strings.Replace(testQueues, "name = \"general\"\n", "name = \"general\"\nmusic = \""+path+"\"\n", 1)
}

// checkMusic checks that every frame heard from the music is the frame
// of list (the playlist, A-law) where the queue's stream stands at that
// moment: the stream started with the ACD, at start. It returns how many
// there were.
func checkMusic(t *testing.T, who string, hs []heard, list []byte, start time.Time) int {
	t.Helper()
	n := 0
	for _, h := range hs {
		if !isMusic(h.src) {
			continue
		}
		n++
		k := int(h.at.Sub(start) / (media.FrameMs * time.Millisecond))
		want := make([]byte, media.FrameSamples)
		for i := range want {
			want[i] = list[(k*media.FrameSamples+i)%len(list)]
		}
		if !bytes.Equal(h.frame, want) {
			t.Fatalf("%s at %v heard a frame that is not frame %d of the music", who, h.at.Sub(start), k)
		}
	}
	return n
}

func firstFrame(t *testing.T, lang, id string) []byte {
	t.Helper()
	set, _ := prompt.Default()
	p, err := set.Player(lang, id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, media.FrameSamples)
	p.FillALaw(b)
	return b
}

// A caller waiting hears the hold prompt, then the queue's music in
// every gap (never silence), the hold prompt again after holdGap and the
// position announcement when it is due, each interrupting the music,
// which comes back where the queue's stream is then.
func TestMusicBetweenAnnouncements(t *testing.T) {
	dir := t.TempDir()
	list := writeMusic(t, filepath.Join(dir, "hold.wav"), chords(7, 400))
	h := newHarnessConfig(t, withMusic(filepath.Join(dir, "hold.wav")), "")
	start := h.clk.Now() // the stream started with the ACD
	e := h.wait(t, "general", Caller{Call: "c"}, 30*time.Second, 70*time.Second)
	h.air(t, []*ear{e}, 70*1000/media.FrameMs, nil)

	silent, prompts, announced := 0, 0, 0
	var last media.Source
	pos := firstFrame(t, "zh", "position-before")
	hold := firstFrame(t, "zh", "queue-hold")
	for i, x := range e.heard {
		if x.src == nil || bytes.Equal(x.frame, bytes.Repeat([]byte{media.PCMA.Silence()}, media.FrameSamples)) {
			silent++
		}
		if isPrompt(x.src) && x.src != last {
			prompts++
			at := x.at.Sub(start)
			switch {
			case bytes.Equal(x.frame, pos):
				if at != 30*time.Second && at != 60*time.Second {
					t.Errorf("announcement at %v, want at 30 s and 60 s", at)
				}
				announced++
			case !bytes.Equal(x.frame, hold):
				t.Errorf("a prompt at %v is neither the hold prompt nor the announcement", at)
			case i > 0 && !isMusic(e.heard[i-1].src):
				t.Errorf("the hold prompt at %v did not interrupt the music", at)
			}
		}
		last = x.src
	}
	if silent > 0 {
		t.Errorf("%d silent frames: the music should fill every gap", silent)
	}
	if announced != 2 || prompts < 6 {
		t.Errorf("%d prompts, %d announcements in 70 s; want the hold prompt every 8 s between and 2 announcements", prompts, announced)
	}
	// The music heard is the file, at the stream's place: it went on
	// under the prompts rather than starting again after each.
	if n := checkMusic(t, "the caller", e.heard, list, start); n < len(e.heard)/4 {
		t.Errorf("music in %d frames of %d", n, len(e.heard))
	}
}

// Two callers of the queue hear the same frame at the same tick, and a
// third who joins later hears it from where it is, not from its start;
// the queue decodes one frame per tick however many callers listen.
func TestMusicSharedByCallers(t *testing.T) {
	dir := t.TempDir()
	list := writeMusic(t, filepath.Join(dir, "hold.wav"), chords(3, 500))
	h := newHarnessConfig(t, withMusic(filepath.Join(dir, "hold.wav")), "")
	start := h.clk.Now()
	a := h.wait(t, "general", Caller{Call: "a"}, 30*time.Second, 30*time.Second)
	h.clk.Advance(1160 * time.Millisecond) // b calls a little later, out of step with a's prompts
	b := h.wait(t, "general", Caller{Call: "b"}, 30*time.Second, 30*time.Second)
	stream := h.d.queues["general"].music
	ears := []*ear{a, b}
	var before uint64
	both := 0
	h.air(t, ears, 20*1000/media.FrameMs, func(tick int) {
		listening := 0
		for _, e := range ears {
			if isMusic(e.heard[len(e.heard)-1].src) {
				listening++
			}
		}
		if got := stream.Decoded() - before; (listening > 0) != (got == 1) || got > 1 {
			t.Fatalf("tick %d: %d frames decoded with %d callers hearing the music; want 1 (0 with none)", tick, got, listening)
		}
		before = stream.Decoded()
		x, y := a.heard[len(a.heard)-1], b.heard[len(b.heard)-1]
		if isMusic(x.src) && isMusic(y.src) {
			both++
			if !bytes.Equal(x.frame, y.frame) {
				t.Fatalf("tick %d: two callers of one queue hear different music", tick)
			}
		}
	})
	if both < 300 {
		t.Errorf("both callers heard the music together in %d ticks only", both)
	}
	checkMusic(t, "a", a.heard, list, start)
	checkMusic(t, "b", b.heard, list, start)

	// A third caller, 20 s on: the music as the others hear it now.
	c := h.wait(t, "general", Caller{Call: "c"}, 30*time.Second, 30*time.Second)
	for isPrompt(c.l.playing()) {
		h.air(t, []*ear{a, b, c}, 1, nil)
	}
	h.air(t, []*ear{a, b, c}, 1, nil)
	x := c.heard[len(c.heard)-1]
	if !isMusic(x.src) {
		t.Fatalf("the third caller hears %T after its prompt", x.src)
	}
	if n := checkMusic(t, "c", c.heard, list, start); n == 0 {
		t.Fatal("no music heard by the third caller")
	}
	if k := int(x.at.Sub(start) / (media.FrameMs * time.Millisecond)); k%(len(list)/media.FrameSamples) == 0 {
		t.Errorf("the third caller's first music frame (%d) is the top of the music: joined at its place, not its start", k)
	}
}

// callerOnMusic is a caller with a number waiting in a queue with music,
// who has heard the first prompts and now hears the music.
func callerOnMusic(t *testing.T) (*harness, *ear) {
	t.Helper()
	dir := t.TempDir()
	writeMusic(t, filepath.Join(dir, "hold.wav"), chords(2, 450))
	h := newHarnessConfig(t, withMusic(filepath.Join(dir, "hold.wav")), "")
	e := h.wait(t, "general", Caller{Call: "k", Number: "13800000009"}, 30*time.Second, 30*time.Second)
	h.air(t, []*ear{e}, 1, nil)
	for isPrompt(e.l.playing()) { // queue-hold, callback-offer
		h.air(t, []*ear{e}, 1, nil)
	}
	return h, e
}

// A key pressed while the music plays is acted on: 1 asks when to call
// back, and the callback is booked; a key the queue does not use (5)
// leaves the music playing.
func TestKeyDuringMusic(t *testing.T) {
	h, e := callerOnMusic(t)
	h.air(t, []*ear{e}, 20, nil)
	if !isMusic(e.l.playing()) {
		t.Fatalf("playing %T before the keys", e.l.playing())
	}
	e.l.press('5')
	h.air(t, []*ear{e}, 20, nil)
	if !isMusic(e.l.playing()) {
		t.Fatalf("5 (not a queue key) stopped the music: %T", e.l.playing())
	}
	e.l.press('1')
	when := e.l.waitPlaying(t, "the callback question", isPrompt)
	if f, _, _ := e.l.pull(); !bytes.Equal(f, firstFrame(t, "zh", "callback-when")) {
		t.Fatal("1 during the music did not ask when to call back")
	}
	e.l.press('#') // when my turn comes
	e.l.waitPlaying(t, "the callback booked", func(s media.Source) bool { return isPrompt(s) && s != when })
	if f, _, _ := e.l.pull(); !bytes.Equal(f, firstFrame(t, "zh", "callback-booked")) {
		t.Fatal("after # the caller hears something else than callback-booked")
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, _, ended := e.l.pull(); ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("callback-booked never ended")
		}
	}
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller was not let go after booking")
	}
	<-e.l.hung
	if cbs, _ := h.db.Callbacks(); len(cbs) != 1 || cbs[0].Number != "13800000009" {
		t.Errorf("callbacks %+v", cbs)
	}
}

// A folder plays its WAVs in name order and loops: the caller hears the
// first file's frames, then the second's, then the first's again.
func TestMusicFolderPlaylist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hold")
	os.Mkdir(dir, 0o755)
	second := writeMusic(t, filepath.Join(dir, "2-second.wav"), chords(0.55, 700))
	first := writeMusic(t, filepath.Join(dir, "1-first.wav"), chords(0.4, 300))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("played in name order"), 0o644)
	h := newHarnessConfig(t, withMusic(dir), "")
	start := h.clk.Now()
	e := h.wait(t, "general", Caller{Call: "f"}, 30*time.Second, 30*time.Second)
	h.air(t, []*ear{e}, 1, nil)
	for isPrompt(e.l.playing()) {
		h.air(t, []*ear{e}, 1, nil)
	}
	h.air(t, []*ear{e}, 200, nil) // 4 s of music: four times round
	list := append(append([]byte(nil), first...), second...)
	if n := checkMusic(t, "the caller", e.heard, list, start); n < 150 {
		t.Fatalf("%d frames of music", n)
	}
	// Not the other order: the check above would fail with it.
	wrong := append(append([]byte(nil), second...), first...)
	if bytes.Equal(wrong, list) {
		t.Fatal("the two files are alike")
	}
}
