package route

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
)

// tollPlan is the demo's plan on a fake clock at 10:00 on Tuesday 1
// December 2026 in Shanghai, dialling out through FXO lines "pstn" and
// "backup" that always answer, recording security events.
type tollPlan struct {
	*Plan
	clk    *clock.Fake
	mu     sync.Mutex
	events []string
}

func newTollPlan(t *testing.T, edit func(*config.Config)) *tollPlan {
	t.Helper()
	cfg := demoConfig(t)
	if edit != nil {
		edit(cfg)
	}
	tp := &tollPlan{Plan: New(cfg)}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tp.clk = clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, loc))
	tp.Clock = tp.clk
	tp.Lines = map[string][]Line{"pstn": {&fakeLine{}}, "backup": {&fakeLine{}}}
	tp.Event = func(name, _ string, _ netip.AddrPort, account, detail string) {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		tp.events = append(tp.events, name+" "+account+": "+detail)
	}
	return tp
}

func (tp *tollPlan) took() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	e := tp.events
	tp.events = nil
	return e
}

// dial places a call for ext through trunks; the call stays up until
// the returned hang-up (which waits for the plan to count its end).
func (tp *tollPlan) dial(ext, number string, trunks ...string) (media.Channel, func(), error) {
	if len(trunks) == 0 {
		trunks = []string{"pstn"}
	}
	tp.toll.mu.Lock()
	before := map[*outCall]bool{}
	for c := range tp.toll.calls {
		before[c] = true
	}
	tp.toll.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := tp.out(ctx, ext, trunks, number, ext)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	var this *outCall
	tp.toll.mu.Lock()
	for c := range tp.toll.calls {
		if !before[c] {
			this = c
		}
	}
	tp.toll.mu.Unlock()
	return ch, func() {
		cancel()
		for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			tp.toll.mu.Lock()
			ended := !this.end.IsZero()
			tp.toll.mu.Unlock()
			if ended {
				return
			}
		}
	}, nil
}

// TestExtensionDialClasses: an extension's own dial_classes replace the
// box's for its calls; calls that are no extension's keep the box's.
func TestExtensionDialClasses(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		for i := range c.Extensions {
			switch c.Extensions[i].Number {
			case "2001": // the front desk: local calls only
				c.Extensions[i].DialClasses = []string{"internal", "emergency", "local"}
			case "1002": // a manager: international too
				c.Extensions[i].DialClasses = []string{"local", "mobile", "international"}
			}
		}
	})
	for _, c := range []struct {
		ext, number string
		out         bool
	}{
		{"2001", "88880000", true},
		{"2001", "120", true},
		{"2001", "13800138000", false},
		{"2001", "075588880000", false},
		{"1002", "0044201234567", true},
		{"1002", "13800138000", true},
		{"1002", "075588880000", false}, // national is not among its classes
		{"1001", "13800138000", true},   // the box's classes
		{"1001", "0044201234567", false},
		{"", "0044201234567", false},
		{"", "13800138000", true},
	} {
		_, hangup, err := tp.dial(c.ext, c.number)
		if (err == nil) != c.out {
			t.Errorf("%q dials %s: %v, want out %v", c.ext, c.number, err, c.out)
		}
		var denied *ErrDialDenied
		if err != nil && !errors.As(err, &denied) {
			t.Errorf("%q dials %s: %v, not a DialDenied", c.ext, c.number, err)
		}
		if hangup != nil {
			hangup()
		}
	}
	if ev := tp.took(); len(ev) != 5 || !strings.HasPrefix(ev[0], "DialDenied 2001: 13800138000 (mobile) through pstn: mobile numbers are not among extension 2001's dial classes") {
		t.Errorf("events %q", ev)
	}
}

