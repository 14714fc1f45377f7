package campaign

import (
	"fmt"
	"strconv"
	"time"

	"jinyin/store"
)

// Interval is a campaign's report for one stretch of time, from the
// attempts that started in it.
type Interval struct {
	Start    time.Time        `json:"start"`
	Attempts int              `json:"attempts"`
	Contacts int              `json:"contacts"` // distinct numbers called
	Reached  int              `json:"reached"`  // answered by a person, or a message left on a machine
	Outcomes map[string]int   `json:"outcomes"` // by outcome: busy, no-answer, vacant, machine, ...
	Scores   map[string]Score `json:"scores"`   // by answer variable: the numeric answers keyed
	// In an agent-assisted campaign: the calls a person answered (an
	// agent reached, abandoned, or a machine hung up on, which may have
	// been a person), the abandoned among them and their share against
	// the cap, and the agents' time on the calls (talk and wrap-up).
	Live         int     `json:"live,omitempty"`
	Abandoned    int     `json:"abandoned,omitempty"`
	AbandonRate  float64 `json:"abandon_rate,omitempty"`
	AbandonCap   float64 `json:"abandon_cap,omitempty"`
	AgentSeconds float64 `json:"agent_seconds,omitempty"`
}

// Score sums one survey question's numeric answers.
type Score struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
}

// maxIntervals bounds one report.
const maxIntervals = 10000

// Report reads a campaign's attempts that started in [from, to) into
// intervals of every (a whole report when every is 0); an interval in
// which nothing was dialled is left out.
func (r *Runner) Report(name string, from, to time.Time, every time.Duration) ([]Interval, error) {
	r.mu.Lock()
	ru, ok := r.camps[name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoCampaign, name)
	}
	assisted := ru.pacing != nil
	if every <= 0 {
		every = to.Sub(from)
	}
	if !to.After(from) || every <= 0 || to.Sub(from)/every > maxIntervals {
		return nil, fmt.Errorf("campaign: a report from %v to %v in steps of %v: want from before to and at most %d steps", from, to, every, maxIntervals)
	}
	var out []Interval
	var cur *Interval
	var numbers map[string]bool
	sums := map[string]float64{}
	flush := func() {
		if cur == nil {
			return
		}
		for k, s := range cur.Scores {
			s.Mean = sums[k] / float64(s.N)
			cur.Scores[k] = s
		}
		if assisted {
			cur.AbandonRate, cur.AbandonCap = rate(cur.Abandoned, cur.Live), AbandonCap
		}
		clear(sums)
		out = append(out, *cur)
	}
	err := r.o.DB.Attempts(name, from, to, func(a store.Attempt) bool {
		start := from.Add(a.Start.Sub(from) / every * every)
		if cur == nil || !cur.Start.Equal(start) {
			flush()
			cur, numbers = &Interval{Start: start, Outcomes: map[string]int{}, Scores: map[string]Score{}}, map[string]bool{}
		}
		cur.Attempts++
		if !numbers[a.Number] {
			numbers[a.Number] = true
			cur.Contacts++
		}
		cur.Outcomes[a.Outcome]++
		o := Outcome(a.Outcome)
		if o == Answered || o == MessageLeft {
			cur.Reached++
		}
		if assisted && o.live() {
			cur.Live++
			if o != Answered {
				cur.Abandoned++
			}
		}
		cur.AgentSeconds += a.Agent.Seconds()
		for k, v := range a.Answers {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				s := cur.Scores[k]
				s.N++
				cur.Scores[k] = s
				sums[k] += x
			}
		}
		return true
	})
	flush()
	return out, err
}
