package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/internal/clock"
)

// CDR is the record of one call leg.
type CDR struct {
	Seq         uint64    `json:"seq"` // set when stored
	Call        string    `json:"call"`
	Direction   string    `json:"direction"` // "in" or "out"
	From        string    `json:"from"`
	To          string    `json:"to"`
	Trunk       string    `json:"trunk,omitempty"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer,omitzero"`
	End         time.Time `json:"end"`
	Disposition string    `json:"disposition"` // answered, cancelled, refused, failed
	// Cause is why the call ended or was refused, in its signalling's
	// terms: "SIP 404 Not Found", "Q.850 17 (user busy)".
	Cause string `json:"cause,omitempty"`
}

// AppendCDRs stores records in one transaction, in order.
func (db *DB) AppendCDRs(recs []CDR) error {
	return appendLog(db, bucketCDR, recs, func(r *CDR) *uint64 { return &r.Seq })
}

// CDRs returns up to limit records with sequence numbers after since.
func (db *DB) CDRs(since uint64, limit int) ([]CDR, error) {
	return readLog[CDR](db, bucketCDR, since, limit, "CDR")
}

// EachCDR gives every CDR to f in the order stored, until f returns
// false or an error (which EachCDR returns).
func (db *DB) EachCDR(f func(CDR) (bool, error)) error {
	return eachLog(db, bucketCDR, "CDR", 0, func(r *CDR) uint64 { return r.Seq }, f)
}

// EachCDREndingFrom is EachCDR from the first record of a call that ended
// at or after t (CDRs are stored as calls end), found without reading
// the ones before.
func (db *DB) EachCDREndingFrom(t time.Time, f func(CDR) (bool, error)) error {
	since, err := seqBefore(db, bucketCDR, "end", t)
	if err != nil {
		return err
	}
	return eachLog(db, bucketCDR, "CDR", since, func(r *CDR) uint64 { return r.Seq }, f)
}

// Recorder writes records (CDRs, queue events) in batches off the
// caller's path: Record queues and returns at once; a writer goroutine
// commits what has queued every interval, or sooner when a batch fills. A
// record is durable once its batch commits (bbolt syncs on commit); Close
// commits everything queued.
type Recorder[T any] struct {
	write    func([]T) error
	what     string
	in       chan T
	done     chan struct{}
	interval time.Duration
	clk      clock.Clock
	onErr    func(error)

	mu      sync.Mutex
	closed  bool
	dropped int

	commit atomic.Pointer[func(time.Duration)] // OnCommit's observer
}

// OnCommit has f told how long each batch's commit took (the write and
// its fsync), on the writer goroutine, once a batch: the box's metrics
// keep it as a histogram. f must not block; nil stops telling.
func (r *Recorder[T]) OnCommit(f func(time.Duration)) {
	if f == nil {
		r.commit.Store(nil)
		return
	}
	r.commit.Store(&f)
}

// Dropped is how many records were dropped since the recorder started
// (the queue full, or after Close).
func (r *Recorder[T]) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// NewRecorder starts a CDR recorder committing every interval (50 ms is
// right for calls: a power cut loses at most that).
func NewRecorder(db *DB, interval time.Duration, onErr func(error)) *Recorder[CDR] {
	return NewRecorderOn(clock.Real{}, db, interval, onErr)
}

// NewRecorderOn is NewRecorder with the interval on clk.
func NewRecorderOn(clk clock.Clock, db *DB, interval time.Duration, onErr func(error)) *Recorder[CDR] {
	return startRecorder(clk, db.AppendCDRs, "CDR", interval, onErr)
}

// newRecorder is a recorder on the system clock.
func newRecorder[T any](write func([]T) error, what string, interval time.Duration, onErr func(error)) *Recorder[T] {
	return startRecorder(clock.Real{}, write, what, interval, onErr)
}

func startRecorder[T any](clk clock.Clock, write func([]T) error, what string, interval time.Duration, onErr func(error)) *Recorder[T] {
	r := &Recorder[T]{write: write, what: what, in: make(chan T, 4096), done: make(chan struct{}), interval: interval, clk: clk, onErr: onErr}
	go r.run()
	return r
}

// Record queues a record. It never blocks: if the queue is full (the disk
// has stalled for seconds) the record is counted as dropped and reported.
func (r *Recorder[T]) Record(c T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		select {
		case r.in <- c:
			return
		default:
		}
	}
	r.dropped++
	r.onErr(fmt.Errorf("store: %s queue full or closed; a record was dropped (%d so far)", r.what, r.dropped))
}

func (r *Recorder[T]) run() {
	defer close(r.done)
	t := r.clk.NewTicker(r.interval)
	defer t.Stop()
	batch := make([]T, 0, batchSize)
	failures := 0 // commits failed in a row (a full disk, an I/O error)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		start := time.Now() // real time: how long the disk took, whatever clock ticks the batches
		err := r.write(batch)
		if f := r.commit.Load(); f != nil {
			(*f)(time.Since(start))
		}
		if err == nil {
			failures = 0
			batch = batch[:0]
			return
		}
		// Kept and tried again each interval: a full disk frees up, and
		// nothing acknowledged is lost to it. Beyond maxPending the oldest
		// go, counted as dropped; the failure is reported at its first
		// try and then about once a minute.
		if over := len(batch) - maxPending; over > 0 {
			batch = append(batch[:0], batch[over:]...)
			r.mu.Lock()
			r.dropped += over
			r.mu.Unlock()
		}
		if failures++; failures == 1 || failures%(int(time.Minute/max(r.interval, time.Millisecond))) == 0 {
			r.onErr(fmt.Errorf("store: writing %d %ss (try %d; kept to try again): %w", len(batch), r.what, failures, err))
		}
	}
	for {
		select {
		case c, ok := <-r.in:
			if !ok {
				flush()
				return
			}
			if batch = append(batch, c); len(batch)%batchSize == 0 && failures == 0 {
				flush()
			}
		case <-t.C():
			flush()
		}
	}
}

// A batch commits when it holds batchSize records (or each interval);
// while commits fail, at most maxPending wait to be tried again.
const (
	batchSize  = 256
	maxPending = 100_000
)

// Close commits what is queued and stops the writer; a record after
// Close is dropped and reported.
func (r *Recorder[T]) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.in)
	}
	r.mu.Unlock()
	<-r.done
}