// TestOfficeHours: with office hours set (Monday to Friday 08:00-20:00
// in the box's zone, Shanghai), only the after-hours classes go out at
// night, at the weekend and on the IVR's holidays; office hours end
// exclusive.
func TestOfficeHours(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.OfficeHours = []config.Hours{{Days: "mon-fri", Hours: "08:00-20:00"}}
		c.IVR.Holidays = []string{"2026-12-03"}
	})
	loc := tp.clk.Now().Location()
	for _, c := range []struct {
		at       time.Time
		number   string
		out      bool
		whatTime string
	}{
		{time.Date(2026, 12, 1, 10, 0, 0, 0, loc), "13800138000", true, "Tuesday 10:00"},
		{time.Date(2026, 12, 1, 19, 59, 0, 0, loc), "13800138000", true, "Tuesday 19:59"},
		{time.Date(2026, 12, 1, 20, 0, 0, 0, loc), "13800138000", false, "Tuesday 20:00"},
		{time.Date(2026, 12, 1, 12, 0, 30, 0, time.UTC), "13800138000", false, "Tuesday 12:00 UTC, 20:00 in Shanghai"},
		{time.Date(2026, 12, 1, 23, 0, 0, 0, loc), "120", true, "Tuesday night, an ambulance"},
		{time.Date(2026, 12, 1, 23, 0, 0, 0, loc), "88880000", false, "Tuesday night, a local number"},
		{time.Date(2026, 12, 2, 7, 59, 0, 0, loc), "13800138000", false, "Wednesday 07:59"},
		{time.Date(2026, 12, 2, 8, 0, 0, 0, loc), "13800138000", true, "Wednesday 08:00"},
		{time.Date(2026, 12, 3, 10, 0, 0, 0, loc), "13800138000", false, "Thursday 10:00, a holiday"},
		{time.Date(2026, 12, 5, 10, 0, 0, 0, loc), "13800138000", false, "Saturday 10:00"},
		{time.Date(2026, 12, 7, 10, 0, 0, 0, loc), "13800138000", true, "Monday 10:00"},
	} {
		tp.clk.Advance(c.at.Sub(tp.clk.Now()))
		_, hangup, err := tp.dial("2001", c.number)
		if (err == nil) != c.out {
			t.Errorf("%s: %s: %v, want out %v", c.whatTime, c.number, err, c.out)
		}
		if err != nil && !strings.Contains(err.Error(), "only in office hours") {
			t.Errorf("%s: %v", c.whatTime, err)
		}
		if hangup != nil {
			hangup()
		}
	}
}

// TestExtensionCaps: an extension has at most max_outbound calls out at
// once (default 2) and starts at most outbound_per_minute (default 5) in
// any minute; another extension is not held back by it.
func TestExtensionCaps(t *testing.T) {
	tp := newTollPlan(t, nil)
	_, h1, err1 := tp.dial("1001", "88880001")
	_, h2, err2 := tp.dial("1001", "88880002")
	if err1 != nil || err2 != nil {
		t.Fatalf("two calls: %v, %v", err1, err2)
	}
	if _, _, err := tp.dial("1001", "88880003"); err == nil || !strings.Contains(err.Error(), "extension 1001 has 2 calls out already") {
		t.Fatalf("a third call at once: %v", err)
	}
	_, h3, err := tp.dial("1002", "88880003")
	if err != nil {
		t.Fatalf("another extension: %v", err)
	}
	h3()
	h1()
	// One of the two ended: two started in this minute, three more go.
	for i := range 3 {
		_, h, err := tp.dial("1001", "88880004")
		if err != nil {
			t.Fatalf("call %d of the minute: %v", i+3, err)
		}
		h()
	}
	if _, _, err := tp.dial("1001", "88880004"); err == nil || !strings.Contains(err.Error(), "extension 1001: 5 calls out in the last minute") {
		t.Fatalf("a sixth call in a minute: %v", err)
	}
	tp.clk.Advance(time.Minute)
	_, h, err := tp.dial("1001", "88880004")
	if err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	h()
	h2()
}

// TestConcurrentCaps: [security] max_outbound caps the calls up at once
// through one trunk group, from every extension and none.
func TestConcurrentCaps(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) { c.Security.MaxOutbound = 3 })
	var hangups []func()
	for _, ext := range []string{"1001", "1002", ""} {
		_, h, err := tp.dial(ext, "88880000")
		if err != nil {
			t.Fatalf("call from %q: %v", ext, err)
		}
		hangups = append(hangups, h)
	}
	if _, _, err := tp.dial("1003", "88880000"); err == nil || !strings.Contains(err.Error(), `trunk group "pstn" has 3 calls out already`) {
		t.Fatalf("a fourth call: %v", err)
	}
	// The next trunk of the route takes it.
	if _, h, err := tp.dial("1003", "88880000", "pstn", "backup"); err != nil {
		t.Fatalf("through the backup: %v", err)
	} else {
		h()
	}
	hangups[0]()
	if _, h, err := tp.dial("1003", "88880000"); err != nil {
		t.Fatalf("after one ended: %v", err)
	} else {
		h()
	}
	hangups[1]()
	hangups[2]()
}

