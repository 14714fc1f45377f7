package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A reader of one day finds its first record by search: the first CDR
// ending at or after t, the first queue event at or after t, even where
// the times are a little out of order (batches of calls that ended close
// together).
func TestEachFromTime(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var cdrs []CDR
	var evs []QueueEvent
	for i := range 1000 {
		end := t0.Add(time.Duration(i) * time.Minute)
		if i%10 == 3 { // a swap within a batch
			end = end.Add(-90 * time.Second)
		}
		cdrs = append(cdrs, CDR{Call: "c", End: end})
		evs = append(evs, QueueEvent{Time: end, Kind: QueueEnter})
	}
	if err := db.AppendCDRs(cdrs); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendQueueEvents(evs); err != nil {
		t.Fatal(err)
	}
	first := func(each func(time.Time, func(uint64, time.Time) (bool, error)) error, at time.Time) (uint64, int) {
		var seq uint64
		n := 0
		if err := each(at, func(s uint64, _ time.Time) (bool, error) {
			if n == 0 {
				seq = s
			}
			n++
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return seq, n
	}
	cdr := func(at time.Time, f func(uint64, time.Time) (bool, error)) error {
		return db.EachCDREndingFrom(at, func(r CDR) (bool, error) { return f(r.Seq, r.End) })
	}
	qev := func(at time.Time, f func(uint64, time.Time) (bool, error)) error {
		return db.EachQueueEventFrom(at, func(e QueueEvent) (bool, error) { return f(e.Seq, e.Time) })
	}
	for _, each := range []func(time.Time, func(uint64, time.Time) (bool, error)) error{cdr, qev} {
		for _, c := range []struct {
			at        time.Time
			seq       uint64
			remaining int
		}{
			{t0.Add(-time.Hour), 1, 1000},         // before all: from the first
			{t0, 1, 1000},                         // at the first
			{t0.Add(500 * time.Minute), 501, 500}, // record 501 ends at minute 500
			{t0.Add(500*time.Minute + time.Second), 502, 499},
			{t0.Add(999 * time.Minute), 1000, 1}, // the last
			{t0.Add(1000 * time.Minute), 0, 0},   // after all: nothing
		} {
			if seq, n := first(each, c.at); seq != c.seq || n != c.remaining {
				t.Errorf("from %v: first %d, %d records; want %d, %d", c.at.Sub(t0), seq, n, c.seq, c.remaining)
			}
		}
	}
	// Empty logs.
	empty, _ := Open(filepath.Join(t.TempDir(), "jinyin.db"))
	defer empty.Close()
	n := 0
	empty.EachCDREndingFrom(t0, func(CDR) (bool, error) { n++; return true, nil })
	if n != 0 {
		t.Error("records in an empty log")
	}
}
