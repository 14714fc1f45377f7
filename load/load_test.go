package load

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// TestGate: the gate closes at 80 % pacer load or a heap at 85 % of
// the limit, opens again only below nine tenths of that (72 %, 76.5 %),
// and looks at most every 250 ms.
func TestGate(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	cpu, heap := 0.0, uint64(0)
	g := New(Options{Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Media: func() float64 { return cpu }, MemoryLimit: 200 << 20, Heap: func() uint64 { return heap }})
	for _, c := range []struct {
		cpu  float64
		heap uint64 // MiB
		over bool
		what string
	}{
		{0.1, 10, false, "idle"},
		{0.79, 169, false, "just under both"},
		{0.80, 10, true, "80 % CPU"},
		{0.75, 10, true, "75 %: still closed (opens below 72 %)"},
		{0.71, 10, false, "71 %: open"},
		{0.1, 170, true, "170 of 200 MiB"},
		{0.1, 160, true, "160 MiB: still closed (opens below 153)"},
		{0.1, 152, false, "152 MiB: open"},
	} {
		cpu, heap = c.cpu, c.heap<<20
		clk.Advance(every)
		if got := g.Overloaded(); got != c.over {
			t.Errorf("%s: overloaded %v (%s)", c.what, got, g.Why())
		}
	}
	cpu = 0.9
	if g.Overloaded() {
		t.Error("looked again within 250 ms")
	}
	clk.Advance(every)
	if !g.Overloaded() || g.Why() != "the media pacer's frames leave 90% of 20 ms late" {
		t.Errorf("why %q", g.Why())
	}
	n := New(Options{Clock: clk})
	if n.Overloaded() {
		t.Error("a gate that watches nothing closed")
	}
	if liveHeap() == 0 {
		t.Error("the runtime's heap reads 0")
	}
}

// A drain closes the gate whatever the load says, and says why, until
// Resume; the load's own reason shows again after it.
func TestDrain(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	cpu := 0.1
	g := New(Options{Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Media: func() float64 { return cpu }})
	g.Drain("update to 1.1.0")
	if !g.Overloaded() || g.Why() != "update to 1.1.0" {
		t.Errorf("draining: %v %q", g.Overloaded(), g.Why())
	}
	cpu = 0.9
	clk.Advance(every)
	if !g.Overloaded() || g.Why() != "update to 1.1.0" {
		t.Errorf("draining and loaded: %q", g.Why())
	}
	g.Resume()
	if !g.Overloaded() || g.Why() == "update to 1.1.0" || g.Why() == "" {
		t.Errorf("resumed while loaded: %q", g.Why())
	}
	cpu = 0.1
	clk.Advance(every)
	if g.Overloaded() || g.Why() != "" {
		t.Errorf("resumed: %q", g.Why())
	}
}
