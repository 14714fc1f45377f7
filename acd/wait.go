package acd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"jinyin/media"
	"jinyin/media/music"
	"jinyin/media/prompt"
	"jinyin/store"
)

// Caller is who waits.
type Caller struct {
	Call   string // call id, for the records
	Number string // the calling number; "" when withheld (no callback then)
	Tier   string
	Lang   string
	Agent  string // direct to this agent first (9 + agent number)
	// Data is what the agent is shown with the call (a campaign
	// contact's variables: GET /queues' agents).
	Data map[string]string
	// Within is set for a person an outbound campaign called: an agent
	// must answer within it, or the call is given up (ErrNoAgentInTime,
	// an abandon by the box's own count); the caller hears no hold
	// prompt meanwhile and goes before callers who chose to wait.
	Within time.Duration
}

// campaignWeight is the head start of a person a campaign called (see
// Caller.Within): an hour of waiting.
const campaignWeight = 3_600_000

// surveyWait is how long a caller has to key a score; holdGap is the
// music (or silence) between plays of the hold prompt.
const (
	surveyWait = 8 * time.Second
	holdGap    = 8 * time.Second
)

// join puts a caller in a queue, or says why not.
func (d *ACD) join(name string, c Caller) (*entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[name]
	var only *agent
	if c.Agent != "" {
		only = d.agents[c.Agent]
		if only == nil {
			return nil, fmt.Errorf("%w %q", ErrNoAgent, c.Agent)
		}
		if q == nil {
			q = d.queues[d.dqueue]
		}
		if q == nil && len(only.queues) > 0 {
			q = only.queues[0]
		}
	}
	if q == nil {
		return nil, fmt.Errorf("%w %q", ErrNoQueue, name)
	}
	for hops := 0; ; hops++ {
		switch {
		case only != nil:
		case q.cfg.MaxLength > 0 && q.waiting.len() >= q.cfg.MaxLength:
			if to := d.queues[q.cfg.MaxLengthDest]; to != nil && hops < 3 {
				q = to
				continue
			}
			return nil, ErrFull
		case !d.loggedIn(q) && q.cfg.WhenEmpty == "leave":
			return nil, ErrNoAgents
		case !d.loggedIn(q) && q.cfg.WhenEmpty == "overflow" && hops < 3:
			q = d.queues[q.cfg.Overflow]
			continue
		}
		break
	}
	e := d.newEntry(q, c.Call, c.Number, c.Tier, d.clk.Now())
	e.data = c.Data
	if c.Within > 0 {
		e.key += campaignWeight
		e.campaign = true
	}
	if only != nil {
		e.only, e.preferred = only, only
		d.direct[only] = append(d.direct[only], e)
	} else {
		q.waiting.push(e)
	}
	d.event(store.QueueEvent{Kind: store.QueueEnter, Queue: q.cfg.Name, Call: c.Call, Caller: c.Number, Tier: c.Tier, Agent: c.Agent, Position: d.position(e)})
	return e, nil
}

// leave takes an entry out for good; it reports false when an offer had
// already taken it (the caller should answer that offer).
func (d *ACD) leave(e *entry) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.offered {
		return false
	}
	e.gone = true
	e.q.waiting.remove(e)
	d.dropDirect(e)
	return true
}

// move sends a waiting entry to another queue, keeping its place in time.
func (d *ACD) move(e *entry, to *queue) bool {
	d.mu.Lock()
	if e.offered || e.gone {
		d.mu.Unlock()
		return false
	}
	e.q.waiting.remove(e)
	d.dropDirect(e)
	from := e.q
	e.q, e.only = to, nil
	e.key = d.key(to, e.tier, e.joined)
	to.waiting.push(e)
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueTransfer, Queue: to.cfg.Name, Call: e.call, Caller: e.caller, Reason: "overflow from " + from.cfg.Name})
	d.match()
	return true
}

// release frees agents offered a call that did not reach them; those that
// rang out are paused ("no-answer"), and the entry goes back to its place.
func (d *ACD) release(e *entry, rangOut []*agent, back bool) {
	now := d.clk.Now()
	d.mu.Lock()
	var paused []*agent
	for _, a := range rangOut {
		if d.do(a, evRingOut, "") {
			paused = append(paused, a)
		}
	}
	if back && !e.gone {
		e.offered = false
		if e.only != nil {
			d.direct[e.only] = append(d.direct[e.only], e)
		} else {
			e.q.waiting.push(e)
		}
	}
	d.mu.Unlock()
	for _, a := range paused {
		d.event(store.QueueEvent{Time: now, Kind: store.QueueRingNoAnswer, Queue: e.q.cfg.Name, Call: e.call, Agent: a.ext})
		d.setAgent(a, store.QueuePause, "no-answer")
	}
	d.match()
}