// answeredChannel is a call out that records its hang-up.
type answeredChannel struct {
	*call
	hung chan struct{}
	once sync.Once
}

func (a *answeredChannel) Hangup() error {
	a.once.Do(func() { close(a.hung) })
	return a.call.Hangup()
}

type answeringLine struct{ calls chan *answeredChannel }

func (l *answeringLine) Dial(ctx context.Context, number string) (media.Channel, error) {
	c := &answeredChannel{call: newCall("out " + number), hung: make(chan struct{})}
	l.calls <- c
	return c, nil
}

// TestSpendBreaker: an international call at 8 a minute from an extension
// whose limit is 100 an hour is hung up once it has cost 100 (12.5
// minutes), the extension is stopped for breaker_time with an alarm, and
// "breaker lift" lets it call again; a trunk group whose calls spend
// over its limit is stopped the same way.
func TestSpendBreaker(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.DialClasses = []string{"internal", "local", "mobile", "international"}
		c.Security.BreakerTime = "1h"
	})
	line := &answeringLine{calls: make(chan *answeredChannel, 8)}
	tp.Lines["pstn"] = []Line{line}
	_, hangup, err := tp.dial("1001", "0044201234567")
	if err != nil {
		t.Fatal(err)
	}
	defer hangup()
	c := <-line.calls
	tp.clk.Advance(12 * time.Minute) // 96
	tp.Spend()
	select {
	case <-c.hung:
		t.Fatal("hung up at 96 of 100")
	default:
	}
	if b := tp.Breakers(); len(b) != 0 {
		t.Fatalf("breakers open at 96: %v", b)
	}
	tp.clk.Advance(30 * time.Second) // 100
	tp.Spend()
	await(t, "the call hung up at 100", c.hung)
	b := tp.Breakers()
	if until, ok := b["extension 1001"]; !ok || !until.Equal(tp.clk.Now().Add(time.Hour)) || len(b) != 1 {
		t.Fatalf("breakers %v", b)
	}
	ev := tp.took()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "BreakerOpened extension 1001: extension 1001 spent over its limit") {
		t.Fatalf("events %q", ev)
	}
	hangup()
	if _, _, err := tp.dial("1001", "88880000"); err == nil || !strings.Contains(err.Error(), "extension 1001 is stopped until") {
		t.Fatalf("a stopped extension dialled: %v", err)
	}
	if _, h, err := tp.dial("1002", "88880000"); err != nil {
		t.Fatalf("another extension was stopped too: %v", err)
	} else {
		<-line.calls
		h()
	}
	if !tp.LiftBreaker("extension 1001") || tp.LiftBreaker("extension 1001") {
		t.Fatal("LiftBreaker: the breaker was not open once")
	}
	if ev := tp.took(); len(ev) != 2 || !strings.HasPrefix(ev[1], "BreakerLifted extension 1001") {
		t.Fatalf("events %q", ev)
	}
	// Lifted, the extension's spend in the hour still counts: the next
	// call's admission sees 100 spent and stops it again.
	if _, _, err := tp.dial("1001", "88880000"); err == nil || !strings.Contains(err.Error(), "spent 100.00 in the last hour") {
		t.Fatalf("after the lift, within the hour: %v", err)
	}
	tp.LiftBreaker("extension 1001")
	tp.clk.Advance(time.Hour)
	if _, h, err := tp.dial("1001", "88880000"); err != nil {
		t.Fatalf("an hour later: %v", err)
	} else {
		<-line.calls
		h()
	}

	// A trunk group: 4 extensions' mobile calls at 0.3 a minute against a
	// limit of 10 an hour: 40 minutes of 0.3 x 4 = 12 > 10 stops it.
	tp2 := newTollPlan(t, func(c *config.Config) { c.Security.TrunkSpend = 10 })
	line2 := &answeringLine{calls: make(chan *answeredChannel, 8)}
	tp2.Lines["pstn"] = []Line{line2}
	var calls []*answeredChannel
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		_, h, err := tp2.dial(ext, "13800138000")
		if err != nil {
			t.Fatal(err)
		}
		defer h()
		calls = append(calls, <-line2.calls)
	}
	tp2.clk.Advance(8 * time.Minute) // 9.6
	tp2.Spend()
	if b := tp2.Breakers(); len(b) != 0 {
		t.Fatalf("breakers at 9.6: %v", b)
	}
	tp2.clk.Advance(time.Minute) // 10.8
	tp2.Spend()
	for _, c := range calls {
		await(t, "the trunk group's calls hung up", c.hung)
	}
	if b := tp2.Breakers(); len(b) != 1 || b["trunk group pstn"].IsZero() {
		t.Fatalf("breakers %v", b)
	}
	// Another trunk group does not pay for this one's calls.
	if _, h, err := tp2.dial("1001", "13800138000", "backup"); err != nil {
		t.Errorf("the backup trunk group was stopped too: %v", err)
	} else {
		h()
	}
}

