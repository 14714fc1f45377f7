package acd

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// logBuffer is the box's log as an operator reads it, for tests that
// check what it says (warnings and errors).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// captureLog makes the harness's ACD log warnings and errors to a buffer.
func captureLog(h *harness) *logBuffer {
	l := &logBuffer{}
	h.d.log = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return l
}

// A recording that kept all its audio logs nothing; one whose buffer
// overflowed (the writer cannot write a side the other has not matched,
// so one side alone fills up) warns with the samples lost.
func TestRecordingLogsLostAudioOnly(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data = h.dir
	log := captureLog(h)
	e := h.joinAt(t, "general", "13800000011", "")
	a := h.d.agents["1001"]
	r, err := h.d.startRecording(e, a)
	if err != nil {
		t.Fatal(err)
	}
	r.tap(0)(frames(1, 1))
	r.tap(1)(frames(1, 2))
	r.finish(h.d)
	if s := log.String(); s != "" {
		t.Fatalf("a complete recording logged %q", s)
	}
	r, err = h.d.startRecording(e, a)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 251; i++ { // five seconds and a frame, on the caller's side only
		r.tap(0)(frames(1, 1))
	}
	r.finish(h.d)
	if s := log.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "lost audio") || !strings.Contains(s, "samples=160") {
		t.Errorf("a recording that lost a frame logged %q", s)
	}
}

// A recorded queue call whose recording starts and ends well logs no
// error; an answered callback logs none either.
func TestRecordedCallAndCallbackLogNoError(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data = h.dir
	h.d.queues["general"].cfg.Record = true
	h.d.queues["general"].cfg.Survey = false
	log := captureLog(h)
	h.d.Login("1001")
	if _, err := h.d.Book("general", "13800000012", "", h.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r := h.nextRing(t)
	r.answer <- newLine("agent")
	d := h.nextRing(t)
	cust := newLine("customer")
	d.answer <- cust
	h.waitAgent(t, "1001", busy)
	cust.farHangup()
	h.waitAgent(t, "1001", wrapUp)
	h.waitFor(t, "the recording stored", func() bool { recs, _ := h.db.Recordings(); return len(recs) == 1 })
	if s := log.String(); s != "" {
		t.Errorf("logged %q", s)
	}
}
