package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/cfgtest"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/media/tone"
	"jinyin/media/wav"
	"jinyin/store"
)

// line is a simulated call for the engine, moved on by the test in 20 ms
// steps (step, run, waitHeard). A step first waits until the engine has
// done all it can without time passing (it is back waiting for the line's
// events, every event and timer that woke it handled), then takes one
// frame of what the engine plays into a transcript (A-law, as a SIP
// caller receives prompts), reports the end of a played source as a
// channel does (EventPlayDone with its Play's id), and advances the fake
// clock by 20 ms: prompts and timeouts run in simulated time, and the
// clock moves only when the test says so. What the caller "says" (for
// recordings) comes from speech.
type line struct {
	t      *testing.T
	h      *harness
	events chan media.Event

	mu     sync.Mutex
	src    media.Source
	play   media.PlayID // the Play src came from
	plays  media.PlayID
	heard  []byte
	speech []int16 // the caller's audio, consumed by Listen
	hungUp bool
	over   bool              // Run has returned
	keyed  map[string]string // what Run returned
	gone   bool              // the caller hung up (hangUpCaller)
	polled uint64            // h.wakes when the engine last asked for the events; notYet before
}

// notYet is line.polled until the engine first asks for the events: a
// step before then would move the clock on before the flow has begun.
const notYet = ^uint64(0)

func newLine(t *testing.T, h *harness) *line {
	return &line{t: t, h: h, events: make(chan media.Event, 16), polled: notYet}
}

func (l *line) ID() string { return "line" }
func (l *line) Play(src media.Source) media.PlayID {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plays++
	l.src, l.play = src, l.plays
	return l.plays
}

// Events is what the engine selects on whenever it waits: asked with no
// event pending, the line notes that the engine has seen every wake-up so
// far. Asked with one pending, it notes nothing: the engine takes that
// event and may work on it a while (a store write) before it waits again,
// and asks again then.
func (l *line) Events() <-chan media.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		l.polled = l.h.wakes.Load()
	}
	return l.events
}

func (l *line) Hangup() error {
	l.mu.Lock()
	l.hungUp = true
	l.mu.Unlock()
	return nil
}
func (l *line) Listen() media.Source { return speechSource{l} }

type speechSource struct{ l *line }

func (s speechSource) Fill(dst []int16) int {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	n := copy(dst, s.l.speech)
	s.l.speech = s.l.speech[n:]
	clear(dst[n:])
	return len(dst)
}

// send gives the engine an event; it is a wake-up. The wake-up and the
// event go together as Events sees them (under mu), so that the engine
// cannot note the one without seeing the other pending.
func (l *line) send(e media.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.wakes.Add(1)
	select {
	case l.events <- e:
	default:
		l.t.Fatal("the line's events are full: the engine is not taking them")
	}
}

// settled reports whether the engine waits for the line or the clock
// alone: it has asked for the events since the last wake-up and taken
// them all, and no lookup is being answered (unless the test said
// lookups wait for their timeout), or the flow has hung up or ended.
func (l *line) settled() bool {
	// inflight before wakes: a lookup's answer counts its wake-up before
	// it leaves inflight, so an answer seen gone is a wake-up seen.
	answering := l.h.inflight.Load() != 0 && !l.h.lookupsHang
	w := l.h.wakes.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hungUp || l.over || !answering && l.polled == w && len(l.events) == 0
}

// step is one 20 ms frame, once the engine has settled.
func (l *line) step() {
	l.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !l.settled(); time.Sleep(50 * time.Microsecond) {
		if time.Now().After(deadline) {
			l.t.Fatal("the engine did not settle")
		}
	}
	frame := make([]int16, media.FrameSamples)
	alaw := make([]byte, media.FrameSamples)
	l.mu.Lock()
	src, play := l.src, l.play
	l.mu.Unlock()
	if src != nil {
		var n int
		if a, ok := src.(media.ALawSource); ok {
			n = a.FillALaw(alaw)
		} else {
			n = src.Fill(frame)
			media.PCMA.Encode(alaw[:n], frame[:n])
		}
		l.mu.Lock()
		l.heard = append(l.heard, alaw[:n]...)
		ended := n < len(alaw) && l.play == play
		if ended {
			l.src = nil
		}
		l.mu.Unlock()
		if ended {
			l.send(media.Event{Kind: media.EventPlayDone, Play: play})
		}
	}
	l.h.clk.Advance(media.FrameMs * time.Millisecond)
}

// run steps through d of simulated time.
func (l *line) run(d time.Duration) {
	l.t.Helper()
	for range d / (media.FrameMs * time.Millisecond) {
		l.step()
	}
}

// runUntil steps until cond holds, for at most two simulated minutes
// (the longest wait of a test that passes is under 30 s): a test that
// fails, fails fast.
func (l *line) runUntil(what string, cond func() bool) {
	l.t.Helper()
	for i := 0; !cond(); i++ {
		if i == 6000 {
			l.t.Fatalf("two simulated minutes and still not %s", what)
		}
		l.step()
	}
}

// playing reports whether what plays passes ok.
func (l *line) playing(ok func(media.Source) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ok(l.src)
}

// recording reports whether src is a recorder past its beep.
func recording(src media.Source) bool {
	r, ok := src.(*recorder)
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.beepAt >= len(beep)
}

func (l *line) press(digits string) {
	for _, d := range []byte(digits) {
		l.send(media.Event{Kind: media.EventDigit, Digit: d})
	}
}

func (l *line) hangUpCaller() {
	l.send(media.Event{Kind: media.EventHangup})
	l.mu.Lock()
	l.gone = true
	l.mu.Unlock()
	close(l.events)
}

