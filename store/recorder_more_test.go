package store

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// within waits (at most five seconds) for cond, which another goroutine
// makes true.
func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// drained waits until the writer has taken everything queued (so its
// ticker exists and the next Advance reaches it).
func drained[T any](t *testing.T, r *Recorder[T]) {
	t.Helper()
	within(t, "the writer takes the queue", func() bool { runtime.Gosched(); return len(r.in) == 0 })
}

type batches struct {
	mu    sync.Mutex
	sizes []int
	total int
	err   error
}

func (b *batches) write(recs []int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, len(recs))
	b.total += len(recs)
	return b.err
}

func (b *batches) get() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sizes)
}

// A full batch (256) is written at once; the rest waits for the tick or
// for Close.
func TestRecorderFullBatchWrittenAtOnce(t *testing.T) {
	clk := clock.NewFake(t0)
	var b batches
	rec := startRecorder(clk, b.write, "int", time.Minute, func(err error) { t.Error(err) })
	for i := 0; i < 300; i++ {
		rec.Record(i)
	}
	within(t, "a full batch written", func() bool { return len(b.get()) == 1 })
	drained(t, rec)
	if got := b.get(); !slices.Equal(got, []int{256}) {
		t.Fatalf("batches %v before the tick, want [256]", got)
	}
	clk.Advance(time.Minute)
	within(t, "the tick's batch", func() bool { return len(b.get()) == 2 })
	if got := b.get(); !slices.Equal(got, []int{256, 44}) {
		t.Fatalf("batches %v, want [256 44]", got)
	}
	clk.Advance(time.Minute) // nothing queued: no empty write
	rec.Record(1)
	rec.Close()
	if got := b.get(); !slices.Equal(got, []int{256, 44, 1}) {
		t.Fatalf("batches %v after Close, want [256 44 1]", got)
	}
}

// Close with nothing queued writes nothing.
func TestRecorderCloseEmpty(t *testing.T) {
	var b batches
	rec := startRecorder(clock.NewFake(t0), b.write, "int", time.Minute, func(err error) { t.Error(err) })
	rec.Close()
	if got := b.get(); len(got) != 0 {
		t.Errorf("batches %v", got)
	}
}

// When the disk stalls and the queue (4096) fills, Record does not block:
// the record is dropped and each drop is reported with the count so far.
func TestRecorderReportsDropsWhenFull(t *testing.T) {
	clk := clock.NewFake(t0)
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var written int
	write := func(recs []int) error {
		if written == 0 {
			close(entered)
			<-release
		}
		mu.Lock()
		written += len(recs)
		mu.Unlock()
		return nil
	}
	var drops []string
	rec := startRecorder(clk, write, "int", time.Minute, func(err error) { drops = append(drops, err.Error()) })
	rec.Record(0)
	drained(t, rec)
	clk.Advance(time.Minute) // the writer takes its batch of one and stalls
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the writer never wrote")
	}
	for i := 1; i <= 4096; i++ {
		rec.Record(i)
	}
	if len(drops) != 0 {
		t.Fatalf("dropped while the queue had room: %v", drops)
	}
	rec.Record(4097)
	rec.Record(4098)
	if len(drops) != 2 || !strings.Contains(drops[0], "(1 so far)") || !strings.Contains(drops[1], "(2 so far)") || !strings.Contains(drops[0], "int queue full") {
		t.Fatalf("drops %q", drops)
	}
	close(release)
	rec.Close()
	mu.Lock()
	defer mu.Unlock()
	if written != 4097 {
		t.Errorf("%d written, want 4097 (1 + a full queue)", written)
	}
}

// A failed write is reported with its size and its try, and its records
// are kept for the next (here the one at Close, with the record after).
func TestRecorderReportsWriteErrors(t *testing.T) {
	clk := clock.NewFake(t0)
	b := batches{err: errors.New("disk gone")}
	var mu sync.Mutex
	var errs []error
	rec := startRecorder(clk, b.write, "int", time.Minute, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	rec.Record(1)
	rec.Record(2)
	drained(t, rec)
	clk.Advance(time.Minute)
	within(t, "the failed write", func() bool { return len(b.get()) == 1 })
	rec.Record(3)
	rec.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 || !errors.Is(errs[0], b.err) || errs[0].Error() != "store: writing 2 ints (try 1; kept to try again): disk gone" ||
		!strings.Contains(errs[1].Error(), "writing 3 ints (try 2;") {
		t.Fatalf("errors %v", errs)
	}
}

// The security recorder commits on its clock and keeps the newest keep.
func TestSecurityRecorderKeepsNewest(t *testing.T) {
	db, _ := openTest(t)
	clk := clock.NewFake(t0)
	rec := NewSecurityRecorder(clk, db, time.Second, 2, func(err error) { t.Error(err) })
	for _, e := range secEvents("a", "b", "c") {
		rec.Record(e)
	}
	drained(t, rec)
	if got, _ := db.SecurityEvents(0, 10); len(got) != 0 {
		t.Fatalf("%d committed before the tick", len(got))
	}
	clk.Advance(time.Second)
	within(t, "the tick's commit", func() bool { got, _ := db.SecurityEvents(0, 10); return len(got) > 0 })
	got, _ := db.SecurityEvents(0, 10)
	if len(got) != 2 || got[0].Seq != 2 || got[0].Name != "b" || got[1].Name != "c" {
		t.Fatalf("%+v", got)
	}
	rec.Record(secEvents("d")[0])
	rec.Close()
	if got, _ := db.NewestSecurityEvents(5); len(got) != 2 || got[0].Name != "c" || got[1].Name != "d" || got[1].Seq != 4 {
		t.Fatalf("after Close %+v", got)
	}
}

// OnCommit is told each batch's commit, once a batch; Dropped counts what
// was dropped (here a record after Close).
func TestRecorderOnCommitAndDropped(t *testing.T) {
	var b batches
	var errs int
	rec := startRecorder(clock.NewFake(t0), b.write, "int", time.Minute, func(error) { errs++ })
	var mu sync.Mutex
	var commits []time.Duration
	rec.OnCommit(func(d time.Duration) { mu.Lock(); commits = append(commits, d); mu.Unlock() })
	for i := 0; i < 300; i++ {
		rec.Record(i)
	}
	rec.Close()
	mu.Lock()
	if len(commits) != 2 || commits[0] < 0 || commits[1] < 0 {
		t.Errorf("commits %v, want one for each of the 2 batches (%v)", commits, b.get())
	}
	mu.Unlock()
	if rec.Dropped() != 0 {
		t.Errorf("dropped %d before any drop", rec.Dropped())
	}
	rec.Record(1)
	if rec.Dropped() != 1 || errs != 1 {
		t.Errorf("after a record past Close: dropped %d, reported %d", rec.Dropped(), errs)
	}
}