// free puts agents that were offered a call but not rung back to idle.
func (d *ACD) free(as []*agent) {
	d.mu.Lock()
	for _, a := range as {
		d.do(a, evWithdraw, "")
	}
	d.mu.Unlock()
}

// connected marks an agent busy with an entry's call.
func (d *ACD) connected(e *entry, a *agent, offeredAt time.Time) {
	now := d.clk.Now()
	d.mu.Lock()
	d.do(a, evAnswer, "")
	a.on = e
	e.gone = true
	d.mu.Unlock()
	d.event(store.QueueEvent{Time: now, Kind: store.QueueConnect, Queue: e.q.cfg.Name, Call: e.call, Caller: e.caller, Agent: a.ext, Tier: e.tier,
		Wait: now.Sub(e.joined), Ring: now.Sub(offeredAt)})
}

// completed ends an agent's call: wrap-up, then idle again.
func (d *ACD) completed(e *entry, a *agent, talk time.Duration, by string) {
	d.mu.Lock()
	a.calls++
	a.talk += talk
	a.on = nil
	d.do(a, evHangup, "")
	q := e.q
	q.handle[q.handles%len(q.handle)] = talk
	q.handles++
	wrap := q.wrapUp
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueComplete, Queue: q.cfg.Name, Call: e.call, Caller: e.caller, Agent: a.ext, Talk: talk, Wrap: wrap, Reason: by})
	d.clk.AfterFunc(wrap, func() {
		d.mu.Lock()
		d.do(a, evWrapEnd, "")
		d.mu.Unlock()
		d.match()
	})
}

// Wait puts a caller in a queue and runs the call while it waits: hold
// prompts, position and estimated wait every announce interval, the
// queue's music between them, key 1 for a callback where the queue
// offers it, overflow and maximum wait; then
// rings the agents offered, bridges to the one who answers, and after the
// agent hangs up runs the survey. It returns nil once the call is over
// (served, abandoned, or a callback booked), or an error when the caller
// leaves the queue without being served and the flow should go on.
func (d *ACD) Wait(ch media.Channel, queue string, c Caller) error {
	e, err := d.join(queue, c)
	if err != nil {
		return err
	}
	w := &waiter{d: d, ch: ch, e: e, c: c, timers: make(chan waitTimer, 8)}
	return w.run()
}

// Connect puts a person an outbound campaign called (c.Within set) to the
// queue's agents, as Wait does, and reports how long the agent who took
// the call was taken by it (talk and wrap-up); ErrNoAgentInTime when no
// agent answered within c.Within, the call left for the campaign to end,
// and ErrCallerLeft when the person hung up first.
func (d *ACD) Connect(ch media.Channel, queue string, c Caller) (handled time.Duration, err error) {
	e, err := d.join(queue, c)
	if err != nil {
		return 0, err
	}
	w := &waiter{d: d, ch: ch, e: e, c: c, timers: make(chan waitTimer, 8)}
	if err = w.run(); err == nil && !w.talked {
		err = ErrCallerLeft
	}
	return w.handled, err
}

// Staff is how many of a queue's agents are free to take a call now, and
// how many are on one (ringing, talking or in wrap-up): what a campaign
// paces its dialling by.
func (d *ACD) Staff(queue string) (free, busy int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[queue]
	if q == nil {
		return 0, 0
	}
	for _, a := range q.members {
		switch {
		case d.available(a):
			free++
		case a.state.presence.isLoggedIn() && !a.state.presence.isPaused() && a.state.activity != idle:
			busy++
		}
	}
	// People a campaign called who wait for an agent take the next free
	// ones, ahead of anyone: those agents are not free for another call.
	for _, e := range q.waiting.items {
		if e.campaign {
			free--
		}
	}
	return max(free, 0), busy
}

type waiter struct {
	d       *ACD
	ch      media.Channel
	e       *entry
	c       Caller
	timers  chan waitTimer
	stops   []func() bool
	cur     media.PlayID  // the prompt played last; 0 once the music took over
	holdNo  int           // the hold timer armed last; earlier ones are stale
	radio   *music.Reader // the caller's ear on radioOf's music
	radioOf *queue
	handled time.Duration // the agent's talk and wrap-up (Connect)
	talked  bool          // an agent took the call
}