// clipOf is the A-law a prompt is heard as.
func clipOf(t *testing.T, lang, id string) []byte {
	set, _ := prompt.Default()
	p, err := set.Player(lang, id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, p.Samples())
	p.FillALaw(b)
	return b[:min(len(b), 1600)] // its first 200 ms identify it
}

// waitHeard steps until the prompts have been heard in this order since
// the last wait, and consumes the transcript up to the last of them. It
// returns what was heard before the first of them.
func (l *line) waitHeard(lang string, ids ...string) (before []byte) {
	l.t.Helper()
	clips := make([][]byte, len(ids))
	for i, id := range ids {
		clips[i] = clipOf(l.t, lang, id)
	}
	l.runUntil(fmt.Sprintf("heard %v in %s", ids, lang), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		rest, first := l.heard, -1
		for _, clip := range clips {
			i := bytes.Index(rest, clip)
			if i < 0 {
				return false
			}
			if first < 0 {
				first = len(l.heard) - len(rest) + i
			}
			rest = rest[i+len(clip):]
		}
		before = l.heard[:first:first]
		l.heard = rest
		return true
	})
	return before
}

// waitHangup steps until the flow hangs up.
func (l *line) waitHangup() {
	l.t.Helper()
	l.runUntil("hung up", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.hungUp
	})
}

// testConfig is a box with one flow per feature under test.
const testConfig = cfgtest.Header + `[[extension]]
number = "1001"
kind = "agent"
[[queue]]
name = "general"
agents = ["1001"]
[ivr]
timezone = "Asia/Shanghai"
holidays = ["2026-10-01"]

[flow.menu]
start = "hours"
operator = "person"
[flow.menu.node.hours]
type = "time"
rules = [{ days = "mon-fri", hours = "08:00-20:00", next = "welcome" }]
holiday = "holiday"
next = "night"
[flow.menu.node.welcome]
type = "play"
prompts = ["welcome"]
next = "menu"
[flow.menu.node.menu]
type = "menu"
prompts = ["main-menu"]
keys = { "1" = "info", "2" = "order", "3" = "subscribe", "8" = "english" }
timeout = "3s"
retries = 1
fail = "bye"
[flow.menu.node.info]
type = "play"
prompts = ["information", "info-today"]
next = "menu"
[flow.menu.node.english]
type = "language"
language = "en"
next = "menu"
[flow.menu.node.order]
type = "collect"
prompts = ["enter-order"]
var = "order"
min = 4
max = 8
timeout = "3s"
digit_timeout = "2s"
next = "lookup"
fail = "menu"
[flow.menu.node.lookup]
type = "lookup"
url = "builtin:orders"
send = ["order"]
timeout = "2s"
results = ["order-found", "order-missing"]
fail = "sorry"
[flow.menu.node.order-found]
type = "play"
prompts = ["order-status-is", "${status}", "order-date", "date:${date}", "order-amount", "amount:${amount}"]
next = "menu"
[flow.menu.node.order-missing]
type = "play"
prompts = ["order-not-found"]
next = "menu"
[flow.menu.node.sorry]
type = "play"
prompts = ["service-unavailable"]
next = "menu"
[flow.menu.node.subscribe]
type = "subscribe"
list = "notices"
action = "subscribe"
prompts = ["subscribed"]
next = "menu"
[flow.menu.node.person]
type = "transfer"
prompts = ["transfer"]
target = "queue:general"
fail = "bye"
[flow.menu.node.holiday]
type = "hangup"
prompts = ["holiday"]
[flow.menu.node.night]
type = "hangup"
prompts = ["night"]
[flow.menu.node.bye]
type = "hangup"
prompts = ["goodbye"]

[flow.vm]
start = "record"
[flow.vm.node.record]
type = "voicemail"
prompts = ["voicemail-intro"]
mailbox = "main"
max_length = "20s"
silence = "1s"
next = "saved"
[flow.vm.node.saved]
type = "hangup"
prompts = ["voicemail-saved"]

[flow.listen]
start = "box"
[flow.listen.node.box]
type = "mailbox"
mailbox = "main"
next = "bye"
[flow.listen.node.bye]
type = "hangup"
prompts = ["goodbye"]

[flow.rec]
start = "rec"
[flow.rec.node.rec]
type = "record"
prompts = ["record-intro"]
prompt = "info-today"
silence = "1s"
next = "done"
[flow.rec.node.done]
type = "hangup"
prompts = ["prompt-saved"]

[flow.tiered]
start = "tier"
[flow.tiered.node.tier]
type = "tier"
from = "table"
next = "person"
[flow.tiered.node.person]
type = "transfer"
target = "agent:1001"
fail = "bye"
[flow.tiered.node.bye]
type = "hangup"
prompts = ["goodbye"]
`

type harness struct {
	outside  bool              // calls come from outside the box (CallInfo.Outside)
	vars     map[string]string // the calls' starting variables (CallInfo.Vars)
	e        *Engine
	clk      *clock.Fake
	wakes    atomic.Uint64 // events sent, timers fired, lookups answered: what wakes the engine
	inflight atomic.Int32  // lookups posted and not yet answered
	running  atomic.Int32  // calls whose flow has not ended
	posted   atomic.Int32  // lookups posted
	// lookupsHang says the lookup service answers only when the lookup
	// times out: steps go on while one is in flight.
	lookupsHang bool
	db          *store.DB
	lookups     chan LookupRequest
	transfers   chan Target
	transfer    error // what Transfer answers
}

