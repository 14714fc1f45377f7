package kpi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"jinyin/store"
)

// The edges of each rule, worked by hand: a wait of exactly the target is
// within it, a repeat exactly at the window is a repeat, a call freeing a
// channel as another seizes it does not make two busy, the range whole
// (no intervals), a caller still waiting at the end.
func TestReportEdges(t *testing.T) {
	c := NewCalc(Options{From: at("09:00:00"), To: at("11:00:00"), Loc: cst, ShortAbandon: 5 * time.Second,
		Channels: map[string]int{"span1": 1, "carrier": 0}})
	ev := func(hms string, kind store.QueueKind, call string, wait float64) {
		c.Event(store.QueueEvent{Time: at(hms), Kind: kind, Queue: "sales", Call: call, Agent: "1001", Wait: sec(wait)})
	}
	ev("09:00:00", store.QueueEnter, "a", 0)
	ev("09:00:20", store.QueueConnect, "a", 20) // exactly 20 s: in target
	ev("09:01:00", store.QueueEnter, "b", 0)
	ev("09:01:20", store.QueueAbandon, "b", 20) // abandoned exactly at 20 s: in target
	ev("09:02:00", store.QueueEnter, "c", 0)
	ev("09:02:05", store.QueueAbandon, "c", 5) // exactly the short-abandon time: not short
	ev("09:03:00", store.QueueEnter, "d", 0)   // still waiting at 11:00
	c.Event(store.QueueEvent{Time: at("09:04:00"), Kind: store.QueueCallbackFailed, Queue: "sales", Agent: "1001", Reason: "busy"})
	cdr := func(from, trunk, start, end string) {
		c.CDR(store.CDR{Direction: "in", From: from, Trunk: trunk, Start: at(start), End: at(end), Disposition: "answered"})
	}
	cdr("13800000001", "span1", "09:00:00", "09:30:00")
	cdr("13800000001", "span1", "09:30:00", "10:15:00") // seizes as the first frees: one busy; 10:00-10:15 in the second hour
	cdr("13800000002", "", "09:00:00", "09:01:00")
	c.CDR(store.CDR{Direction: "in", From: "13800000002", Start: at("09:00:00").Add(24 * time.Hour), End: at("09:01:00").Add(24 * time.Hour), Disposition: "cancelled"})
	cdr("13800000003", "carrier", "10:00:00", "10:30:00")
	r := c.Report()
	if len(r.Intervals) != 0 {
		t.Fatalf("%d intervals for the range whole", len(r.Intervals))
	}
	s, sp, carrier := r.Total.Queues["sales"], r.Trunks["span1"], r.Trunks["carrier"]
	run(t, []check{
		{"answered at the target, in it", float64(s.AnsweredInTarget), 1},
		{"abandoned at the target (b) and under it (c), in it", float64(s.AbandonedInTarget), 2},
		{"abandoned at the short-abandon time is not short", float64(s.Abandoned), 2},
		{"short", float64(s.ShortAbandoned), 0},
		{"waiting at the end", float64(s.Waiting), 1},
		{"answer rate 1/(4-1 waiting)", s.AnswerRate.Value(), 1.0 / 3},
		{"a failed attempt is not given up", float64(s.CallbacksGivenUp), 0},
		// d waits 09:03-11:00: 7020 s; a 20, b 20, c 5.
		{"mean length", s.MeanLen, (20 + 20 + 5 + 7020) / 7200.0},
		{"span1 peak (a free before a seizure at a tie)", float64(sp.Peak), 1},
		{"span1 all busy: 09:00-10:15", asSecs(sp.AllBusy), 4500},
		{"span1 busy hour erlangs", sp.BusyHourErlangs, 1},
		{"span1 mean", sp.Mean, 4500.0 / 7200},
		{"carrier: no channels known, never all busy", asSecs(carrier.AllBusy), 0},
		{"carrier busy-hour erlangs (10:00-10:30)", carrier.BusyHourErlangs, 0.5},
		// 13800000001 again 30 min later: a repeat; 13800000002 again
		// exactly 24 h later (not answered, still a contact): a repeat;
		// 13800000001's second and 13800000003's: not.
		{"FCR", r.Total.FCR.Value(), 2.0 / 4},
		{"repeats", float64(r.Total.Repeats), 2},
	})
	if !sp.BusyHour.Equal(at("09:00:00")) || !carrier.BusyHour.Equal(at("10:00:00")) {
		t.Errorf("busy hours %v %v", sp.BusyHour, carrier.BusyHour)
	}
	if b, _ := json.Marshal(r.Total); strings.Contains(string(b), `"skills"`) {
		t.Errorf("skills listed with none configured: %s", b)
	}
}

