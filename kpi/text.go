package kpi

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// ParseTime reads a --from or --to of a report or export: "2006-01-02" (midnight),
// "2006-01-02 15:04", "2006-01-02T15:04:05" in loc, or RFC 3339 with its
// own offset.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want 2006-01-02, 2006-01-02 15:04 or RFC 3339", s)
}

// Within is from <= t < to, a zero bound being none: the range of an
// export.
func Within(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// ParseInterval reads 15m, 30m, 1h or 1d ("" is the whole range).
func ParseInterval(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, nil
	case "15m":
		return 15 * time.Minute, nil
	case "30m":
		return 30 * time.Minute, nil
	case "1h":
		return time.Hour, nil
	case "1d", "24h":
		return 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("interval %q: want 15m, 30m, 1h or 1d", s)
}

// Today is the range from midnight in loc to now.
func Today(now time.Time, loc *time.Location) (from, to time.Time) {
	lt := now.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc), now
}

func pct(r Rate) string {
	if !r.Defined() {
		return "-"
	}
	return strconv.FormatFloat(100*r.Value(), 'f', 1, 64) + "%"
}

func secsText(s Seconds) string {
	if s == 0 {
		return "-"
	}
	return time.Duration(s).Round(time.Second).String()
}

func num(r Rate, prec int) string {
	if !r.Defined() {
		return "-"
	}
	return strconv.FormatFloat(r.Value(), 'f', prec, 64)
}

// queueNames is the queues of a period, in name order, or only queue
// when it is set.
func queueNames(p *Period, queue string) []string {
	if queue != "" {
		return []string{queue}
	}
	return slices.Sorted(maps.Keys(p.Queues))
}

// eachRow calls f for each period of the report (its intervals, or the
// whole range when it has none) and each of its queues (only queue, when
// set, and then all queues as "all").
func eachRow(r *Report, queue string, f func(p *Period, shown string, q *Queue)) {
	periods := r.Intervals
	if len(periods) == 0 {
		periods = []*Period{r.Total}
	}
	for _, p := range periods {
		names := queueNames(p, queue)
		if queue == "" {
			names = append(names, "")
		}
		for _, name := range names {
			q, shown := p.Queues[name], name
			if name == "" {
				q, shown = p.All, "all"
			}
			if q == nil {
				q = &Queue{}
			}
			f(p, shown, q)
		}
	}
}

// Text writes a report for a person: per period, a line per queue and
// one for all; then the agents, the trunks and the IVR ranking of the
// whole range. Only queue's lines when it is set.
func Text(w io.Writer, r *Report, queue string, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "From %s to %s\n", r.From.In(loc).Format("2006-01-02 15:04"), r.To.In(loc).Format("2006-01-02 15:04"))
	fmt.Fprintln(tw, "PERIOD\tQUEUE\tOFFERED\tANSWERED\tABANDONED\tSHORT\tTIMEOUT\tCALLBACK\tOVERFLOW\tSL\tABANDON\tASA\tAHT\tLONGEST\tSCORE")
	eachRow(r, queue, func(p *Period, shown string, q *Queue) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Start.In(loc).Format("01-02 15:04"), shown,
			q.Offered, q.Answered, q.Abandoned, q.ShortAbandoned, q.TimedOut, q.Callbacks, q.Overflowed, pct(q.SLAgainst), pct(q.AbandonRate),
			secsText(q.ASA), secsText(q.AHT), secsText(q.LongestWait), num(q.SurveyScore, 1))
	})
	t := r.Total
	fmt.Fprintf(tw, "\nFirst-contact resolution %s (%d repeat calls).", pct(t.FCR), t.Repeats)
	if a := t.All; a.CallbacksAsked+a.CallbacksAnswered > 0 {
		fmt.Fprintf(tw, " Callbacks: %d asked, %d answered, %s on time.", a.CallbacksAsked, a.CallbacksAnswered, pct(a.CallbackOnTime))
	}
	fmt.Fprintln(tw)
	if len(t.Agents) > 0 {
		fmt.Fprintln(tw, "\nAGENT\tANSWERED\tNO ANSWER\tSTAFFED\tPAUSED\tOCCUPANCY\tCALLS/H\tAHT")
		for _, ext := range slices.Sorted(maps.Keys(t.Agents)) {
			a := t.Agents[ext]
			aht := "-"
			if a.AHT.Defined() {
				aht = time.Duration(a.AHT.Value() * float64(time.Second)).Round(time.Second).String()
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", ext, a.Answered, a.RingNoAnswer, secsText(a.Staffed), secsText(a.Paused),
				pct(a.Occupancy), num(a.CallsPerHour, 1), aht)
		}
	}
	if len(r.Trunks) > 0 {
		fmt.Fprintln(tw, "\nTRUNK\tCALLS\tBLOCKED\tCHANNELS\tPEAK\tMEAN (E)\tBUSY HOUR\tBUSY-HOUR E\tALL BUSY\tNEEDED AT 1%")
		for _, n := range slices.Sorted(maps.Keys(r.Trunks)) {
			tr := r.Trunks[n]
			bh := "-"
			if !tr.BusyHour.IsZero() {
				bh = tr.BusyHour.In(loc).Format("01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t%s\t%.2f\t%s\t%d\n", n, tr.Calls, tr.Blocked, tr.Channels, tr.Peak, tr.Mean, bh,
				tr.BusyHourErlangs, secsText(tr.AllBusy), tr.Needed)
		}
	}
	if len(r.IVR) > 0 {
		fmt.Fprintln(tw, "\nIVR NODE (all time)\tVISITS")
		for i, n := range r.IVR {
			if i == 10 {
				break
			}
			fmt.Fprintf(tw, "%s/%s\t%d\n", n.Flow, n.Node, n.Visits)
		}
	}
	return tw.Flush()
}

