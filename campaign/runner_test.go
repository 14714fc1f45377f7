package campaign

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/pri"
	"jinyin/store"
)

// far is the far end of the campaigns' calls: each number answers with
// the error it is given (nil: answered), and every call is recorded.
type far struct {
	mu      sync.Mutex
	answers map[string]error
	calls   []string
}

func (f *far) dial(ctx context.Context, trunk, number, from string) (media.Channel, error) {
	f.mu.Lock()
	f.calls = append(f.calls, trunk+" "+number+" from "+from)
	err := f.answers[number]
	f.mu.Unlock()
	if errors.Is(err, context.DeadlineExceeded) { // rings until the runner gives up
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return &answered{id: number}, nil
}

func (f *far) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type answered struct {
	id     string
	hungUp bool
}

func (a *answered) ID() string                     { return a.id }
func (a *answered) Play(media.Source) media.PlayID { return 0 }
func (a *answered) Events() <-chan media.Event     { return nil }
func (a *answered) Hangup() error                  { a.hungUp = true; return nil }
func (a *answered) Listen() media.Source           { return nil }

func sipRefusal(code int) error {
	return fmt.Errorf("sip: dial: %w", &sipgo.ErrDialogResponse{Res: gosip.NewResponse(code, "x")})
}

type fixture struct {
	t   *testing.T
	db  *store.DB
	clk *clock.Fake
	far *far
	r   *Runner
	ran []string // answered calls the flow ran, "campaign number"
	mu  sync.Mutex
}

func newFixture(t *testing.T, path string, cs ...config.Campaign) *fixture {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clk: clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)), far: &far{answers: map[string]error{}}} // 10:00 in Shanghai
	f.r, err = New(Options{Clock: f.clk, DB: db, Campaigns: cs, Location: time.UTC, From: "jinyin", Dial: f.far.dial,
		Answered: func(ch media.Channel, c config.Campaign, ct store.Contact) map[string]string {
			f.mu.Lock()
			f.ran = append(f.ran, c.Name+" "+ct.Number+" "+ct.Vars["order"])
			f.mu.Unlock()
			if s, ok := ct.Vars["keys"]; ok { // what the person keys in the flow
				return map[string]string{"score": s}
			}
			return nil
		},
		DoNotCall: func(n string) bool { return n == "13900000009" }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tick runs one second of the runner and waits for its attempts.
func (f *fixture) tick() {
	f.r.Tick(context.Background())
	f.r.wg.Wait()
}

// waitCalled waits until n calls have gone out (a ringing call's timer
// is set once it is dialled).
func (f *fixture) waitCalled(n int) {
	f.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(f.far.called()) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("%d calls, want %d", len(f.far.called()), n)
		}
	}
}

func (f *fixture) contacts(name string) map[string]store.Contact {
	out := map[string]store.Contact{}
	f.db.EachContact(name, 0, func(c store.Contact) bool { out[c.Number] = c; return true })
	return out
}

var notice = config.Campaign{Name: "notice", Flow: "notice", Trunk: "pstn", Lines: 2, Start: true, MaxAttempts: 2,
	Retry: map[string]string{"busy": "10m", "no-answer": "1h"}}