// waitTimer is one of a waiting caller's timers, as it comes due.
type waitTimer struct {
	kind  timerKind
	queue *queue // for the queue's own limits (overflow, max wait): the queue armed in
	hold  int    // for timerHold: holdNo when armed; a prompt since makes it stale
}

type timerKind uint8

const (
	timerHold     timerKind = iota + 1 // the hold prompt again, holdGap after a prompt ended
	timerAnnounce                      // position and estimated wait, every announce
	timerOverflow                      // the queue's overflow_after
	timerMaxWait                       // the queue's max_wait
	timerDirect                        // direct_wait for the agent asked for is over
	timerSurvey                        // the survey's time to key a score is over
	timerWithin                        // Caller.Within is over: no agent in time
)

func (w *waiter) after(dt time.Duration, what waitTimer) {
	if dt <= 0 {
		return
	}
	t := w.d.clk.AfterFunc(dt, func() {
		select {
		case w.timers <- what:
		default:
		}
	})
	w.stops = append(w.stops, t.Stop)
}

// play plays prompts, interrupting the music; it returns the Play, whose
// EventPlayDone says they ended, or 0 when they cannot be played (nothing
// changes then).
func (w *waiter) play(ids ...string) media.PlayID {
	p, err := w.d.prompts.Player(w.lang(), ids...)
	if err != nil {
		return 0
	}
	w.holdNo++ // a prompt plays: the hold prompt waits for its end
	w.cur = w.ch.Play(p)
	return w.cur
}

// ended is a Play's EventPlayDone: when it is the prompt playing, holdGap
// of music (or silence) until the hold prompt again. The end of a prompt
// that another replaced (its done event can come after the new Play)
// changes nothing.
func (w *waiter) ended(q *queue, play media.PlayID) {
	if w.cur == 0 || play != w.cur {
		return
	}
	w.holdNo++
	w.after(holdGap, waitTimer{kind: timerHold, hold: w.holdNo})
	w.music(q)
}

// hold plays prompts to a waiting caller; the music comes back when they
// end, or goes on when they cannot be played.
func (w *waiter) hold(q *queue, ids ...string) {
	if w.play(ids...) == 0 {
		w.music(q)
	}
}

// music plays the queue's music where the queue's stream is now: the
// caller joins it like a radio. A queue without music leaves the channel
// to the silence it plays when a prompt ends.
func (w *waiter) music(q *queue) {
	w.cur = 0
	if w.radioOf != q {
		w.radio, w.radioOf = nil, q
		if q.music != nil {
			w.radio = q.music.Reader()
		}
	}
	if w.radio != nil {
		w.ch.Play(w.radio)
	}
}

func (w *waiter) lang() string {
	if w.c.Lang != "" {
		return w.c.Lang
	}
	return w.d.lang
}

