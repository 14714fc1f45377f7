package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/sit"
	"jinyin/store"
)

// Run states.
const (
	Running = "running"
	Paused  = "paused"  // no new attempts; calls out go on
	Stopped = "stopped" // the same, until started again
)

// ringFor is how long an attempt rings before it is no answer, unless
// the campaign's ring_for says otherwise.
const ringFor = 40 * time.Second

// interrupted is the outcome of an attempt found out at start.
const interrupted = "unknown: the box stopped during the attempt"

// Options are what a Runner needs.
type Options struct {
	Clock     clock.Clock
	Log       *slog.Logger
	DB        *store.DB
	Campaigns []config.Campaign
	Location  *time.Location // the box's zone, for contacts and campaigns without one
	From      string         // the caller ID of campaigns without one
	// Dial calls number through a trunk group (route.Plan.DialOut): it
	// returns the call once answered.
	Dial func(ctx context.Context, trunk, number, from string) (media.Channel, error)
	// Answered runs an answered call for the campaign (its flow, the
	// contact's variables to read back) and returns when it is over,
	// with what the person keyed (ivr.Engine.Run: a survey's answers).
	Answered func(ch media.Channel, c config.Campaign, ct store.Contact) map[string]string
	// DoNotCall reports a number that asked not to be called (nil: none).
	DoNotCall func(number string) bool
	// Agents are the queues of agent-assisted campaigns (acd.ACD).
	Agents Agents
	// Sorry tells a person no agent was found for who called and the
	// number to call back (the campaign's abandon_prompt and
	// callback_number), returning once it is said.
	Sorry func(ch media.Channel, c config.Campaign)
}

// Agents are the queues an agent-assisted campaign hands the people who
// answer to.
type Agents interface {
	// Staff is how many of a queue's agents are free, and how many on a
	// call, now.
	Staff(queue string) (free, busy int)
	// Connect puts an answered call to the queue's agents with the
	// contact's data; an error when no agent answered within within.
	// It returns once the call is over, with how long an agent was taken
	// by it (talk and wrap-up).
	Connect(ch media.Channel, queue, number string, data map[string]string, within time.Duration) (time.Duration, error)
}

// Abandoned is the outcome of a person an agent-assisted campaign found
// no agent for within AbandonAfter: an abandon, counted against the cap.
const Abandoned Outcome = "abandoned"

// live reports whether an agent-assisted campaign's attempt ending o is a
// live answer as the abandon cap counts them: an agent reached, an
// abandon, or a machine hung up on (which may have been a person); all
// but Answered are abandons.
func (o Outcome) live() bool { return o == Answered || o == Abandoned || o == Machine }

// Runner dials the campaigns: every second, for each running one, as
// many waiting contacts as it has lines free, each in its calling
// window. An attempt is on disk before its call goes out (BeginAttempt);
// at start, attempts a crash left without an outcome go to review and
// are never redialled by themselves.
type Runner struct {
	o Options

	mu    sync.Mutex
	camps map[string]*run
	wg    sync.WaitGroup
}

type run struct {
	cfg     config.Campaign
	state   string
	out     int // attempts out now
	loc     *time.Location
	windows [][2]time.Duration
	rest    [][2]time.Duration // rest_hours: no call starts in them
	ringFor time.Duration
	// from is the first place in the list that may still be called:
	// the contacts before it are settled (done, failed, in review).
	from uint64
	// pacing paces an agent-assisted campaign (nil for the others), and
	// ringing counts its calls out that no person has yet answered (or
	// whose answer is being listened to).
	pacing  *Pacing
	ringing int
}

// ErrNoCampaign is a name no [[campaign]] has.
var ErrNoCampaign = errors.New("campaign: no such campaign")

// New opens the runner: interrupted attempts to review, each campaign in
// the state it was left in (or running, with start = true, the first
// time).
func New(o Options) (*Runner, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if n, err := o.DB.ReviewInterrupted(interrupted); err != nil {
		return nil, err
	} else if n > 0 {
		o.Log.Warn("campaign: attempts whose outcome was lost are held for review, not dialled again", "contacts", n)
	}
	states, err := o.DB.CampaignStates()
	if err != nil {
		return nil, err
	}
	r := &Runner{o: o, camps: map[string]*run{}}
	for _, c := range o.Campaigns {
		ru := &run{cfg: c, state: Stopped, loc: o.Location, ringFor: config.DurationOr(c.RingFor, ringFor)}
		if c.Start {
			ru.state = Running
		}
		if s, ok := states[c.Name]; ok {
			ru.state = s.State
		}
		if c.Queue != "" {
			if ru.pacing, err = restorePacing(o.DB, c, o.Clock.Now()); err != nil {
				return nil, fmt.Errorf("campaign %s: %w", c.Name, err)
			}
		}
		if c.Timezone != "" {
			if ru.loc, err = time.LoadLocation(c.Timezone); err != nil {
				return nil, fmt.Errorf("campaign %s: %w", c.Name, err)
			}
		}
		for _, w := range c.Windows {
			a, b, err := config.ParseWindow(w)
			if err != nil {
				return nil, fmt.Errorf("campaign %s: %w", c.Name, err)
			}
			ru.windows = append(ru.windows, [2]time.Duration{a, b})
		}
		for _, w := range c.RestHours {
			a, b, err := config.ParseWindow(w)
			if err != nil {
				return nil, fmt.Errorf("campaign %s: %w", c.Name, err)
			}
			ru.rest = append(ru.rest, [2]time.Duration{a, b})
		}
		r.camps[c.Name] = ru
	}
	return r, nil
}

