package kpi

import (
	"cmp"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"jinyin/store"
)

// Target is a queue's service-level target: Goal of the calls answered
// within Answer (80/20 is Goal 0.8, Answer 20 s).
type Target struct {
	Goal   float64
	Answer time.Duration
}

// DefaultTarget is 80/20, the convention when a queue sets none.
var DefaultTarget = Target{Goal: 0.8, Answer: 20 * time.Second}

// Options say what a report covers and by which rules.
type Options struct {
	From, To time.Time
	// Interval splits the range: 15m, 30m, 1h (on the clock in Loc) or
	// 24h (Loc's calendar days); 0 keeps the range whole.
	Interval time.Duration
	Loc      *time.Location    // the box's zone; UTC when nil
	Targets  map[string]Target // per queue; DefaultTarget for the others
	// ShortAbandon: callers who hang up within it are counted apart and
	// left out of the service level and abandon rate (0: none).
	ShortAbandon time.Duration
	// RepeatWindow: an inbound call from the same number within it after
	// an answered one makes that one not resolved at first contact
	// (24 h when 0).
	RepeatWindow time.Duration
	Skills       map[string][]string // skill group -> its agents
	Channels     map[string]int      // trunk -> channels, for all-busy time
	Groups       map[string][]string // trunk group -> its trunks
	Blocking     float64             // Erlang B target, 0.01 when 0
	// Wrap is the wrap-up of each queue, for complete events written
	// before they carried theirs.
	Wrap map[string]time.Duration
}

// Report is what a range of records says.
type Report struct {
	From      time.Time         `json:"from"`
	To        time.Time         `json:"to"`
	Interval  Seconds           `json:"interval"`
	Total     *Period           `json:"total"`
	Intervals []*Period         `json:"intervals,omitempty"`
	Trunks    map[string]*Trunk `json:"trunks"`
	IVR       []IVRNode         `json:"ivr,omitempty"`
}

// IVRNode is an IVR node's hits (since the counters began: they are not
// kept per interval), in the ranking by visits; Hangups is how many
// callers gave up there (also among the exits). GET /ivr/stats serves it.
type IVRNode struct {
	Flow    string            `json:"flow"`
	Node    string            `json:"node"`
	Visits  uint64            `json:"visits"`
	Hangups uint64            `json:"hangups"`
	Exits   map[string]uint64 `json:"exits"` // how callers left it: a key, timeout, hangup, ...
}

// Calc computes a report from records fed to it: Event with the queue
// events in the order they were stored (from any time before the range
// too, so that agents and callers already in the queue at its start are
// known), CDR with the call records in any order, IVR with the node
// counters; then Report. What it keeps grows with the calls in the range,
// not with the records read.
type Calc struct {
	o       Options
	bounds  []time.Time // period starts, then the range's end
	periods []*Period
	total   *Period

	open   map[string]*inQueue // callers in a queue, by call
	agents map[string]*staffing
	lens   map[string]*length

	inbound []contact        // for first-contact resolution
	trunks  map[string]*busy // channels busy, per trunk
	blocked map[string]int
	calls   map[string]int
	ivr     []store.IVRCount
}

type inQueue struct {
	queue   string
	offered int // the period it was offered in, -1 outside the range
}

type staffing struct {
	in, paused bool
	since      time.Time
}

type length struct {
	n     int
	since time.Time
}

// contact is an inbound call for first-contact resolution: 24 bytes, the
// number kept as its 64-bit FNV-1a hash (a day of a million calls holds
// 24 MB of them, not 60), its start in Unix nanoseconds.
type contact struct {
	number   uint64
	start    int64
	answered bool
}

func numberHash(n string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(n))
	return h.Sum64()
}

// busy is when a trunk's calls seized and freed a channel, clipped to the
// range, in Unix nanoseconds: the sweep sorts each and merges them.
type busy struct{ starts, ends []int64 }