// TestCampaignOutcomes: each contact called once a tick, two lines at a
// time; answered runs the flow with the contact's variables; busy is
// called again after its retry wait, up to max_attempts; a vacant number,
// a rejection and an outcome the retry table leaves out are not; no
// answer is decided by the runner's own ring timer; a do-not-call number
// is never dialled.
func TestCampaignOutcomes(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), notice)
	f.far.answers = map[string]error{
		"13900000002": sipRefusal(486),
		"13900000003": sipRefusal(404),
		"13900000004": &pri.CauseError{Cause: 21},
		"13900000005": sipRefusal(503), // congestion: not in this retry table
		"13900000006": context.DeadlineExceeded,
	}
	n, err := f.r.Import("notice", strings.NewReader("number,order\n13900000001,A1\n13900000002,A2\n13900000003,A3\n13900000004,A4\n13900000005,A5\n13900000009,A9\n13900000006,A6\n"))
	if err != nil || n != 7 {
		t.Fatalf("import: %d, %v", n, err)
	}
	for range 3 {
		f.tick()
	}
	if got := f.far.called(); len(got) != 5 || got[0] != "pstn 13900000001 from jinyin" {
		t.Fatalf("calls after three ticks: %q, want two a tick, the do-not-call number left out", got)
	}
	// 13900000006 rings: the runner gives up at 40 s.
	f.r.Tick(context.Background())
	f.waitCalled(6) // 13900000006 rung: its timer is set
	f.clk.Advance(ringFor)
	f.r.wg.Wait()
	cs := f.contacts("notice")
	want := map[string]string{
		"13900000001": "done answered", "13900000002": "waiting busy", "13900000003": "failed vacant",
		"13900000004": "failed rejected", "13900000005": "failed congestion", "13900000006": "waiting no-answer",
		"13900000009": "failed do-not-call",
	}
	for n, w := range want {
		if got := string(cs[n].State) + " " + cs[n].Outcome; got != w {
			t.Errorf("%s: %s, want %s", n, got, w)
		}
	}
	if !cs["13900000002"].NotBefore.Equal(cs["13900000002"].Last.Add(10 * time.Minute)) {
		t.Errorf("busy: next attempt at %v, want 10 minutes after %v", cs["13900000002"].NotBefore, cs["13900000002"].Last)
	}
	if f.ran[0] != "notice 13900000001 A1" || len(f.ran) != 1 {
		t.Errorf("the flow ran for %q", f.ran)
	}
	// Not before its retry wait; then the second and last attempt.
	f.clk.Advance(9 * time.Minute)
	f.tick()
	if len(f.far.called()) != 6 {
		t.Errorf("called again before the retry wait: %q", f.far.called())
	}
	f.clk.Advance(2 * time.Minute)
	f.tick()
	f.tick()
	if got := f.far.called(); len(got) != 7 || !strings.Contains(got[6], "13900000002") {
		t.Errorf("calls: %q, want 13900000002 a second time", got)
	}
	if c := f.contacts("notice")["13900000002"]; c.State != store.ContactFailed || c.Attempts != 2 {
		t.Errorf("busy twice with max_attempts 2: %+v", c)
	}
	p, err := f.r.Progress("notice")
	if err != nil || p.Contacts != 7 || p.Dialled != 8 || p.ByState["failed"] != 5 || p.Outcomes["busy"] != 1 {
		t.Errorf("progress %+v, %v", p, err)
	}
}

// TestCrashNeverRedials: an attempt on disk whose outcome was lost (the
// box died during the call) is held for review at the next start, never
// dialled by itself; the operator sends it back to be called, or not.
func TestCrashNeverRedials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path, notice)
	f.r.Import("notice", strings.NewReader("number\n13900000001\n13900000002\n"))
	// The box dies with both attempts out: on disk, never ended.
	for _, seq := range []uint64{1, 2} {
		if _, err := f.db.BeginAttempt("notice", seq, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	f.db.Close()
	f = newFixture(t, path, notice)
	for range 3 {
		f.tick()
	}
	if got := f.far.called(); len(got) != 0 {
		t.Fatalf("after the restart the box called %q", got)
	}
	review, err := f.r.Review("notice")
	if err != nil || len(review) != 2 || review[0].Outcome != interrupted {
		t.Fatalf("review %+v, %v", review, err)
	}
	if err := f.r.Release("notice", 1, true); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Release("notice", 2, false); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Release("notice", 2, true); err == nil {
		t.Error("released a contact no longer in review")
	}
	f.tick()
	if got := f.far.called(); len(got) != 1 || !strings.Contains(got[0], "13900000001") {
		t.Errorf("after review: %q, want 13900000001 alone", got)
	}
	f.db.Close()
}

// TestCallingWindows: contacts are called only inside the windows in
// their own zone (tz column), else the campaign's; a paused campaign
// dials no one, and its state outlives a restart.
func TestCallingWindows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	c := notice
	c.Windows, c.Timezone, c.Lines = []string{"09:00-12:00"}, "Asia/Shanghai", 10
	f := newFixture(t, path, c) // 02:00 UTC: 10:00 in Shanghai, 21:00 in New York, 03:00 in London
	f.r.Import("notice", strings.NewReader("number,tz\n13900000001,\n13900000002,America/New_York\n13900000003,Europe/London\n"))
	f.tick()
	if got := f.far.called(); len(got) != 1 || !strings.Contains(got[0], "13900000001") {
		t.Fatalf("at 10:00 Shanghai: %q, want the contact in Shanghai's zone alone", got)
	}
	f.clk.Advance(12 * time.Hour) // 14:00 UTC: 22:00 Shanghai, 09:00 New York, 14:00 London
	f.tick()
	if got := f.far.called(); len(got) != 2 || !strings.Contains(got[1], "13900000002") {
		t.Fatalf("at 09:00 New York: %q", got)
	}
	if err := f.r.Set("notice", Paused); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(20 * time.Hour) // 10:00 UTC: 10:00 London
	f.tick()
	if len(f.far.called()) != 2 {
		t.Fatal("a paused campaign dialled")
	}
	f.db.Close()
	f = newFixture(t, path, c)
	f.clk.Advance(32 * time.Hour)
	f.tick()
	if p, _ := f.r.Progress("notice"); p.State != Paused || len(f.far.called()) != 0 {
		t.Errorf("after a restart: %s, calls %q; want paused", p.State, f.far.called())
	}
	if err := f.r.Set("nothing", Running); !errors.Is(err, ErrNoCampaign) {
		t.Errorf("Set of no campaign: %v", err)
	}
	f.db.Close()
}

