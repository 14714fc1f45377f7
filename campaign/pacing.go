package campaign

import (
	"math"
	"slices"
	"time"
)

// The abandon cap (the US FTC's safe harbour, 16 CFR 310.4(b)(4)): at
// most 3 % of the calls a person answers may find no agent within 2 s of
// their greeting, counted over the campaign and over any 30 days
// (Ofcom's rule counts 24 hours instead: Pacing.Window).
const (
	AbandonCap   = 0.03
	AbandonAfter = 2 * time.Second
	CapWindow    = 30 * 24 * time.Hour
)

// Pacing decides how many calls an agent-assisted campaign has ringing
// ahead of its free agents. It dials ahead (predictive) only while the
// abandons it predicts for the calls out are both a small enough share of
// the answers it predicts for them (plannedRate) and within what is left
// of the budget; once the budget is spent it dials one call per free
// agent (an agent reserved for each), which cannot abandon anyone. It
// keeps its own counts; the runner tells it every outcome and live
// answer.
//
// Pacing is not safe for concurrent use.
type Pacing struct {
	// Window is the rolling window of the cap, CapWindow when 0.
	Window time.Duration

	live, abandoned int // over the campaign
	days            []day
	dialled         int // outcomes seen, for the answer rate
	answered        int
	// Averages over about the last 32: how long a call rings before a
	// person answers, how long an agent is taken by a call (talk and
	// wrap-up).
	toAnswer, handle time.Duration
}

// Handled tells how long an agent was taken by a call, talk and wrap-up.
func (p *Pacing) Handled(d time.Duration) { p.handle = ewma(p.handle, d) }

func ewma(avg, d time.Duration) time.Duration {
	if avg == 0 {
		return d
	}
	return avg + (d-avg)/32
}

// day is one day's (or, in a window under a day, one hour's) counts.
type day struct {
	start           time.Time
	live, abandoned int
}

// priorAnswerRate is the answer rate assumed before 20 outcomes are in.
const priorAnswerRate = 0.3

// AnswerRate is the share of calls dialled that a person answered, as
// seen so far.
func (p *Pacing) AnswerRate() float64 {
	if p.dialled < 20 {
		return priorAnswerRate
	}
	return float64(p.answered) / float64(p.dialled)
}

// Outcome tells of a call that ended ringing after rang: answered by a
// person or not (busy, no answer, a machine).
func (p *Pacing) Outcome(live bool, rang time.Duration) {
	p.dialled++
	if live {
		p.answered++
		p.toAnswer = ewma(p.toAnswer, rang)
	}
}

// freeing is how many of busy agents are expected to be free by the
// time calls dialled now are answered: each is taken for handle on
// average, so a share toAnswer/handle of them frees up meanwhile.
func (p *Pacing) freeing(busy int) int {
	if p.handle <= 0 || p.toAnswer <= 0 {
		return 0
	}
	return int(float64(busy) * min(1, float64(p.toAnswer)/float64(p.handle)))
}

// Live tells of a call a person answered at now, and whether it was
// abandoned (no agent within AbandonAfter).
func (p *Pacing) Live(now time.Time, abandoned bool) {
	p.live++
	d := p.bucket(now)
	d.live++
	if abandoned {
		p.abandoned++
		d.abandoned++
	}
}

func (p *Pacing) window() time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return CapWindow
}

// bucket is the day (an hour, under a day's window) now falls in, the
// ones past the window dropped.
func (p *Pacing) bucket(now time.Time) *day {
	step := 24 * time.Hour
	if p.window() <= step {
		step = time.Hour
	}
	start := now.Truncate(step)
	cut := now.Add(-p.window())
	for len(p.days) > 0 && !p.days[0].start.Add(step).After(cut) {
		p.days = p.days[1:]
	}
	// In order of start: a call told late (its answer before a long talk)
	// goes in its own day, not after the next.
	i := len(p.days)
	for i > 0 && p.days[i-1].start.After(start) {
		i--
	}
	if i > 0 && p.days[i-1].start.Equal(start) {
		return &p.days[i-1]
	}
	p.days = slices.Insert(p.days, i, day{start: start})
	return &p.days[i]
}

// Rates are the abandon rates over the campaign and over the window,
// of live answers.
func (p *Pacing) Rates(now time.Time) (campaign, window float64) {
	p.bucket(now)
	live, ab := 0, 0
	for _, d := range p.days {
		live, ab = live+d.live, ab+d.abandoned
	}
	return rate(p.abandoned, p.live), rate(ab, live)
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// plannedRate is the abandon rate the prediction aims at, under the cap:
// abandons come in bursts (several answers at once), and a cap is not a
// target.
const plannedRate = 0.6 * AbandonCap

// budget is how many more abandons the planned rate allows now, in the
// tighter of the campaign and the window, if moreLive more calls are
// answered live.
func (p *Pacing) budget(now time.Time, moreLive float64) float64 {
	p.bucket(now)
	live, ab := 0, 0
	for _, d := range p.days {
		live, ab = live+d.live, ab+d.abandoned
	}
	return min(plannedRate*(float64(p.live)+moreLive)-float64(p.abandoned), plannedRate*(float64(live)+moreLive)-float64(ab))
}

// Ringing is how many calls to dial now for free agents free, busy
// agents busy, and ringing calls already out: enough for one per free
// agent, more only while the abandons predicted for them fit (see
// Pacing), counting the busy agents expected to be free by the time
// the calls are answered.
func (p *Pacing) Ringing(now time.Time, free, busy, ringing int) int {
	floor := max(free, 0)
	if free += p.freeing(busy); free <= 0 {
		return 0
	}
	a := p.AnswerRate()
	// The most calls out whose predicted abandons, all answered as the
	// rate says, fit both the planned rate of their own answers (the
	// budget alone would let the slack of a long campaign go in one
	// burst) and the budget; at least one per free agent (an agent
	// reserved for each cannot abandon anyone). Each excess is convex in
	// n and not above 0 at free when the budget is not spent: a binary
	// search finds where they cross.
	fits := func(n int) bool {
		over, live := expectedOverflow(n, a, free), float64(n)*a
		return over <= plannedRate*live && over <= p.budget(now, live)
	}
	lo, hi := free, free+int(math.Ceil(float64(free)/a)) // lo fits (or is the floor); hi is the most worth dialling
	if !fits(lo) {
		return max(0, floor-ringing)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return max(0, lo-ringing)
}

// expectedOverflow is E[max(0, X-free)] for X ~ Binomial(n, a): the calls
// answered beyond the free agents, each an abandon unless an agent frees
// up within AbandonAfter (which the prediction does not count on).
func expectedOverflow(n int, a float64, free int) float64 {
	if n <= free {
		return 0
	}
	// pmf by the recurrence P(k+1) = P(k)·(n-k)/(k+1)·a/(1-a).
	if a >= 1 {
		return float64(n - free)
	}
	p := math.Pow(1-a, float64(n))
	sum := 0.0
	for k := 0; k <= n; k++ {
		if k > free {
			sum += p * float64(k-free)
		}
		p *= float64(n-k) / float64(k+1) * a / (1 - a)
	}
	return sum
}
