// Package acd is the call-centre queue: skill groups of agents, callers
// waiting in order of one deterministic score, strategies among equally fit
// agents, overflow, maximum wait and length, callbacks that keep the
// caller's place, music on hold, agents' login and pause, wrap-up, surveys,
// and the queue events that KPIs are computed from.
//
// The state (queues, agents, who waits where) lives in ACD under one mutex
// that is held only for in-memory decisions: never across a dial, a prompt
// or a store write. Each waiting caller runs in its own call's goroutine
// (Wait); callbacks run in a goroutine of their own; timers run on the
// injected clock. Events go to the store through a batching recorder.
//
// Layer: above media and store, beside ivr; it never imports a signalling
// package. Dialer is how it rings agents and calls customers back.
package acd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/music"
	"jinyin/media/prompt"
	"jinyin/store"
)

// Dialer is how the queue reaches phones: the box gives it SIP (and, with
// the line cards, PRI and analog lines).
type Dialer interface {
	// Ring rings an agent's phone until it answers or ctx ends.
	Ring(ctx context.Context, agent, from string) (media.Channel, error)
	// Dial calls a customer back through the queue's trunk (or the
	// extension, for a caller who is one) until answered or ctx ends.
	Dial(ctx context.Context, trunk, number string) (media.Channel, error)
	// Registered reports whether an agent's phone is registered now: an
	// agent whose phone is not is not offered calls.
	Registered(agent string) bool
}

// Score weights, in milliseconds of waiting (see key and pairScore).
const (
	levelWeight     = 10_000 // each skill level is worth 10 s of waiting
	preferredWeight = 60_000 // the agent a caller asked for: a minute
)

type agent struct {
	ext       string
	state     agentState // changed by ACD.do only (agent_fsm.go)
	reason    string     // why paused
	idleSince time.Time
	calls     int
	talk      time.Duration
	queues    []*queue
	on        *entry // the call it talks on, nil when none
}

type queue struct {
	cfg     config.Queue
	levels  map[*agent]int
	members []*agent
	waiting heap // callers and callbacks, best first
	ring    time.Duration
	wrapUp  time.Duration
	maxWait time.Duration
	overAt  time.Duration
	every   time.Duration
	retry   time.Duration
	promise time.Duration
	handle  [20]time.Duration // recent talk times, for the estimated wait
	handles int
	rr      int           // round-robin: index of the member served last
	music   *music.Stream // what callers hear between prompts; nil: silence
}

// entry is a caller or a callback waiting in a queue.
type entry struct {
	id        uint64
	call      string
	q         *queue
	caller    string
	tier      string
	joined    time.Time // the place: it survives overflow and callbacks
	key       int64
	only      *agent // direct to this agent until released
	preferred *agent
	cb        *store.Callback
	data      map[string]string // shown to the agent (Caller.Data)
	campaign  bool              // a person a campaign called (Caller.Within)
	offers    chan offer        // to the waiting caller (buffered)
	kick      chan error        // the queue sends the waiting caller away (buffered)
	idx       int               // in q.waiting; -1 when not in it
	offered   bool
	gone      bool
}

type offer struct {
	agents []*agent
	at     time.Time
}

// ACD is every queue and agent of the box.
type ACD struct {
	mu      sync.Mutex
	agentMu sync.Mutex // serialises the stored agent states (setAgent)
	clk     clock.Clock
	log     *slog.Logger
	db      *store.DB
	rec     *store.Recorder[store.QueueEvent]
	onEvent func(store.QueueEvent)
	dial    Dialer
	prompts *prompt.Set
	lang    string
	queues  map[string]*queue
	agents  map[string]*agent
	direct  map[*agent][]*entry
	sorted  []*agent // agents by extension, for decisions independent of map order
	tied    []*agent // match's buffer for next, under mu
	tiers   map[string]int
	dwait   time.Duration
	dqueue  string
	seq     uint64
	rng     *rand.Rand
	workers sync.WaitGroup
	closed  bool
	ctx     context.Context // ends at Close: rings and dials in flight stop
	stop    context.CancelFunc

	data      string // recordings go under data/recordings
	talks     map[*agent]*talk
	sample    float64
	samples   map[string]*[2]int // agent and day -> recordings, sampled
	keepDays  int
	keepBytes int64
	sups      map[string]bool
	short     func() bool // the data directory is short of space
	// callbacks are the entries of the callbacks booked and not yet
	// answered or given up, by callback ID (under mu).
	callbacks map[string]*entry
	loc       *time.Location
}