// TestUnansweredCallsCostNothing: a dial that fails costs nothing and
// holds no cap.
func TestUnansweredCallsCostNothing(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) { c.Security.ExtensionSpend = 1 })
	tp.Lines["pstn"] = []Line{&fakeLine{err: errors.New("no dial tone")}}
	for range 5 {
		if _, _, err := tp.dial("1001", "13800138000"); err == nil || err.Error() != "no line of group \"pstn\" is free" {
			t.Fatalf("dial: %v", err)
		}
	}
	tp.clk.Advance(time.Minute)
	tp.Lines["pstn"] = []Line{&fakeLine{}}
	_, h, err := tp.dial("1001", "13800138000")
	if err != nil {
		t.Fatalf("after failed dials: %v", err)
	}
	h()
}

// failingSpan refuses every call with a Q.850 cause.
type failingSpan struct{ cause uint8 }

func (s failingSpan) LinkUp() bool { return true }
func (s failingSpan) Dial(context.Context, string, string) (media.Channel, error) {
	return nil, &pri.CauseError{Cause: s.cause}
}

// TestRouteFallback: a phone's route tries its trunks in order when one
// cannot place the call (no circuit, the link down), but not when the
// callee itself refused (busy, no such number): another trunk would
// ring the same busy phone.
func TestRouteFallback(t *testing.T) {
	for _, c := range []struct {
		cause    uint8
		fallback bool
	}{
		{q931.CauseNoCircuit, true},
		{q931.CauseBusy, false},
		{q931.CauseUnallocated, false},
		{q931.CauseRejected, false},
	} {
		tp := newTollPlan(t, nil)
		tp.Spans = map[string][]Span{"pri": {failingSpan{c.cause}}}
		backup := &fakeLine{}
		tp.Lines["pstn"] = []Line{backup}
		_, h, err := tp.dial("1001", "88880000", "pri", "pstn")
		if got := backup.dialled != ""; got != c.fallback {
			t.Errorf("cause %d: the FXO line tried %v, want %v (%v)", c.cause, got, c.fallback, err)
		}
		if h != nil {
			h()
		}
	}
}