// NewCalc starts a report over o's range.
func NewCalc(o Options) *Calc {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	if o.RepeatWindow == 0 {
		o.RepeatWindow = 24 * time.Hour
	}
	if o.Blocking == 0 {
		o.Blocking = 0.01
	}
	c := &Calc{o: o, open: map[string]*inQueue{}, agents: map[string]*staffing{}, lens: map[string]*length{},
		trunks: map[string]*busy{}, blocked: map[string]int{}, calls: map[string]int{}}
	c.total = newPeriod(o.From, o.To)
	if o.Interval > 0 {
		for t := o.From; t.Before(o.To); {
			next := c.next(t)
			c.bounds = append(c.bounds, t)
			c.periods = append(c.periods, newPeriod(t, minTime(next, o.To)))
			t = next
		}
	}
	c.bounds = append(c.bounds, o.To)
	return c
}

func newPeriod(from, to time.Time) *Period {
	return &Period{Start: from, End: to, All: &Queue{}, Queues: map[string]*Queue{}, Agents: map[string]*Agent{}}
}

// next is the start of the interval after the one holding t: the next
// quarter, half hour or hour on Loc's clock, or Loc's next midnight.
func (c *Calc) next(t time.Time) time.Time {
	lt := t.In(c.o.Loc)
	if c.o.Interval >= 24*time.Hour {
		y, m, d := lt.Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, c.o.Loc)
	}
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, c.o.Loc)
	into := lt.Sub(midnight)
	return midnight.Add((into/c.o.Interval + 1) * c.o.Interval)
}

// period is the index of the interval holding t, -1 outside the range.
// With no intervals, 0 is the whole range.
func (c *Calc) period(t time.Time) int {
	if t.Before(c.o.From) || !t.Before(c.o.To) {
		return -1
	}
	if len(c.periods) == 0 {
		return 0
	}
	return sort.Search(len(c.periods), func(i int) bool { return c.bounds[i+1].After(t) })
}

// each calls f for the interval i (when there are intervals) and for the
// whole range; i < 0 calls nothing.
func (c *Calc) each(i int, f func(p *Period)) {
	if i < 0 {
		return
	}
	if len(c.periods) > 0 {
		f(c.periods[i])
	}
	f(c.total)
}

func (c *Calc) queue(p *Period, name string) *Queue {
	q := p.Queues[name]
	if q == nil {
		t := c.target(name)
		q = &Queue{ans: t.Answer, goal: t.Goal}
		p.Queues[name] = q
	}
	return q
}

func (c *Calc) target(name string) Target {
	if t, ok := c.o.Targets[name]; ok {
		return t
	}
	return DefaultTarget
}

func agentOf(p *Period, ext string) *Agent {
	a := p.Agents[ext]
	if a == nil {
		a = &Agent{}
		p.Agents[ext] = a
	}
	return a
}

// spread calls f with the part of [from, to) inside each period (and the
// whole range).
func (c *Calc) spread(from, to time.Time, f func(p *Period, d time.Duration)) {
	from, to = maxTime(from, c.o.From), minTime(to, c.o.To)
	if !from.Before(to) {
		return
	}
	f(c.total, to.Sub(from))
	for i := max(c.period(from), 0); i < len(c.periods) && c.bounds[i].Before(to); i++ {
		if d := minTime(to, c.bounds[i+1]).Sub(maxTime(from, c.bounds[i])); d > 0 {
			f(c.periods[i], d)
		}
	}
}