func (w *waiter) run() error {
	defer func() {
		for _, s := range w.stops {
			s()
		}
	}()
	d, e := w.d, w.e
	q := e.q
	// A queue's own limits run from when the caller entered it, and end
	// when the caller leaves it for another (overflow): their timers name
	// the queue.
	limits := func(q *queue) {
		w.after(q.maxWait, waitTimer{kind: timerMaxWait, queue: q})
		w.after(q.overAt, waitTimer{kind: timerOverflow, queue: q})
	}
	if w.c.Within > 0 {
		// A person called by a campaign: an agent now, or not at all.
		w.after(w.c.Within, waitTimer{kind: timerWithin})
	} else {
		limits(q)
		w.after(q.every, waitTimer{kind: timerAnnounce})
	}
	if e.only != nil {
		w.after(d.dwait, waitTimer{kind: timerDirect})
	}
	switch {
	case w.c.Within > 0:
	case q.cfg.Callback && w.c.Number != "":
		w.hold(q, "queue-hold", "callback-offer")
	default:
		w.hold(q, "queue-hold")
	}
	d.match()
	var ring *ringCall
	var o0 time.Time // when the offer being rung was made
	for {
		var ringDone <-chan ringResult
		if ring != nil {
			ringDone = ring.done
		}
		select {
		case ev, ok := <-w.ch.Events():
			if !ok || ev.Kind == media.EventHangup {
				if ring != nil {
					ring.cancel()
					r := <-ring.done
					d.release(e, nil, false)
					d.free(ring.agents)
					if r.ch != nil {
						r.ch.Hangup()
					}
				}
				return w.abandon("")
			}
			if ev.Kind == media.EventDigit && ev.Digit == '1' && ring == nil && q.cfg.Callback && w.c.Number != "" && w.c.Within == 0 {
				at, err := w.askWhen()
				if err != nil { // hung up while choosing
					return w.abandon("")
				}
				if err := w.bookCallback(at); err == nil {
					return nil
				}
				w.music(q) // an agent took the call meanwhile, or callbacks are full: wait on
			}
			if ev.Kind == media.EventPlayDone {
				w.ended(q, ev.Play)
			}
		case what := <-w.timers:
			switch {
			case what.queue != nil && what.queue != q:
				continue // a limit of a queue the caller has left
			case what.kind == timerHold && what.hold != w.holdNo:
				continue // a prompt played since it was armed
			case what.kind == timerHold && w.c.Within > 0:
				continue // a campaign's callee hears no hold prompt
			case what.kind == timerWithin:
				if ring != nil { // the agent rings too long: stop it, unless it answered meanwhile
					ring.cancel()
					r := <-ring.done
					if r.ch != nil {
						d.free(without(ring.agents, r.agent))
						return w.talk(r, o0)
					}
					d.release(e, nil, false)
					d.free(ring.agents)
				}
				w.abandon(fmt.Sprintf("no agent within %v", w.c.Within))
				return ErrNoAgentInTime
			case ring != nil && what.kind != timerHold:
				w.after(time.Second, what) // the agent rings: decide after the answer
				continue
			}
			switch what.kind {
			case timerHold:
				w.hold(q, "queue-hold")
			case timerAnnounce:
				w.announce(q)
				w.after(q.every, waitTimer{kind: timerAnnounce})
			case timerOverflow:
				if to := d.queues[q.cfg.Overflow]; to != nil && d.move(e, to) {
					q = to
					limits(q)
					w.retune(q)
				}
			case timerDirect:
				w.undirect(q)
			case timerMaxWait:
				if to := d.queues[q.cfg.MaxWaitDest]; to != nil {
					if d.move(e, to) {
						q = to
						limits(q)
						w.retune(q)
					}
					continue
				}
				if d.leave(e) {
					d.event(store.QueueEvent{Kind: store.QueueAbandon, Queue: q.cfg.Name, Call: e.call, Caller: e.caller, Wait: d.clk.Now().Sub(e.joined), Reason: "max-wait"})
					return ErrMaxWait
				}
			}
		case err := <-e.kick:
			if ring == nil && d.leave(e) {
				d.event(store.QueueEvent{Kind: store.QueueAbandon, Queue: q.cfg.Name, Call: e.call, Caller: e.caller, Wait: d.clk.Now().Sub(e.joined), Reason: "no agents"})
				return err
			}
		case o := <-e.offers:
			ring, o0 = w.d.ring(e, o, e.caller), o.at
		case r := <-ringDone:
			agents := ring.agents
			ring = nil
			if r.ch == nil {
				d.release(e, r.rangOut, true)
				d.free(agents)
				if w.c.Within == 0 { // a campaign's callee hears no hold prompt
					w.hold(q, "queue-hold")
				}
				continue
			}
			d.free(without(agents, r.agent))
			return w.talk(r, o0)
		}
	}
}

func without(as []*agent, x *agent) []*agent {
	var out []*agent
	for _, a := range as {
		if a != x {
			out = append(out, a)
		}
	}
	return out
}

// abandon takes the caller out of the queue for good; why is "" for a
// caller who hung up.
func (w *waiter) abandon(why string) error {
	d, e := w.d, w.e
	d.mu.Lock()
	pos := d.position(e)
	e.gone = true
	e.q.waiting.remove(e)
	d.dropDirect(e)
	select {
	case o := <-e.offers: // offered under the lock, not yet rung: free the agents
		for _, a := range o.agents {
			d.do(a, evWithdraw, "")
		}
	default:
	}
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueAbandon, Queue: e.q.cfg.Name, Call: e.call, Caller: e.caller, Position: pos, Wait: d.clk.Now().Sub(e.joined), Reason: why})
	d.match()
	return nil
}

// retune moves a caller who hears the music to the music of the queue
// it has moved to; a prompt playing ends first.
func (w *waiter) retune(q *queue) {
	if w.cur != 0 {
		return
	}
	if q.music == nil && w.radio != nil {
		w.ch.Play(nil) // that queue waits in silence
	}
	w.music(q)
}

