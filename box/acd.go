package box

import (
	"time"

	"jinyin/store"
)

// queueRecorder batches queue events to the store every 50 ms.
func (b *Box) newQueueRecorder() *store.Recorder[store.QueueEvent] {
	return store.NewQueueRecorder(b.db, 50*time.Millisecond, func(err error) { b.log.Error("queue events", "err", err) })
}