// TestPIN: a class behind a PIN asks the phone for its extension's PIN
// (the enter-pin prompt), and the call goes out when the PIN and # are
// keyed; a wrong PIN, or none, refuses it with call-not-allowed; five
// wrong PINs stop the extension's calls out.
func TestPIN(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.DialClasses = []string{"internal", "local", "mobile", "international"}
		c.Security.PINClasses = []string{"international"}
		for i := range c.Extensions {
			if c.Extensions[i].Number == "2001" {
				c.Extensions[i].PIN = "4711"
			}
		}
	})
	prompts := &fakePrompts{}
	tp.Prompts = prompts
	line := &answeringLine{calls: make(chan *answeredChannel, 8)}
	tp.Lines["pstn"] = []Line{line}
	tp.outbound = []config.Outbound{{Prefix: "9", Trunks: []string{"pstn"}}}
	phone := func(keys string) (*call, <-chan struct{}) {
		caller := newCall("2001")
		caller.played = make(chan media.PlayID, 16)
		done := make(chan struct{})
		d := tp.Lookup("90044201234567", FromFXS)
		go func() { tp.answer(caller, d, "2001", false); close(done) }()
		id := await(t, "the enter-pin prompt", caller.played)
		send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
		for i := range len(keys) {
			send(t, caller, media.Event{Kind: media.EventDigit, Digit: keys[i]})
		}
		if keys != "" {
			await(t, "silence on the first digit", caller.played)
		}
		return caller, done
	}
	// The right PIN: out, and the caller bridged to the far end.
	caller, done := phone("4711#")
	c := await(t, "the call out", line.calls)
	send(t, caller, media.Event{Kind: media.EventHangup})
	await(t, "the call over", done)
	await(t, "the far end hung up", c.hung)
	if got := prompts.replies(); len(got) == 0 || got[0] != "zh enter-pin" {
		t.Fatalf("prompts %q", got)
	}
	// Mobile numbers need no PIN.
	caller = newCall("2001")
	mobile := make(chan struct{})
	go func() { tp.answer(caller, tp.Lookup("913800138000", FromFXS), "2001", false); close(mobile) }()
	await(t, "a mobile call out", line.calls)
	send(t, caller, media.Event{Kind: media.EventHangup})
	await(t, "the call over", mobile)

	// Wrong PINs: refused, told so (a key pressed meanwhile does not cut
	// the refusal short); the fifth stops the extension.
	for i := range 5 {
		prompts.asked = nil
		caller, done := phone("4712#")
		id := await(t, "the refusal", caller.played)
		send(t, caller, media.Event{Kind: media.EventDigit, Digit: '1'})
		select {
		case <-done:
			t.Fatal("the refusal ended on a digit")
		default:
		}
		send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
		await(t, "the refused call over", done)
		if got := prompts.replies(); len(got) != 2 || got[1] != "zh call-not-allowed" {
			t.Fatalf("wrong PIN %d: prompts %q", i+1, got)
		}
	}
	ev := tp.took()
	if len(ev) != 6 || !strings.HasPrefix(ev[0], "DialDenied 2001: 0044201234567 (international): a wrong PIN") ||
		!strings.HasPrefix(ev[4], "BreakerOpened extension 2001: extension 2001 stopped for 1h0m0s: 5 wrong PINs") {
		t.Fatalf("events %q", ev)
	}
	if _, ok := tp.Breakers()["extension 2001"]; !ok {
		t.Fatal("five wrong PINs did not stop the extension")
	}
	select {
	case c := <-line.calls:
		t.Fatalf("a call went out: %s", c.id)
	default:
	}

	// An extension without a PIN cannot dial the class at all.
	d := tp.Lookup("90044201234567", FromFXS)
	caller = newCall("1001")
	caller.played = make(chan media.PlayID, 4)
	nopin := make(chan struct{})
	go func() { tp.answer(caller, d, "1001", false); close(nopin) }()
	id := await(t, "the refusal", caller.played)
	send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
	await(t, "refused", nopin)
	if ev := tp.took(); len(ev) != 1 || !strings.Contains(ev[0], "the class needs a PIN and the extension has none") {
		t.Fatalf("events %q", ev)
	}
}

// TestPINTimeout: a caller who keys nothing for 10 s after the prompt
// ends is refused.
func TestPINTimeout(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.PINClasses = []string{"mobile"}
		for i := range c.Extensions {
			if c.Extensions[i].Number == "2001" {
				c.Extensions[i].PIN = "4711"
			}
		}
	})
	number := "2001"
	tp.Prompts = &fakePrompts{}
	caller := newCall(number)
	caller.played = make(chan media.PlayID, 4)
	done := make(chan struct{})
	go func() { tp.answer(caller, tp.Lookup("913800138000", FromFXS), number, false); close(done) }()
	id := await(t, "the enter-pin prompt", caller.played)
	send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
	send(t, caller, media.Event{Kind: media.EventDigit, Digit: '4'})
	await(t, "silence on the first digit", caller.played) // the timer is armed by then
	tp.clk.Advance(9 * time.Second)
	select {
	case <-caller.played:
		t.Fatal("refused before 10 s without a digit")
	case <-time.After(20 * time.Millisecond):
	}
	tp.clk.Advance(time.Second)
	id = await(t, "the refusal after 10 s", caller.played)
	send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
	await(t, "refused", done)
}