// undirect lets the queue serve a caller who waited for one agent.
func (w *waiter) undirect(q *queue) {
	d, e := w.d, w.e
	d.mu.Lock()
	if e.offered || e.gone || e.only == nil {
		d.mu.Unlock()
		return
	}
	d.dropDirect(e)
	e.only = nil
	e.q.waiting.push(e)
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueTransfer, Queue: e.q.cfg.Name, Call: e.call, Caller: e.caller, Reason: "agent did not take it"})
	w.hold(q, "agent-unavailable")
	d.match()
}

func (w *waiter) announce(q *queue) {
	d, e := w.d, w.e
	d.mu.Lock()
	if e.offered {
		d.mu.Unlock()
		return
	}
	pos := d.position(e)
	est := d.estimate(e.q, pos)
	d.mu.Unlock()
	var ids []string
	lang := w.lang()
	ids = append(ids, "position-before")
	n, _ := prompt.Quantity(lang, int64(pos))
	ids = append(ids, n...)
	ids = append(ids, "position-after", "wait-before")
	du, _ := prompt.Duration(lang, max(est.Round(time.Minute), time.Minute))
	ids = append(ids, du...)
	if e.q.cfg.Callback && w.c.Number != "" {
		ids = append(ids, "callback-offer")
	}
	w.hold(q, ids...)
}

// askWhen asks a caller who keyed 1 when to be called back: 1 (or
// nothing) as soon as their turn comes, or an hour from 8 to 20 and #,
// the next time that hour comes. It returns the zero time for "when my
// turn comes".
func (w *waiter) askWhen() (time.Time, error) {
	d := w.d
	asked := w.play("callback-when")
	var digits []byte
	timeout := make(chan struct{}, 1)
	var t interface{ Stop() bool }
	arm := func() {
		if t != nil {
			t.Stop()
		}
		t = d.clk.AfterFunc(callbackKeyWait, func() { timeout <- struct{}{} })
	}
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for done := false; !done; {
		select {
		case ev, ok := <-w.ch.Events():
			switch {
			case !ok || ev.Kind == media.EventHangup:
				return time.Time{}, errors.New("hung up")
			case ev.Kind == media.EventPlayDone && ev.Play == asked:
				arm()
			case ev.Kind == media.EventDigit && ev.Digit == '#':
				done = true
			case ev.Kind == media.EventDigit && len(digits) < 4:
				w.ch.Play(nil)
				digits = append(digits, ev.Digit)
				arm()
			}
		case <-timeout:
			done = true
		}
	}
	h, err := strconv.Atoi(string(digits))
	if err != nil || h < 8 || h > 20 {
		return time.Time{}, nil // "1", nothing, or not an hour: when the turn comes
	}
	now := d.clk.Now().In(d.loc)
	at := time.Date(now.Year(), now.Month(), now.Day(), h, 0, 0, 0, d.loc)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	return at, nil
}

// callbackKeyWait is how long the caller has to key the hour.
const callbackKeyWait = 5 * time.Second

// bookCallback turns the caller's place into a callback: at its place in
// the queue, or entering the queue at the hour chosen.
func (w *waiter) bookCallback(at time.Time) error {
	d, e := w.d, w.e
	if d.callbacksFull() {
		return ErrCallbacksFull
	}
	if !d.leave(e) {
		return errors.New("already offered")
	}
	now := d.clk.Now()
	joined, promised := e.joined, now.Add(e.q.promise)
	if !at.IsZero() {
		joined, promised = at, at.Add(e.q.promise)
	}
	cb := store.Callback{ID: strconv.FormatInt(now.UnixNano(), 36) + "-" + e.caller, Queue: e.q.cfg.Name, Number: e.caller, Tier: e.tier,
		Joined: joined, Requested: now, Promised: promised, NotBefore: at}
	if d.db != nil {
		if err := d.db.SaveCallback(cb); err != nil {
			d.log.Error("acd: callback not stored", "err", err)
			d.mu.Lock()
			e.gone = false
			e.q.waiting.push(e)
			d.mu.Unlock()
			return err
		}
	}
	d.mu.Lock()
	ne := d.newEntry(e.q, "callback-"+cb.ID, cb.Number, cb.Tier, cb.Joined)
	ne.cb = &cb
	d.callbacks[cb.ID] = ne
	d.schedule(ne, at)
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueCallbackRequested, Queue: e.q.cfg.Name, Call: e.call, Caller: e.caller, Wait: now.Sub(e.joined)})
	booked := "callback-booked"
	if !at.IsZero() {
		booked = "callback-booked-at"
	}
	said := w.play(booked)
	for {
		ev, ok := <-w.ch.Events()
		if !ok || ev.Kind == media.EventHangup || ev.Kind == media.EventPlayDone && ev.Play == said {
			break
		}
	}
	w.ch.Hangup()
	d.match()
	return nil
}