// Event takes one queue event.
func (c *Calc) Event(e store.QueueEvent) {
	at := c.period(e.Time)
	switch e.Kind {
	case store.QueueEnter:
		c.open[e.Call] = &inQueue{queue: e.Queue, offered: at}
		c.each(at, func(p *Period) { c.queue(p, e.Queue).Offered++ })
		c.waiting(e.Queue, e.Time, +1)
	case store.QueueTransfer:
		in := c.open[e.Call]
		if in == nil || in.queue == e.Queue {
			return // back to its own queue: not a move
		}
		c.each(in.offered, func(p *Period) { c.queue(p, in.queue).Overflowed++ })
		c.waiting(in.queue, e.Time, -1)
		c.open[e.Call] = &inQueue{queue: e.Queue, offered: at}
		c.each(at, func(p *Period) { c.queue(p, e.Queue).Offered++ })
		c.waiting(e.Queue, e.Time, +1)
	case store.QueueConnect:
		if in := c.leave(e); in != nil {
			target := c.target(in.queue).Answer
			c.each(in.offered, func(p *Period) {
				q := c.queue(p, in.queue)
				q.Answered++
				q.wait += e.Wait
				q.waits = append(q.waits, e.Wait)
				q.LongestWait = max(q.LongestWait, Seconds(e.Wait))
				if e.Wait <= target {
					q.AnsweredInTarget++
				}
			})
		}
		c.each(at, func(p *Period) { agentOf(p, e.Agent).Answered++ })
	case store.QueueAbandon:
		if in := c.leave(e); in != nil {
			target := c.target(in.queue).Answer
			c.each(in.offered, func(p *Period) {
				q := c.queue(p, in.queue)
				switch {
				case e.Reason == "max-wait":
					q.TimedOut++
				case e.Reason == "no agents":
					q.NoAgents++
				case e.Wait < c.o.ShortAbandon:
					q.ShortAbandoned++
					return
				default:
					q.Abandoned++
					if e.Wait <= target {
						q.AbandonedInTarget++
					}
				}
				q.LongestWait = max(q.LongestWait, Seconds(e.Wait))
			})
		}
	case store.QueueCallbackRequested:
		if in := c.leave(e); in != nil {
			c.each(in.offered, func(p *Period) { c.queue(p, in.queue).Callbacks++ })
		}
		c.each(at, func(p *Period) { c.queue(p, e.Queue).CallbacksAsked++ })
	case store.QueueCallbackAnswered:
		c.each(at, func(p *Period) {
			q := c.queue(p, e.Queue)
			q.CallbacksAnswered++
			q.CallbacksOnTime += min(max(e.Value, 0), 1)
		})
	case store.QueueCallbackFailed:
		if e.Agent == "" { // given up; a failed attempt names the agent who was to take it
			c.each(at, func(p *Period) { c.queue(p, e.Queue).CallbacksGivenUp++ })
		}
	case store.QueueComplete:
		wrap := e.Wrap
		if wrap == 0 {
			wrap = c.o.Wrap[e.Queue]
		}
		c.each(at, func(p *Period) {
			q := c.queue(p, e.Queue)
			q.Completed++
			q.talk += e.Talk
			q.wrap += wrap
			agentOf(p, e.Agent).Completed++
		})
		// An agent's talk and wrap-up count in the intervals they took
		// place in, as the time staffed does: occupancy stays a share.
		c.spread(e.Time.Add(-e.Talk), e.Time, func(p *Period, d time.Duration) { agentOf(p, e.Agent).Talk += Seconds(d) })
		c.spread(e.Time, e.Time.Add(wrap), func(p *Period, d time.Duration) { agentOf(p, e.Agent).Wrap += Seconds(d) })
	case store.QueueRingNoAnswer:
		c.each(at, func(p *Period) { agentOf(p, e.Agent).RingNoAnswer++ })
	case store.QueueSurvey:
		if e.Value >= 1 && e.Value <= 5 {
			c.each(at, func(p *Period) {
				q := c.queue(p, e.Queue)
				q.Surveys++
				q.Scores[e.Value-1]++
			})
		}
	case store.QueueLogin, store.QueueLogout, store.QueuePause, store.QueueUnpause:
		c.staff(e)
	}
}

// leave takes a caller out of its queue (answered, abandoned, a
// callback): nil when the caller was not seen entering (a callback's
// customer, or an entry before the records begin).
func (c *Calc) leave(e store.QueueEvent) *inQueue {
	in := c.open[e.Call]
	if in == nil {
		return nil
	}
	delete(c.open, e.Call)
	c.waiting(in.queue, e.Time, -1)
	return in
}

