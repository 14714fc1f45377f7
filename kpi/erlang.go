// Package kpi is the call centre's figures: the definitions a supervisor
// runs the centre by, each with its formula and source, computed from the
// records the box keeps:
//
//   - figures.go defines every figure with its formula (service level in
//     three variants, abandon and answer rates, ASA and wait percentiles,
//     AHT, occupancy, calls per hour, queue length, first-contact
//     resolution, callbacks on time, survey scores, trunk use);
//   - report.go computes them per queue, agent, skill group and trunk,
//     per 15/30/60-minute or daily interval, from queue events and CDRs;
//   - store.go reads them from a box's database with its config's rules;
//   - erlang.go is the traffic models: Erlang B for trunk sizing and
//     Erlang C for staffing;
//   - text.go, mastercsv.go and queuelog.go write them out.
//
// Layer: above store and config. Nothing here knows about SIP, PRI or the
// console; the console, the HTTP API and `jinyin report` show what it
// computes.
package kpi

import (
	"math"
	"time"
)

// ErlangB is the probability that a call finds all of channels busy when
// traffic erlangs are offered to them and blocked calls are lost (A. K.
// Erlang, 1917; ITU-T E.520 sizes circuit groups with it). Computed by the
// recurrence B(A,0) = 1, B(A,m) = A·B(A,m-1) / (m + A·B(A,m-1)), which is
// exact and stable for any number of channels.
func ErlangB(traffic float64, channels int) float64 {
	if traffic <= 0 {
		return 0
	}
	b := 1.0
	for m := 1; m <= channels; m++ {
		b = traffic * b / (float64(m) + traffic*b)
	}
	return b
}

// ChannelsFor is the fewest channels that carry traffic erlangs with at
// most the given blocking probability (e.g. 0.01): how many of a trunk
// group's channels the measured busy-hour traffic needs.
func ChannelsFor(traffic, blocking float64) int {
	if traffic <= 0 {
		return 0
	}
	b := 1.0
	for m := 1; ; m++ {
		b = traffic * b / (float64(m) + traffic*b)
		if b <= blocking {
			return m
		}
	}
}

// Staffing is the Erlang C model of one queue: calls arrive at random at
// Rate per second, each takes AHT of an agent, and callers wait (and do not
// abandon) until one of Agents is free.
type Staffing struct {
	Rate   float64       // calls per second
	AHT    time.Duration // average handle time: talk + hold + wrap-up
	Agents int
}

// Traffic is the offered load in erlangs: rate × AHT.
func (s Staffing) Traffic() float64 { return s.Rate * s.AHT.Seconds() }

// Wait is the probability that a caller waits at all (Erlang C):
// C = N·B / (N - A·(1 - B)) with B = ErlangB(A, N). It is 1 when the
// agents cannot keep up (N <= A).
func (s Staffing) Wait() float64 {
	a, n := s.Traffic(), float64(s.Agents)
	if n <= a {
		return 1
	}
	b := ErlangB(a, s.Agents)
	return n * b / (n - a*(1-b))
}

// ServiceLevel is the share of callers answered within t:
// 1 - C·e^{-(N-A)·t/AHT}.
func (s Staffing) ServiceLevel(t time.Duration) float64 {
	a, n := s.Traffic(), float64(s.Agents)
	if n <= a {
		return 0
	}
	return 1 - s.Wait()*math.Exp(-(n-a)*t.Seconds()/s.AHT.Seconds())
}

// ASA is the average speed of answer: C·AHT / (N - A).
func (s Staffing) ASA() time.Duration {
	a, n := s.Traffic(), float64(s.Agents)
	if n <= a {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s.Wait() * s.AHT.Seconds() / (n - a) * float64(time.Second))
}

// Occupancy is the share of the agents' time on calls: A / N.
func (s Staffing) Occupancy() float64 {
	if s.Agents == 0 {
		return 0
	}
	return min(s.Traffic()/float64(s.Agents), 1)
}

// AgentsFor is the fewest agents that answer the share target (e.g. 0.8)
// of calls within t (e.g. 20 s) at this rate and AHT; the Agents field is
// ignored. It is at most 10,000, beyond which it reports 0.
func (s Staffing) AgentsFor(target float64, t time.Duration) int {
	if s.Traffic() <= 0 {
		return 0
	}
	for n := int(s.Traffic()) + 1; n <= 10000; n++ {
		s.Agents = n
		if s.ServiceLevel(t) >= target {
			return n
		}
	}
	return 0
}
