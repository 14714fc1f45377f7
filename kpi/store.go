package kpi

import (
	"fmt"
	"time"

	"jinyin/config"
	"jinyin/store"
)

// OptionsFor is the rules a box's config sets for its reports: each
// queue's service level target and wrap-up, the short-abandon time and
// repeat window, the queues as skill groups, each trunk's channels and
// the trunk groups, in the box's time zone. The range and interval are
// the caller's to set.
func OptionsFor(cfg *config.Config) Options {
	o := Options{
		Loc:          cfg.Location(),
		Targets:      map[string]Target{},
		Wrap:         map[string]time.Duration{},
		ShortAbandon: config.DurationOr(cfg.ACD.ShortAbandon, 5*time.Second),
		RepeatWindow: config.DurationOr(cfg.ACD.RepeatWindow, 24*time.Hour),
		Skills:       map[string][]string{},
		Channels:     map[string]int{},
		Groups:       map[string][]string{},
	}
	for _, q := range cfg.Queues {
		goal, answer := q.Target()
		o.Targets[q.Name] = Target{Goal: goal, Answer: answer}
		o.Wrap[q.Name] = config.DurationOr(q.WrapUp, 10*time.Second)
		o.Skills[q.Name] = q.Agents
	}
	for _, s := range cfg.Spans {
		name := fmt.Sprintf("span%d", s.ID) // as the CDRs name it
		if chans, err := config.ParseChannels(s.Channels); err == nil {
			o.Channels[name] = len(chans)
		}
		if s.Group != "" {
			o.Groups[s.Group] = append(o.Groups[s.Group], name)
		}
	}
	for _, p := range cfg.Ports {
		if p.Kind == "fxo" {
			name := fmt.Sprintf("port%d", p.ID)
			o.Channels[name] = 1
			if p.Group != "" {
				o.Groups[p.Group] = append(o.Groups[p.Group], name)
			}
		}
	}
	for _, t := range cfg.Trunks {
		if t.Channels > 0 {
			o.Channels[t.Name] = t.Channels
		}
	}
	return o
}

// horizon is how long after a range its calls may still end: the
// longest max_wait a queue may set.
const horizon = 24 * time.Hour

// A report covers at most MaxRange, in at most MaxIntervals intervals (a
// month of quarter hours): each interval holds its figures in memory.
const (
	MaxRange     = 400 * 24 * time.Hour
	MaxIntervals = 3000
)

// CheckRange refuses a range a report should not take: backwards, longer
// than MaxRange, or cut into more than MaxIntervals.
func CheckRange(from, to time.Time, interval time.Duration) error {
	switch {
	case !from.Before(to):
		return fmt.Errorf("kpi: the range's start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > MaxRange:
		return fmt.Errorf("kpi: a range of %v is longer than %v", to.Sub(from).Round(time.Hour), MaxRange)
	case interval > 0 && to.Sub(from)/interval > MaxIntervals:
		return fmt.Errorf("kpi: %v in %v intervals is more than %d; take a longer interval", to.Sub(from).Round(time.Hour), interval, MaxIntervals)
	}
	return nil
}

// lookback is how far before a range the queue events are read, for the
// agents logged in and the callers waiting when it begins: an agent whose
// last login is older than that is taken as logged in since the range's
// start from their first pause, return or logout in what is read.
const lookback = 7 * 24 * time.Hour

// Reads is what a report over a range reads: the queue events of
// EventsFrom to EventsTo, the CDRs of calls ending from CDRsFrom to
// CDRsTo. FromStore reads them from the box's store, headquarters from
// its PostgreSQL copy of many boxes' (package hq): the same figures.
type Reads struct{ EventsFrom, EventsTo, CDRsFrom, CDRsTo time.Time }

// ReadsFor is what a report over o reads.
func ReadsFor(o Options) Reads {
	repeat := o.RepeatWindow
	if repeat == 0 {
		repeat = 24 * time.Hour
	}
	return Reads{EventsFrom: o.From.Add(-lookback), EventsTo: o.To.Add(horizon), CDRsFrom: o.From, CDRsTo: o.To.Add(horizon + repeat)}
}

// FromStore computes the report of o's range from a box's records: the
// queue events from a week before the range (agents logged in, callers
// waiting) to a day after (a caller offered in it may be answered after),
// the CDRs of calls ending from the range's start, the IVR counters. The
// records before are skipped by a search, not read.
func FromStore(db *store.DB, o Options) (*Report, error) {
	if err := CheckRange(o.From, o.To, o.Interval); err != nil {
		return nil, err
	}
	c := NewCalc(o)
	rd := ReadsFor(c.o)
	if err := db.EachQueueEventFrom(rd.EventsFrom, func(e store.QueueEvent) (bool, error) {
		if e.Time.After(rd.EventsTo) {
			return false, nil
		}
		c.Event(e)
		return true, nil
	}); err != nil {
		return nil, err
	}
	if err := db.EachCDREndingFrom(rd.CDRsFrom, func(r store.CDR) (bool, error) {
		if r.End.After(rd.CDRsTo) {
			return false, nil
		}
		c.CDR(r)
		return true, nil
	}); err != nil {
		return nil, err
	}
	counts, err := db.IVRCounts()
	if err != nil {
		return nil, err
	}
	c.IVR(counts)
	return c.Report(), nil
}
