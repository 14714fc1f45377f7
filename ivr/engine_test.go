package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/cfgtest"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/media/tone"
	"jinyin/store"
)

// line is a simulated call for the engine: a media tick, driven by the
// test's goroutine, pulls 20 ms frames from what the engine plays into a
// transcript (A-law, as a SIP caller receives prompts) and advances the
// fake clock by 20 ms per frame, so prompts and timeouts run in simulated
// time, about 20 times faster than real time. What the caller "says" (for
// recordings) comes from speech.
type line struct {
	t      *testing.T
	clk    *clock.Fake
	events chan media.Event

	mu      sync.Mutex
	src     media.Source
	heard   []byte
	speech  []int16 // the caller's audio, consumed by Listen
	hungUp  bool
	stopped chan struct{}
}

func newLine(t *testing.T, clk *clock.Fake) *line {
	l := &line{t: t, clk: clk, events: make(chan media.Event, 16), stopped: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		frame := make([]int16, media.FrameSamples)
		alaw := make([]byte, media.FrameSamples)
		for i := 0; i < 200000; i++ { // at most about 70 simulated minutes
			select {
			case <-l.stopped:
				return
			case <-time.After(time.Millisecond):
			}
			l.mu.Lock()
			src := l.src
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
				l.mu.Unlock()
			}
			clk.Advance(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { l.stop(); <-done })
	return l
}

func (l *line) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
	}
}

func (l *line) ID() string { return "line" }
func (l *line) Play(src media.Source) {
	l.mu.Lock()
	l.src = src
	l.mu.Unlock()
}
func (l *line) Events() <-chan media.Event { return l.events }
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

func (l *line) press(digits string) {
	for _, d := range []byte(digits) {
		l.events <- media.Event{Kind: media.EventDigit, Digit: d}
	}
}

func (l *line) hangUpCaller() {
	l.events <- media.Event{Kind: media.EventHangup}
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

// waitHeard waits until the prompts have been heard in this order since
// the last wait, and consumes the transcript up to the last of them.
func (l *line) waitHeard(lang string, ids ...string) {
	l.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		rest, ok := l.heard, true
		for _, id := range ids {
			clip := clipOf(l.t, lang, id)
			i := bytes.Index(rest, clip)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(clip):]
		}
		if ok {
			l.heard = rest
		}
		l.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("did not hear %v in %s", ids, lang)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (l *line) notHeard(lang, id string) {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(l.heard, clipOf(l.t, lang, id)) {
		l.t.Errorf("heard %s/%s", lang, id)
	}
}

func (l *line) waitHangup() {
	l.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		l.mu.Lock()
		h := l.hungUp
		l.mu.Unlock()
		if h {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatal("the IVR did not hang up")
		}
	}
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
	e         *Engine
	clk       *clock.Fake
	db        *store.DB
	lookups   chan LookupRequest
	transfers chan Target
	transfer  error // what Transfer answers
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
	h.e = &Engine{Flows: cfg.Flows, IVR: cfg.IVR, Lang: "zh", Prompts: set, DB: db, Data: dir, Clock: h.clk, Log: log,
		HTTP: NewHTTPClient(Builtin{"orders": record}),
		Transfer: func(ch media.Channel, tg Target) error {
			h.transfers <- tg
			return h.transfer
		},
		SavePrompt: func(lang, id string, pcm []int16) error { return set.Replace(lang, id, pcm) },
	}
	if err := h.e.Init(); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) call(t *testing.T, flow, caller string) (*line, chan struct{}) {
	l := newLine(t, h.clk)
	done := make(chan struct{})
	go func() {
		h.e.Run(l, flow, CallInfo{Caller: caller, Dialled: "100"})
		close(done)
	}()
	t.Cleanup(func() {
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
	req := <-h.lookups
	if req.Vars["order"] != "4567" || req.Caller != "13800000001" || req.Flow != "menu" || req.Node != "lookup" || req.Language != "zh" {
		t.Errorf("lookup posted %+v", req)
	}
	// 4567 (DemoOrders): 7 is delivered, shipped 4567%7+1 = 4 days ago,
	// 1000+4567*10 fen.
	l.waitHeard("zh", "order-status-is", "order-delivered", "order-date", "d2", "d0", "d2", "d6", "year", "n10", "d1", "month", "n10", "d9", "day",
		"order-amount", "d4", "hundred", "d6", "n10", "d6", "yuan", "d7", "jiao", "main-menu")
	l.hangUpCaller()
	<-done
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
	// no key: 3 s after the menu: no-input, and retries (1) are used up
	l.waitHeard("zh", "goodbye")
	l.waitHangup()
	<-done
	l.notHeard("zh", "no-input")
	c := h.counts(t)
	if c["menu/welcome/barge-in"] != 1 || c["menu/menu/repeat"] != 1 || c["menu/menu/invalid"] != 1 || c["menu/menu/timeout"] != 1 || c["menu/menu/fail"] != 1 || c["menu/bye/end"] != 1 {
		t.Errorf("counts %v", c)
	}
}

// 0 reaches the flow's operator from a menu; the transfer carries the
// caller and language.
func TestOperatorFromAnywhere(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "menu", "555")
	l.waitHeard("zh", "main-menu")
	l.press("8") // English
	l.waitHeard("en", "main-menu")
	l.press("0")
	l.waitHeard("en", "transfer")
	tg := <-h.transfers
	if tg.Kind != "queue" || tg.What != "general" || tg.Caller != "555" || tg.Lang != "en" {
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
	tg := <-h.transfers
	if tg.Kind != "agent" || tg.What != "1001" || tg.Tier != "key-account" {
		t.Errorf("transfer %+v", tg)
	}
	l.waitHeard("zh", "goodbye")
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
	if req := <-h.lookups; req.Vars["order"] != "12345678" {
		t.Errorf("collected %q", req.Vars["order"])
	}
	l.waitHeard("zh", "order-status-is")
	l.press("2")
	l.waitHeard("zh", "enter-order")
	l.press("98765") // then nothing: 2 s later it is complete
	if req := <-h.lookups; req.Vars["order"] != "98765" {
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
			f := h.e.Flows["menu"]
			n := f.Nodes["lookup"]
			n.URL = srv.URL
			f.Nodes["lookup"] = n
			l, done := h.call(t, "menu", "1")
			l.press("21234#")
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
	<-done
	// The message itself was played: the tone's A-law is in what was heard.
	vms, _ = h.db.Voicemails("main")
	if !vms[0].Heard {
		t.Error("message not marked heard")
	}
	l, done = h.call(t, "listen", "1001")
	l.waitHeard("zh", "no-new-messages", "goodbye")
	<-done
}

// # ends a recording; a caller who says nothing leaves no message.
func TestVoicemailHashAndEmpty(t *testing.T) {
	h := newHarness(t, "2026-11-23 10:00", nil)
	l, done := h.call(t, "vm", "1")
	l.waitHeard("zh", "voicemail-intro")
	time.Sleep(100 * time.Millisecond) // 2 s of silence in simulated time
	l.press("#")
	l.waitHeard("zh", "voicemail-saved")
	<-done
	if vms, _ := h.db.Voicemails("main"); len(vms) != 0 {
		t.Errorf("an empty message was kept: %+v", vms)
	}
	if c := h.counts(t); c["vm/record/empty"] != 1 {
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
