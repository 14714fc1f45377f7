package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/natstest"
	"jinyin/store"
)

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type alarmList struct {
	mu sync.Mutex
	l  []string
}

func (a *alarmList) set(l ...string) { a.mu.Lock(); a.l = l; a.mu.Unlock() }
func (a *alarmList) get() []string   { a.mu.Lock(); defer a.mu.Unlock(); return slices.Clone(a.l) }

func cdrs(n, from int) []store.CDR {
	out := make([]store.CDR, n)
	for i := range out {
		out[i] = store.CDR{Call: fmt.Sprintf("call-%d", from+i), Direction: "in", From: "13800000001", To: "100",
			Start: time.Unix(1_800_000_000, 0).UTC(), End: time.Unix(1_800_000_010, 0).UTC(), Disposition: "answered"}
	}
	return out
}

func start(t testing.TB, db *store.DB, url string, alarms *alarmList) (*Forwarder, func()) {
	t.Helper()
	f, err := New(Options{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Real{}, Poll: 50 * time.Millisecond,
		Alarms: alarms.get, KPI: func() (any, error) { return map[string]int{"offered": 3}, nil }, KPIEvery: time.Hour,
		Config: config.Fleet{Enabled: true, Site: "sh-01", Servers: []string{url}, Stream: "JINYIN", OutboxMax: 100}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	return f, func() { cancel(); <-done }
}

// The records reach headquarters once each and in order, through an
// outage of headquarters and a box that forgets it was acknowledged:
// 300 CDRs (more than a batch), queue and security events and an alarm
// go out; headquarters goes down, 200 more CDRs and the alarm's clearing
// wait on the box; it comes back and they arrive; the box's note of what
// was acknowledged is put back 150 CDRs (a kill -9 between an
// acknowledgement and its note) and JetStream's de-duplication keeps the
// stream as it was.
func TestStoreAndForward(t *testing.T) {
	hq := natstest.Start(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendCDRs(cdrs(300, 0)); err != nil {
		t.Fatal(err)
	}
	db.AppendQueueEvents([]store.QueueEvent{{Kind: store.QueueEnter, Queue: "general", Call: "call-1"}, {Kind: store.QueueLogin, Agent: "1001"}})
	db.AppendSecurityEvents([]store.SecurityEvent{{Name: "InvalidPassword", Service: "SIP", Source: "127.0.0.9:5060", Account: "1001"}}, 100)
	alarms := &alarmList{}
	alarms.set("span 1: LOS")

	f, stop := start(t, db, hq.URL(), alarms)
	want := 300 + 2 + 1 + 1
	waitUntil(t, "the first records at headquarters", func() bool { return len(hq.Messages(t, "JINYIN")) == want })
	if st := f.Status(); !st.Connected || st.Sent["cdr"] != 300 || st.Backlog["cdr"] != 0 {
		t.Errorf("status after the first round: %+v", st)
	}

	hq.Down()
	if err := db.AppendCDRs(cdrs(200, 300)); err != nil {
		t.Fatal(err)
	}
	alarms.set()
	waitUntil(t, "the box to see headquarters gone", func() bool {
		st := f.Status()
		return !st.Connected && st.Backlog["cdr"] == 200 && st.Outbox == 1
	})
	hq.Up()
	want += 200 + 1
	waitUntil(t, "the backlog at headquarters", func() bool { return len(hq.Messages(t, "JINYIN")) == want && f.Status().Backlog["cdr"] == 0 })
	stop()

	if err := db.SetFleetSent("cdr", 350); err != nil {
		t.Fatal(err)
	}
	_, stop = start(t, db, hq.URL(), alarms)
	waitUntil(t, "the box to send again", func() bool { n, _ := db.FleetSent("cdr"); return n == 500 })
	stop()

	msgs := hq.Messages(t, "JINYIN")
	if len(msgs) != want {
		t.Errorf("%d messages at headquarters, want %d", len(msgs), want)
	}
	instance, _ := db.FleetInstance()
	var seqs []int
	kinds := map[string]int{}
	for _, m := range msgs {
		kind := strings.TrimPrefix(m.Subject, "jinyin.sh-01.")
		kinds[kind]++
		if kind != "cdr" {
			continue
		}
		var c store.CDR
		if err := json.Unmarshal(m.Data, &c); err != nil {
			t.Fatal(err)
		}
		if wantID := fmt.Sprintf("sh-01.%s.cdr.%d", instance, c.Seq); m.ID != wantID || c.Call != fmt.Sprintf("call-%d", c.Seq-1) {
			t.Fatalf("CDR %d: id %q call %q, want %q", c.Seq, m.ID, c.Call, wantID)
		}
		seqs = append(seqs, int(c.Seq))
	}
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("CDRs at headquarters out of order or doubled at %d: %v", i, seqs[max(0, i-3):min(len(seqs), i+3)])
		}
	}
	if len(seqs) != 500 || kinds["queue"] != 2 || kinds["security"] != 1 || kinds["alarm"] != 2 {
		t.Errorf("at headquarters: %d CDRs, kinds %v", len(seqs), kinds)
	}
	var alarmEvents []string
	for _, m := range msgs {
		if m.Subject == "jinyin.sh-01.alarm" {
			alarmEvents = append(alarmEvents, string(m.Data))
		}
	}
	if strings.Join(alarmEvents, " ") != `{"alarm":"span 1: LOS","state":"raised"} {"alarm":"span 1: LOS","state":"cleared"}` {
		t.Errorf("alarms at headquarters: %v", alarmEvents)
	}
	if n, _ := db.OutboxLen(); n != 0 {
		t.Errorf("%d events left in the outbox after headquarters took them", n)
	}
}

// A command is the API's call: its answer comes back whole, the box is
// told of it, and what is not a command is refused, not run.
func TestCommand(t *testing.T) {
	var told []string
	f := &Forwarder{o: Options{
		Commands: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprintf(w, "%s %s %s %s %q", r.Method, r.URL.Path, r.URL.Query().Get("x"), r.Header.Get("Content-Type"), body)
		}),
		OnCommand: func(method, path string, status int) { told = append(told, fmt.Sprint(method, " ", path, " ", status)) },
	}}
	req, _ := json.Marshal(Request{Method: "PUT", Path: "/prompts/zh/welcome?x=1", ContentType: "audio/wav", Body: []byte("RIFF")})
	rep := f.command(req)
	if rep.Status != http.StatusTeapot || rep.ContentType != "text/plain" || string(rep.Body) != `PUT /prompts/zh/welcome 1 audio/wav "RIFF"` {
		t.Errorf("reply %d %q %q", rep.Status, rep.ContentType, rep.Body)
	}
	for _, bad := range []string{"nope", `{"path":"/status"}`, `{"method":"GET","path":"status"}`, `{"method":"G T","path":"/status"}`} {
		if rep := f.command([]byte(bad)); rep.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, rep.Status, rep.Body)
		}
	}
	if strings.Join(told, ";") != "PUT /prompts/zh/welcome 418" {
		t.Errorf("told %q", told)
	}
}

