// Command bench-kpi measures a day's KPIs over a large store: it writes
// -calls calls of one day into a fresh database (each a CDR and its queue
// events: enter, then connect and complete, or abandon, or a callback),
// then times kpi.FromStore over the day in 15-minute intervals, and, as
// the yardstick run in the same invocation, the bare read of the same
// records (store.EachCDR and EachQueueEvent, decoding each and nothing
// more). It prints both, their ratio and the report's peak heap.
//
//	go run ./scripts/bench-kpi                    # 1,000,000 CDRs and their events
//	go run ./scripts/bench-kpi -calls 100000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"jinyin/board"
	_ "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
	"jinyin/kpi"
	"jinyin/store"
)

var (
	calls   = flag.Int("calls", 1_000_000, "calls in the day: a CDR each, and their queue events")
	repeats = flag.Int("repeats", 3, "runs of each step; the fastest counts")
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "bench-kpi-")
	check(err)
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	check(err)
	defer db.Close()

	loc, _ := time.LoadLocation("Asia/Shanghai")
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	start := time.Now()
	nCDR, nEv := fill(db, day)
	fmt.Printf("wrote %d CDRs and %d queue events in %v\n", nCDR, nEv, time.Since(start).Round(time.Millisecond))

	cfg, err := config.Load(config.DefaultName, config.Default(), nil, box.Env(board.Env()))
	check(err)
	o := kpi.OptionsFor(cfg)
	o.From, o.To, o.Interval = day, day.Add(24*time.Hour), 15*time.Minute

	floor := best(func() {
		n := 0
		check(db.EachCDR(func(store.CDR) (bool, error) { n++; return true, nil }))
		check(db.EachQueueEvent(func(store.QueueEvent) (bool, error) { n++; return true, nil }))
		if n != nCDR+nEv {
			check(fmt.Errorf("read %d records, wrote %d", n, nCDR+nEv))
		}
	})
	var r *kpi.Report
	var peak uint64
	report := best(func() {
		stop := sampleHeap(&peak)
		r, err = kpi.FromStore(db, o)
		stop()
		check(err)
	})
	all := r.Total.All
	fmt.Printf("report: %d offered, %d answered, SL %.3f, %d intervals\n", all.Offered, all.Answered, all.SLAgainst.Value(), len(r.Intervals))
	fmt.Printf("%-28s %10s\n", "step", "time")
	fmt.Printf("%-28s %10v\n", "read the records (floor)", floor.Round(time.Millisecond))
	fmt.Printf("%-28s %10v\n", "a day's KPIs, 15 min", report.Round(time.Millisecond))
	fmt.Printf("KPIs / floor: %.2fx; peak heap during the report: %.1f MiB\n", float64(report)/float64(floor), float64(peak)/(1<<20))
}

// fill writes the day's calls: arrivals spread with a morning and an
// afternoon peak, 80 % answered after a random wait, 12 % abandoned,
// 8 % a callback.
func fill(db *store.DB, day time.Time) (nCDR, nEv int) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cdrs []store.CDR
	var evs []store.QueueEvent
	flush := func() {
		check(db.AppendCDRs(cdrs))
		check(db.AppendQueueEvents(evs))
		nCDR, nEv = nCDR+len(cdrs), nEv+len(evs)
		cdrs, evs = cdrs[:0], evs[:0]
	}
	for i := range *calls {
		// Office hours 08:00-20:00, busiest at 10:00 and 15:00.
		h := 8 + 12*float64(i)/float64(*calls)
		at := day.Add(time.Duration(h * float64(time.Hour)))
		id := fmt.Sprintf("c%d", i)
		queue := []string{"general", "complaints"}[i%4/3]
		from := fmt.Sprintf("138%08d", rng.IntN(400_000))
		wait := time.Duration(rng.ExpFloat64() * float64(15*time.Second))
		evs = append(evs, store.QueueEvent{Time: at, Kind: store.QueueEnter, Queue: queue, Call: id, Caller: from})
		end := at.Add(wait)
		answer := time.Time{}
		switch p := rng.Float64(); {
		case p < 0.8:
			talk := time.Duration(60+rng.IntN(300)) * time.Second
			agent := fmt.Sprintf("1%03d", rng.IntN(400))
			answer = end
			evs = append(evs, store.QueueEvent{Time: end, Kind: store.QueueConnect, Queue: queue, Call: id, Agent: agent, Wait: wait},
				store.QueueEvent{Time: end.Add(talk), Kind: store.QueueComplete, Queue: queue, Call: id, Agent: agent, Talk: talk, Wrap: 10 * time.Second})
			end = end.Add(talk)
		case p < 0.92:
			evs = append(evs, store.QueueEvent{Time: end, Kind: store.QueueAbandon, Queue: queue, Call: id, Wait: wait})
		default:
			evs = append(evs, store.QueueEvent{Time: end, Kind: store.QueueCallbackRequested, Queue: queue, Call: id, Wait: wait})
		}
		disp := "cancelled"
		if !answer.IsZero() {
			disp = "answered"
		}
		cdrs = append(cdrs, store.CDR{Call: id, Direction: "in", From: from, To: "100", Trunk: fmt.Sprintf("span%d", 1+i%2),
			Start: at, Answer: answer, End: end, Disposition: disp})
		if len(cdrs) == 5000 {
			flush()
		}
	}
	flush()
	return nCDR, nEv
}

// best is the fastest of -repeats runs of f.
func best(f func()) time.Duration {
	var d time.Duration
	for i := range *repeats {
		runtime.GC()
		start := time.Now()
		f()
		if e := time.Since(start); i == 0 || e < d {
			d = e
		}
	}
	return d
}

// sampleHeap records the largest live heap seen every 10 ms until stop.
func sampleHeap(peak *uint64) (stop func()) {
	var done atomic.Bool
	finished := make(chan struct{})
	debug.FreeOSMemory()
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for !done.Load() {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapAlloc)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); <-finished }
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-kpi:", err)
		os.Exit(1)
	}
}