// waiting changes a queue's length at t by d, integrating the length
// until then.
func (c *Calc) waiting(queue string, t time.Time, d int) {
	l := c.lens[queue]
	if l == nil {
		l = &length{since: t}
		c.lens[queue] = l
	}
	c.integrate(queue, l, t)
	l.n = max(l.n+d, 0)
	c.each(c.period(t), func(p *Period) {
		q := c.queue(p, queue)
		q.MaxLen = max(q.MaxLen, l.n)
	})
}

func (c *Calc) integrate(queue string, l *length, t time.Time) {
	if l.n > 0 {
		c.spread(l.since, t, func(p *Period, d time.Duration) {
			q := c.queue(p, queue)
			q.lenNs += float64(l.n) * float64(d)
			q.MaxLen = max(q.MaxLen, l.n)
		})
	}
	l.since = t
}

// staff follows an agent's login and pause, adding the time in each
// state to the periods it covers.
func (c *Calc) staff(e store.QueueEvent) {
	s := c.agents[e.Agent]
	if s == nil {
		// First heard of pausing, coming back or logging out: logged in
		// before the records read (the lookback), so since the range began.
		s = &staffing{since: e.Time, in: e.Kind != store.QueueLogin}
		if s.in && e.Time.After(c.o.From) {
			s.since = c.o.From
		}
		c.agents[e.Agent] = s
	}
	c.account(e.Agent, s, e.Time)
	switch e.Kind {
	case store.QueueLogin:
		s.in = true
	case store.QueueLogout:
		s.in, s.paused = false, false
	case store.QueuePause:
		s.paused = s.in
	case store.QueueUnpause:
		s.paused = false
	}
}

func (c *Calc) account(ext string, s *staffing, t time.Time) {
	if s.in {
		c.spread(s.since, t, func(p *Period, d time.Duration) {
			a := agentOf(p, ext)
			a.Staffed += Seconds(d)
			if s.paused {
				a.Paused += Seconds(d)
			}
		})
	}
	s.since = t
}

// CDR takes one call record.
func (c *Calc) CDR(r store.CDR) {
	if r.Direction == "in" && knownNumber(r.From) && r.Start.Before(c.o.To.Add(c.o.RepeatWindow)) && !r.Start.Before(c.o.From) {
		c.inbound = append(c.inbound, contact{number: numberHash(r.From), start: r.Start.UnixNano(), answered: r.Disposition == "answered"})
	}
	if r.Trunk == "" || !r.Start.Before(c.o.To) || !r.End.After(c.o.From) && r.Disposition != "refused" {
		return
	}
	started := c.period(r.Start) >= 0 // calls count where they began; channels are busy where they are
	if r.Disposition == "refused" {
		if started && blockedCause(r.Cause) {
			c.blocked[r.Trunk]++
		}
		return
	}
	if started {
		c.calls[r.Trunk]++
	}
	b := c.trunks[r.Trunk]
	if b == nil {
		b = &busy{}
		c.trunks[r.Trunk] = b
	}
	if from, to := maxTime(r.Start, c.o.From), minTime(r.End, c.o.To); from.Before(to) {
		b.starts, b.ends = append(b.starts, from.UnixNano()), append(b.ends, to.UnixNano())
	}
}

// knownNumber is a caller's number that names one caller: digits, with a
// leading +; "anonymous", "restricted" and the like name none.
func knownNumber(n string) bool {
	n = strings.TrimPrefix(n, "+")
	return n != "" && strings.Trim(n, "0123456789") == ""
}

// blockedCause tells a call refused for want of a channel: Q.850 34 (no
// circuit/channel available), 42 (switching equipment congestion), SIP 503.
func blockedCause(cause string) bool {
	for _, p := range []string{"Q.850 34 ", "Q.850 42 ", "SIP 503 "} {
		if strings.HasPrefix(cause+" ", p) {
			return true
		}
	}
	return false
}

