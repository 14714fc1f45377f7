package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jinyin/internal/natstest"
	"jinyin/store"
)

// BenchmarkForward measures, against a real nats-server, how fast a box
// empties a backlog of CDRs into JetStream (read from bbolt, published
// in acknowledged batches, the acknowledgement noted in bbolt), beside
// the yardstick of the same messages published asynchronously straight
// from memory on one connection; and the end-to-end delay of one CDR,
// from its commit on the box to a subscriber at headquarters (the poll
// interval, 1 s by default, is most of it: here 50 ms).
//
//	go test -run - -bench Forward -benchtime 1x ./fleet
func BenchmarkForward(b *testing.B) {
	const n = 20000
	hq := natstest.Start(b)
	db, err := store.Open(filepath.Join(b.TempDir(), "j.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < n; i += 1000 {
		db.AppendCDRs(cdrs(1000, i))
	}
	for range b.N {
		// The yardstick: the same bodies, published with ids, from memory.
		nc, _ := nats.Connect(hq.URL())
		js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(batch))
		ctx := context.Background()
		js.CreateStream(ctx, jetstream.StreamConfig{Name: "FLOOR", Subjects: []string{"floor.>"}})
		recs, _ := db.CDRs(0, n)
		t0 := time.Now()
		for i := range recs {
			data, _ := json.Marshal(recs[i])
			js.PublishAsync("floor.cdr", data, jetstream.WithMsgID(fmt.Sprint("floor.", i)))
		}
		<-js.PublishAsyncComplete()
		floor := time.Since(t0)
		nc.Close()

		alarms := &alarmList{}
		t0 = time.Now()
		f, stop := start(b, db, hq.URL(), alarms)
		for f.Status().Sent["cdr"] < n {
			time.Sleep(5 * time.Millisecond)
		}
		fwd := time.Since(t0)

		sub, _ := nats.Connect(hq.URL())
		got := make(chan time.Time, 1)
		s, _ := sub.Subscribe("jinyin.sh-01.cdr", func(*nats.Msg) {
			select {
			case got <- time.Now():
			default:
			}
		})
		sub.Flush()
		var delays []time.Duration
		for i := 0; i < 10; i++ {
			t0 = time.Now()
			db.AppendCDRs(cdrs(1, n+i))
			delays = append(delays, (<-got).Sub(t0))
		}
		s.Unsubscribe()
		sub.Close()
		stop()
		b.ReportMetric(float64(n)/fwd.Seconds(), "events/s")
		b.ReportMetric(float64(n)/floor.Seconds(), "floor-events/s")
		b.ReportMetric(fwd.Seconds()/floor.Seconds(), "x-floor")
		var sum time.Duration
		for _, d := range delays {
			sum += d
		}
		b.ReportMetric(float64(sum.Milliseconds())/float64(len(delays)), "ms-end-to-end")
	}
}
