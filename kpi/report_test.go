package kpi

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"jinyin/store"
)

// The fixture: one hour (09:00-10:00 in Beijing) of a centre with two
// queues, "sales" (80/20) and "general" (90/10), two agents and a 5 s
// short-abandon time. Every expected figure below was worked by hand from
// the definitions in figures.go, written next to the events that make it.
var cst = time.FixedZone("CST", 8*3600)

func at(hms string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-12-01 "+hms, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func sec(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

func fixtureEvents() []store.QueueEvent {
	ev := func(hms string, kind store.QueueKind, queue, call, agent string) store.QueueEvent {
		return store.QueueEvent{Time: at(hms), Kind: kind, Queue: queue, Call: call, Agent: agent}
	}
	with := func(e store.QueueEvent, f func(*store.QueueEvent)) store.QueueEvent { f(&e); return e }
	wait := func(d float64) func(*store.QueueEvent) { return func(e *store.QueueEvent) { e.Wait = sec(d) } }
	talk := func(d float64) func(*store.QueueEvent) {
		return func(e *store.QueueEvent) { e.Talk, e.Wrap = sec(d), 10*time.Second }
	}
	return []store.QueueEvent{
		ev("08:50:00", store.QueueLogin, "", "", "1001"), // before the range: staffed from 09:00
		// c1: answered in 10 s by 1001, talks 180 s (+10 s wrap-up), rates 5.
		ev("09:01:00", store.QueueEnter, "sales", "c1", ""),
		with(ev("09:01:10", store.QueueConnect, "sales", "c1", "1001"), wait(10)),
		ev("09:02:00", store.QueueEnter, "sales", "c2", ""),
		with(ev("09:02:03", store.QueueAbandon, "sales", "c2", ""), wait(3)), // short
		with(ev("09:04:10", store.QueueComplete, "sales", "c1", "1001"), talk(180)),
		with(ev("09:04:20", store.QueueSurvey, "sales", "c1", "1001"), func(e *store.QueueEvent) { e.Value = 5 }),
		ev("09:05:00", store.QueueEnter, "sales", "c3", ""),
		with(ev("09:05:30", store.QueueAbandon, "sales", "c3", ""), wait(30)), // abandoned, out of target
		ev("09:10:00", store.QueueLogin, "", "", "1002"),
		ev("09:10:00", store.QueueEnter, "sales", "c4", ""),
		with(ev("09:10:15", store.QueueAbandon, "sales", "c4", ""), wait(15)), // abandoned within target
		ev("09:19:00", store.QueueRingNoAnswer, "sales", "c5", "1002"),
		// c5: answered in 40 s by 1002, talks 300 s, rates 3.
		ev("09:20:00", store.QueueEnter, "sales", "c5", ""),
		with(ev("09:20:40", store.QueueConnect, "sales", "c5", "1002"), wait(40)),
		with(ev("09:25:40", store.QueueComplete, "sales", "c5", "1002"), talk(300)),
		with(ev("09:26:00", store.QueueSurvey, "sales", "c5", "1002"), func(e *store.QueueEvent) { e.Value = 3 }),
		// c6: offered in the first half hour, answered in the second.
		ev("09:29:50", store.QueueEnter, "sales", "c6", ""),
		with(ev("09:30:05", store.QueueConnect, "sales", "c6", "1001"), wait(15)),
		with(ev("09:32:05", store.QueueComplete, "sales", "c6", "1001"), talk(120)),
		// c7 keys a callback; c8 times out.
		ev("09:35:00", store.QueueEnter, "sales", "c7", ""),
		with(ev("09:35:20", store.QueueCallbackRequested, "sales", "c7", ""), wait(20)),
		ev("09:40:00", store.QueueEnter, "sales", "c8", ""),
		ev("09:40:00", store.QueuePause, "", "", "1002"),
		with(ev("09:45:00", store.QueueCallbackAnswered, "sales", "callback-x", "1001"), func(e *store.QueueEvent) { e.Value = 1 }),
		with(ev("09:45:00", store.QueueAbandon, "sales", "c8", ""), func(e *store.QueueEvent) { e.Wait, e.Reason = 300*time.Second, "max-wait" }),
		// A callback attempt failing (an agent named) is not giving up;
		// the second, without an agent, is.
		with(ev("09:49:00", store.QueueCallbackFailed, "sales", "callback-y", "1001"), func(e *store.QueueEvent) { e.Reason = "busy" }),
		with(ev("09:50:00", store.QueueCallbackFailed, "sales", "callback-y", ""), func(e *store.QueueEvent) { e.Reason = "no answer after retries" }),
		ev("09:50:00", store.QueueUnpause, "", "", "1002"),
		// c9 overflows to general and is answered there after 65 s.
		ev("09:50:00", store.QueueEnter, "sales", "c9", ""),
		with(ev("09:51:00", store.QueueTransfer, "general", "c9", ""), func(e *store.QueueEvent) { e.Reason = "overflow from sales" }),
		with(ev("09:51:05", store.QueueConnect, "general", "c9", "1001"), wait(65)),
		with(ev("09:53:05", store.QueueComplete, "general", "c9", "1001"), talk(120)),
		ev("09:55:00", store.QueueLogout, "", "", "1002"),
		// c10 is still waiting at 10:00, and answered after: calls count
		// in the interval they were offered in, whenever they end.
		ev("09:58:00", store.QueueEnter, "sales", "c10", ""),
		with(ev("10:00:30", store.QueueConnect, "sales", "c10", "1001"), wait(150)),
		// c11 enters after the range: nothing of it counts.
		ev("10:01:00", store.QueueEnter, "sales", "c11", ""),
	}
}

func fixtureCDRs() []store.CDR {
	cdr := func(dir, from, trunk, start, end, disp string) store.CDR {
		return store.CDR{Direction: dir, From: from, Trunk: trunk, Start: at(start), End: at(end), Disposition: disp}
	}
	blocked := cdr("in", "13900000009", "span1", "09:06:00", "09:06:00", "refused")
	blocked.Cause = "Q.850 34 (no circuit/channel available)"
	busy := cdr("in", "13900000008", "span1", "09:07:00", "09:07:00", "refused")
	busy.Cause = "Q.850 17 (user busy)" // refused, but not for want of a channel
	next := cdr("in", "13800000001", "", "09:20:00", "09:30:00", "answered")
	next.Start, next.End = next.Start.Add(26*time.Hour), next.End.Add(26*time.Hour) // beyond the window
	return []store.CDR{
		// Stored as calls end, so not in start order.
		cdr("in", "13800000002", "span1", "09:05:00", "09:20:00", "answered"),
		cdr("in", "13800000001", "span1", "09:00:00", "09:10:00", "answered"),
		blocked, busy,
		cdr("in", "13800000001", "", "09:20:00", "09:25:00", "answered"), // makes 09:00 a repeat
		cdr("in", "13800000003", "", "09:40:00", "09:40:30", "cancelled"),
		cdr("in", "13800000004", "span1", "09:30:00", "10:30:00", "answered"), // busy until the range's end
		cdr("out", "1001", "carrier", "08:50:00", "09:02:00", "answered"),     // busy from the range's start
		next,
	}
}

func fixtureReport(t *testing.T) *Report {
	t.Helper()
	c := NewCalc(Options{
		From: at("09:00:00"), To: at("10:00:00"), Interval: 30 * time.Minute, Loc: cst,
		Targets:      map[string]Target{"general": {Goal: 0.9, Answer: 10 * time.Second}},
		ShortAbandon: 5 * time.Second,
		Skills:       map[string][]string{"everyone": {"1001", "1002"}},
		Channels:     map[string]int{"span1": 2},
		Groups:       map[string][]string{"pri": {"span1"}},
	})
	for _, e := range fixtureEvents() {
		c.Event(e)
	}
	for _, r := range fixtureCDRs() {
		c.CDR(r)
	}
	c.IVR([]store.IVRCount{{Flow: "main", Node: "menu", Exit: "visit", N: 10}, {Flow: "main", Node: "menu", Exit: "1", N: 6},
		{Flow: "main", Node: "welcome", Exit: "visit", N: 12}, {Flow: "sales", Node: "hours", Exit: "visit", N: 3}})
	return c.Report()
}

type check struct {
	name      string
	got, want float64
}

func run(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if math.IsNaN(c.want) != math.IsNaN(c.got) || !math.IsNaN(c.want) && math.Abs(c.got-c.want) > 1e-6 {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func asSecs(s Seconds) float64 { return time.Duration(s).Seconds() }

var none = math.NaN()

func TestReportFirstHalfHour(t *testing.T) {
	r := fixtureReport(t)
	if len(r.Intervals) != 2 || !r.Intervals[0].Start.Equal(at("09:00:00")) || !r.Intervals[1].End.Equal(at("10:00:00")) {
		t.Fatalf("intervals: %+v", r.Intervals)
	}
	a := r.Intervals[0]
	s := a.Queues["sales"]
	run(t, []check{
		// Offered c1-c6 (c6 at 09:29:50); answered c1, c5, c6; c2 short.
		{"offered", float64(s.Offered), 6}, {"answered", float64(s.Answered), 3},
		{"short abandoned", float64(s.ShortAbandoned), 1}, {"abandoned", float64(s.Abandoned), 2},
		{"answered in 20 s", float64(s.AnsweredInTarget), 2}, {"abandoned in 20 s", float64(s.AbandonedInTarget), 1},
		{"SL abandons ignored 2/3", s.SLIgnored.Value(), 2.0 / 3}, {"SL abandons against 2/5", s.SLAgainst.Value(), 0.4},
		{"SL abandons in favour 3/5", s.SLFavour.Value(), 0.6}, {"abandon rate 2/5", s.AbandonRate.Value(), 0.4},
		{"answer rate 3/5", s.AnswerRate.Value(), 0.6},
		{"ASA (10+40+15)/3", asSecs(s.ASA), 65.0 / 3}, {"wait p50", asSecs(s.WaitP50), 15}, {"wait p90", asSecs(s.WaitP90), 40},
		{"longest wait", asSecs(s.LongestWait), 40},
		// c1 and c5 end here: (180+10 + 300+10)/2.
		{"completed", float64(s.Completed), 2}, {"AHT", asSecs(s.AHT), 250}, {"talk", asSecs(s.Talk), 240},
		// 10+3+30+15+40+10 caller-seconds over 1800 s.
		{"mean length", s.MeanLen, 108.0 / 1800}, {"max length", float64(s.MaxLen), 1},
		{"surveys", float64(s.Surveys), 2}, {"score (5+3)/2", s.SurveyScore.Value(), 4},
		// Erlang C at 6 calls / 1800 s and AHT 250 s (0.833 E): by hand,
		// 2 agents give 77.7 % in 20 s, 3 give 95.1 %.
		{"agents needed for 80/20", float64(s.AgentsNeeded), 3},
	})
	if s.Scores != [5]int{0, 0, 1, 0, 1} {
		t.Errorf("scores %v", s.Scores)
	}
	a1, a2 := a.Agents["1001"], a.Agents["1002"]
	run(t, []check{
		{"1001 staffed (logged in before 09:00)", asSecs(a1.Staffed), 1800}, {"1001 answered", float64(a1.Answered), 1},
		{"1001 occupancy 190/1800", a1.Occupancy.Value(), 190.0 / 1800}, {"1001 calls per hour", a1.CallsPerHour.Value(), 2},
		{"1002 staffed from 09:10", asSecs(a2.Staffed), 1200}, {"1002 ring no answer", float64(a2.RingNoAnswer), 1},
		{"1002 occupancy 310/1200", a2.Occupancy.Value(), 310.0 / 1200}, {"1002 calls per hour", a2.CallsPerHour.Value(), 3},
		{"1002 AHT", a2.AHT.Value(), 310},
	})
	// FCR: 13800000001 at 09:00 called again at 09:20 (a repeat); 09:05
	// and 09:20 were not followed within 24 h; the cancelled call is not
	// answered.
	run(t, []check{{"FCR 2/3", a.FCR.Value(), 2.0 / 3}, {"repeats", float64(a.Repeats), 1}})
}

func TestReportSecondHalfHour(t *testing.T) {
	b := fixtureReport(t).Intervals[1]
	s, g := b.Queues["sales"], b.Queues["general"]
	run(t, []check{
		// c6 counts where offered; c10 is answered after 10:00 in 150 s.
		{"offered c7-c10", float64(s.Offered), 4}, {"answered c10", float64(s.Answered), 1},
		{"callbacks keyed", float64(s.Callbacks), 1}, {"timed out", float64(s.TimedOut), 1},
		{"overflowed", float64(s.Overflowed), 1}, {"waiting", float64(s.Waiting), 0},
		{"SL 0/1", s.SLIgnored.Value(), 0}, {"SL against 0/1", s.SLAgainst.Value(), 0},
		{"abandon rate 0/1", s.AbandonRate.Value(), 0}, {"answer rate 1/(4-1)", s.AnswerRate.Value(), 1.0 / 3},
		{"ASA", asSecs(s.ASA), 150},
		{"longest wait (the timeout)", asSecs(s.LongestWait), 300},
		{"completed (c6)", float64(s.Completed), 1}, {"AHT", asSecs(s.AHT), 130},
		// 5 (c6) + 20 (c7) + 300 (c8) + 60 (c9) + 120 (c10) over 1800 s.
		{"mean length", s.MeanLen, 505.0 / 1800},
		{"callbacks asked", float64(s.CallbacksAsked), 1}, {"callbacks answered", float64(s.CallbacksAnswered), 1},
		{"callbacks given up", float64(s.CallbacksGivenUp), 1}, {"callback on time 1/2", s.CallbackOnTime.Value(), 0.5},
		{"general offered (overflow in)", float64(g.Offered), 1}, {"general answered", float64(g.Answered), 1},
		{"general SL 90/10: 65 s is out", g.SLIgnored.Value(), 0}, {"general mean length", g.MeanLen, 5.0 / 1800},
	})
	a1, a2 := b.Agents["1001"], b.Agents["1002"]
	run(t, []check{
		{"1001 answered c6 and c9", float64(a1.Answered), 2}, {"1001 occupancy 260/1800", a1.Occupancy.Value(), 260.0 / 1800},
		{"1002 staffed 09:30-09:55", asSecs(a2.Staffed), 1500}, {"1002 paused 09:40-09:50", asSecs(a2.Paused), 600},
		{"1002 occupancy 0/900", a2.Occupancy.Value(), 0}, {"1002 AHT without calls", a2.AHT.Value(), none},
	})
}

func TestReportWholeRange(t *testing.T) {
	r := fixtureReport(t)
	all, s := r.Total.All, r.Total.Queues["sales"]
	run(t, []check{
		{"sales offered", float64(s.Offered), 10}, {"all offered (the overflow counted in both)", float64(all.Offered), 11},
		{"all answered", float64(all.Answered), 5}, {"all SL abandons ignored 2/5", all.SLIgnored.Value(), 0.4},
		{"all ASA (10+40+15+65+150)/5", asSecs(all.ASA), 56}, {"all waiting", float64(all.Waiting), 0}, {"all AHT (190+310+130+130)/4", asSecs(all.AHT), 190},
		{"sales max length", float64(s.MaxLen), 1},
	})
	a1, a2, g := r.Total.Agents["1001"], r.Total.Agents["1002"], r.Total.Skills["everyone"]
	run(t, []check{
		{"1001 staffed", asSecs(a1.Staffed), 3600}, {"1001 occupancy 450/3600", a1.Occupancy.Value(), 0.125}, {"1001 calls/h", a1.CallsPerHour.Value(), 3},
		{"1002 occupancy 310/2100", a2.Occupancy.Value(), 310.0 / 2100}, {"1002 calls/h 1/0.75", a2.CallsPerHour.Value(), 4.0 / 3},
		{"skill occupancy 760/5700", g.Occupancy.Value(), 760.0 / 5700}, {"skill calls/h 4/1.75", g.CallsPerHour.Value(), 4 / 1.75},
	})
	// span1 (2 channels): 1 busy 09:00-09:05, 2 until 09:10, 1 until
	// 09:20, none until 09:30, 1 until 10:00: 55 channel-minutes.
	sp, pri, carrier := r.Trunks["span1"], r.Trunks["pri"], r.Trunks["carrier"]
	run(t, []check{
		{"span1 calls", float64(sp.Calls), 3}, {"span1 blocked (cause 34, not 17)", float64(sp.Blocked), 1},
		{"span1 peak", float64(sp.Peak), 2}, {"span1 mean erlangs", sp.Mean, 3300.0 / 3600},
		{"span1 all busy", asSecs(sp.AllBusy), 300}, {"span1 busy-hour erlangs", sp.BusyHourErlangs, 3300.0 / 3600},
		// Erlang B for 0.9167 E by hand: 4 channels block 1.18 %, 5 block 0.22 %.
		{"span1 channels for 1 %", float64(sp.Needed), 5},
		{"group pri = span1", pri.Mean, sp.Mean}, {"group pri channels", float64(pri.Channels), 2},
		{"carrier: busy 09:00-09:02 only", carrier.Mean, 120.0 / 3600}, {"carrier calls (began before)", float64(carrier.Calls), 0},
	})
	if !sp.BusyHour.Equal(at("09:00:00")) {
		t.Errorf("busy hour %v", sp.BusyHour)
	}
	if len(r.IVR) != 3 || r.IVR[0].Node != "welcome" || r.IVR[1].Node != "menu" || r.IVR[1].Exits["1"] != 6 || r.IVR[2].Visits != 3 {
		t.Errorf("IVR ranking %+v", r.IVR)
	}
}

// The report's JSON: rates with no denominator are null, durations are
// seconds.
func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(fixtureReport(t).Intervals[1])
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Queues map[string]map[string]any
		Agents map[string]map[string]any
	}
	json.Unmarshal(b, &m)
	if q := m.Queues["sales"]; q["answer_rate"] != 0.333333 || q["longest_wait"] != 300.0 || q["aht"] != 130.0 || q["survey_score"] != nil {
		t.Errorf("sales %v", q)
	}
	if a, ok := m.Agents["1002"]; !ok || a["aht"] != nil || a["paused"] != 600.0 {
		t.Errorf("1002 %v", a)
	}
}

func TestIntervalsOnTheClock(t *testing.T) {
	for _, c := range []struct {
		interval time.Duration
		from, to string
		want     int
	}{
		{15 * time.Minute, "09:07:00", "10:00:00", 4}, // 09:07, 09:15, 09:30, 09:45
		{time.Hour, "09:30:00", "12:00:00", 3},        // 09:30, 10:00, 11:00
		{24 * time.Hour, "09:00:00", "09:00:00", 0},
	} {
		r := NewCalc(Options{From: at(c.from), To: at(c.to), Interval: c.interval, Loc: cst}).Report()
		if len(r.Intervals) != c.want {
			t.Errorf("%v from %s to %s: %d intervals, want %d", c.interval, c.from, c.to, len(r.Intervals), c.want)
			continue
		}
		if c.want > 1 && r.Intervals[1].Start.In(cst).Minute()%int(min(c.interval, time.Hour)/time.Minute) != 0 {
			t.Errorf("%v: second interval starts %v, not on the clock", c.interval, r.Intervals[1].Start)
		}
	}
	// Days are the zone's calendar days.
	r := NewCalc(Options{From: at("09:00:00"), To: at("09:00:00").Add(48 * time.Hour), Interval: 24 * time.Hour, Loc: cst}).Report()
	if len(r.Intervals) != 3 || !r.Intervals[1].Start.Equal(at("00:00:00").Add(24*time.Hour)) {
		t.Errorf("days: %+v", r.Intervals)
	}
}

// A report read back from its JSON has the same figures (a client of GET
// /kpi decodes it into these types).
func TestReportJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(fixtureReport(t))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	s := r.Intervals[0].Queues["sales"]
	if math.Abs(s.SLIgnored.Value()-2.0/3) > 1e-5 || asSecs(s.ASA) != 65.0/3 && math.Abs(asSecs(s.ASA)-65.0/3) > 1e-3 || s.Offered != 6 {
		t.Errorf("read back %+v", s)
	}
	if r.Intervals[1].Queues["sales"].SurveyScore.Defined() {
		t.Error("a null rate read back as a figure")
	}
}
