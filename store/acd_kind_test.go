package store

import (
	"encoding/json"
	"testing"
)

// The queue event kinds are stored as these strings: a database written
// before the kinds were typed reads back as the same kinds.
func TestQueueKindsStoredAsBefore(t *testing.T) {
	for kind, stored := range map[QueueKind]string{
		QueueEnter: "enter", QueueConnect: "connect", QueueAbandon: "abandon", QueueComplete: "complete",
		QueueRingNoAnswer: "ring-no-answer", QueueTransfer: "transfer", QueueCallbackRequested: "callback-requested",
		QueueCallbackDialled: "callback-dialled", QueueCallbackAnswered: "callback-answered", QueueCallbackFailed: "callback-failed",
		QueueSurvey: "survey", QueueLogin: "login", QueueLogout: "logout", QueuePause: "pause", QueueUnpause: "unpause",
		QueueMonitor: "monitor",
	} {
		var e QueueEvent
		if err := json.Unmarshal([]byte(`{"seq":1,"kind":"`+stored+`"}`), &e); err != nil || e.Kind != kind {
			t.Errorf("stored %q reads back as %q (%v), want %q", stored, e.Kind, err, kind)
		}
		if b, _ := json.Marshal(QueueEvent{Kind: kind}); string(b) != `{"seq":0,"time":"0001-01-01T00:00:00Z","kind":"`+stored+`"}` {
			t.Errorf("%q is stored as %s", kind, b)
		}
	}
}
