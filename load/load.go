// Package load is the box's overload gate: it says when the box is short
// of CPU (its media pacer can no longer fit every call's frames in their
// 20 ms) or of memory (the heap near [box] memory_limit_mb), so that
// new calls are refused (SIP 503 with Retry-After, PRI cause 42) while the
// calls up keep their audio clean. The call-rate limit ([sip]
// max_calls_per_second) stops a flood of INVITEs; this stops whatever
// else runs the box short.
//
// Layer: service; the standard library and internal/clock.
package load

import (
	"fmt"
	"log/slog"
	"runtime/metrics"
	"sync"
	"time"

	"jinyin/internal/clock"
)

// The gate closes when the pacer's frames leave CPUShare of an interval late,
// or the heap reaches MemoryShare of the limit; it opens again below
// nine tenths of each, so that it does not flap at the edge.
const (
	CPUShare    = 0.8
	MemoryShare = 0.85
	reopen      = 0.9
)

// every is how often the gate looks: a call admitted meanwhile is one of
// at most a few hundred.
const every = 250 * time.Millisecond

// Options are what the gate watches.
type Options struct {
	Clock clock.Clock
	Log   *slog.Logger
	// Media is the pacer's load (rtp.Pacer.Load: how late the busiest
	// shard's frames leave, as a share of 20 ms); nil watches no CPU.
	Media func() float64
	// MemoryLimit is the heap's soft limit in bytes; 0 watches no memory.
	MemoryLimit uint64
	// Heap is the heap's size in bytes; nil reads the runtime's.
	Heap func() uint64
}

// Gate is the overload gate.
type Gate struct {
	o Options

	mu       sync.Mutex
	looked   time.Time
	why      string // "" while open
	draining string // why the box takes no new calls on purpose, "" if it does
}

// New is a gate over o.
func New(o Options) *Gate {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Heap == nil {
		o.Heap = liveHeap
	}
	return &Gate{o: o}
}

// Overloaded reports whether new calls must wait.
func (g *Gate) Overloaded() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := g.o.Clock.Now(); now.Sub(g.looked) >= every || g.looked.IsZero() {
		g.looked = now
		g.look()
	}
	return g.why != "" || g.draining != ""
}

// Why is what closed the gate, "" while it is open.
func (g *Gate) Why() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.draining != "" {
		return g.draining
	}
	return g.why
}

// Drain closes the gate on purpose (before a reboot into an update), for
// why, until Resume; the calls up go on.
func (g *Gate) Drain(why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.draining = why
	g.o.Log.Warn("draining: new calls refused", "why", why)
}

// Resume ends a drain.
func (g *Gate) Resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.draining = ""
}

// look decides the gate from the readings; called with mu held.
func (g *Gate) look() {
	closing := 1.0
	if g.why != "" {
		closing = reopen // already closed: open below nine tenths
	}
	var why string
	if g.o.Media != nil {
		if l := g.o.Media(); l >= CPUShare*closing {
			why = fmt.Sprintf("the media pacer's frames leave %.0f%% of 20 ms late", 100*l)
		}
	}
	if lim := g.o.MemoryLimit; lim > 0 && why == "" {
		if h := g.o.Heap(); float64(h) >= MemoryShare*closing*float64(lim) {
			why = fmt.Sprintf("the heap is %d MiB of a %d MiB limit", h>>20, lim>>20)
		}
	}
	switch {
	case why != "" && g.why == "":
		g.o.Log.Warn("overload: new calls are refused (SIP 503, PRI cause 42); calls up go on", "why", why)
	case why == "" && g.why != "":
		g.o.Log.Info("overload over: new calls are taken again")
	}
	g.why = why
}

func liveHeap() uint64 {
	// The heap's objects, garbage not yet swept among them: what the
	// memory limit makes the collector fight for.
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