// TestOutcomeOf maps SIP statuses and Q.850 causes to outcomes.
func TestOutcomeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{nil, Answered},
		{sipRefusal(486), Busy}, {sipRefusal(600), Busy},
		{sipRefusal(480), NoAnswer}, {sipRefusal(408), NoAnswer}, {sipRefusal(487), NoAnswer},
		{sipRefusal(603), Rejected}, {sipRefusal(403), Rejected},
		{sipRefusal(404), Vacant}, {sipRefusal(484), Vacant}, {sipRefusal(604), Vacant},
		{sipRefusal(503), Congestion}, {sipRefusal(502), Congestion}, {sipRefusal(504), Congestion},
		{sipRefusal(500), Failed},
		{&pri.CauseError{Cause: 17}, Busy}, {&pri.CauseError{Cause: 18}, NoAnswer}, {&pri.CauseError{Cause: 19}, NoAnswer},
		{&pri.CauseError{Cause: 21}, Rejected}, {&pri.CauseError{Cause: 1}, Vacant}, {&pri.CauseError{Cause: 22}, Vacant},
		{&pri.CauseError{Cause: 28}, Vacant}, {&pri.CauseError{Cause: 34}, Congestion}, {&pri.CauseError{Cause: 38}, Congestion},
		{&pri.CauseError{Cause: 41}, Congestion}, {&pri.CauseError{Cause: 42}, Congestion}, {&pri.CauseError{Cause: 44}, Congestion},
		{&pri.CauseError{Cause: 16}, Failed},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), NoAnswer},
		{errors.New("toll rules"), Failed},
	} {
		if got := outcomeOf(c.err); got != c.want {
			t.Errorf("outcomeOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

// TestNext: where a contact goes after an attempt.
func TestNext(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	def := config.Campaign{}
	for _, c := range []struct {
		camp     config.Campaign
		attempts int
		o        Outcome
		state    store.ContactState
		after    time.Duration
	}{
		{def, 1, Answered, store.ContactDone, 0},
		{def, 1, Busy, store.ContactWaiting, 10 * time.Minute},
		{def, 1, NoAnswer, store.ContactWaiting, time.Hour},
		{def, 1, Congestion, store.ContactWaiting, 30 * time.Minute},
		{def, 2, Failed, store.ContactWaiting, time.Hour},
		{def, 3, Busy, store.ContactFailed, 0}, // three attempts by default
		{def, 1, Vacant, store.ContactFailed, 0},
		{def, 1, Rejected, store.ContactFailed, 0},
		{notice, 1, Busy, store.ContactWaiting, 10 * time.Minute},
		{notice, 1, Congestion, store.ContactFailed, 0}, // not in its table
		{notice, 2, NoAnswer, store.ContactFailed, 0},   // max_attempts 2
	} {
		state, at := next(c.camp, store.Contact{Attempts: c.attempts}, c.o, now)
		want := time.Time{}
		if c.after > 0 {
			want = now.Add(c.after)
		}
		if state != c.state || !at.Equal(want) {
			t.Errorf("%s after %d attempts (retry %v): %s at %v, want %s at %v", c.o, c.attempts, c.camp.Retry, state, at, c.state, want)
		}
	}
}

// TestMarketingNeedsConsent: a marketing campaign dials only the contacts
// whose consent evidence was imported; the others fail "no-consent"
// without a call, and a service campaign calls them all.
func TestMarketingNeedsConsent(t *testing.T) {
	m := notice
	m.Name, m.Purpose, m.CallerID, m.Lines = "offers", "marketing", "4008009999", 10
	s := notice
	s.Lines = 10
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), m, s)
	defer f.db.Close()
	list := "number,consent\n13900000001,2026-10-02 web form A17\n13900000002,\n"
	f.r.Import("offers", strings.NewReader(list))
	f.r.Import("notice", strings.NewReader(list))
	f.tick()
	got := f.far.called()
	slices.Sort(got)
	want := []string{"pstn 13900000001 from 4008009999", "pstn 13900000001 from jinyin", "pstn 13900000002 from jinyin"}
	if !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if c := f.contacts("offers")["13900000002"]; c.State != store.ContactFailed || c.Outcome != NoConsent || c.Attempts != 1 {
		t.Errorf("the marketing contact without consent: %+v", c)
	}
	if c := f.contacts("offers")["13900000001"]; c.Consent != "2026-10-02 web form A17" {
		t.Errorf("the consent evidence kept: %+v", c)
	}
}

// TestRestHours: no call starts in a campaign's rest hours, in the
// callee's zone, even inside its windows; one does once they end.
func TestRestHours(t *testing.T) {
	c := notice
	c.Windows, c.RestHours, c.Timezone = []string{"09:00-21:00"}, []string{"10:00-11:00"}, "Asia/Shanghai"
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c) // 10:00 in Shanghai
	defer f.db.Close()
	f.r.Import("notice", strings.NewReader("number\n13900000001\n"))
	f.tick()
	f.clk.Advance(time.Hour - time.Second) // 10:59:59
	f.tick()
	if got := f.far.called(); len(got) != 0 {
		t.Fatalf("called in the rest hours: %q", got)
	}
	f.clk.Advance(time.Second)
	f.tick()
	if got := f.far.called(); len(got) != 1 {
		t.Fatalf("at 11:00, after the rest: %q, want one call", got)
	}
	// Rest hours alone, without windows, keep their hours free too.
	ru := &run{loc: time.UTC, rest: [][2]time.Duration{{12 * time.Hour, 14 * time.Hour}}}
	noon := time.Date(2026, 12, 3, 12, 30, 0, 0, time.UTC)
	if ru.inWindow(noon, "") || !ru.inWindow(noon.Add(2*time.Hour), "") {
		t.Error("rest 12:00-14:00 without windows: called at 12:30, or not at 14:30")
	}
}