// newHarness runs the engine at a time in Asia/Shanghai; orders answers
// builtin:orders.
func newHarness(t *testing.T, at string, orders http.Handler) *harness {
	set, err := prompt.Default()
	if err != nil {
		t.Fatal(err)
	}
	set = set.Clone()
	cfg, err := config.Load("test", []byte(testConfig), nil, config.Env{Boards: cfgtest.Boards, Prompt: set.Has})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start, err := time.ParseInLocation("2006-01-02 15:04", at, loc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{clk: clock.NewFake(start), db: db, lookups: make(chan LookupRequest, 4), transfers: make(chan Target, 4)}
	if orders == nil {
		orders = DemoOrders(h.clk.Now)
	}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req LookupRequest
		json.Unmarshal(body, &req)
		h.lookups <- req
		r.Body = io.NopCloser(bytes.NewReader(body))
		orders.ServeHTTP(w, r)
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	hc := NewHTTPClient(Builtin{"orders": record})
	hc.Transport = counted{hc.Transport, h}
	e, err := New(Options{Flows: cfg.Flows, IVR: cfg.IVR, Lang: "zh", Prompts: set, DB: db, Data: dir, Location: cfg.Location(), Clock: wakeClock{h.clk, &h.wakes}, Log: log,
		HTTP: hc,
		Transfer: func(ch media.Channel, tg Target) error {
			h.transfers <- tg
			return h.transfer
		},
		SavePrompt: func(lang, id string, pcm []int16) error { return set.Replace(lang, id, pcm) },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

// wakeClock counts the engine's timers that fire as wake-ups.
type wakeClock struct {
	*clock.Fake
	wakes *atomic.Uint64
}

func (c wakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.Fake.AfterFunc(d, func() { c.wakes.Add(1); f() })
}

// counted counts the lookups in flight; an answer (or a failure) is a
// wake-up.
type counted struct {
	rt http.RoundTripper
	h  *harness
}

func (c counted) RoundTrip(r *http.Request) (*http.Response, error) {
	c.h.inflight.Add(1)
	c.h.posted.Add(1)
	defer func() {
		c.h.wakes.Add(1)
		c.h.inflight.Add(-1)
	}()
	return c.rt.RoundTrip(r)
}

// waitPosted waits (in real time, bounded) until n lookups have been
// posted in all: a lookup starts on a goroutine of its own, and the test
// must not move the clock on before it is in flight.
func (h *harness) waitPosted(t *testing.T, n int32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.posted.Load() < n; time.Sleep(50 * time.Microsecond) {
		if ended := h.running.Load() == 0 && h.posted.Load() < n; ended || time.Now().After(deadline) {
			t.Fatalf("%d lookups posted, want %d (flows ended: %v)", h.posted.Load(), n, ended)
		}
	}
}

// await takes the next of what the engine hands the test on ch (a
// lookup's request, a transfer), waiting in real time, bounded, and
// failing at once when every call's flow has ended without it.
func await[T any](t *testing.T, h *harness, what string, ch chan T) T {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Microsecond) {
		ended := h.running.Load() == 0 // before the last look: what came first is seen
		select {
		case v := <-ch:
			return v
		default:
		}
		if ended || time.Now().After(deadline) {
			t.Fatalf("no %s (flows ended: %v)", what, ended)
		}
	}
}

func (h *harness) call(t *testing.T, flow, caller string) (*line, chan struct{}) {
	l := newLine(t, h)
	done := make(chan struct{})
	h.running.Add(1)
	go func() {
		keyed := h.e.Run(l, flow, CallInfo{Caller: caller, Dialled: "100", Outside: h.outside, Vars: h.vars})
		l.mu.Lock()
		l.keyed = keyed
		l.over = true
		l.mu.Unlock()
		h.running.Add(-1)
		close(done)
	}()
	t.Cleanup(func() {
		l.mu.Lock()
		gone, over := l.gone, l.over
		l.mu.Unlock()
		if t.Failed() && !gone && !over {
			l.hangUpCaller() // a failed test leaves the flow waiting: end it
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the flow did not end")
		}
	})
	return l, done
}

func (h *harness) counts(t *testing.T) map[string]uint64 {
	if err := h.e.Stats.Flush(h.db); err != nil {
		t.Fatal(err)
	}
	all, _ := h.db.IVRCounts()
	m := map[string]uint64{}
	for _, c := range all {
		m[c.Flow+"/"+c.Node+"/"+c.Exit] = c.N
	}
	return m
}

// A weekday at 10:00: welcome, menu; 2 and an order number read back
// from the lookup; the lookup saw the digits and the caller.
func TestOrderLookupReadsBack(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "13800000001")
	l.waitHeard("zh", "welcome", "main-menu")
	l.press("2")
	l.waitHeard("zh", "enter-order")
	l.press("4567#")
	req := await(t, h, "lookup posted", h.lookups)
	if req.Vars["order"] != "4567" || req.Caller != "13800000001" || req.Flow != "menu" || req.Node != "lookup" || req.Language != "zh" {
		t.Errorf("lookup posted %+v", req)
	}
	// 4567 (DemoOrders): 7 is delivered, shipped 4567%7+1 = 4 days ago,
	// 1000+4567*10 fen.
	l.waitHeard("zh", "order-status-is", "order-delivered", "order-date", "d2", "d0", "d2", "d6", "year", "n10", "d1", "month", "n10", "d9", "day",
		"order-amount", "d4", "hundred", "d6", "n10", "d6", "yuan", "d7", "jiao", "main-menu")
	l.hangUpCaller()
	<-done
	if !maps.Equal(l.keyed, map[string]string{"order": "4567"}) { // Run returns what collect nodes took, no more
		t.Errorf("Run returned %v, want the order keyed", l.keyed)
	}
	c := h.counts(t)
	if c["menu/menu/key:2"] != 1 || c["menu/order/collected"] != 1 || c["menu/lookup/result:order-found"] != 1 || c["menu/menu/hangup"] != 1 || c["menu/menu/visit"] != 2 {
		t.Errorf("counts %v", c)
	}
}

// Barge-in: a key during the welcome stops it and is the menu's choice;
// * repeats the menu; an invalid key and a timeout each cost a try and
// play their prompt; the menu's fail follows.
func TestMenuBargeInRepeatInvalidTimeout(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.press("1") // during the welcome
	l.waitHeard("zh", "information", "info-today", "main-menu")
	l.press("*")
	l.waitHeard("zh", "main-menu")
	l.press("7")
	l.waitHeard("zh", "invalid", "main-menu")
	// no key: 3 s after the menu the retries (1) are used up: goodbye,
	// without the no-input prompt of a try that will not come
	if gap := l.waitHeard("zh", "goodbye"); bytes.Contains(gap, clipOf(t, "zh", "no-input")) {
		t.Error("no-input played before the menu's fail")
	}
	l.waitHangup()
	<-done
	c := h.counts(t)
	if c["menu/welcome/barge-in"] != 1 || c["menu/menu/repeat"] != 1 || c["menu/menu/invalid"] != 1 || c["menu/menu/timeout"] != 1 || c["menu/menu/fail"] != 1 || c["menu/bye/end"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// A prompt replaced just as it ends: its done event comes after the Play
// that replaced it (as a channel's can, the end falling in the frame
// being sent). It is not the new prompt's end: the menu's timeout runs
// from the end of the replay, which is heard to its end.
func TestStalePlayDoneIsNotTheNewPromptsEnd(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.waitHeard("zh", "welcome", "main-menu")
	l.mu.Lock()
	old := l.play
	l.mu.Unlock()
	l.press("*") // the menu again: main-menu replaces main-menu
	l.step()
	l.send(media.Event{Kind: media.EventPlayDone, Play: old})
	gap := l.waitHeard("zh", "no-input")
	set, _ := prompt.Default()
	p, _ := set.Player("zh", "main-menu")
	full := make([]byte, p.Samples())
	p.FillALaw(full)
	if !bytes.Contains(gap, full[len(full)-1600:]) {
		t.Error("the timeout cut the replayed menu short: the old prompt's end was taken for its end")
	}
	l.hangUpCaller()
	<-done
}

// 0 reaches the flow's operator from a menu; the transfer carries the
// caller and language.
func TestOperatorFromAnywhere(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	h.outside = true
	l, done := h.call(t, "menu", "555")
	l.waitHeard("zh", "main-menu")
	l.press("8") // English
	l.waitHeard("en", "main-menu")
	l.press("0")
	l.waitHeard("en", "transfer")
	l.runUntil("transferred", func() bool { return len(h.transfers) > 0 })
	tg := await(t, h, "transfer", h.transfers)
	if tg.Kind != "queue" || tg.What != "general" || tg.Caller != "555" || tg.Lang != "en" || !tg.Outside {
		t.Errorf("transfer %+v", tg)
	}
	<-done
}

// A transfer the target cannot take goes to the node's fail.
func TestTransferFailure(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	h.transfer = errors.New("agent not registered")
	h.db.SetTier("13900000000", "key-account")
	l, done := h.call(t, "tiered", "13900000000")
	tg := await(t, h, "transfer", h.transfers)
	if tg.Kind != "agent" || tg.What != "1001" || tg.Tier != "key-account" || tg.Outside {
		t.Errorf("transfer %+v", tg)
	}
	l.waitHeard("zh", "goodbye")
	l.waitHangup()
	<-done
	if c := h.counts(t); c["tiered/tier/tier:key-account"] != 1 || c["tiered/person/fail"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// Collect: too few digits then # is invalid; a timeout with none is no
// input; with the tries gone (1 + 2 retries) the collect's fail, the
// menu, follows.
func TestCollectRetries(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.waitHeard("zh", "main-menu")
	l.press("2")
	l.waitHeard("zh", "enter-order")
	l.press("12#")
	l.waitHeard("zh", "invalid", "enter-order")
	l.waitHeard("zh", "no-input", "enter-order")
	l.waitHeard("zh", "main-menu") // the third try timed out too: retries (2) used up
	l.hangUpCaller()
	<-done
	if c := h.counts(t); c["menu/order/invalid"] != 1 || c["menu/order/timeout"] != 2 || c["menu/order/fail"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// Collect ends at max digits, and after the inter-digit timeout with
// enough digits.
func TestCollectMaxAndInterDigit(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.press("212345678") // type-ahead through the welcome: 2, then 8 digits
	if req := await(t, h, "lookup posted", h.lookups); req.Vars["order"] != "12345678" {
		t.Errorf("collected %q", req.Vars["order"])
	}
	l.waitHeard("zh", "order-status-is")
	l.press("2")
	l.waitHeard("zh", "enter-order")
	l.press("98765") // then nothing: 2 s later it is complete
	l.run(2*time.Second - media.FrameMs*time.Millisecond)
	if n := h.posted.Load(); n != 1 {
		t.Fatalf("%d lookups before the inter-digit timeout, want 1", n)
	}
	l.step()
	if req := await(t, h, "lookup posted", h.lookups); req.Vars["order"] != "98765" {
		t.Errorf("collected %q", req.Vars["order"])
	}
	l.hangUpCaller()
	<-done
}

// Every way a lookup can fail sends the caller to the fallback.
func TestLookupFailuresFallBack(t *testing.T) {
	cases := map[string]http.Handler{
		"status 500": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }),
		"malformed":  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"next": "order-found", `) }),
		"wrong node": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"next": "bye"}`) }),
		"bad var": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"next": "order-found", "vars": {"Bad Name": "x"}}`)
		}),
		"slow": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body) // so the server notices the client leave
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}),
	}
	for name, handler := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			h := newHarness(t, "2026-11-23 10:00", nil)
			h.lookupsHang = name == "slow"
			f := h.e.Flows["menu"]
			n := f.Nodes["lookup"]
			n.URL = srv.URL
			f.Nodes["lookup"] = n
			l, done := h.call(t, "menu", "1")
			l.press("21234#")
			h.waitPosted(t, 1)
			l.waitHeard("zh", "service-unavailable", "main-menu")
			l.hangUpCaller()
			<-done
			if c := h.counts(t); c["menu/lookup/fail"] != 1 {
				t.Errorf("counts %v", c)
			}
		})
	}
}

// An order the service does not know takes the other result.
func TestLookupOtherResult(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.press("20123#")
	h.waitPosted(t, 1)
	l.waitHeard("zh", "order-not-found", "main-menu")
	l.hangUpCaller()
	<-done
}

func TestTimeRouting(t *testing.T) {
	for _, c := range []struct{ at, want string }{
		{"2026-10-01 10:00", "holiday"}, // Thursday, a holiday
		{"2026-11-23 21:30", "night"},   // Monday evening
		{"2026-11-22 10:00", "night"},   // Sunday
		{"2026-11-23 08:00", "welcome"}, // opening minute
		{"2026-11-23 19:59", "welcome"},
		{"2026-11-23 07:59", "night"},
		{"2026-11-23 20:00", "night"}, // the closing minute: hours end exclusive
		{"2026-11-23 20:30", "night"},
	} {
		h := newHarness(t, c.at, nil)
		l, done := h.call(t, "menu", "1")
		l.waitHeard("zh", c.want)
		l.hangUpCaller()
		<-done
	}
}

func TestSubscribe(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "13800000009")
	l.press("3")
	l.waitHeard("zh", "subscribed", "main-menu")
	l.hangUpCaller()
	<-done
	if subs, _ := h.db.Subscribers("notices"); len(subs) != 1 || subs[0] != "13800000009" {
		t.Errorf("subscribers %v", subs)
	}
}

// speech is a second of a 400 Hz tone at -15 dBm0: loud enough to count
// as sound, then the line is quiet.
func speech() []int16 { return tone.Sine(400, -15, media.RateHz) }

// A voicemail is recorded after the beep until a second of silence, stored
// as a WAV with the caller and time, and played back by the mailbox flow.
func TestVoicemailRecordedAndPlayedBack(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "13800000007")
	l.waitHeard("zh", "voicemail-intro")
	l.mu.Lock()
	l.speech = speech()
	l.mu.Unlock()
	l.waitHeard("zh", "voicemail-saved")
	l.waitHangup()
	<-done
	vms, _ := h.db.Voicemails("main")
	if len(vms) != 1 || vms[0].Caller != "13800000007" || vms[0].Heard || vms[0].Duration < time.Second || vms[0].Duration > 2*time.Second {
		t.Fatalf("voicemail %+v", vms)
	}
	data, err := os.ReadFile(filepath.Join(h.e.Data, vms[0].File))
	if err != nil || !bytes.HasPrefix(data, []byte("RIFF")) {
		t.Fatalf("voicemail file: %v", err)
	}

	l, done = h.call(t, "listen", "1001")
	l.waitHeard("zh", "you-have", "d1", "new-messages", "message-from", "d1", "d3", "d8", "d0", "d7", "message-time")
	l.waitHeard("zh", "end-of-messages", "goodbye")
	l.waitHangup()
	<-done
	// The message itself was played: the tone's A-law is in what was heard.
	vms, _ = h.db.Voicemails("main")
	if !vms[0].Heard {
		t.Error("message not marked heard")
	}
	l, done = h.call(t, "listen", "1001")
	l.waitHeard("zh", "no-new-messages")
	if gap := l.waitHeard("zh", "goodbye"); bytes.Contains(gap, clipOf(t, "zh", "end-of-messages")) {
		t.Error("end-of-messages after no new messages")
	}
	l.waitHangup()
	<-done
}

// # ends a recording: a caller who keys it while still speaking leaves
// what was said up to the key (not up to the silence after the speech);
// a caller who says nothing and keys # leaves no message.
func TestVoicemailHashAndEmpty(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "13800000008")
	l.runUntil("recording", func() bool { return l.playing(recording) })
	l.mu.Lock()
	l.speech = speech() // a second of it
	l.mu.Unlock()
	l.run(700 * time.Millisecond)
	l.press("#")
	l.waitHeard("zh", "voicemail-saved")
	l.waitHangup()
	<-done
	vms, _ := h.db.Voicemails("main")
	if len(vms) != 1 || vms[0].Duration < 600*time.Millisecond || vms[0].Duration > 800*time.Millisecond {
		t.Fatalf("voicemails %+v, want one of the 0.7 s before the #", vms)
	}

	l, done = h.call(t, "vm", "1")
	l.runUntil("recording", func() bool { return l.playing(recording) })
	began := h.clk.Now()
	l.run(300 * time.Millisecond) // not the second of silence that would end it
	l.press("#")
	l.waitHeard("zh", "voicemail-saved")
	if took := h.clk.Now().Sub(began); took > 600*time.Millisecond {
		t.Errorf("the recording ended %v after it began; # was keyed at 300 ms", took)
	}
	l.waitHangup()
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 1 {
		t.Errorf("an empty message was kept: %+v", vms)
	}
	if c := h.counts(t); c["vm/record/empty"] != 1 || c["vm/record/saved"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// The daily announcement recorded by phone replaces the prompt at once.
func TestRecordPromptReplacesIt(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	old := clipOf(t, "zh", "info-today")
	l, done := h.call(t, "rec", "1001")
	l.waitHeard("zh", "record-intro")
	l.mu.Lock()
	l.speech = speech()
	l.mu.Unlock()
	l.waitHeard("zh", "prompt-saved")
	l.waitHangup()
	<-done
	got, _ := h.e.Prompts.Get("zh", "info-today")
	if len(got) < media.RateHz || len(got) > 2*media.RateHz {
		t.Errorf("new prompt is %d samples", len(got))
	}
	a := make([]byte, 160)
	media.PCMA.Encode(a, got[:160])
	if bytes.Equal(a, old[:160]) {
		t.Error("prompt not replaced")
	}
}

// A flow that does not exist hangs up at once rather than leave silence.
func TestUnknownFlowHangsUp(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "nope", "1")
	<-done
	l.waitHangup()
	if !strings.Contains(fmt.Sprint(h.e.Flows["menu"].Start), "hours") {
		t.Error("flows not loaded")
	}
}

// FuzzReadBack: any value a lookup returns either reads back as prompts
// that exist in both languages or is refused with an error.
func FuzzReadBack(f *testing.F) {
	for _, s := range []string{"digits:0123*#", "number:1234567", "amount:129.50", "amount:0.5", "amount:-1", "date:2026-11-23",
		"date:2026-02-30", "duration:90", "duration:1h2m3s", "number:99999999999999", "amount:1.234", "duration:-5s"} {
		f.Add(s)
	}
	set, _ := prompt.Default()
	f.Fuzz(func(t *testing.T, item string) {
		kind, val, _ := strings.Cut(item, ":")
		for _, lang := range []string{"zh", "en"} {
			ids, err := readBack(lang, kind, val)
			if err != nil {
				continue
			}
			if _, err := set.Player(lang, ids...); err != nil {
				t.Fatalf("%s %q read back as %v: %v", lang, item, ids, err)
			}
		}
	})
}

// With the data directory short of space the voicemail node says it
// cannot record and goes on to its next (heard right after: no intro,
// no beep); nothing is kept.
func TestVoicemailRefusedWhenShortOfSpace(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	h.e.Short = func() bool { return true }
	l, done := h.call(t, "vm", "13800000007")
	l.waitHeard("zh", "recording-unavailable", "voicemail-saved")
	l.waitHangup()
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 0 {
		t.Fatalf("voicemail kept: %+v", vms)
	}
}

// fullClip is the A-law of a whole prompt.
func fullClip(t *testing.T, lang, id string) []byte {
	set, _ := prompt.Default()
	p, err := set.Player(lang, id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, p.Samples())
	p.FillALaw(b)
	return b
}

// logBuf keeps what the engine logs, for tests of what it reports.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureLog makes the engine log (info and above) into the returned
// buffer; call it before the call starts.
func (h *harness) captureLog() *logBuf {
	var l logBuf
	h.e.Log = slog.New(slog.NewTextHandler(&l, nil))
	return &l
}

// A hangup node's prompts are heard to their end, keys or not; then the
// call ends.
func TestHangupPromptPlaysThroughKeys(t *testing.T) {
	h := newHarness(t, "2026-11-23 21:30", nil)
	l, done := h.call(t, "menu", "1")
	l.waitHeard("zh", "night")
	l.press("1")
	l.run(100 * time.Millisecond)
	l.press("#")
	l.waitHangup()
	<-done
	full := fullClip(t, "zh", "night")
	l.mu.Lock()
	heard := l.heard
	l.mu.Unlock()
	if !bytes.Contains(heard, full[len(full)-1600:]) {
		t.Error("a key cut the night prompt short")
	}
	if c := h.counts(t); c["menu/night/end"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// Read-backs of the documented forms: a duration in seconds or as Go
// writes one, amounts in yuan with up to two decimals, under one yuan too.
func TestReadBackKinds(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		say := func(ids []string, err error) string {
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(ids, " ")
		}
		for _, c := range []struct{ item, want string }{
			{"duration:90", say(prompt.Duration(lang, 90*time.Second))},
			{"duration:1m30s", say(prompt.Duration(lang, 90*time.Second))},
			{"duration:0", say(prompt.Duration(lang, 0))},
			{"amount:129.50", say(prompt.Amount(lang, 12950))},
			{"amount:129.5", say(prompt.Amount(lang, 12950))},
			{"amount:0.5", say(prompt.Amount(lang, 50))},
			{"amount:0", say(prompt.Amount(lang, 0))},
		} {
			kind, val, _ := strings.Cut(c.item, ":")
			ids, err := readBack(lang, kind, val)
			if got := strings.Join(ids, " "); err != nil || got != c.want {
				t.Errorf("%s %s: %q %v, want %q", lang, c.item, got, err, c.want)
			}
		}
		for _, item := range []string{"duration:soon", "amount:-1", "amount:1.234", "amount:x"} {
			kind, val, _ := strings.Cut(item, ":")
			if ids, err := readBack(lang, kind, val); err == nil {
				t.Errorf("%s %s read back as %v", lang, item, ids)
			}
		}
	}
}

// A collect waits its timeout (3 s here) for the first digit, not the
// digit timeout (2 s) that runs between digits.
func TestCollectFirstDigitWaitsTheTimeout(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "1")
	l.waitHeard("zh", "main-menu")
	l.press("2")
	l.waitHeard("zh", "enter-order")
	l.runUntil("enter-order heard to its end", func() bool { return l.playing(func(s media.Source) bool { return s == nil }) })
	l.run(2500 * time.Millisecond)
	l.press("4567#")
	if req := await(t, h, "lookup posted", h.lookups); req.Vars["order"] != "4567" {
		t.Errorf("collected %q", req.Vars["order"])
	}
	l.waitHeard("zh", "order-status-is")
	l.hangUpCaller()
	<-done
	if c := h.counts(t); c["menu/order/timeout"] != 0 || c["menu/order/collected"] != 1 {
		t.Errorf("counts %v: the first digit came 2.5 s after the prompt, within its 3 s", c)
	}
}

// A store that cannot say the caller's tier is logged, and the caller
// goes on as "other".
func TestTierStoreFailure(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	logs := h.captureLog()
	h.db.Close()
	_, done := h.call(t, "tiered", "13900000000")
	if tg := await(t, h, "transfer", h.transfers); tg.Tier != "other" {
		t.Errorf("transfer %+v, want tier other", tg)
	}
	<-done
	if !strings.Contains(logs.String(), "ivr: tier") {
		t.Errorf("the tier's store error was not logged: %s", logs)
	}
}

// A lookup answer's tier is the caller's from then on: a transfer
// carries it.
func TestLookupAnswerSetsTier(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"next": "order-missing", "tier": "key-account"}`)
	}))
	l, done := h.call(t, "menu", "1")
	l.press("21234#")
	h.waitPosted(t, 1)
	l.waitHeard("zh", "order-not-found", "main-menu")
	l.press("0")
	l.runUntil("transferred", func() bool { return len(h.transfers) > 0 })
	if tg := await(t, h, "transfer", h.transfers); tg.Tier != "key-account" {
		t.Errorf("transfer %+v, want the lookup's tier key-account", tg)
	}
	<-done
}