// Run dials until ctx ends, then waits for the attempts out.
func (r *Runner) Run(ctx context.Context) {
	t := r.o.Clock.NewTicker(time.Second)
	defer t.Stop()
	prune := r.o.Clock.NewTicker(time.Hour)
	defer prune.Stop()
	defer r.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			r.Tick(ctx)
		case <-prune.C():
			r.prune()
		}
	}
}

// keepAttempts is how long the attempts' records (numbers, call times,
// outcomes, answers) are kept: China's MIIT 2020 notice asks call centres
// to keep them at least 30 days.
const keepAttempts = 90 * 24 * time.Hour

func (r *Runner) prune() {
	if n, err := r.o.DB.PruneAttempts(r.o.Clock.Now().Add(-keepAttempts)); err != nil {
		r.o.Log.Error("campaign: pruning old attempts", "err", err)
	} else if n > 0 {
		r.o.Log.Info("campaign: old attempts deleted", "attempts", n, "older_than", keepAttempts)
	}
}

// Tick starts the attempts each running campaign has lines for now.
func (r *Runner) Tick(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.o.Clock.Now()
	for name, ru := range r.camps {
		free := or(ru.cfg.Lines, 1) - ru.out
		if ru.state != Running || free <= 0 {
			continue
		}
		if ru.pacing != nil && r.o.Agents != nil {
			agents, busy := r.o.Agents.Staff(ru.cfg.Queue)
			if free = min(free, ru.pacing.Ringing(now, agents, busy, ru.ringing)); free <= 0 {
				continue
			}
		}
		var due []store.Contact
		first, last := uint64(0), uint64(0)
		err := r.o.DB.EachContact(name, ru.from, func(c store.Contact) bool {
			open := c.State == store.ContactWaiting || c.State == store.ContactDialling
			if open && first == 0 {
				first = c.Seq
			}
			last = c.Seq
			if c.State == store.ContactWaiting && !c.NotBefore.After(now) && ru.inWindow(now, c.TZ) {
				due = append(due, c)
			}
			return len(due) < free
		})
		switch {
		case first > 0:
			ru.from = first
		case last > 0: // all settled: only contacts imported later are left
			ru.from = last + 1
		}
		if err != nil {
			r.o.Log.Error("campaign: reading contacts", "campaign", name, "err", err)
			continue
		}
		for _, c := range due {
			if refusal := r.refused(ru, c); refusal != "" {
				if _, err := r.o.DB.BeginAttempt(name, c.Seq, now); err == nil {
					r.end(name, c, store.AttemptEnd{Outcome: refusal, State: store.ContactFailed})
				}
				continue
			}
			c, err := r.o.DB.BeginAttempt(name, c.Seq, now)
			if err != nil {
				// Not on disk: the call does not go out.
				r.o.Log.Error("campaign: an attempt not recorded; not dialled", "campaign", name, "number", c.Number, "err", err)
				continue
			}
			ru.out++
			if ru.pacing != nil {
				ru.ringing++
			}
			r.wg.Add(1)
			go r.attempt(ctx, ru, c)
		}
	}
}

