package kpi

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// Rate is a share or a mean kept as its two sums, so that periods add up
// exactly and an empty one says "no figure" instead of 0 or NaN: its JSON
// is the quotient, or null when Den is 0.
type Rate struct {
	Num, Den float64
}

// Value is Num/Den, or NaN when Den is 0.
func (r Rate) Value() float64 {
	if r.Den == 0 {
		return math.NaN()
	}
	return r.Num / r.Den
}

// Defined reports whether the rate has a denominator.
func (r Rate) Defined() bool { return r.Den != 0 }

func (r Rate) MarshalJSON() ([]byte, error) {
	if r.Den == 0 {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, r.Num/r.Den, 'g', 6, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes: the quotient as Num over
// a Den of 1, or null as no figure.
func (r *Rate) UnmarshalJSON(b []byte) error {
	var v *float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Rate{}
	if v != nil {
		*r = Rate{Num: *v, Den: 1}
	}
	return nil
}

func ratio[N int | float64](num, den N) Rate { return Rate{float64(num), float64(den)} }

// Seconds is a duration that reads as seconds in JSON.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', 3, 64), nil
}

func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// Waits is a sample of waiting times with its true mean and percentiles
// (nearest rank on the sorted sample: the p-th percentile is the smallest
// wait that p % of the sample does not exceed).
type Waits []time.Duration

// Mean is the arithmetic mean, 0 for no sample.
func (w Waits) Mean() time.Duration {
	if len(w) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range w {
		sum += d
	}
	return sum / time.Duration(len(w))
}

// Percentile is the p-th percentile (0 < p <= 100) by nearest rank,
// sorting w in place; 0 for no sample.
func (w Waits) Percentile(p float64) time.Duration {
	if len(w) == 0 {
		return 0
	}
	slices.Sort(w)
	rank := int(math.Ceil(p / 100 * float64(len(w))))
	return w[min(max(rank, 1), len(w))-1]
}

// Queue is one queue's figures over a period (or every queue's, summed).
// Calls count in the period they were offered in (entered the queue), as
// workforce tools count them, so that each call has one outcome:
//
//	Offered = Answered + Abandoned + ShortAbandoned + TimedOut + NoAgents
//	        + Callbacks + Overflowed + Waiting
//
// (Waiting: still in the queue when the period's figures were taken).
//
// A call moved on (overflow) counts as offered in both queues, in the
// second with its wait since it first joined (the box keeps its place in
// time, so that is how long the caller has waited); in the first it is
// neither answered nor abandoned, so its service level does not see it:
// read Overflowed and TimedOut beside it.
type Queue struct {
	Offered        int `json:"offered"`         // entered the queue, or moved into it from another
	Answered       int `json:"answered"`        // an agent took the call
	Abandoned      int `json:"abandoned"`       // the caller hung up waiting, after the short-abandon time
	ShortAbandoned int `json:"short_abandoned"` // the caller hung up within the short-abandon time
	TimedOut       int `json:"timed_out"`       // max_wait passed (exit with timeout)
	NoAgents       int `json:"no_agents"`       // left because no agent was logged in (when_empty)
	Callbacks      int `json:"callbacks"`       // keyed a callback and left (exit with key)
	Overflowed     int `json:"overflowed"`      // moved on to another queue
	Waiting        int `json:"waiting"`         // not yet out

	AnsweredInTarget  int `json:"answered_in_target"`  // answered within the queue's target time
	AbandonedInTarget int `json:"abandoned_in_target"` // abandoned (not short) within the target time

	// The service level in its three common variants (short abandons
	// left out of all three):
	//   SLIgnored  = answered in target / answered
	//   SLAgainst  = answered in target / (answered + abandoned)
	//   SLFavour   = (answered in target + abandoned in target) / (answered + abandoned)
	SLIgnored Rate `json:"sl_abandons_ignored"`
	SLAgainst Rate `json:"sl_abandons_against"`
	SLFavour  Rate `json:"sl_abandons_in_favour"`
	// Abandoned / (answered + abandoned): callbacks, timeouts, overflows
	// and short abandons are not abandons.
	AbandonRate Rate `json:"abandon_rate"`
	// Answered / (offered - short abandoned - overflowed - waiting).
	AnswerRate Rate `json:"answer_rate"`

	ASA         Seconds `json:"asa"`          // mean wait of the answered calls
	WaitP50     Seconds `json:"wait_p50"`     // percentiles of the answered calls' wait
	WaitP90     Seconds `json:"wait_p90"`     //
	WaitP95     Seconds `json:"wait_p95"`     //
	LongestWait Seconds `json:"longest_wait"` // the longest wait of a call answered or lost

	Completed int     `json:"completed"` // answered calls that ended in the period
	AHT       Seconds `json:"aht"`       // (talk + hold + wrap-up) / completed; the box has no hold
	Talk      Seconds `json:"talk"`      // mean talk time
	MeanLen   float64 `json:"mean_length"`
	MaxLen    int     `json:"max_length"` // callers waiting at once

	CallbacksAsked    int  `json:"callbacks_asked"`
	CallbacksAnswered int  `json:"callbacks_answered"`
	CallbacksOnTime   int  `json:"callbacks_on_time"` // answered by the time promised
	CallbacksGivenUp  int  `json:"callbacks_given_up"`
	CallbackOnTime    Rate `json:"callback_on_time_rate"` // on time / (answered + given up)

	Surveys     int    `json:"surveys"`
	Scores      [5]int `json:"scores"`       // how many gave 1 .. 5
	SurveyScore Rate   `json:"survey_score"` // the mean score

	// Erlang C at this period's offered rate and AHT: the agents that
	// would meet the queue's target (0 when there is no traffic).
	AgentsNeeded int `json:"agents_needed"`

	waits Waits
	talk  time.Duration
	wrap  time.Duration
	wait  time.Duration // sum of answered waits
	lenNs float64       // ∫ callers waiting dt, in caller-nanoseconds
	ans   time.Duration // the target time, for AgentsNeeded
	goal  float64
}

// finish derives the rates and means from the sums over a period of span.
func (q *Queue) finish(span time.Duration) {
	q.SLIgnored = ratio(q.AnsweredInTarget, q.Answered)
	q.SLAgainst = ratio(q.AnsweredInTarget, q.Answered+q.Abandoned)
	q.SLFavour = ratio(q.AnsweredInTarget+q.AbandonedInTarget, q.Answered+q.Abandoned)
	q.AbandonRate = ratio(q.Abandoned, q.Answered+q.Abandoned)
	q.AnswerRate = ratio(q.Answered, q.Offered-q.ShortAbandoned-q.Overflowed-q.Waiting)
	q.CallbackOnTime = ratio(q.CallbacksOnTime, q.CallbacksAnswered+q.CallbacksGivenUp)
	var sum int
	for i, n := range q.Scores {
		sum += (i + 1) * n
	}
	q.SurveyScore = ratio(sum, q.Surveys)
	if q.Answered > 0 {
		q.ASA = Seconds(q.wait / time.Duration(q.Answered))
	}
	q.WaitP50 = Seconds(q.waits.Percentile(50))
	q.WaitP90 = Seconds(q.waits.Percentile(90))
	q.WaitP95 = Seconds(q.waits.Percentile(95))
	if q.Completed > 0 {
		q.AHT = Seconds((q.talk + q.wrap) / time.Duration(q.Completed))
		q.Talk = Seconds(q.talk / time.Duration(q.Completed))
	}
	if span > 0 {
		q.MeanLen = q.lenNs / float64(span)
		if q.AHT > 0 && q.goal > 0 {
			s := Staffing{Rate: float64(q.Offered) / span.Seconds(), AHT: time.Duration(q.AHT)}
			q.AgentsNeeded = s.AgentsFor(q.goal, q.ans)
		}
	}
}

// add sums o into q (for the all-queues figures).
func (q *Queue) add(o *Queue) {
	q.Offered += o.Offered
	q.Answered += o.Answered
	q.Abandoned += o.Abandoned
	q.ShortAbandoned += o.ShortAbandoned
	q.TimedOut += o.TimedOut
	q.NoAgents += o.NoAgents
	q.Callbacks += o.Callbacks
	q.Overflowed += o.Overflowed
	q.Waiting += o.Waiting
	q.AnsweredInTarget += o.AnsweredInTarget
	q.AbandonedInTarget += o.AbandonedInTarget
	q.LongestWait = max(q.LongestWait, o.LongestWait)
	q.Completed += o.Completed
	q.MaxLen += o.MaxLen // at most: the queues' peaks need not coincide
	q.CallbacksAsked += o.CallbacksAsked
	q.CallbacksAnswered += o.CallbacksAnswered
	q.CallbacksOnTime += o.CallbacksOnTime
	q.CallbacksGivenUp += o.CallbacksGivenUp
	q.Surveys += o.Surveys
	for i := range q.Scores {
		q.Scores[i] += o.Scores[i]
	}
	q.waits = append(q.waits, o.waits...)
	q.talk += o.talk
	q.wrap += o.wrap
	q.wait += o.wait
	q.lenNs += o.lenNs
}

// Agent is one agent's (or a skill group's, summed) figures over a period.
type Agent struct {
	Answered     int     `json:"answered"`
	RingNoAnswer int     `json:"ring_no_answer"`
	Completed    int     `json:"completed"`
	Talk         Seconds `json:"talk"`    // total talk time
	Wrap         Seconds `json:"wrap_up"` // total wrap-up time
	Staffed      Seconds `json:"staffed"` // logged in
	Paused       Seconds `json:"paused"`  // logged in and paused
	// Occupancy = (talk + wrap-up) / (staffed - paused): the share of the
	// time an agent was available that went on calls.
	Occupancy Rate `json:"occupancy"`
	// CallsPerHour = answered / staffed hours.
	CallsPerHour Rate `json:"calls_per_hour"`
	AHT          Rate `json:"aht"` // (talk + wrap-up) / completed, in seconds
}

func (a *Agent) finish() {
	handle := time.Duration(a.Talk + a.Wrap).Seconds()
	a.Occupancy = ratio(handle, time.Duration(a.Staffed-a.Paused).Seconds())
	a.CallsPerHour = ratio(float64(a.Answered), time.Duration(a.Staffed).Hours())
	a.AHT = ratio(handle, float64(a.Completed))
}

func (a *Agent) add(o *Agent) {
	a.Answered += o.Answered
	a.RingNoAnswer += o.RingNoAnswer
	a.Completed += o.Completed
	a.Talk += o.Talk
	a.Wrap += o.Wrap
	a.Staffed += o.Staffed
	a.Paused += o.Paused
}

// Trunk is one trunk's (span, FXO port, SIP trunk) or trunk group's use
// over the report's range, from the CDRs of the calls it carried.
type Trunk struct {
	Calls    int     `json:"calls"`
	Blocked  int     `json:"blocked"`  // refused for want of a channel (Q.850 34, SIP 503)
	Channels int     `json:"channels"` // as configured; 0 when not known
	Peak     int     `json:"peak"`     // channels busy at once
	Mean     float64 `json:"mean"`     // channels busy on average (erlangs)
	// The clock hour with the most traffic, and its traffic in erlangs.
	BusyHour        time.Time `json:"busy_hour"`
	BusyHourErlangs float64   `json:"busy_hour_erlangs"`
	AllBusy         Seconds   `json:"all_busy"` // time with every channel busy
	// Erlang B: the channels that carry the busy hour's traffic with at
	// most the report's blocking target (1 % unless set).
	Needed int `json:"channels_needed"`
}

// Period is the figures of one interval (or of the whole range).
type Period struct {
	Start  time.Time         `json:"start"`
	End    time.Time         `json:"end"`
	All    *Queue            `json:"all"`
	Queues map[string]*Queue `json:"queues"`
	Agents map[string]*Agent `json:"agents"`
	Skills map[string]*Agent `json:"skills,omitempty"`
	// First-contact resolution: of the answered inbound calls from a known
	// number that began in the period, the share not followed by another
	// inbound call from that number within the repeat window.
	FCR     Rate `json:"fcr"`
	Repeats int  `json:"repeats"`
}