// Keys pressed while a lookup is answered are kept for the next node
// that reads keys: here they barge in on the result's prompt and are the
// menu's choice.
func TestLookupKeepsKeysTypedDuringIt(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, "2026-11-23 10:00", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, `{"next": "order-missing"}`)
	}))
	h.lookupsHang = true
	l, done := h.call(t, "menu", "1")
	l.press("21234#")
	h.waitPosted(t, 1)
	l.press("1")
	l.step()
	close(release)
	l.waitHeard("zh", "information")
	l.hangUpCaller()
	<-done
	if c := h.counts(t); c["menu/lookup/result:order-missing"] != 1 || c["menu/order-missing/barge-in"] != 1 || c["menu/menu/key:1"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// A transfer to trunk:NAME/N dials N (here ${caller}) through NAME.
func TestTransferToTrunk(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	n := h.e.Flows["tiered"].Nodes["person"]
	n.Target = "trunk:pri/${caller}"
	h.e.Flows["tiered"].Nodes["person"] = n
	_, done := h.call(t, "tiered", "13900000000")
	if tg := await(t, h, "transfer", h.transfers); tg.Kind != "trunk" || tg.What != "pri" || tg.Number != "13900000000" {
		t.Errorf("transfer %+v, want trunk pri, number 13900000000", tg)
	}
	<-done
}

// A call's starting variables (a campaign contact's columns) are the
// flow's from the start; they cannot stand in for the caller's number.
func TestCallInfoVars(t *testing.T) {
	for _, c := range []struct{ target, want string }{{"${phone}", "075588880000"}, {"${caller}", "13900000000"}} {
		h := newHarness(t, "2026-11-23 10:00", nil)
		n := h.e.Flows["tiered"].Nodes["person"]
		n.Target = "trunk:pri/" + c.target
		h.e.Flows["tiered"].Nodes["person"] = n
		h.vars = map[string]string{"phone": "075588880000", "caller": "999"}
		_, done := h.call(t, "tiered", "13900000000")
		if tg := await(t, h, "transfer", h.transfers); tg.Number != c.want {
			t.Errorf("transfer to %s: %q, want %q", c.target, tg.Number, c.want)
		}
		<-done
	}
}

// startSpeaking waits for the recording to begin (the beep over) and has
// the caller say what: every sample of it is recorded.
func (l *line) startSpeaking(what []int16) {
	l.t.Helper()
	l.runUntil("recording", func() bool { return l.playing(recording) })
	l.mu.Lock()
	l.speech = what
	l.mu.Unlock()
}

// A second of speech, then the second of silence that ends the message:
// what is kept is the speech and half a second of the silence after it.
// The message's id is the time, then the caller.
func TestVoicemailKeepsHalfASecondOfSilence(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "+8613900000009")
	l.startSpeaking(speech())
	l.waitHeard("zh", "voicemail-saved")
	l.waitHangup()
	<-done
	vms, _ := h.db.Voicemails("main")
	if len(vms) != 1 || vms[0].Duration != 1500*time.Millisecond {
		t.Fatalf("voicemails %+v, want one of 1.5 s", vms)
	}
	if !strings.HasSuffix(vms[0].ID, "-+8613900000009") || vms[0].File != filepath.Join("voicemail", "main", vms[0].ID+".wav") {
		t.Errorf("voicemail id %q, file %q: want the time, then the caller", vms[0].ID, vms[0].File)
	}
}

