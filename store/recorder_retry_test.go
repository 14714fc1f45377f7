package store

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// A commit that fails (the disk full) keeps its records and tries them
// again each interval: once the disk has room they are all written, once
// each and in order; the failure is reported once, not every try.
func TestRecorderKeepsWhatFailed(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	full := true
	var written []int
	write := func(recs []int) error {
		mu.Lock()
		defer mu.Unlock()
		if full {
			return syscall.ENOSPC
		}
		written = append(written, recs...)
		return nil
	}
	var errs []error
	rec := startRecorder(clk, write, "test", time.Second, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	defer rec.Close()
	for i := range 600 { // more than a batch: the full batch is not tried on every record
		rec.Record(i)
	}
	for len(rec.in) > 0 {
		runtime.Gosched()
	}
	for range 10 {
		clk.Advance(time.Second)
	}
	mu.Lock()
	if len(written) != 0 || len(errs) != 1 || !errors.Is(errs[0], syscall.ENOSPC) {
		t.Errorf("while full: written %d, errors %v", len(written), errs)
	}
	full = false
	mu.Unlock()
	clk.Advance(time.Second)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(written)
		mu.Unlock()
		if n >= 600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("written %d of 600 after the disk had room", n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, v := range written {
		if v != i {
			t.Fatalf("record %d is %d: not once each, in order", i, v)
		}
	}
	if len(written) != 600 || rec.Dropped() != 0 {
		t.Errorf("written %d, dropped %d", len(written), rec.Dropped())
	}
}