type ringResult struct {
	ch      media.Channel
	agent   *agent
	rangOut []*agent // agents that rang to the end without answering
}

type ringCall struct {
	agents []*agent
	at     time.Time
	cancel func()
	done   chan ringResult
}

// ring rings the offered agents at once for the queue's ring timeout;
// the first to answer takes the call, the others stop ringing.
func (d *ACD) ring(e *entry, o offer, from string) *ringCall {
	ctx, cancel := context.WithCancel(d.ctx)
	var gone atomic.Bool // the caller hung up: no one rang out
	r := &ringCall{agents: o.agents, at: o.at, cancel: func() { gone.Store(true); cancel() }, done: make(chan ringResult, 1)}
	type answer struct {
		ch  media.Channel
		a   *agent
		err error
	}
	answers := make(chan answer, len(o.agents))
	for _, a := range o.agents {
		go func() {
			rctx, rcancel := context.WithCancel(ctx)
			defer rcancel()
			t := d.clk.AfterFunc(e.q.ring, rcancel) // the ring timeout, on the injected clock
			defer t.Stop()
			ch, err := d.dial.Ring(rctx, a.ext, from)
			answers <- answer{ch, a, err}
		}()
	}
	go func() {
		var res ringResult
		var failed []*agent
		for range o.agents {
			an := <-answers
			switch {
			case an.err == nil && res.ch == nil:
				res.ch, res.agent = an.ch, an.a
				cancel() // the others stop ringing
			case an.err == nil:
				an.ch.Hangup() // answered too late
			default:
				failed = append(failed, an.a)
			}
		}
		cancel()
		if res.ch == nil && !gone.Load() {
			res.rangOut = failed // no one answered: each rang out or refused
		}
		r.done <- res
	}()
	return r
}

// talk bridges the caller to the agent who answered; when the agent hangs
// up first and the queue runs a survey, the caller stays for it.
func (w *waiter) talk(r ringResult, offeredAt time.Time) error {
	d, e := w.d, w.e
	d.connected(e, r.agent, offeredAt)
	w.talked = true
	start := d.clk.Now()
	tk, err := d.newTalk(e, r.agent, w.ch, r.ch)
	if err != nil {
		r.ch.Hangup()
		d.completed(e, r.agent, 0, "error")
		return err
	}
	callerLeft := tk.run()
	by := "agent"
	if callerLeft {
		by = "caller"
	}
	talked := d.clk.Now().Sub(start)
	w.handled = talked + e.q.wrapUp
	d.completed(e, r.agent, talked, by)
	d.match()
	if !callerLeft && e.q.cfg.Survey {
		w.survey(r.agent)
	}
	return nil
}

func (w *waiter) survey(a *agent) {
	d, e := w.d, w.e
	asked := w.play("survey")
	over := func() {
		select {
		case w.timers <- waitTimer{kind: timerSurvey}:
		default:
		}
	}
	t := d.clk.AfterFunc(surveyWait, over)
	defer func() { t.Stop() }()
	played := false
	for {
		select {
		case ev, ok := <-w.ch.Events():
			if !ok || ev.Kind == media.EventHangup {
				return
			}
			if ev.Kind == media.EventPlayDone && ev.Play == asked && !played {
				played = true
				t.Stop()
				t = d.clk.AfterFunc(surveyWait, over)
			}
			if ev.Kind == media.EventDigit && ev.Digit >= '1' && ev.Digit <= '5' {
				d.event(store.QueueEvent{Kind: store.QueueSurvey, Queue: e.q.cfg.Name, Call: e.call, Caller: e.caller, Agent: a.ext, Value: int(ev.Digit - '0')})
				w.play("thanks")
				for {
					ev, ok := <-w.ch.Events()
					if !ok || ev.Kind != media.EventDigit {
						return
					}
				}
			}
		case what := <-w.timers:
			if what.kind == timerSurvey {
				return
			}
		}
	}
}
