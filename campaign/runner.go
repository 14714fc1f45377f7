package campaign

import (
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
	"jinyin/store"
)

// Run states.
const (
	Running = "running"
	Paused  = "paused"  // no new attempts; calls out go on
	Stopped = "stopped" // the same, until started again
)

// ringFor is how long an attempt rings before it is no answer.
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
}

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
	// from is the first place in the list that may still be called:
	// the contacts before it are settled (done, failed, in review).
	from uint64
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
		ru := &run{cfg: c, state: Stopped, loc: o.Location}
		if c.Start {
			ru.state = Running
		}
		if s, ok := states[c.Name]; ok {
			ru.state = s.State
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
			if r.o.DoNotCall != nil && r.o.DoNotCall(c.Number) {
				if _, err := r.o.DB.BeginAttempt(name, c.Seq, now); err == nil {
					r.end(name, c, "do-not-call", store.ContactFailed, time.Time{}, nil)
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
	timer := r.o.Clock.AfterFunc(ringFor, func() { cancel() })
	ch, err := r.o.Dial(dctx, ru.cfg.Trunk, c.Number, from)
	timeout := !timer.Stop() && err != nil
	o := outcomeOf(err)
	if timeout && o == Failed {
		o = NoAnswer
	}
	var heard string
	var answers map[string]string
	if err == nil {
		o, heard = r.detect(ch, ru.cfg)
		if o == Answered || o == MessageLeft {
			answers = r.o.Answered(ch, ru.cfg, c)
		}
		ch.Hangup()
	}
	r.o.Log.Info("campaign: attempt", "campaign", ru.cfg.Name, "number", c.Number, "attempt", c.Attempts, "outcome", o, "heard", heard, "err", err)
	state, notBefore := next(ru.cfg, c, o, r.o.Clock.Now())
	r.mu.Lock()
	ru.out--
	r.end(ru.cfg.Name, c, string(o), state, notBefore, answers)
	r.mu.Unlock()
}

func (r *Runner) end(name string, c store.Contact, outcome string, state store.ContactState, notBefore time.Time, answers map[string]string) {
	if err := r.o.DB.EndAttempt(name, c.Seq, outcome, state, notBefore, answers, r.o.Clock.Now()); err != nil {
		// It stays dialling: review at the next start, never redialled.
		r.o.Log.Error("campaign: an attempt's outcome not recorded", "campaign", name, "number", c.Number, "err", err)
	}
}

// inWindow reports whether now is within one of the campaign's windows
// in the callee's zone tz (the campaign's when "" or unknown).
func (ru *run) inWindow(now time.Time, tz string) bool {
	if len(ru.windows) == 0 {
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
	State    string         `json:"state"`
	Out      int            `json:"out"`      // attempts out now
	Contacts int            `json:"contacts"` // in its list
	ByState  map[string]int `json:"by_state"` // waiting, done, failed, review, dialling
	Dialled  int            `json:"dialled"`  // attempts made
	Outcomes map[string]int `json:"outcomes"` // last outcome of each contact
}

// Progress reports on a campaign.
func (r *Runner) Progress(name string) (Progress, error) {
	r.mu.Lock()
	ru, ok := r.camps[name]
	p := Progress{Name: name, ByState: map[string]int{}, Outcomes: map[string]int{}}
	if ok {
		p.State, p.Out = ru.state, ru.out
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