// TestRelayClasses: an IVR transfer does not send a caller from outside
// (a trunk, an exchange line, an unauthenticated SIP caller) back out
// through a trunk (DISA, tromboning) unless [security] relay_classes
// lists the number's class; a caller from inside goes out as the box's
// classes allow.
func TestRelayClasses(t *testing.T) {
	for _, c := range []struct {
		relay   []string
		outside bool
		out     bool
	}{
		{nil, true, false},
		{nil, false, true},
		{[]string{"mobile"}, true, false},
		{[]string{"local"}, true, true},
	} {
		tp := newTollPlan(t, func(cfg *config.Config) { cfg.Security.RelayClasses = c.relay })
		line := &answeringLine{calls: make(chan *answeredChannel, 1)}
		tp.Lines["pstn"] = []Line{line}
		caller := newCall("in")
		done := make(chan error, 1)
		go func() {
			done <- tp.Transfer(caller, ivr.Target{Kind: "trunk", What: "pstn", Number: "88880000", Caller: "075512345678", Outside: c.outside})
		}()
		if c.out {
			await(t, "the call out", line.calls)
			send(t, caller, media.Event{Kind: media.EventHangup})
		}
		err := await(t, "the transfer", done)
		if !c.out && len(line.calls) > 0 {
			t.Errorf("relay %v, outside %v: went out (%v)", c.relay, c.outside, err)
		}
		var denied *ErrDialDenied
		if !c.out && (!errors.As(err, &denied) || !strings.Contains(err.Error(), "relay_classes")) {
			t.Errorf("relay %v, outside %v: %v", c.relay, c.outside, err)
		}
		if ev := tp.took(); !c.out && (len(ev) != 1 || !strings.HasPrefix(ev[0], "DialDenied 075512345678: 88880000 (local) through pstn: a caller from outside")) {
			t.Errorf("events %q", ev)
		}
	}
}

// TestWrongPINWindow: wrong PINs count within destination_window (10
// minutes): four, then one more exactly ten minutes later, is one in the
// window, not five; five within it stop the extension.
func TestWrongPINWindow(t *testing.T) {
	tl := newToll(demoConfig(t))
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for range 4 {
		if opened, _ := tl.wrongPIN(t0, "2001"); opened != "" {
			t.Fatal("stopped before five")
		}
	}
	if opened, _ := tl.wrongPIN(t0.Add(10*time.Minute), "2001"); opened != "" {
		t.Fatal("PINs ten minutes old still counted")
	}
	for range 3 {
		tl.wrongPIN(t0.Add(15*time.Minute), "2001")
	}
	if opened, err := tl.wrongPIN(t0.Add(19*time.Minute), "2001"); opened != "extension 2001" || err == nil {
		t.Fatalf("the fifth within ten minutes: %q, %v", opened, err)
	}
}

// TestOfficeMinutes: office hours count minutes, not only hours.
func TestOfficeMinutes(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Security.OfficeHours = []config.Hours{{Days: "mon-sun", Hours: "08:30-17:45"}}
	tl := newToll(cfg)
	loc := cfg.Location()
	for _, c := range []struct {
		h, m int
		open bool
	}{{8, 29, false}, {8, 30, true}, {8, 45, true}, {17, 44, true}, {17, 45, false}, {17, 15, true}} {
		if got := tl.inOffice(time.Date(2026, 12, 1, c.h, c.m, 0, 0, loc)); got != c.open {
			t.Errorf("%02d:%02d: open %v", c.h, c.m, got)
		}
	}
}

// TestTwelveDigitPIN: a PIN of 12 digits, the longest, is taken at its
// last digit without waiting for #.
func TestTwelveDigitPIN(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.PINClasses = []string{"mobile"}
		for i := range c.Extensions {
			if c.Extensions[i].Number == "2001" {
				c.Extensions[i].PIN = "123456789012"
			}
		}
	})
	tp.Prompts = &fakePrompts{}
	line := &answeringLine{calls: make(chan *answeredChannel, 1)}
	tp.Lines["pstn"] = []Line{line}
	tp.outbound = []config.Outbound{{Prefix: "9", Trunks: []string{"pstn"}}}
	caller := newCall("2001")
	caller.played = make(chan media.PlayID, 8)
	done := make(chan struct{})
	go func() { tp.answer(caller, tp.Lookup("913800138000", FromFXS), "2001", false); close(done) }()
	id := await(t, "the enter-pin prompt", caller.played)
	send(t, caller, media.Event{Kind: media.EventPlayDone, Play: id})
	for _, d := range "123456789012" {
		send(t, caller, media.Event{Kind: media.EventDigit, Digit: byte(d)})
	}
	await(t, "the call out after the twelfth digit", line.calls)
	send(t, caller, media.Event{Kind: media.EventHangup})
	await(t, "the call over", done)
}