// Of two equally busy hours the first is the busy hour; a repeat a second
// past the window is not one.
func TestBusyHourTieAndWindow(t *testing.T) {
	c := NewCalc(Options{From: at("09:00:00"), To: at("11:00:00"), Loc: cst, RepeatWindow: time.Hour})
	c.CDR(store.CDR{Direction: "in", From: "1", Trunk: "span1", Start: at("09:00:00"), End: at("09:30:00"), Disposition: "answered"})
	c.CDR(store.CDR{Direction: "in", From: "1", Trunk: "span1", Start: at("10:00:01"), End: at("10:30:01"), Disposition: "answered"})
	r := c.Report()
	if sp := r.Trunks["span1"]; !sp.BusyHour.Equal(at("09:00:00")) || sp.BusyHourErlangs != 0.5 {
		t.Errorf("busy hour %v %v", sp.BusyHour, sp.BusyHourErlangs)
	}
	if r.Total.Repeats != 0 || r.Total.FCR.Value() != 1 {
		t.Errorf("a second past the window: repeats %d FCR %v", r.Total.Repeats, r.Total.FCR.Value())
	}
}

// The text report names each part; the CSV has a row per period and
// queue with the all-queue row last.
func TestTextAndCSV(t *testing.T) {
	r := fixtureReport(t)
	var b bytes.Buffer
	if err := Text(&b, r, "", cst); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"From 2026-12-01 09:00 to 2026-12-01 10:00",
		"12-01 09:00  sales", "12-01 09:30  general", "12-01 09:30  all",
		"First-contact resolution 75.0% (1 repeat calls).", "Callbacks: 1 asked, 1 answered, 50.0% on time.",
		"main/welcome         12",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	rows := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = strings.Join(f, " ")
		}
	}
	for _, want := range []string{
		"1002 1 1 45m0s 10m0s 14.8% 1.3 5m10s",       // answered, no answer, staffed, paused, occupancy, calls/h, AHT
		"span1 3 1 2 2 0.92 12-01 09:00 0.92 5m0s 5", // calls, blocked, channels, peak, mean, busy hour, its erlangs, all busy, needed
		"carrier 0 0 0 1 0.03 12-01 09:00 0.03 - 2",
	} {
		if f := strings.Fields(want); rows[f[0]] != want {
			t.Errorf("row %q, want %q", rows[f[0]], want)
		}
	}
	b.Reset()
	if err := Text(&b, r, "general", cst); err != nil || strings.Contains(b.String(), "  sales  ") || strings.Contains(b.String(), "  all  ") {
		t.Errorf("one queue's text:\n%s", b.String())
	}
	b.Reset()
	if err := CSV(&b, r, "", cst); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// 2 intervals: sales and all in the first; general, sales, all in the second.
	if len(lines) != 6 || lines[0] != strings.Join(CSVColumns, ",") ||
		!strings.HasPrefix(lines[1], "2026-12-01T09:00:00+08:00,2026-12-01T09:30:00+08:00,sales,6,3,2,1,0,0,0,0,0,0.6667,0.4000,0.6000,0.4000,0.6000,21.7,40.0,250.0,40.0,0.06,1,4.0000,3") ||
		!strings.Contains(lines[2], ",all,") || !strings.Contains(lines[3], ",general,1,1,") {
		t.Errorf("CSV:\n%s", b.String())
	}
}

