package campaign

import (
	"math"
	"testing"
	"time"
)

// binomialOverflow is E[max(0, X-free)] for X ~ Binomial(n, a), summed
// from the definition (C(n,k) a^k (1-a)^(n-k)), apart from Pacing's
// recurrence.
func binomialOverflow(n int, a float64, free int) float64 {
	sum := 0.0
	for k := free + 1; k <= n; k++ {
		c := 1.0
		for i := 0; i < k; i++ {
			c = c * float64(n-i) / float64(i+1)
		}
		sum += c * math.Pow(a, float64(k)) * math.Pow(1-a, float64(n-k)) * float64(k-free)
	}
	return sum
}

// TestPacingParts: each of Pacing's pieces, against values worked out by
// hand or from the definitions.
func TestPacingParts(t *testing.T) {
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	// The average over about 32: the first value is taken as it is.
	if got := ewma(0, 100*time.Second); got != 100*time.Second {
		t.Errorf("ewma of a first value: %v", got)
	}
	if got := ewma(100*time.Second, 132*time.Second); got != 101*time.Second {
		t.Errorf("ewma(100 s, 132 s): %v, want 101 s", got)
	}
	// The answer rate: the prior 30 % before 20 outcomes, then as seen.
	var p Pacing
	for i := range 19 {
		p.Outcome(i < 5, 10*time.Second)
	}
	near("answer rate after 19 outcomes", p.AnswerRate(), 0.3)
	p.Outcome(false, 0)
	near("answer rate of 5 in 20", p.AnswerRate(), 0.25)
	// Busy agents expected free by the time calls are answered: the share
	// toAnswer/handle of them, at most all.
	if got := (&Pacing{}).freeing(10); got != 0 {
		t.Errorf("freeing with no averages: %d", got)
	}
	if got := (&Pacing{toAnswer: 10 * time.Second, handle: 100 * time.Second}).freeing(10); got != 1 {
		t.Errorf("freeing 10 busy, 10 s to answer, 100 s a call: %d, want 1", got)
	}
	if got := (&Pacing{toAnswer: 200 * time.Second, handle: 100 * time.Second}).freeing(10); got != 10 {
		t.Errorf("freeing 10 busy when calls take longer to answer than to handle: %d, want 10", got)
	}
	if got := (&Pacing{toAnswer: 10 * time.Second}).freeing(10); got != 0 {
		t.Errorf("freeing with no handle time yet: %d", got)
	}
	// The overflow: 3 calls at 1/2, one agent: 1·3/8 + 2·1/8.
	near("overflow of 3 calls at 1/2 for one agent", expectedOverflow(3, 0.5, 1), 5.0/8)
	near("no more calls than agents", expectedOverflow(2, 0.9, 2), 0)
	near("every call answered", expectedOverflow(5, 1, 2), 3)
	for _, c := range []struct {
		n, free int
		a       float64
	}{{10, 3, 0.3}, {40, 10, 0.25}, {7, 0, 0.6}} {
		near("overflow against the binomial's definition", expectedOverflow(c.n, c.a, c.free), binomialOverflow(c.n, c.a, c.free))
	}
	// The budget: 1.8 % of the live answers, these and the ones to come,
	// less the abandons, over the campaign and over the window.
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var b Pacing
	for i := range 100 {
		b.Live(now.Add(-40*24*time.Hour), i == 0) // 40 days ago: the campaign's, not the window's
	}
	// The campaign allows 0.018·110 - 1 = 0.98, the window (none of them
	// in it) 0.018·10: the tighter counts.
	near("budget with 100 live 40 days ago, 1 abandoned, 10 to come", b.budget(now, 10), 0.018*10)
	b.Live(now, true)
	near("budget once a recent abandon is all the window has", b.budget(now, 10), 0.018*11-1)
	c, w := b.Rates(now)
	near("campaign rate", c, 2.0/101)
	near("window rate", w, 1)
	// Old abandons make the campaign's budget the tighter one.
	var old Pacing
	for i := range 10 {
		old.Live(now.Add(-40*24*time.Hour), i < 5)
	}
	for range 100 {
		old.Live(now, false)
	}
	near("budget with 5 old abandons in 110 live", old.budget(now, 10), 0.018*120-5)
	if got := (&Pacing{}).window(); got != CapWindow {
		t.Errorf("default window %v", got)
	}
	if got := (&Pacing{Window: 24 * time.Hour}).window(); got != 24*time.Hour {
		t.Errorf("set window %v", got)
	}
	// A 24-hour window counts by the hour: an abandon 24 h and 30 min
	// ago is out of it, one 23 h ago in.
	var o Pacing
	o.Window = 24 * time.Hour
	o.Live(now.Add(-24*time.Hour-30*time.Minute), true)
	o.Live(now.Add(-23*time.Hour), true)
	o.Live(now, false)
	if _, w := o.Rates(now); math.Abs(w-0.5) > 1e-9 {
		t.Errorf("24-hour window rate %v, want 1 of 2", w)
	}
	// A call told late (answered before a long talk) goes in its own
	// hour, in order: the hours stay sorted, and it leaves the window in
	// its turn.
	o.Live(now.Add(-3*time.Hour), true)
	for i := 1; i < len(o.days); i++ {
		if !o.days[i-1].start.Before(o.days[i].start) {
			t.Fatalf("hours out of order: %v", o.days)
		}
	}
	if _, w := o.Rates(now.Add(21*time.Hour + 30*time.Minute)); math.Abs(w-0.5) > 1e-9 {
		t.Errorf("window rate once the 23 h-old abandon has gone: %v, want 1 (3 h ago) of 2", w)
	}
}

// TestRingingCounts: how many calls Ringing asks for, worked out from
// the rule: the most calls whose expected overflow (from the binomial's
// definition) fits 1.8 % of their expected live answers and the budget,
// at least one per free agent, less those ringing.
func TestRingingCounts(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	most := func(free int, a float64) int {
		n := free
		for k := free + 1; k <= free+int(math.Ceil(float64(free)/a)); k++ {
			if binomialOverflow(k, a, free) <= 0.018*float64(k)*a {
				n = k
			}
		}
		return n
	}
	var p Pacing
	if got := p.Ringing(now, 0, 0, 0); got != 0 {
		t.Errorf("no agents: %d calls", got)
	}
	if got := p.Ringing(now, 2, 0, 0); got != 2 {
		t.Errorf("two free at the prior 30 %%: %d, want 2 (a third overflows with 2.7 %%)", got)
	}
	if got := p.Ringing(now, 2, 0, 1); got != 1 {
		t.Errorf("two free, one ringing: %d, want 1", got)
	}
	for _, free := range []int{5, 10, 30} {
		if got, want := p.Ringing(now, free, 0, 0), most(free, 0.3); got != want || want <= free {
			t.Errorf("%d free at 30 %%: %d calls, want %d (more than one each)", free, got, want)
		}
	}
	// A budget spent: one call per free agent, whatever the rate says.
	var s Pacing
	s.Live(now, true)
	if got := s.Ringing(now, 10, 0, 3); got != 7 {
		t.Errorf("budget spent, 10 free, 3 ringing: %d, want 7", got)
	}
	// Busy agents expected free count as free: 10 busy, a tenth freeing.
	f := Pacing{toAnswer: 10 * time.Second, handle: 100 * time.Second}
	if got, want := f.Ringing(now, 0, 10, 0), most(1, 0.3); got != want {
		t.Errorf("no free agent, one of 10 busy expected free: %d, want %d", got, want)
	}
}