// Options are what New needs besides the config.
type Options struct {
	Clock   clock.Clock
	Log     *slog.Logger
	DB      *store.DB
	Events  *store.Recorder[store.QueueEvent]
	Dialer  Dialer
	Prompts *prompt.Set
	Lang    string
	Seed    uint64 // for the random strategy and the sampling of recordings
	Data    string // the data directory, for recordings
	// Short reports that the data directory is short of space: calls are
	// then not recorded (they go on). Nil never is.
	Short func() bool
	// Location is where callers' chosen callback hours are read; the
	// box's local time when nil.
	Location *time.Location
	// OnEvent, when set, is told each event as it goes to Events (the
	// box's metrics take waits and talk times from it); it must not
	// block, and may run with the queue's lock held.
	OnEvent func(store.QueueEvent)
}

// New builds the queues of a validated config, restores the agents' login
// and pause, and puts back the callbacks that were waiting.
func New(cfg *config.Config, o Options) (*ACD, error) {
	d := &ACD{clk: o.Clock, log: o.Log, db: o.DB, rec: o.Events, onEvent: o.OnEvent, dial: o.Dialer, prompts: o.Prompts, lang: o.Lang,
		queues: map[string]*queue{}, agents: map[string]*agent{}, direct: map[*agent][]*entry{}, tiers: cfg.ACD.Tiers,
		dwait: config.DurationOr(cfg.ACD.DirectWait, 20*time.Second), dqueue: cfg.ACD.DirectQueue, rng: rand.New(rand.NewPCG(o.Seed, 1)),
		data: o.Data, talks: map[*agent]*talk{}, sample: cfg.ACD.SampleShare, samples: map[string]*[2]int{}, keepDays: cfg.ACD.RecordDays,
		keepBytes: int64(cfg.ACD.RecordMaxMB) << 20, sups: map[string]bool{}, callbacks: map[string]*entry{}, short: o.Short}
	for _, s := range cfg.ACD.Supervisors {
		d.sups[s] = true
	}
	d.ctx, d.stop = context.WithCancel(context.Background())
	d.loc = o.Location
	if d.loc == nil {
		d.loc = time.Local
	}
	now := d.clk.Now()
	for _, e := range cfg.Extensions {
		if e.Kind == "agent" {
			a := &agent{ext: e.Number, idleSince: now}
			d.agents[e.Number] = a
			d.sorted = append(d.sorted, a)
		}
	}
	sort.Slice(d.sorted, func(i, j int) bool { return d.sorted[i].ext < d.sorted[j].ext })
	lists := map[string]*music.Playlist{} // queues playing the same music share its audio
	for _, qc := range cfg.Queues {
		q := &queue{cfg: qc, levels: map[*agent]int{}, ring: config.DurationOr(qc.RingTimeout, 20*time.Second), wrapUp: config.DurationOr(qc.WrapUp, 10*time.Second),
			maxWait: config.DurationOr(qc.MaxWait, 0), overAt: config.DurationOr(qc.OverflowAfter, 0), every: config.DurationOr(qc.Announce, 30*time.Second),
			retry: config.DurationOr(qc.CallbackRetryDelay, 5*time.Minute), promise: config.DurationOr(qc.CallbackPromise, time.Hour)}
		if qc.CallbackRetries == 0 {
			q.cfg.CallbackRetries = 2
		}
		for _, ext := range qc.Agents {
			a := d.agents[ext]
			if a == nil {
				continue
			}
			q.members = append(q.members, a)
			a.queues = append(a.queues, q)
			q.levels[a] = 5
			if l, ok := qc.Levels[ext]; ok {
				q.levels[a] = l
			}
		}
		q.rr = -1
		q.music = d.music(cfg, qc, lists)
		d.queues[qc.Name] = q
	}
	if d.db != nil {
		states, err := d.db.AgentStates()
		if err != nil {
			return nil, err
		}
		for ext, s := range states {
			if a := d.agents[ext]; a != nil {
				a.state.presence, a.reason = restored(s), s.Reason
			}
		}
		cbs, err := d.db.Callbacks()
		if err != nil {
			return nil, err
		}
		for _, cb := range cbs {
			q := d.queues[cb.Queue]
			if q == nil {
				d.log.Warn("acd: callback for a queue no longer configured; dropped", "queue", cb.Queue, "number", cb.Number)
				continue
			}
			if cb.Dialling { // the box stopped during its dial
				cb.Dialling, cb.Review = false, true
				if err := d.db.SaveCallback(cb); err != nil {
					return nil, err
				}
				d.log.Warn("acd: a callback's dial was cut short by a stop; held for review, not dialled again", "number", cb.Number, "attempts", cb.Attempts)
			}
			d.mu.Lock()
			e := d.newEntry(q, "callback-"+cb.ID, cb.Number, cb.Tier, cb.Joined)
			e.cb = &cb
			d.callbacks[cb.ID] = e
			if !cb.Review {
				d.schedule(e, cb.NotBefore)
			}
			d.mu.Unlock()
		}
	}
	return d, nil
}

