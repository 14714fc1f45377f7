package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"jinyin/store"
)

// serviceTarget is the answer time the service level counts against: the
// share of calls answered within 20 s (the 80/20 convention).
const serviceTarget = 20 * time.Second

// kpi is one queue's figures over a period, from its queue events.
type kpi struct {
	offered, answered, abandoned, inTarget int
	wait, talk                             time.Duration
	completes                              int
	cbAsked, cbAnswered, cbOnTime          int
	surveys, scoreSum                      int
}

// kpis sums queue events from since on, per queue and in total ("").
func kpis(evs []store.QueueEvent, since time.Time) map[string]*kpi {
	out := map[string]*kpi{"": {}}
	for _, e := range evs {
		if e.Time.Before(since) {
			continue
		}
		for _, q := range []string{"", e.Queue} {
			k := out[q]
			if k == nil {
				k = &kpi{}
				out[q] = k
			}
			switch e.Kind {
			case store.QueueEnter:
				k.offered++
			case store.QueueConnect:
				k.answered++
				k.wait += e.Wait
				if e.Wait <= serviceTarget {
					k.inTarget++
				}
			case store.QueueAbandon:
				k.abandoned++
			case store.QueueComplete:
				k.completes++
				k.talk += e.Talk
			case store.QueueCallbackRequested:
				k.cbAsked++
			case store.QueueCallbackAnswered:
				k.cbAnswered++
				k.cbOnTime += e.Value
			case store.QueueSurvey:
				k.surveys++
				k.scoreSum += e.Value
			}
			if e.Queue == "" {
				break
			}
		}
	}
	return out
}

func pct(n, d int) string {
	if d == 0 {
		return "-"
	}
	return strconv.Itoa((100*n+d/2)/d) + "%"
}

func avg(t time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return (t / time.Duration(n)).Round(time.Second).String()
}

func (c *Console) showKPI(args []string) (string, error) {
	now := c.o.Clock.Now()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	period := "today"
	if len(args) > 0 {
		switch {
		case strings.HasPrefix("hour", args[0]):
			since, period = now.Add(-time.Hour), "the last hour"
		case strings.HasPrefix("today", args[0]):
		default:
			return "", fmt.Errorf("show kpi [today|hour], not %q", args[0])
		}
	}
	var evs []store.QueueEvent
	for seq := uint64(0); ; {
		page, err := c.o.DB.QueueEvents(seq, 1000)
		if err != nil {
			return "", err
		}
		evs = append(evs, page...)
		if len(page) < 1000 {
			break
		}
		seq = page[len(page)-1].Seq
	}
	ks := kpis(evs, since)
	var names []string
	for q := range ks {
		if q != "" {
			names = append(names, q)
		}
	}
	sort.Strings(names)
	var rows [][]string
	for _, q := range append(names, "") {
		k, name := ks[q], q
		if name == "" {
			name = "all"
		}
		rows = append(rows, []string{name, strconv.Itoa(k.offered), strconv.Itoa(k.answered), pct(k.abandoned, k.offered),
			pct(k.inTarget, k.answered+k.abandoned), avg(k.wait, k.answered), avg(k.talk, k.completes)})
	}
	t := ks[""]
	score := "-"
	if t.surveys > 0 {
		score = fmt.Sprintf("%.1f of 5 (%d)", float64(t.scoreSum)/float64(t.surveys), t.surveys)
	}
	out := fmt.Sprintf("Queues, %s (service level: answered within %v):\n", period, serviceTarget) +
		table("QUEUE\tOFFERED\tANSWERED\tABANDON\tSL\tASA\tAHT", rows) +
		fmt.Sprintf("Callbacks: %d asked, %d answered, %s on time.  Survey: %s.\n", t.cbAsked, t.cbAnswered, pct(t.cbOnTime, t.cbAnswered), score)
	counts, err := c.o.DB.IVRCounts()
	if err != nil {
		return "", err
	}
	var top [][]string
	for _, n := range counts {
		if n.Exit == "visit" && len(top) < 5 {
			top = append(top, []string{n.Flow + "/" + n.Node, strconv.FormatUint(n.N, 10)})
		}
	}
	if len(top) > 0 {
		out += "IVR nodes most visited (all time):\n" + table("NODE\tVISITS", top)
	}
	return out, nil
}