// IVR takes the IVR node counters.
func (c *Calc) IVR(counts []store.IVRCount) { c.ivr = append(c.ivr, counts...) }

// Report finishes the figures, counting agents still logged in and
// callers still waiting up to the range's end.
func (c *Calc) Report() *Report {
	end := c.o.To
	for ext, s := range c.agents {
		c.account(ext, s, end)
	}
	for q, l := range c.lens {
		c.integrate(q, l, end)
	}
	for _, in := range c.open {
		c.each(in.offered, func(p *Period) { c.queue(p, in.queue).Waiting++ })
	}
	c.fcr()
	r := &Report{From: c.o.From, To: c.o.To, Interval: Seconds(c.o.Interval), Total: c.total, Intervals: c.periods, Trunks: c.trunkFigures(), IVR: Ranking(c.ivr)}
	for _, p := range append([]*Period{c.total}, c.periods...) {
		c.finish(p)
	}
	return r
}

func (c *Calc) finish(p *Period) {
	span := p.End.Sub(p.Start)
	names := make([]string, 0, len(p.Queues))
	for name := range p.Queues {
		names = append(names, name)
	}
	slices.Sort(names)
	all := &Queue{ans: DefaultTarget.Answer, goal: DefaultTarget.Goal}
	for _, name := range names {
		q := p.Queues[name]
		all.add(q)
		q.finish(span)
	}
	all.finish(span)
	all.AgentsNeeded = 0 // queues with their own targets: the sum of theirs is the figure
	for _, name := range names {
		all.AgentsNeeded += p.Queues[name].AgentsNeeded
	}
	p.All = all
	for _, a := range p.Agents {
		a.finish()
	}
	if len(c.o.Skills) > 0 {
		p.Skills = map[string]*Agent{}
		for skill, exts := range c.o.Skills {
			g := &Agent{}
			for _, ext := range exts {
				if a := p.Agents[ext]; a != nil {
					g.add(a)
				}
			}
			g.finish()
			p.Skills[skill] = g
		}
	}
}

// fcr finds, for each answered inbound call in the range, whether the
// same number called in again within the repeat window.
func (c *Calc) fcr() {
	slices.SortFunc(c.inbound, func(a, b contact) int { return cmp.Or(cmp.Compare(a.number, b.number), cmp.Compare(a.start, b.start)) })
	for i, k := range c.inbound {
		if !k.answered {
			continue
		}
		repeat := i+1 < len(c.inbound) && c.inbound[i+1].number == k.number && c.inbound[i+1].start-k.start <= int64(c.o.RepeatWindow)
		c.each(c.period(time.Unix(0, k.start)), func(p *Period) {
			p.FCR.Den++
			if repeat {
				p.Repeats++
			} else {
				p.FCR.Num++
			}
		})
	}
}

// trunkFigures sweeps each trunk's (and group's) busy spans.
func (c *Calc) trunkFigures() map[string]*Trunk {
	out := map[string]*Trunk{}
	for name, b := range c.trunks {
		out[name] = c.sweep(b, c.o.Channels[name])
		out[name].Calls, out[name].Blocked = c.calls[name], c.blocked[name]
	}
	for name := range c.blocked {
		if out[name] == nil {
			out[name] = &Trunk{Blocked: c.blocked[name], Channels: c.o.Channels[name]}
		}
	}
	for group, members := range c.o.Groups {
		all := &busy{}
		g := &Trunk{}
		for _, m := range members {
			if b := c.trunks[m]; b != nil {
				all.starts, all.ends = append(all.starts, b.starts...), append(all.ends, b.ends...)
			}
			g.Calls += c.calls[m]
			g.Blocked += c.blocked[m]
			g.Channels += c.o.Channels[m]
		}
		t := c.sweep(all, g.Channels)
		t.Calls, t.Blocked = g.Calls, g.Blocked
		out[group] = t
	}
	return out
}