// music is a queue's music on hold: its own stream (its own place in
// the music) over a playlist loaded once per path. Music that no longer
// loads (the file went after the config was checked) is logged, and the
// queue waits in silence rather than the box failing to start.
func (d *ACD) music(cfg *config.Config, qc config.Queue, lists map[string]*music.Playlist) *music.Stream {
	if qc.Music == "" {
		return nil
	}
	path := cfg.Path(qc.Music)
	p := lists[path]
	if p == nil {
		var err error
		if p, err = music.Load(path); err != nil {
			d.log.Error("acd: queue waits without music", "queue", qc.Name, "err", err)
			return nil
		}
		lists[path] = p
	}
	return music.NewStream(p, d.clk.Now)
}

// Start dispatches what New restored (callbacks waiting for agents
// logged in before a restart).
func (d *ACD) Start() { d.match() }

// Close stops taking new work, stops rings and dials in flight, and waits
// for callback workers.
func (d *ACD) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.stop()
	d.workers.Wait()
}

func (d *ACD) event(e store.QueueEvent) {
	if e.Time.IsZero() {
		e.Time = d.clk.Now()
	}
	if d.rec != nil {
		d.rec.Record(e)
	}
	if d.onEvent != nil {
		d.onEvent(e)
	}
}

// key is an entry's score without the terms that depend on the agent:
// its tier's weight and its queue's priority (seconds of waiting, as
// milliseconds) minus the moment it joined. Waiting adds the same to every
// entry, so the order of keys never changes with time and the queue can
// stay sorted; an entry that waited longer has the higher key.
func (d *ACD) key(q *queue, tier string, joined time.Time) int64 {
	return int64(d.tiers[tier]+q.cfg.Priority)*1000 - joined.UnixMilli()
}

// pairScore is the one scorer: an entry's key, plus 10 s per skill level
// the agent has in the entry's queue, plus a minute if the caller asked
// for this agent. The highest pair is served; among equal scores the
// caller who joined first, then the lower entry number; among agents
// equally fit, the queue's strategy.
func (d *ACD) pairScore(e *entry, a *agent) int64 {
	s := e.key + int64(e.q.levels[a])*levelWeight
	if e.preferred == a || e.only == a {
		s += preferredWeight
	}
	return s
}

// better orders entries of equal score: the one that joined first.
func better(x, y *entry) bool {
	if !x.joined.Equal(y.joined) {
		return x.joined.Before(y.joined)
	}
	return x.id < y.id
}

func (d *ACD) newEntry(q *queue, call, caller, tier string, joined time.Time) *entry {
	d.seq++
	return &entry{id: d.seq, call: call, q: q, caller: caller, tier: tier, joined: joined, key: d.key(q, tier, joined), idx: -1,
		offers: make(chan offer, 1), kick: make(chan error, 1)}
}

// schedule puts an entry in its queue now, or at notBefore.
func (d *ACD) schedule(e *entry, notBefore time.Time) {
	if wait := notBefore.Sub(d.clk.Now()); wait > 0 {
		d.clk.AfterFunc(wait, func() {
			d.mu.Lock()
			if !e.gone {
				e.q.waiting.push(e)
			}
			d.mu.Unlock()
			d.match()
		})
		return
	}
	e.q.waiting.push(e)
}

func (d *ACD) available(a *agent) bool {
	return a.state.available() && d.dial.Registered(a.ext)
}