// attempt calls one contact and records the outcome.
func (r *Runner) attempt(ctx context.Context, ru *run, c store.Contact) {
	defer r.wg.Done()
	from := ru.cfg.CallerID
	if from == "" {
		from = r.o.From
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	early := &earlySIT{det: sit.New(), cancel: cancel}
	dctx = media.WithEarlyTap(dctx, early.hear)
	timer := r.o.Clock.AfterFunc(ru.ringFor, func() { cancel() })
	start := r.o.Clock.Now()
	ch, err := r.o.Dial(dctx, ru.cfg.Trunk, c.Number, from)
	early.over.Store(true)
	rang := r.o.Clock.Now().Sub(start)
	timeout := !timer.Stop() && err != nil
	o := outcomeOf(err)
	if timeout && o == Failed {
		o = NoAnswer
	}
	var heard string
	if code := early.code(); err != nil && code != "" {
		o, heard = sitOutcome(code), "SIT "+string(code)+" in early media"
	}
	end := store.AttemptEnd{}
	var since time.Duration // since the person's greeting ended
	if err == nil {
		o, heard, since = r.detect(ch, ru.cfg)
	}
	if ru.pacing != nil {
		r.paced(ru, o, rang)
	}
	if err == nil {
		switch {
		case ru.pacing != nil && o == Answered:
			o, end.Agent = r.toAgent(ru, ch, c, since)
		case o == Answered || o == MessageLeft:
			end.Answers = r.o.Answered(ch, ru.cfg, c)
		}
		ch.Hangup()
	}
	r.o.Log.Info("campaign: attempt", "campaign", ru.cfg.Name, "number", c.Number, "attempt", c.Attempts, "outcome", o, "heard", heard, "err", err)
	end.Outcome = string(o)
	end.State, end.NotBefore = next(ru.cfg, c, o, r.o.Clock.Now())
	r.mu.Lock()
	ru.out--
	r.end(ru.cfg.Name, c, end)
	r.mu.Unlock()
}

// paced tells an agent-assisted campaign's pacing how a call it dialled
// came out once its ringing (and listening) is over. A machine hung up on
// counts as a live answer abandoned: AMD takes some people for machines,
// and without a measured rate of that the cap counts every such call.
func (r *Runner) paced(ru *run, o Outcome, rang time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru.ringing--
	ru.pacing.Outcome(o == Answered, rang)
	if o == Machine {
		ru.pacing.Live(r.o.Clock.Now(), true)
	}
}

// toAgent puts a person who answered an agent-assisted campaign's call to
// its queue's agents: an agent within AbandonAfter of the end of their
// greeting (since ago), or the call is abandoned (the person hanging up
// first among it), the person told who called and where to call back, and
// the abandon counted against the cap.
func (r *Runner) toAgent(ru *run, ch media.Channel, c store.Contact, since time.Duration) (Outcome, time.Duration) {
	at := r.o.Clock.Now()
	var handled time.Duration
	err := errors.New("campaign: the box has no queues to put the call to")
	if r.o.Agents != nil {
		handled, err = r.o.Agents.Connect(ch, ru.cfg.Queue, c.Number, c.Vars, max(AbandonAfter-since, 100*time.Millisecond))
	}
	r.mu.Lock()
	ru.pacing.Live(at, err != nil)
	if err == nil {
		ru.pacing.Handled(handled)
	}
	r.mu.Unlock()
	if err != nil {
		r.o.Log.Warn("campaign: no agent for a person who answered: abandoned", "campaign", ru.cfg.Name, "number", c.Number, "err", err)
		if r.o.Sorry != nil {
			r.o.Sorry(ch, ru.cfg)
		}
		return Abandoned, 0
	}
	return Answered, handled
}

// restorePacing rebuilds an agent-assisted campaign's pacing from its
// attempts on record, so that a restart forgets no abandon of the cap's
// window: the live answers (agent reached, abandoned, machine hung up on)
// and the answer rate.
func restorePacing(db *store.DB, c config.Campaign, now time.Time) (*Pacing, error) {
	p := &Pacing{Window: config.DurationOr(c.CapWindow, CapWindow)}
	err := db.Attempts(c.Name, time.Time{}, now.Add(time.Second), func(a store.Attempt) bool {
		o := Outcome(a.Outcome)
		if o == DoNotCall || o == NoConsent {
			return true // never dialled
		}
		if o.live() {
			p.Live(a.Start, o != Answered)
		}
		p.dialled++
		if o == Answered || o == Abandoned {
			p.answered++
		}
		return true
	})
	return p, err
}

func (r *Runner) end(name string, c store.Contact, end store.AttemptEnd) {
	end.At = r.o.Clock.Now()
	if err := r.o.DB.EndAttempt(name, c.Seq, end); err != nil {
		// It stays dialling: review at the next start, never redialled.
		r.o.Log.Error("campaign: an attempt's outcome not recorded", "campaign", name, "number", c.Number, "err", err)
	}
}

// Outcomes of contacts the box refuses to call (never dialled).
const (
	DoNotCall = "do-not-call" // the number asked not to be called (any campaign)
	NoConsent = "no-consent"  // a marketing campaign's contact without consent evidence
)

// refused is why c must not be called by ru's campaign, "" when it may.
func (r *Runner) refused(ru *run, c store.Contact) string {
	switch {
	case r.o.DoNotCall != nil && r.o.DoNotCall(c.Number):
		return DoNotCall
	case ru.cfg.Purpose == "marketing" && c.Consent == "":
		return NoConsent
	}
	return ""
}

// inWindow reports whether now is within one of the campaign's windows,
// and outside its rest hours, in the callee's zone tz (the campaign's
// when "" or unknown).
func (ru *run) inWindow(now time.Time, tz string) bool {
	if len(ru.windows) == 0 && len(ru.rest) == 0 {
		return true
	}
	loc := ru.loc
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	t := now.In(loc)
	of := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	for _, w := range ru.rest {
		if of >= w[0] && of < w[1] {
			return false
		}
	}
	if len(ru.windows) == 0 {
		return true
	}
	for _, w := range ru.windows {
		if of >= w[0] && of < w[1] {
			return true
		}
	}
	return false
}

// Set puts a campaign in a run state (Running, Paused, Stopped), kept
// across restarts.
func (r *Runner) Set(name, state string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru, ok := r.camps[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	if err := r.o.DB.SetCampaignState(name, store.CampaignState{State: state}); err != nil {
		return err
	}
	ru.state = state
	return nil
}

// Import adds a CSV contact list (ImportCSV) to a campaign.
func (r *Runner) Import(name string, csv io.Reader) (int, error) {
	if !r.has(name) {
		return 0, fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	return ImportCSV(csv, func(cs []store.Contact) error {
		_, err := r.o.DB.AddContacts(name, cs)
		return err
	})
}

func (r *Runner) has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.camps[name]
	return ok
}

// Progress is a campaign's state and its contacts' counts.
type Progress struct {
	Name     string         `json:"name"`
	Purpose  string         `json:"purpose"` // service or marketing
	State    string         `json:"state"`
	Out      int            `json:"out"`      // attempts out now
	Contacts int            `json:"contacts"` // in its list
	ByState  map[string]int `json:"by_state"` // waiting, done, failed, review, dialling
	Dialled  int            `json:"dialled"`  // attempts made
	Outcomes map[string]int `json:"outcomes"` // last outcome of each contact
	// Abandon is an agent-assisted campaign's abandon rate against the
	// cap, nil for the others.
	Abandon *AbandonRate `json:"abandon,omitempty"`
}

// AbandonRate is an agent-assisted campaign's abandons: of the calls a
// person answered, those no agent took within AbandonAfter (machines hung
// up on among them), over the campaign and over the cap's window.
type AbandonRate struct {
	Live      int     `json:"live"`
	Abandoned int     `json:"abandoned"`
	Campaign  float64 `json:"campaign"`
	Window    float64 `json:"window"`
	WindowH   float64 `json:"window_hours"`
	Cap       float64 `json:"cap"`
}

// Progress reports on a campaign.
func (r *Runner) Progress(name string) (Progress, error) {
	r.mu.Lock()
	ru, ok := r.camps[name]
	p := Progress{Name: name, ByState: map[string]int{}, Outcomes: map[string]int{}}
	if ok {
		p.State, p.Out, p.Purpose = ru.state, ru.out, cmp.Or(ru.cfg.Purpose, "service")
		if ru.pacing != nil {
			c, w := ru.pacing.Rates(r.o.Clock.Now())
			p.Abandon = &AbandonRate{Live: ru.pacing.live, Abandoned: ru.pacing.abandoned, Campaign: c, Window: w, WindowH: ru.pacing.window().Hours(), Cap: AbandonCap}
		}
	}
	r.mu.Unlock()
	if !ok {
		return p, fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	err := r.o.DB.EachContact(name, 0, func(c store.Contact) bool {
		p.Contacts++
		p.ByState[string(c.State)]++
		p.Dialled += c.Attempts
		if c.Outcome != "" {
			p.Outcomes[c.Outcome]++
		}
		return true
	})
	return p, err
}

// Names lists the campaigns, in config order.
func (r *Runner) Names() []string {
	var out []string
	for _, c := range r.o.Campaigns {
		out = append(out, c.Name)
	}
	return out
}

// Review lists the contacts held for review.
func (r *Runner) Review(name string) ([]store.Contact, error) {
	if !r.has(name) {
		return nil, fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	var out []store.Contact
	err := r.o.DB.EachContact(name, 0, func(c store.Contact) bool {
		if c.State == store.ContactReview {
			out = append(out, c)
		}
		return true
	})
	return out, err
}

// Release settles a contact in review: called again (waiting) or not
// (failed), as the operator decides.
func (r *Runner) Release(name string, seq uint64, again bool) error {
	if !r.has(name) {
		return fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	var c store.Contact
	found := false
	r.o.DB.EachContact(name, seq, func(x store.Contact) bool { c, found = x, x.Seq == seq; return false })
	if !found || c.State != store.ContactReview {
		return fmt.Errorf("campaign %s: contact %d is not in review", name, seq)
	}
	state := store.ContactFailed
	if again {
		state = store.ContactWaiting
		r.mu.Lock()
		r.camps[name].from = min(r.camps[name].from, seq)
		r.mu.Unlock()
	}
	return r.o.DB.SetContact(name, seq, state)
}