// sweep measures channels busy over the range from when calls seized
// and freed them: the peak, the mean (erlangs), the busiest clock hour,
// the time with all channels busy, and the channels Erlang B says the
// busy hour needs. The seizures and the frees are sorted apart and merged
// (a free first at a tie), so a day of a million calls holds 16 MB.
func (c *Calc) sweep(b *busy, channels int) *Trunk {
	slices.Sort(b.starts)
	slices.Sort(b.ends)
	t := &Trunk{Channels: channels}
	hours := c.hours()
	perHour := make([]time.Duration, len(hours)) // channel-time in each clock hour
	var total time.Duration
	h, n := 0, 0
	prev := int64(0)
	for i, j := 0, 0; j < len(b.ends); {
		var at int64
		d := -1
		if i < len(b.starts) && b.starts[i] < b.ends[j] {
			at, d = b.starts[i], +1
			i++
		} else {
			at = b.ends[j]
			j++
		}
		if n > 0 && at > prev {
			total += time.Duration(n) * time.Duration(at-prev)
			if channels > 0 && n >= channels {
				t.AllBusy += Seconds(at - prev)
			}
			for from := prev; from < at; {
				for h+1 < len(hours) && hours[h+1] <= from {
					h++
				}
				to := at
				if h+1 < len(hours) {
					to = min(to, hours[h+1])
				}
				perHour[h] += time.Duration(n) * time.Duration(to-from)
				from = to
			}
		}
		prev = at
		n += d
		t.Peak = max(t.Peak, n)
	}
	if span := c.o.To.Sub(c.o.From); span > 0 {
		t.Mean = float64(total) / float64(span)
	}
	for i, d := range perHour {
		if e := d.Hours(); e > t.BusyHourErlangs {
			t.BusyHour, t.BusyHourErlangs = time.Unix(0, hours[i]).In(c.o.Loc), e
		}
	}
	t.Needed = ChannelsFor(t.BusyHourErlangs, c.o.Blocking)
	return t
}

// hours are the starts of the clock hours (on Loc's clock) that the range
// touches, in Unix nanoseconds; the first is the range's start's hour.
func (c *Calc) hours() []int64 {
	var out []int64
	for h := c.hourOf(c.o.From); h.Before(c.o.To); h = c.hourOf(h.Add(time.Hour)) {
		out = append(out, h.UnixNano())
	}
	return out
}

// hourOf is the start of t's hour on Loc's clock, found by taking off the
// clock's minutes and seconds (not by time.Date, which cannot tell the
// two 01:00s of the night the clock goes back apart). Zones half an hour
// off UTC have their hours there too.
func (c *Calc) hourOf(t time.Time) time.Time {
	lt := t.In(c.o.Loc)
	return lt.Add(-time.Duration(lt.Minute())*time.Minute - time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond()))
}

// Ranking orders IVR nodes by visits, most first (then by name).
func Ranking(counts []store.IVRCount) []IVRNode {
	byNode := map[[2]string]*IVRNode{}
	var out []*IVRNode
	for _, n := range counts {
		k := [2]string{n.Flow, n.Node}
		node := byNode[k]
		if node == nil {
			node = &IVRNode{Flow: n.Flow, Node: n.Node, Exits: map[string]uint64{}}
			byNode[k] = node
			out = append(out, node)
		}
		switch n.Exit {
		case "visit":
			node.Visits += n.N
		case "hangup":
			node.Hangups += n.N
			node.Exits[n.Exit] += n.N
		default:
			node.Exits[n.Exit] += n.N
		}
	}
	slices.SortStableFunc(out, func(a, b *IVRNode) int {
		return cmp.Or(cmp.Compare(b.Visits, a.Visits), strings.Compare(a.Flow+"/"+a.Node, b.Flow+"/"+b.Node))
	})
	res := make([]IVRNode, len(out))
	for i, n := range out {
		res[i] = *n
	}
	return res
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