// next finds the best pair of a waiting entry and the agents to offer it
// to, and takes both out of the pool. It allocates nothing when there is
// no pair; it is what the benchmark times.
func (d *ACD) next(buf []*agent) (*entry, []*agent) {
	var best *entry
	var bestScore int64
	for _, a := range d.sorted {
		if !d.available(a) {
			continue
		}
		e, s := d.bestFor(a)
		if e == nil {
			continue
		}
		if best == nil || s > bestScore || (s == bestScore && better(e, best)) {
			best, bestScore = e, s
		}
	}
	if best == nil {
		return nil, nil
	}
	tied := buf[:0]
	for _, a := range best.q.members {
		if d.available(a) && d.eligible(best, a) && d.pairScore(best, a) == bestScore {
			tied = append(tied, a)
		}
	}
	if best.only != nil && d.available(best.only) && len(tied) == 0 {
		tied = append(tied, best.only)
	}
	chosen := d.strategy(best.q, tied)
	best.q.waiting.remove(best)
	d.dropDirect(best)
	best.offered = true
	for _, a := range chosen {
		d.do(a, evOffer, "")
	}
	return best, chosen
}

func (d *ACD) eligible(e *entry, a *agent) bool {
	return e.only == nil || e.only == a
}

// bestFor is the entry agent a should serve: the best head of the queues
// it serves (an entry held for another agent is not at their head), or an
// entry waiting for a by name.
func (d *ACD) bestFor(a *agent) (*entry, int64) {
	var best *entry
	var bestScore int64
	consider := func(e *entry) {
		s := d.pairScore(e, a)
		if best == nil || s > bestScore || (s == bestScore && better(e, best)) {
			best, bestScore = e, s
		}
	}
	for _, q := range a.queues {
		if e := q.waiting.top(); e != nil {
			consider(e)
		}
	}
	for _, e := range d.direct[a] {
		consider(e)
	}
	return best, bestScore
}

// strategy picks, among agents equally fit for a caller, who rings.
func (d *ACD) strategy(q *queue, tied []*agent) []*agent {
	if len(tied) <= 1 {
		if len(tied) == 1 && q.cfg.Strategy == "round-robin" {
			if i := slices.Index(q.members, tied[0]); i >= 0 {
				q.rr = i // served last, though no one else was free
			}
		}
		return tied
	}
	var chosen *agent
	switch q.cfg.Strategy {
	case "ring-all":
		return tied
	case "fewest-calls":
		chosen = minBy(tied, func(x, y *agent) bool {
			return x.calls < y.calls || (x.calls == y.calls && x.idleSince.Before(y.idleSince))
		})
	case "least-talk":
		chosen = minBy(tied, func(x, y *agent) bool {
			return x.talk < y.talk || (x.talk == y.talk && x.idleSince.Before(y.idleSince))
		})
	case "round-robin":
		// The first member after the one served last, in member order.
		for i := 1; i <= len(q.members) && chosen == nil; i++ {
			m := q.members[(q.rr+i+len(q.members))%len(q.members)]
			for _, a := range tied {
				if a == m {
					chosen = a
					q.rr = (q.rr + i + len(q.members)) % len(q.members)
					break
				}
			}
		}
	case "random":
		chosen = tied[d.rng.IntN(len(tied))]
	default: // longest-idle
		chosen = minBy(tied, func(x, y *agent) bool { return x.idleSince.Before(y.idleSince) })
	}
	tied[0] = chosen
	return tied[:1]
}

func minBy(as []*agent, less func(x, y *agent) bool) *agent {
	b := as[0]
	for _, a := range as[1:] {
		if less(a, b) {
			b = a
		}
	}
	return b
}

func (d *ACD) dropDirect(e *entry) {
	if e.only == nil {
		return
	}
	l := d.direct[e.only]
	for i, x := range l {
		if x == e {
			d.direct[e.only] = append(l[:i], l[i+1:]...)
			break
		}
	}
}

// match offers every pair there is.
func (d *ACD) match() {
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return
		}
		e, agents := d.next(d.tied[:0])
		if e == nil {
			d.mu.Unlock()
			return
		}
		d.tied = agents[:0] // keep what the buffer grew to
		o := offer{agents: append([]*agent(nil), agents...), at: d.clk.Now()}
		if e.cb != nil {
			d.workers.Add(1)
			d.mu.Unlock()
			go d.callback(e, o)
			continue
		}
		e.offers <- o // buffered; the entry had no offer pending
		d.mu.Unlock()
	}
}

// position is an entry's place in its queue, 1 for the next served.
func (d *ACD) position(e *entry) int {
	n := 1
	for _, x := range e.q.waiting.items {
		if x != e && (x.key > e.key || (x.key == e.key && better(x, e))) {
			n++
		}
	}
	return n
}