// Keys other than # do not end a recording.
func TestVoicemailOtherKeysDoNotEndIt(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "1")
	l.startSpeaking(speech())
	l.run(300 * time.Millisecond)
	l.press("5")
	l.run(300 * time.Millisecond)
	l.press("*")
	l.waitHeard("zh", "voicemail-saved")
	l.waitHangup()
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 1 || vms[0].Duration != 1500*time.Millisecond {
		t.Fatalf("voicemails %+v, want the second of speech and half a second of silence", vms)
	}
}

// A caller who hangs up while recording leaves what was said; the flow
// ends there.
func TestVoicemailHangUpKeepsTheMessage(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "1")
	l.startSpeaking(speech())
	l.run(800 * time.Millisecond)
	l.hangUpCaller()
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 1 || vms[0].Duration != 800*time.Millisecond {
		t.Fatalf("voicemails %+v, want the 0.8 s said before the hang-up", vms)
	}
	if c := h.counts(t); c["vm/record/hangup"] != 1 || c["vm/saved/visit"] != 0 {
		t.Errorf("counts %v", c)
	}
}

// max_length ends a recording at that length, to the sample, even in the
// middle of a frame (1.25 s is 62.5 frames).
func TestVoicemailStopsAtMaxLength(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	n := h.e.Flows["vm"].Nodes["record"]
	n.MaxLength = "1.25s"
	h.e.Flows["vm"].Nodes["record"] = n
	l, done := h.call(t, "vm", "1")
	l.startSpeaking(append(append(speech(), speech()...), speech()...))
	l.waitHeard("zh", "voicemail-saved")
	l.waitHangup()
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 1 || vms[0].Duration != 1250*time.Millisecond {
		t.Fatalf("voicemails %+v, want one of max_length, 1.25 s", vms)
	}
}

