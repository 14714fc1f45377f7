package rtp

import (
	"context"
	"sync"
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

type shard struct {
	mu       sync.Mutex
	sessions map[*Session]struct{}
	list     []*Session // reused snapshot
}

// Interval is the packet interval.
const Interval = 20 * time.Millisecond

// NewPacer returns a pacer with n shards (one per core is right).
func NewPacer(n int) *Pacer {
	p := &Pacer{}
	for i := 0; i < max(n, 1); i++ {
		p.shards = append(p.shards, &shard{sessions: map[*Session]struct{}{}})
	}
	return p
}

// Add starts ticking s; Remove stops.
func (p *Pacer) Add(s *Session) {
	p.mu.Lock()
	sh := p.shards[p.next%len(p.shards)]
	p.next++
	p.mu.Unlock()
	sh.mu.Lock()
	sh.sessions[s] = struct{}{}
	sh.mu.Unlock()
	s.shard = sh
}

func (p *Pacer) Remove(s *Session) {
	if sh := s.shard; sh != nil {
		sh.mu.Lock()
		delete(sh.sessions, s)
		sh.mu.Unlock()
	}
}

// Run ticks until ctx ends.
func (p *Pacer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sh := range p.shards {
		wg.Add(1)
		go func() { defer wg.Done(); sh.run(ctx) }()
	}
	wg.Wait()
}

func (sh *shard) run(ctx context.Context) {
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
		sh.mu.Lock()
		sh.list = sh.list[:0]
		for s := range sh.sessions {
			sh.list = append(sh.list, s)
		}
		sh.mu.Unlock()
		for _, s := range sh.list {
			s.Tick()
		}
	}
}