// TestRingFor: a campaign's ring_for is when a ringing call is given up
// as no answer.
func TestRingFor(t *testing.T) {
	c := notice
	c.RingFor = "15s"
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c)
	defer f.db.Close()
	f.far.answers["13900000006"] = context.DeadlineExceeded
	f.r.Import("notice", strings.NewReader("number\n13900000006\n"))
	f.r.Tick(context.Background())
	f.waitCalled(1)
	f.clk.Advance(15*time.Second - time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if c := f.contacts("notice")["13900000006"]; c.State != store.ContactDialling {
		t.Fatalf("given up before 15 s: %+v", c)
	}
	f.clk.Advance(time.Millisecond)
	f.r.wg.Wait()
	if c := f.contacts("notice")["13900000006"]; c.Outcome != string(NoAnswer) {
		t.Errorf("after 15 s of ringing: %+v, want no-answer", c)
	}
}

// TestWindowEdges: a window holds its start and not its end, to the
// second; rest hours the same.
func TestWindowEdges(t *testing.T) {
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	w := &run{loc: time.UTC, windows: [][2]time.Duration{{9 * time.Hour, 12 * time.Hour}}}
	r := &run{loc: time.UTC, rest: [][2]time.Duration{{12*time.Hour + 30*time.Minute, 13 * time.Hour}}}
	for _, c := range []struct {
		ru   *run
		at   time.Time
		want bool
	}{
		{w, at(8, 59, 59), false}, {w, at(9, 0, 0), true}, {w, at(11, 59, 59), true}, {w, at(12, 0, 0), false},
		{r, at(12, 29, 59), true}, {r, at(12, 30, 0), false}, {r, at(12, 59, 59), false}, {r, at(13, 0, 0), true},
	} {
		if got := c.ru.inWindow(c.at, ""); got != c.want {
			t.Errorf("windows %v rest %v at %s: %v, want %v", c.ru.windows, c.ru.rest, c.at.Format("15:04:05"), got, c.want)
		}
	}
}

// TestLinesBound: a campaign never has more calls out than its lines.
func TestLinesBound(t *testing.T) {
	c := notice
	c.Lines = 1
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c)
	defer f.db.Close()
	f.far.answers["13900000006"] = context.DeadlineExceeded
	f.far.answers["13900000007"] = context.DeadlineExceeded
	f.r.Import("notice", strings.NewReader("number\n13900000006\n13900000007\n"))
	f.r.Tick(context.Background())
	f.waitCalled(1)
	f.r.Tick(context.Background())
	time.Sleep(20 * time.Millisecond)
	if got := f.far.called(); len(got) != 1 {
		t.Errorf("with one line and a call ringing: %q", got)
	}
	f.clk.Advance(ringFor)
	f.r.wg.Wait()
}