// CSVColumns are the columns of CSV: one row per period and queue ("all"
// for every queue), rates as fractions, times in seconds, empty when a
// figure has no denominator.
var CSVColumns = []string{"start", "end", "queue", "offered", "answered", "abandoned", "short_abandoned", "timed_out", "no_agents",
	"callbacks", "overflowed", "waiting", "sl_abandons_ignored", "sl_abandons_against", "sl_abandons_in_favour", "abandon_rate",
	"answer_rate", "asa", "wait_p90", "aht", "longest_wait", "mean_length", "max_length", "survey_score", "agents_needed"}

// CSV writes the report's queue figures, a row per period and queue.
func CSV(w io.Writer, r *Report, queue string, loc *time.Location) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVColumns)
	rate := func(r Rate) string {
		if !r.Defined() {
			return ""
		}
		return strconv.FormatFloat(r.Value(), 'f', 4, 64)
	}
	s := func(d Seconds) string { return strconv.FormatFloat(time.Duration(d).Seconds(), 'f', 1, 64) }
	eachRow(r, queue, func(p *Period, shown string, q *Queue) {
		cw.Write([]string{p.Start.In(loc).Format(time.RFC3339), p.End.In(loc).Format(time.RFC3339), shown,
			strconv.Itoa(q.Offered), strconv.Itoa(q.Answered), strconv.Itoa(q.Abandoned), strconv.Itoa(q.ShortAbandoned),
			strconv.Itoa(q.TimedOut), strconv.Itoa(q.NoAgents), strconv.Itoa(q.Callbacks), strconv.Itoa(q.Overflowed), strconv.Itoa(q.Waiting),
			rate(q.SLIgnored), rate(q.SLAgainst), rate(q.SLFavour), rate(q.AbandonRate), rate(q.AnswerRate),
			s(q.ASA), s(q.WaitP90), s(q.AHT), s(q.LongestWait), strconv.FormatFloat(round(q.MeanLen, 4), 'f', -1, 64),
			strconv.Itoa(q.MaxLen), rate(q.SurveyScore), strconv.Itoa(q.AgentsNeeded)})
	})
	cw.Flush()
	return cw.Error()
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

// Only keeps one queue's figures (the --queue of a report) in every
// period; the all-queue line and the agents stay.
func (r *Report) Only(queue string) error {
	if queue == "" {
		return nil
	}
	if _, ok := r.Total.Queues[queue]; !ok {
		return fmt.Errorf("no queue %q in the records of this range", queue)
	}
	for _, p := range append([]*Period{r.Total}, r.Intervals...) {
		for n := range p.Queues {
			if n != queue {
				delete(p.Queues, n)
			}
		}
	}
	return nil
}