// leaveVoicemail stores a message in mailbox main as the vm flow would,
// with audio (a file under the data directory) unless file is "".
func (h *harness) leaveVoicemail(t *testing.T, id, caller string, at time.Time, audio []int16) store.Voicemail {
	t.Helper()
	v := store.Voicemail{Mailbox: "main", ID: id, Caller: caller, Time: at, File: filepath.Join("voicemail", "main", id+".wav"),
		Duration: time.Duration(len(audio)) * time.Second / media.RateHz}
	if audio != nil {
		var buf bytes.Buffer
		if err := wav.Encode(&buf, wav.ALaw, audio); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(h.e.voicemailDir("main"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.e.Data, v.File), buf.Bytes(), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.db.AddVoicemail(v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A message whose audio is gone is passed over (and stays new: it was
// not played); the others are played and marked heard.
func TestMailboxSkipsMessageWithoutAudio(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	at := h.clk.Now().Add(-time.Hour)
	h.leaveVoicemail(t, "a-gone", "1", at, nil)
	h.leaveVoicemail(t, "b-kept", "2", at.Add(time.Minute), speech())
	l, done := h.call(t, "listen", "1001")
	l.waitHeard("zh", "you-have", "d2", "new-messages", "message-from", "d1", "message-time", "message-from", "d2", "message-time")
	l.waitHeard("zh", "end-of-messages", "goodbye")
	l.waitHangup()
	<-done
	vms, _ := h.db.Voicemails("main")
	heard := map[string]bool{}
	for _, v := range vms {
		heard[v.ID] = v.Heard
	}
	if len(vms) != 2 || heard["a-gone"] || !heard["b-kept"] {
		t.Errorf("voicemails %+v: want the one played heard, the one without audio new", vms)
	}
}

// A message that cannot be marked heard is logged; the caller hears the
// rest of the mailbox all the same.
func TestMailboxMarkHeardFailureLogged(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	h.leaveVoicemail(t, "a", "1", h.clk.Now().Add(-time.Hour), speech())
	logs := h.captureLog()
	l, done := h.call(t, "listen", "1001")
	l.waitHeard("zh", "message-from", "d1", "message-time")
	h.db.Close()
	l.waitHeard("zh", "end-of-messages", "goodbye")
	l.waitHangup()
	<-done
	if !strings.Contains(logs.String(), "ivr: voicemail heard") {
		t.Errorf("the store error was not logged: %s", logs)
	}
}

// A call passes at most maxSteps nodes, then is hung up: here a loop
// without input (which the config's check refuses, and a flow changed
// here bypasses) is cut off after that many visits.
func TestCallPassesAtMostMaxSteps(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	f := h.e.Flows["menu"]
	f.Start = "english"
	n := f.Nodes["english"]
	n.Next = "english"
	f.Nodes["english"] = n
	h.e.Flows["menu"] = f
	l, done := h.call(t, "menu", "1")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop was not cut off")
	}
	l.waitHangup()
	if c := h.counts(t); c["menu/english/visit"] != maxSteps || c["menu/english/next"] != maxSteps {
		t.Errorf("counts %v, want %d visits", c, maxSteps)
	}
}

// A caller's number is the caller's to choose (a SIP From user): only its
// digits and '+' reach the message's file name, which stays in the
// mailbox's folder; the record keeps the caller as given.
func TestVoicemailFileNameFromDigitsOnly(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	const caller = "../../+86 138/..\\x00*1"
	l, done := h.call(t, "vm", caller)
	l.startSpeaking(speech())
	l.run(800 * time.Millisecond)
	l.hangUpCaller()
	<-done
	vms, _ := h.db.Voicemails("main")
	if len(vms) != 1 {
		t.Fatalf("voicemails %+v", vms)
	}
	f := vms[0].File
	if filepath.Dir(f) != filepath.Join("voicemail", "main") || !strings.HasSuffix(f, "-+86138001.wav") || vms[0].Caller != caller {
		t.Errorf("file %q caller %q, want voicemail/main/TIME-+86138001.wav and the caller as given", f, vms[0].Caller)
	}
}
