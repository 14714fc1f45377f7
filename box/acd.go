package box

import (
	"time"

	"jinyin/store"
)

// queueRecorder batches queue events to the store every 50 ms, telling
// the metrics how long each batch took.
func (b *Box) newQueueRecorder() *store.Recorder[store.QueueEvent] {
	rec := store.NewQueueRecorder(b.db, 50*time.Millisecond, func(err error) { b.log.Error("queue events", "err", err) })
	rec.OnCommit(b.metrics.CommitObserver("queue_events"))
	return rec
}
