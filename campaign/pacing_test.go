package campaign

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// sim is a seeded model of an agent-assisted campaign, on a simulated
// clock in 100 ms steps: calls ring 5-25 s, a person answers with
// probability answer, a call answered goes to a free agent, waits up to
// AbandonAfter for one to free up, or is abandoned; agents talk an
// exponential time (mean talk) and wrap up 10 s. Pacing decides every
// second how many calls to dial.
type ring struct{ dialled, resolves time.Time }

type sim struct {
	rng          *rand.Rand
	answer       float64
	agents       int
	talk, length time.Duration

	pacing  Pacing
	now     time.Time
	busy    []time.Time // each agent busy until
	ringing []ring      // each call out
	waiting []time.Time // answered, no agent yet: since when

	live, abandoned, dialled int
	talked                   time.Duration
}

func (s *sim) run() {
	end := s.now.Add(s.length)
	step := 100 * time.Millisecond
	for s.now.Before(end) {
		s.now = s.now.Add(step)
		// Calls that resolve now: a person, or busy / no answer.
		out := s.ringing[:0]
		for _, r := range s.ringing {
			if r.resolves.After(s.now) {
				out = append(out, r)
				continue
			}
			live := s.rng.Float64() < s.answer
			s.pacing.Outcome(live, s.now.Sub(r.dialled))
			if live {
				s.waiting = append(s.waiting, s.now)
			}
		}
		s.ringing = out
		// Answered calls to free agents; those that waited too long are
		// abandoned.
		kept := s.waiting[:0]
		for _, since := range s.waiting {
			if a := s.freeAgent(); a >= 0 {
				t := time.Duration(s.rng.ExpFloat64() * float64(s.talk))
				s.busy[a] = s.now.Add(t + 10*time.Second)
				s.pacing.Handled(t + 10*time.Second)
				s.talked += t
				s.live++
				s.pacing.Live(s.now, false)
				continue
			}
			if s.now.Sub(since) >= AbandonAfter {
				s.live++
				s.abandoned++
				s.pacing.Live(s.now, true)
				continue
			}
			kept = append(kept, since)
		}
		s.waiting = kept
		if s.now.Sub(s.now.Truncate(time.Second)) < step {
			free := 0
			for _, b := range s.busy {
				if !b.After(s.now) {
					free++
				}
			}
			busy := s.agents - free
			free -= len(s.waiting) // each waiting call takes the next agent
			for range s.pacing.Ringing(s.now, free, busy, len(s.ringing)) {
				s.ringing = append(s.ringing, ring{s.now, s.now.Add(5*time.Second + time.Duration(s.rng.Float64()*float64(20*time.Second)))})
				s.dialled++
			}
		}
	}
}

func (s *sim) freeAgent() int {
	for i, b := range s.busy {
		if !b.After(s.now) {
			return i
		}
	}
	return -1
}

func newSim(seed uint64, answer float64, agents int) *sim {
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	busy := make([]time.Time, agents)
	for i := range busy {
		busy[i] = start
	}
	return &sim{rng: rand.New(rand.NewPCG(seed, 7)), answer: answer, agents: agents, talk: 90 * time.Second, length: 4 * time.Hour,
		now: start, busy: busy}
}

// TestPacingHoldsTheAbandonCap: over four simulated hours per scenario,
// across answer rates of 10-80 % and 2-30 agents, the abandon rate stays
// under 3 % of live answers while the campaign dials ahead of its agents:
// their talk time is reported against reserving an agent per call, and
// is never lower than that, beyond noise.
func TestPacingHoldsTheAbandonCap(t *testing.T) {
	for _, answer := range []float64{0.1, 0.3, 0.5, 0.8} {
		for _, agents := range []int{2, 10, 30} {
			s := newSim(uint64(agents)*1000+uint64(answer*100), answer, agents)
			s.run()
			camp, window := s.pacing.Rates(s.now)
			util := float64(s.talked) / float64(time.Duration(agents)*s.length)
			// The floor: one call per free agent, never ahead.
			r := newSim(uint64(agents)*1000+uint64(answer*100), answer, agents)
			r.pacing.abandoned = 1 << 30 // budget spent from the start
			r.run()
			rutil := float64(r.talked) / float64(time.Duration(agents)*r.length)
			t.Logf("answer %2.0f%%, %2d agents: %5d dialled, %5d live, %3d abandoned (%.2f%% campaign, %.2f%% window); agents talking %.0f%% of the time (%.0f%% with an agent reserved per call)",
				100*answer, agents, s.dialled, s.live, s.abandoned, 100*camp, 100*window, 100*util, 100*rutil)
			if camp > AbandonCap || window > AbandonCap {
				t.Errorf("answer %.0f%%, %d agents: abandon rate %.2f%% (window %.2f%%), over the 3%% cap", 100*answer, agents, 100*camp, 100*window)
			}
			if r.abandoned > 0 {
				t.Errorf("answer %.0f%%, %d agents: %d abandoned with an agent reserved per call", 100*answer, agents, r.abandoned)
			}
			if s.live < 100 {
				t.Errorf("answer %.0f%%, %d agents: only %d live answers: the simulation says nothing", 100*answer, agents, s.live)
			}
			if util < rutil-0.03 {
				t.Errorf("answer %.0f%%, %d agents: dialling ahead kept agents busy %.0f%%, less than %.0f%% with an agent reserved per call", 100*answer, agents, 100*util, 100*rutil)
			}
		}
	}
}

// TestExpectedOverflow is E[max(0, X-free)] for X ~ Binomial(n, a)
// against sums written out by hand.
func TestExpectedOverflow(t *testing.T) {
	for _, c := range []struct {
		n, free int
		a, want float64
	}{
		{2, 1, 0.5, 0.25},          // P(X=2) = 1/4
		{3, 1, 0.5, 3.0/8 + 2.0/8}, // P(2)·1 + P(3)·2
		{3, 3, 0.9, 0},
		{4, 2, 1, 2},
		{5, 0, 0.2, 1}, // E[X]
	} {
		if got := expectedOverflow(c.n, c.a, c.free); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("expectedOverflow(%d, %v, %d) = %v, want %v", c.n, c.a, c.free, got, c.want)
		}
	}
}

// TestPacingWindow: the rolling window forgets what is older than it, the
// campaign's figure does not; a spent budget dials one call per free
// agent.
func TestPacingWindow(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := Pacing{Window: 24 * time.Hour}
	for i := range 100 {
		p.Live(start, i < 10) // 10 % abandoned
	}
	if c, w := p.Rates(start); c != 0.1 || w != 0.1 {
		t.Errorf("rates %v %v, want 10 %%", c, w)
	}
	if got := p.Ringing(start, 4, 0, 1); got != 3 {
		t.Errorf("with the budget spent: dial %d for 4 free agents and 1 ringing, want 3", got)
	}
	later := start.Add(25 * time.Hour)
	if c, w := p.Rates(later); c != 0.1 || w != 0 {
		t.Errorf("a day later: rates %v %v, want 10 %% and 0", c, w)
	}
	if p.Ringing(later, 4, 0, 0) != 4 {
		t.Error("the campaign's own figure over the cap must still hold the dialling to one per agent")
	}
	var fresh Pacing
	if got := fresh.Ringing(later, 10, 0, 0); got <= 10 {
		t.Errorf("a fresh campaign with 10 free agents dials %d, want ahead of them", got)
	}
	if got := fresh.Ringing(later, 0, 5, 0); got != 0 {
		t.Errorf("no free agent: dial %d", got)
	}
}
