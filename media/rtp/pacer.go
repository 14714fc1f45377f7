package rtp

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer sends every session's frames on one absolute 20 ms schedule: shard
// goroutines each tick their sessions at start + n·20 ms, so timing does
// not drift with load and no session needs a timer of its own.
type Pacer struct {
	shards []*shard
	mu     sync.Mutex
	next   int
}

// A shard ticks its sessions in a stable order (the order they were
// added, a removed one's place taken by the last), so each session sends
// at the same offset within every tick and its packet gaps stay 20 ms.
// A map's random order moved each session around a 2.5 ms burst at 1,000
// calls: a p99 gap of 26 ms.
type shard struct {
	mu       sync.Mutex
	sessions []*Session
	index    map[*Session]int
	list     []*Session   // reused snapshot
	busy     atomic.Int64 // the ticks' work, nanoseconds, smoothed (Load)
}

// Interval is the packet interval.
const Interval = 20 * time.Millisecond

// NewPacer returns a pacer with n shards (one per core is right).
func NewPacer(n int) *Pacer {
	p := &Pacer{}
	for i := 0; i < max(n, 1); i++ {
		p.shards = append(p.shards, &shard{index: map[*Session]int{}})
	}
	return p
}

// Add starts ticking s; it stops when s is closed.
func (p *Pacer) Add(s *Session) {
	p.mu.Lock()
	sh := p.shards[p.next%len(p.shards)]
	p.next++
	p.mu.Unlock()
	sh.mu.Lock()
	sh.index[s] = len(sh.sessions)
	sh.sessions = append(sh.sessions, s)
	sh.mu.Unlock()
	s.shard = sh
}

// remove drops a closed session from its shard.
func (sh *shard) remove(s *Session) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[s]; ok {
		last := sh.sessions[len(sh.sessions)-1]
		sh.sessions[i], sh.index[last] = last, i
		sh.sessions[len(sh.sessions)-1] = nil // the array beyond the length would keep a closed session (and what it played) alive
		sh.sessions = sh.sessions[:len(sh.sessions)-1]
		delete(sh.index, s)
	}
}

// Run ticks until ctx ends. A shard that wakes from its sleep needs a Go
// scheduler slot (a P) to run; Run adds one per shard to GOMAXPROCS so
// that one is idle when it wakes instead of behind signalling goroutines.
func (p *Pacer) Run(ctx context.Context) {
	if want := runtime.NumCPU() + len(p.shards); runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
	var wg sync.WaitGroup
	for _, sh := range p.shards {
		wg.Add(1)
		go func() { defer wg.Done(); sh.run(ctx) }()
	}
	wg.Wait()
}

func (sh *shard) run(ctx context.Context) {
	if realtime() {
		sh.runRealtime(ctx)
		return
	}
	// Real time: the pacer sends real packets every 20 ms, to far ends
	// that play them as they come; the box's clock is for its timers.
	next := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		next = next.Add(Interval)
		if late := time.Since(next); late > 5*Interval {
			next = time.Now() // we were stopped (suspend, debugger): start afresh
		}
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sh.tick(time.Since(next))
	}
}

// runRealtime is run on a real-time thread: it sleeps in the kernel to an
// absolute deadline, so neither Go's timers nor its run queue stand
// between the deadline and the packets.
func (sh *shard) runRealtime(ctx context.Context) {
	next := monotonic()
	for ctx.Err() == nil {
		next += int64(Interval)
		if now := monotonic(); now-next > int64(5*Interval) {
			next = now
		}
		sleepUntil(next)
		sh.tick(time.Duration(monotonic() - next))
	}
}

// tick sends every session's frame, late after its due time. The load it
// records is lateness plus work: how long after its due time the last
// frame left. Work alone missed a box starved between ticks (a CFS quota
// spent, a busy core): its ticks took no time once they ran, but ran up
// to 100 ms late, and the far ends heard it.
func (sh *shard) tick(late time.Duration) {
	start := time.Now() // real time: how long the work takes, against the 20 ms it must fit in
	sh.mu.Lock()
	sh.list = append(sh.list[:0], sh.sessions...)
	sh.mu.Unlock()
	for _, s := range sh.list {
		if !s.Tick() {
			sh.remove(s)
		}
	}
	clear(sh.list) // nor may the snapshot keep the sessions removed
	// An exponential average over about 16 ticks (a third of a second).
	// A stall past 5 intervals (suspend, a debugger) restarts the schedule
	// and counts as 5, so the gate reopens soon after.
	took := int64(min(max(late, 0)+time.Since(start), 5*Interval))
	old := sh.busy.Load()
	sh.busy.Store(old + (took-old)/16)
}

// Load is how late, as a share of its 20 ms, the busiest shard's last
// frame leaves (its lateness waking plus its work), 0 to 5: near 1 the
// box can no longer send every call's frame on time, and new calls must
// wait (the overload gate).
func (p *Pacer) Load() float64 {
	var most int64
	for _, sh := range p.shards {
		most = max(most, sh.busy.Load())
	}
	return float64(most) / float64(Interval)
}