// estimate is the expected wait of an entry at position pos: pos times
// the recent average talk time (3 minutes before any call), shared among
// the agents logged in.
func (d *ACD) estimate(q *queue, pos int) time.Duration {
	avg, n := 3*time.Minute, min(q.handles, len(q.handle))
	if n > 0 {
		var sum time.Duration
		for _, h := range q.handle[:n] {
			sum += h
		}
		avg = sum / time.Duration(n)
	}
	staff := 0
	for _, a := range q.members {
		if a.state.presence == ready {
			staff++
		}
	}
	return avg * time.Duration(pos) / time.Duration(max(staff, 1))
}

func (d *ACD) loggedIn(q *queue) bool {
	for _, a := range q.members {
		if a.state.presence.isLoggedIn() {
			return true
		}
	}
	return false
}

// Errors a waiting caller leaves the queue with: the IVR's transfer node
// goes on at its fail.
var (
	ErrNoQueue  = errors.New("acd: no such queue")
	ErrFull     = errors.New("acd: the queue is full")
	ErrNoAgents = errors.New("acd: no agent is logged in")
	ErrMaxWait  = errors.New("acd: waited the queue's maximum")
	ErrNoAgent  = errors.New("acd: no such agent")
	// ErrNoAgentInTime: no agent answered a campaign's call within
	// Caller.Within (Connect).
	ErrNoAgentInTime = errors.New("acd: no agent answered in time")
	// ErrCallerLeft: the person a campaign called hung up before an
	// agent answered (Connect).
	ErrCallerLeft = errors.New("acd: the person hung up before an agent answered")
)

// ErrCallbacksFull refuses a callback while maxCallbacks wait: a box
// whose agents never log in must not grow its store and memory without
// end (a caller keying 1 then keeps their place in the queue instead).
var ErrCallbacksFull = errors.New("acd: the box has the most callbacks it keeps waiting")

// maxCallbacks is how many callbacks may wait at once, all queues
// together: days of a busy centre's callbacks.
var maxCallbacks = 10000

// callbacksFull reports whether no more callbacks may be booked.
func (d *ACD) callbacksFull() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.callbacks) >= maxCallbacks
}

// setAgent stores an agent's state and records the queue event of its
// change. The state is taken under d.mu, and the writes of agent states
// are serialised, so that the last one stored is the state as it is.
func (d *ACD) setAgent(a *agent, kind store.QueueKind, reason string) {
	if d.db != nil {
		d.agentMu.Lock()
		d.mu.Lock()
		st := a.stored()
		d.mu.Unlock()
		err := d.db.SetAgentState(a.ext, st)
		d.agentMu.Unlock()
		if err != nil {
			d.log.Error("acd: agent state", "agent", a.ext, "err", err)
		}
	}
	d.event(store.QueueEvent{Kind: kind, Agent: a.ext, Reason: reason})
}

// Agent actions, from feature codes, the console and the API.
func (d *ACD) Login(ext string) error   { return d.agentDo(ext, evLogin, store.QueueLogin, "") }
func (d *ACD) Logout(ext string) error  { return d.agentDo(ext, evLogout, store.QueueLogout, "") }
func (d *ACD) Unpause(ext string) error { return d.agentDo(ext, evUnpause, store.QueueUnpause, "") }
func (d *ACD) Pause(ext, reason string) error {
	if reason == "" {
		reason = "break"
	}
	return d.agentDo(ext, evPause, store.QueuePause, reason)
}

func (d *ACD) agentDo(ext string, ev agentEvent, kind store.QueueKind, reason string) error {
	d.mu.Lock()
	a := d.agents[ext]
	if a == nil {
		d.mu.Unlock()
		return fmt.Errorf("%w %q", ErrNoAgent, ext)
	}
	d.do(a, ev, reason)
	if ev == evLogout {
		// A queue that callers leave when no agent is logged in sends
		// its waiting callers on (callbacks stay: they wait for agents).
		for _, q := range a.queues {
			if q.cfg.WhenEmpty == "leave" && !d.loggedIn(q) {
				for _, e := range q.waiting.items {
					if e.cb == nil {
						select {
						case e.kick <- ErrNoAgents:
						default:
						}
					}
				}
			}
		}
	}
	d.mu.Unlock()
	d.setAgent(a, kind, reason)
	d.match()
	return nil
}

// IsSupervisor reports whether ext may monitor calls.
func (d *ACD) IsSupervisor(ext string) bool { return d.sups[ext] }

// IsAgent reports whether ext is an agent.
func (d *ACD) IsAgent(ext string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.agents[ext] != nil
}