func TestParsers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-12-01", at("00:00:00")},
		{"2026-12-01 09:30", at("09:30:00")},
		{"2026-12-01T09:30", at("09:30:00")},
		{"2026-12-01 09:30:15", at("09:30:15")},
		{"2026-12-01T01:30:15Z", at("09:30:15")},
	} {
		if got, err := ParseTime(c.in, cst); err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v %v", c.in, got, err)
		}
	}
	if _, err := ParseTime("tomorrow", cst); err == nil {
		t.Error("tomorrow parsed")
	}
	for in, want := range map[string]time.Duration{"": 0, "15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour, "24h": 24 * time.Hour} {
		if got, err := ParseInterval(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseInterval("2h"); err == nil {
		t.Error("2h taken")
	}
	from, to := Today(at("15:04:05"), cst)
	if !from.Equal(at("00:00:00")) || !to.Equal(at("15:04:05")) {
		t.Errorf("today %v %v", from, to)
	}
	if !Within(at("09:00:00"), at("09:00:00"), at("10:00:00")) || Within(at("10:00:00"), at("09:00:00"), at("10:00:00")) ||
		!Within(at("10:00:00"), time.Time{}, time.Time{}) || Within(at("08:59:59"), at("09:00:00"), time.Time{}) {
		t.Error("Within's bounds")
	}
	var r Rate
	if err := json.Unmarshal([]byte(`"x"`), &r); err == nil {
		t.Error("a string read as a rate")
	}
	var s Seconds
	if err := json.Unmarshal([]byte(`1.5`), &s); err != nil || time.Duration(s) != 1500*time.Millisecond {
		t.Errorf("seconds %v %v", s, err)
	}
	if err := json.Unmarshal([]byte(`"x"`), &s); err == nil {
		t.Error("a string read as seconds")
	}
}

// With no traffic no agent is needed.
func TestAgentsForNoTraffic(t *testing.T) {
	if n := (Staffing{Rate: 0, AHT: time.Minute}).AgentsFor(0.8, 20*time.Second); n != 0 {
		t.Errorf("%d agents for no calls", n)
	}
}

// The queue_log writer's tables stay bounded: calls not heard of for a
// day go first, agents' logins are forgotten when the table is full, and
// a line longer than app_queue's buffer is cut at a character's start.
func TestQueueLogBounds(t *testing.T) {
	q := NewQueueLog(io.Discard)
	t0 := at("09:00:00")
	for i := range maxTracked - 1 {
		q.calls[fmt.Sprint("old", i)] = queueCall{seen: t0.Add(-48 * time.Hour)}
	}
	q.calls["recent"] = queueCall{seen: t0}
	q.track("new", queueCall{seen: t0})
	if _, ok := q.calls["recent"]; !ok || len(q.calls) != 2 {
		t.Errorf("after the table filled: %d calls, recent kept %v", len(q.calls), ok)
	}
	for i := range maxTracked {
		q.calls[fmt.Sprint("now", i)] = queueCall{seen: t0}
	}
	q.track("another", queueCall{seen: t0})
	if n := len(q.calls); n > maxTracked*3/4+1 || n < maxTracked/2 {
		t.Errorf("a full table of recent calls: %d kept", n)
	}
	q.track("", queueCall{seen: t0})
	if _, ok := q.calls[""]; ok {
		t.Error("a call without an id kept")
	}
	for i := range maxTracked {
		q.logins[fmt.Sprint(i)] = t0
	}
	q.Write(store.QueueEvent{Time: t0, Kind: store.QueueLogin, Agent: "0"}) // known: the table stays
	if len(q.logins) != maxTracked {
		t.Errorf("a known agent's login cleared the table: %d", len(q.logins))
	}
	q.Write(store.QueueEvent{Time: t0, Kind: store.QueueLogin, Agent: "new"})
	if len(q.logins) != 1 {
		t.Errorf("a new agent into a full table: %d", len(q.logins))
	}

	var b bytes.Buffer
	w := NewQueueLog(&b)
	w.Write(store.QueueEvent{Time: t0, Kind: store.QueuePause, Agent: "1001", Reason: strings.Repeat("é", 5000)})
	w.Flush()
	line := strings.TrimSuffix(b.String(), "\n")
	if len(line) > maxQueueLogLine || len(line) < maxQueueLogLine-1 || !utf8.ValidString(line) || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("a long line: %d bytes, valid %v", len(line), utf8.ValidString(line))
	}
}