// FuzzCommand: any request body headquarters (or anyone who could
// publish there) sends gets a reply, 400 unless it names a method and a
// path, and never reaches the API otherwise.
func FuzzCommand(f *testing.F) {
	f.Add([]byte(`{"method":"GET","path":"/status"}`))
	f.Add([]byte(`{"method":"PUT","path":"/config?max_wait=5m","body":"W2JveF0K"}`))
	f.Add([]byte(`{"method":"GET","path":"//x/../status"}`))
	fw := &Forwarder{o: Options{Commands: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "" || !strings.HasPrefix(r.URL.Path, "/") {
			panic("the API got " + r.Method + " " + r.URL.String())
		}
		w.WriteHeader(http.StatusNoContent)
	})}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if rep := fw.command(data); rep.Status != http.StatusBadRequest && rep.Status != http.StatusNoContent {
			t.Errorf("%q: %d", data, rep.Status)
		}
	})
}

// The outbox while headquarters is away: KPI snapshots pile up to the
// bound, the alarm comes at 80 % of it, the oldest go once it is full
// (and are counted), and once headquarters has them the alarm clears.
func TestOutboxAlarm(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snapshots := 0
	f, err := New(Options{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Real{},
		KPI:    func() (any, error) { snapshots++; return map[string]int{"n": snapshots}, nil },
		Config: config.Fleet{Site: "sh-01", OutboxMax: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for range 79 {
		f.snapshotKPI()
	}
	if a := f.Alarm(); a != "" || f.Status().Outbox != 79 {
		t.Errorf("79 of 100: alarm %q, %+v", a, f.Status())
	}
	f.snapshotKPI()
	if a := f.Alarm(); a == "" {
		t.Error("80 of 100: no alarm")
	}
	for range 30 {
		f.snapshotKPI()
	}
	if st := f.Status(); st.Outbox != 100 || st.Dropped != 10 {
		t.Errorf("110 snapshots into 100: %+v", st)
	}
	evs, _ := db.Outbox(0, 1)
	if len(evs) != 1 || string(evs[0].Data) != `{"n":11}` {
		t.Errorf("the oldest kept: %+v", evs)
	}
	last, _ := db.LastSeq("outbox")
	if err := db.SetFleetSent("outbox", last); err != nil {
		t.Fatal(err)
	}
	f.backlog()
	if a := f.Alarm(); a != "" || f.Status().Outbox != 0 || f.Status().Backlog["outbox"] != 0 {
		t.Errorf("after headquarters took them: alarm %q, %+v", a, f.Status())
	}
}