// TestExtensionDestinations: an extension dialling more distinct numbers
// than its max_destinations (default 10) within destination_window is
// stopped, before the trunk group's breaker (20) would stop the office:
// a number it dialled already still is not new, another extension still
// dials out through the same group, and the window forgets.
func TestExtensionDestinations(t *testing.T) {
	tp := newTollPlan(t, func(c *config.Config) {
		c.Security.DestinationWindow = "10m"
		c.Security.BreakerTime = "1h"
		for i := range c.Extensions {
			if c.Extensions[i].Number == "1001" {
				c.Extensions[i].OutboundPerMinute = 100
			}
		}
	})
	for i := range 10 {
		_, h, err := tp.dial("1001", fmt.Sprintf("8888%04d", i))
		if err != nil {
			t.Fatalf("destination %d: %v", i+1, err)
		}
		h()
	}
	if _, h, err := tp.dial("1001", "88880003"); err != nil {
		t.Fatalf("a number dialled already: %v", err)
	} else {
		h()
	}
	tp.took()
	if _, _, err := tp.dial("1001", "88880010"); err == nil || !strings.Contains(err.Error(), "extension 1001 stopped for 1h0m0s: more than 10 destinations in 10m0s") {
		t.Fatalf("an 11th destination: %v", err)
	}
	if ev := strings.Join(tp.took(), "\n"); !strings.Contains(ev, "BreakerOpened") {
		t.Errorf("no alarm for the breaker: %q", ev)
	}
	if _, _, err := tp.dial("1001", "88880003"); err == nil || !strings.Contains(err.Error(), "extension 1001 is stopped") {
		t.Fatalf("a stopped extension dialled: %v", err)
	}
	if _, h, err := tp.dial("1002", "88880011"); err != nil {
		t.Fatalf("another extension through the same group: %v", err)
	} else {
		h()
	}
	// Five minutes on it still holds; lifted, the extension dials a new
	// number again (what tripped it is forgotten with it).
	tp.clk.Advance(5 * time.Minute) // the ten numbers still within the window
	if _, _, err := tp.dial("1001", "88880012"); err == nil {
		t.Fatal("the breaker let a call through after 5 minutes of its hour")
	}
	if !tp.LiftBreaker("extension 1001") {
		t.Fatal("no breaker to lift")
	}
	if _, h, err := tp.dial("1001", "88880013"); err != nil {
		t.Fatalf("after the lift: %v", err)
	} else {
		h()
	}
	// Ten minutes on, the destinations are forgotten, but the breaker
	// holds for its hour; after it, the extension dials again.
	tp.clk.Advance(time.Hour)
	for i := range 10 {
		_, h, err := tp.dial("1001", fmt.Sprintf("8889%04d", i))
		if err != nil {
			t.Fatalf("an hour on, destination %d: %v", i+1, err)
		}
		h()
	}
}

// sipTrunk is a SIP trunk group that fails each dial with err.
type sipTrunk struct {
	fakeSIP
	err error
}

func (s *sipTrunk) Trunk(_ context.Context, trunk, number, from string) (media.Channel, error) {
	s.record("trunk " + trunk + " " + number)
	return nil, s.err
}

// TestSIPTrunkDownFallsBack: a route SIP -> PRI -> FXO. A SIP trunk that
// is down (qualify marked it: sip.ErrTrunkDown) or fails on the network
// hands the call to the span group, whose congestion hands it to the
// exchange line; the callee's own refusal over SIP (486) stops there.
func TestSIPTrunkDownFallsBack(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		fallback bool
	}{
		{"marked down", fmt.Errorf("sip: dial 88880000 through carrier: %w", sip.ErrTrunkDown), true},
		{"no answer from the network", errors.New("sip: dial: transaction timed out"), true},
		{"the callee busy", &sipgo.ErrDialogResponse{Res: gosip.NewResponse(486, "Busy Here")}, false},
	} {
		tp := newTollPlan(t, nil)
		trunk := &sipTrunk{err: c.err}
		tp.SIP = trunk
		tp.Spans = map[string][]Span{"pri": {failingSpan{q931.CauseNoCircuit}}}
		line := &fakeLine{}
		tp.Lines["pstn"] = []Line{line}
		_, h, err := tp.dial("1001", "88880000", "carrier", "pri", "pstn")
		if got := trunk.placed(); len(got) != 1 || got[0] != "trunk carrier 88880000" {
			t.Errorf("%s: the SIP trunk was tried %v", c.name, got)
		}
		if got := line.dialled != ""; got != c.fallback {
			t.Errorf("%s: the FXO line tried %v, want %v (%v)", c.name, got, c.fallback, err)
		}
		if h != nil {
			h()
		}
	}
}