// Found by review: on the night the clock goes back the repeated hour is
// two hours, not one of two hours' traffic; a 40-minute call's talk is
// spread over the quarter hours it took, so no quarter is over 100 %
// occupied; an agent heard of first pausing (logged in before the events
// read) is staffed from the range's start; withheld numbers are no one's
// first contact.
func TestReviewFindings(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone data:", err)
	}
	day := time.Date(2026, 10, 25, 0, 0, 0, 0, berlin) // 25 hours: 02:00-03:00 twice
	c := NewCalc(Options{From: day, To: day.Add(25 * time.Hour), Loc: berlin})
	c.CDR(store.CDR{Direction: "out", From: "1001", Trunk: "span1", Start: day, End: day.Add(25 * time.Hour), Disposition: "answered"})
	if sp := c.Report().Trunks["span1"]; sp.BusyHourErlangs != 1 || sp.Peak != 1 {
		t.Errorf("one channel busy all the long day: busy hour %v erlangs", sp.BusyHourErlangs)
	}

	c = NewCalc(Options{From: at("09:00:00"), To: at("10:00:00"), Interval: 15 * time.Minute, Loc: cst})
	c.Event(store.QueueEvent{Time: at("08:00:00"), Kind: store.QueueLogin, Agent: "1001"})
	c.Event(store.QueueEvent{Time: at("09:45:00"), Kind: store.QueueComplete, Queue: "q", Call: "a", Agent: "1001", Talk: 40 * time.Minute, Wrap: 10 * time.Second})
	c.Event(store.QueueEvent{Time: at("09:10:00"), Kind: store.QueuePause, Agent: "2002", Reason: "lunch"})
	c.CDR(store.CDR{Direction: "in", From: "anonymous", Start: at("09:00:00"), End: at("09:01:00"), Disposition: "answered"})
	c.CDR(store.CDR{Direction: "in", From: "anonymous", Start: at("09:02:00"), End: at("09:03:00"), Disposition: "answered"})
	c.CDR(store.CDR{Direction: "in", From: "+8613800000001", Start: at("09:04:00"), End: at("09:05:00"), Disposition: "answered"})
	r := c.Report()
	for i, want := range []float64{900 - 300, 900, 900, 10} { // talk 09:05-09:45, wrap 09:45:00-10
		a := r.Intervals[i].Agents["1001"]
		if got := asSecs(a.Talk + a.Wrap); got != want || a.Occupancy.Value() > 1 {
			t.Errorf("quarter %d: talk+wrap %v s, want %v; occupancy %v", i, got, want, a.Occupancy.Value())
		}
	}
	if a := r.Total.Agents["2002"]; a == nil || asSecs(a.Staffed) != 3600 || asSecs(a.Paused) != 3000 {
		t.Errorf("an agent first heard of pausing: %+v", a)
	}
	if r.Total.FCR.Den != 1 || r.Total.Repeats != 0 {
		t.Errorf("withheld numbers counted: FCR %+v, repeats %d", r.Total.FCR, r.Total.Repeats)
	}
}
