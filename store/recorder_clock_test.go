package store

import (
	"runtime"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// TestRecorderCommitsOnItsClock: a queued record is committed when the
// recorder's clock reaches the interval, and not before.
func TestRecorderCommitsOnItsClock(t *testing.T) {
	db, _ := openTest(t)
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	rec := NewRecorderOn(clk, db, time.Minute, func(err error) { t.Error(err) })
	defer rec.Close()
	rec.Record(CDR{Call: "x", Disposition: "refused"})
	for len(rec.in) > 0 { // the writer has taken it: the next tick commits it
		runtime.Gosched()
	}
	clk.Advance(time.Minute - time.Millisecond)
	if all, _ := db.CDRs(0, 10); len(all) != 0 {
		t.Fatal("committed before the interval")
	}
	clk.Advance(time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) { // the commit runs on the writer's goroutine
		if all, _ := db.CDRs(0, 10); len(all) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not committed at the interval")
		}
	}
}
