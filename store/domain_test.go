package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// putRaw writes bytes straight into a bucket, as a damaged or foreign file
// would hold them.
func putRaw(t *testing.T, db *DB, bucket, key, val []byte) {
	t.Helper()
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, val) }); err != nil {
		t.Fatal(err)
	}
}

func seqs[T any](recs []T, seq func(T) uint64) []uint64 {
	out := []uint64{}
	for _, r := range recs {
		out = append(out, seq(r))
	}
	return out
}

func qseq(e QueueEvent) uint64    { return e.Seq }
func sseq(e SecurityEvent) uint64 { return e.Seq }

func TestQueueEventsRoundTripAndPaging(t *testing.T) {
	db, _ := openTest(t)
	full := QueueEvent{Time: t0, Kind: QueueConnect, Queue: "sales", Call: "c1", Caller: "13800138000", Agent: "1001",
		Tier: "key-account", Position: 2, Wait: 42 * time.Second, Ring: 3 * time.Second, Talk: time.Minute, Reason: "agent", Value: 5}
	evs := []QueueEvent{full, {Time: t0.Add(time.Second), Kind: QueueAbandon}, {Kind: QueueLogin}, {Kind: QueueLogout}, {Kind: QueuePause}}
	if err := db.AppendQueueEvents(evs); err != nil {
		t.Fatal(err)
	}
	if got := seqs(evs, qseq); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("sequence numbers set on the caller's slice: %v", got)
	}
	all, err := db.QueueEvents(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := full
	want.Seq = 1
	if len(all) != 5 || !reflect.DeepEqual(all[0], want) || all[4].Kind != QueuePause {
		t.Fatalf("read back %+v", all)
	}
	if got, _ := db.QueueEvents(2, 100); !slices.Equal(seqs(got, qseq), []uint64{3, 4, 5}) {
		t.Errorf("after 2: %v", seqs(got, qseq))
	}
	if got, _ := db.QueueEvents(1, 2); !slices.Equal(seqs(got, qseq), []uint64{2, 3}) {
		t.Errorf("after 1, limit 2: %v", seqs(got, qseq))
	}
	if got, _ := db.QueueEvents(0, 0); len(got) != 0 {
		t.Errorf("limit 0 returned %d", len(got))
	}
	if got, _ := db.QueueEvents(5, 10); len(got) != 0 {
		t.Errorf("after the last: %d", len(got))
	}
	// a second append continues the numbering
	more := []QueueEvent{{Kind: QueueUnpause}}
	db.AppendQueueEvents(more)
	if more[0].Seq != 6 {
		t.Errorf("next sequence %d, want 6", more[0].Seq)
	}
}

func TestQueueRecorderFlushesOnClose(t *testing.T) {
	db, _ := openTest(t)
	rec := NewQueueRecorder(db, time.Hour, func(err error) { t.Error(err) })
	for i := 0; i < 3; i++ {
		rec.Record(QueueEvent{Kind: QueueEnter, Position: i + 1})
	}
	rec.Close()
	got, err := db.QueueEvents(0, 10)
	if err != nil || len(got) != 3 || got[2].Position != 3 || got[2].Seq != 3 {
		t.Fatalf("%+v %v", got, err)
	}
	var dropped error
	rec.onErr = func(err error) { dropped = err }
	rec.Record(QueueEvent{Kind: QueueEnter})
	if dropped == nil || !strings.Contains(dropped.Error(), "queue event") {
		t.Errorf("record after Close: %v", dropped)
	}
	rec.Close() // a second Close is harmless
}

func TestCallbacks(t *testing.T) {
	db, _ := openTest(t)
	cb := Callback{ID: "b", Queue: "sales", Number: "13800138000", Tier: "registered", Joined: t0, Requested: t0.Add(time.Minute),
		Promised: t0.Add(time.Hour), NotBefore: t0.Add(30 * time.Minute)}
	if err := db.SaveCallback(cb); err != nil {
		t.Fatal(err)
	}
	db.SaveCallback(Callback{ID: "a", Queue: "support", Number: "1", Joined: t0})
	cb.Attempts = 1 // written before the dial
	if err := db.SaveCallback(cb); err != nil {
		t.Fatal(err)
	}
	got, err := db.Callbacks()
	if err != nil || len(got) != 2 || got[0].ID != "a" || !reflect.DeepEqual(got[1], cb) {
		t.Fatalf("%+v %v", got, err)
	}
	if !got[0].NotBefore.IsZero() {
		t.Errorf("no window reads back as %v", got[0].NotBefore)
	}
	if err := db.DeleteCallback("a"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCallback("never"); err != nil {
		t.Errorf("deleting an absent callback: %v", err)
	}
	if got, _ := db.Callbacks(); len(got) != 1 || got[0].ID != "b" || got[0].Attempts != 1 {
		t.Errorf("after delete %+v", got)
	}
	// a callback that cannot be encoded is refused and nothing is stored
	if err := db.SaveCallback(Callback{ID: "bad", Joined: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("unencodable callback accepted")
	}
	if got, _ := db.Callbacks(); len(got) != 1 {
		t.Errorf("%d callbacks after a failed save", len(got))
	}
}

func TestAgentStates(t *testing.T) {
	db, _ := openTest(t)
	if got, err := db.AgentStates(); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	db.SetAgentState("1001", AgentState{LoggedIn: true})
	db.SetAgentState("1002", AgentState{LoggedIn: true, Paused: true, Reason: "lunch"})
	db.SetAgentState("1001", AgentState{LoggedIn: true, Paused: true, Reason: "wrap-up"})
	got, err := db.AgentStates()
	want := map[string]AgentState{
		"1001": {LoggedIn: true, Paused: true, Reason: "wrap-up"},
		"1002": {LoggedIn: true, Paused: true, Reason: "lunch"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v %v", got, err)
	}
	putRaw(t, db, bucketAgents, []byte("1003"), []byte("{"))
	if _, err := db.AgentStates(); err == nil || !strings.Contains(err.Error(), "1003") {
		t.Errorf("malformed agent state: %v", err)
	}
}

func TestRecordings(t *testing.T) {
	db, _ := openTest(t)
	r1 := Recording{ID: "20261123T090000-c1", Queue: "sales", Agent: "1001", Caller: "13800138000", Call: "c1",
		Start: t0, Duration: 95 * time.Second, File: "recordings/c1.wav", Bytes: 3040044, Sampled: true}
	r2 := Recording{ID: "20261123T100000-c2", Queue: "sales", Agent: "1002", Start: t0.Add(time.Hour)}
	r0 := Recording{ID: "20261122T230000-c0", Queue: "sales", Agent: "1003"}
	for _, r := range []Recording{r1, r2, r0} {
		if err := db.AddRecording(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Recordings()
	if err != nil || len(got) != 3 || got[0].ID != r0.ID || !reflect.DeepEqual(got[1], r1) || got[2].ID != r2.ID {
		t.Fatalf("oldest first: %+v %v", got, err)
	}
	if err := db.DeleteRecording(r1.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRecording(r1.ID); err != nil {
		t.Errorf("deleting it again: %v", err)
	}
	if _, err := db.Recording(r1.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted recording: %v", err)
	}
	if got, _ := db.Recordings(); len(got) != 2 || got[0].ID != r0.ID || got[1].ID != r2.ID {
		t.Errorf("after delete %+v", got)
	}
	putRaw(t, db, bucketRecordings, []byte("zz"), []byte("not json"))
	if _, err := db.Recording("zz"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("malformed recording: %v", err)
	}
	if _, err := db.Recordings(); err == nil {
		t.Error("listing a malformed recording: no error")
	}
}

func TestConsolePassword(t *testing.T) {
	db, path := openTest(t)
	if h, err := db.ConsolePassword(); !errors.Is(err, ErrNotFound) || len(h) != 0 {
		t.Fatalf("before one is set: %q %v", h, err)
	}
	hash := []byte("$2a$10$abcdefghijklmnopqrstuv")
	if err := db.SetConsolePassword(hash); err != nil {
		t.Fatal(err)
	}
	if err := db.SetConsolePassword([]byte("$2a$10$replaced")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if h, err := db2.ConsolePassword(); err != nil || string(h) != "$2a$10$replaced" {
		t.Fatalf("after reopen: %q %v", h, err)
	}
}

func TestBans(t *testing.T) {
	db, _ := openTest(t)
	if got, err := db.Bans(); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	b1 := Ban{Addr: "203.0.113.7", Since: t0, Until: t0.Add(time.Hour), Reason: "InvalidPassword x5"}
	b2 := Ban{Addr: "198.51.100.1", Since: t0, Until: t0.Add(time.Minute), Reason: "FailedACL"}
	db.SaveBan(b1)
	db.SaveBan(b2)
	b1.Until = t0.Add(24 * time.Hour) // extended
	if err := db.SaveBan(b1); err != nil {
		t.Fatal(err)
	}
	got, err := db.Bans()
	if err != nil || !reflect.DeepEqual(got, []Ban{b2, b1}) { // "198..." sorts before "203..."
		t.Fatalf("%+v %v", got, err)
	}
	if err := db.DeleteBan(b2.Addr); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteBan("192.0.2.99"); err != nil {
		t.Errorf("lifting a ban that is not there: %v", err)
	}
	if got, _ := db.Bans(); !reflect.DeepEqual(got, []Ban{b1}) {
		t.Errorf("after delete %+v", got)
	}
}

func secEvents(names ...string) []SecurityEvent {
	var out []SecurityEvent
	for i, n := range names {
		out = append(out, SecurityEvent{Time: t0.Add(time.Duration(i) * time.Second), Name: n, Service: "SIP", Source: "203.0.113.7:5060", Account: "1001"})
	}
	return out
}

func TestSecurityEventsRing(t *testing.T) {
	db, _ := openTest(t)
	// exactly keep: nothing trimmed
	if err := db.AppendSecurityEvents(secEvents("a", "b", "c"), 3); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.SecurityEvents(0, 10); !slices.Equal(seqs(got, sseq), []uint64{1, 2, 3}) {
		t.Fatalf("at keep: %v", seqs(got, sseq))
	}
	// two more: the two oldest go
	if err := db.AppendSecurityEvents(secEvents("d", "e"), 3); err != nil {
		t.Fatal(err)
	}
	got, err := db.SecurityEvents(0, 10)
	if err != nil || !slices.Equal(seqs(got, sseq), []uint64{3, 4, 5}) || got[1].Name != "d" {
		t.Fatalf("after 5 with keep 3: %v %v", seqs(got, sseq), err)
	}
	want := SecurityEvent{Seq: 4, Time: t0, Name: "d", Service: "SIP", Source: "203.0.113.7:5060", Account: "1001"}
	if !reflect.DeepEqual(got[1], want) {
		t.Errorf("round trip %+v", got[1])
	}
	// a batch bigger than the ring keeps only its own newest
	db.AppendSecurityEvents(secEvents("f", "g", "h", "i", "j"), 3)
	if got, _ := db.SecurityEvents(0, 10); !slices.Equal(seqs(got, sseq), []uint64{8, 9, 10}) {
		t.Errorf("after a batch of 5: %v", seqs(got, sseq))
	}
	if got, _ := db.SecurityEvents(8, 1); !slices.Equal(seqs(got, sseq), []uint64{9}) {
		t.Errorf("after 8, limit 1: %v", seqs(got, sseq))
	}
	if got, _ := db.NewestSecurityEvents(2); !slices.Equal(seqs(got, sseq), []uint64{9, 10}) || got[1].Name != "j" {
		t.Errorf("newest 2: %v", seqs(got, sseq))
	}
	if got, _ := db.NewestSecurityEvents(10); !slices.Equal(seqs(got, sseq), []uint64{8, 9, 10}) {
		t.Errorf("newest 10 of 3: %v", seqs(got, sseq))
	}
	if got, _ := db.NewestSecurityEvents(0); len(got) != 0 {
		t.Errorf("newest 0: %d", len(got))
	}
	// a bigger ring keeps everything that is left
	db.AppendSecurityEvents(secEvents("k"), 100)
	if got, _ := db.SecurityEvents(0, 10); !slices.Equal(seqs(got, sseq), []uint64{8, 9, 10, 11}) {
		t.Errorf("keep 100: %v", seqs(got, sseq))
	}
	// an unencodable event fails the whole batch
	bad := secEvents("l")
	bad[0].Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.AppendSecurityEvents(bad, 3); err == nil {
		t.Error("unencodable event accepted")
	}
	if got, _ := db.SecurityEvents(0, 10); len(got) != 4 {
		t.Errorf("%d events after a failed append, want 4", len(got))
	}
}

func TestSecurityEventsMalformed(t *testing.T) {
	db, _ := openTest(t)
	db.AppendSecurityEvents(secEvents("a"), 10)
	putRaw(t, db, bucketSecEvents, []byte{0, 0, 0, 0, 0, 0, 0, 2}, []byte("{"))
	if _, err := db.NewestSecurityEvents(5); err == nil {
		t.Error("newest: malformed event not reported")
	}
	if _, err := db.SecurityEvents(0, 5); err == nil {
		t.Error("since: malformed event not reported")
	}
}

func TestAppendIsOneTransaction(t *testing.T) {
	db, _ := openTest(t)
	recs := []CDR{{Call: "good"}, {Call: "bad", Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := db.AppendCDRs(recs); err == nil {
		t.Fatal("unencodable CDR accepted")
	}
	if got, _ := db.CDRs(0, 10); len(got) != 0 {
		t.Fatalf("%d CDRs kept from a failed batch", len(got))
	}
	next := []CDR{{Call: "after"}}
	db.AppendCDRs(next)
	if next[0].Seq != 1 {
		t.Errorf("sequence after a rolled-back batch: %d, want 1", next[0].Seq)
	}
	putRaw(t, db, bucketCDR, []byte{0, 0, 0, 0, 0, 0, 0, 2}, []byte("[]"))
	if _, err := db.CDRs(0, 10); err == nil {
		t.Error("malformed CDR not reported")
	}
}

func TestTierRemovedByEmpty(t *testing.T) {
	db, _ := openTest(t)
	db.SetTier("13800000001", "key-account")
	db.SetTier("13800000002", "registered")
	if err := db.SetTier("13800000001", ""); err != nil {
		t.Fatal(err)
	}
	if tier, _ := db.Tier("13800000001"); tier != "" {
		t.Errorf("removed caller still has %q", tier)
	}
	if tier, _ := db.Tier("13800000002"); tier != "registered" {
		t.Errorf("other caller has %q", tier)
	}
	if err := db.SetTier("nobody", ""); err != nil {
		t.Errorf("removing an absent number: %v", err)
	}
}

func TestSubscribeValidation(t *testing.T) {
	db, _ := openTest(t)
	for _, c := range [][2]string{{"", "1"}, {"notices", ""}, {"no\x00tices", "1"}, {"notices", "1\x002"}} {
		if err := db.Subscribe(c[0], c[1], true, t0); err == nil {
			t.Errorf("subscribe %q to %q accepted", c[1], c[0])
		}
	}
	if got, _ := db.Subscribers("notices"); len(got) != 0 {
		t.Errorf("refused subscriptions stored: %v", got)
	}
	if err := db.Subscribe("notices", "1", true, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Subscribe("notices", "never", false, t0); err != nil {
		t.Errorf("unsubscribing an absent number: %v", err)
	}
	if got, _ := db.Subscribers("noticesx"); len(got) != 0 {
		t.Errorf("another list's prefix: %v", got)
	}
	var at string
	db.bolt.View(func(tx *bolt.Tx) error { at = string(tx.Bucket(bucketSubs).Get([]byte("notices\x001"))); return nil })
	if at != "2026-11-23T09:00:00Z" {
		t.Errorf("subscribed at %q", at)
	}
}

func TestVoicemailValidationAndListing(t *testing.T) {
	db, _ := openTest(t)
	if err := db.AddVoicemail(Voicemail{ID: "x"}); err == nil {
		t.Error("voicemail without a mailbox accepted")
	}
	if err := db.AddVoicemail(Voicemail{Mailbox: "main"}); err == nil {
		t.Error("voicemail without an id accepted")
	}
	db.AddVoicemail(Voicemail{Mailbox: "main", ID: "2"})
	db.AddVoicemail(Voicemail{Mailbox: "main", ID: "1"})
	db.AddVoicemail(Voicemail{Mailbox: "b", ID: "9"})
	all, err := db.Voicemails("")
	var ids []string
	for _, v := range all {
		ids = append(ids, v.Mailbox+"/"+v.ID)
	}
	if err != nil || !slices.Equal(ids, []string{"b/9", "main/1", "main/2"}) {
		t.Errorf("all mailboxes: %v %v", ids, err)
	}
	if got, _ := db.Voicemails("mai"); len(got) != 0 {
		t.Errorf("a prefix of a mailbox lists %d", len(got))
	}
	putRaw(t, db, bucketVoicemail, vmKey("main", "3"), []byte("{"))
	if err := db.MarkHeard("main", "3"); err == nil {
		t.Error("marking a malformed message: no error")
	}
	if _, err := db.Voicemails("main"); err == nil {
		t.Error("listing a malformed message: no error")
	}
}

func TestIVRCountsOrderAndMalformed(t *testing.T) {
	db, _ := openTest(t)
	// ties keep key order: a/visit before b/visit
	db.AddIVRCounts([]IVRCount{{"f", "b", "visit", 4}, {"f", "a", "visit", 4}, {"f", "c", "key:1", 9}, {"f", "d", "key:2", 1}})
	got, err := db.IVRCounts()
	want := []IVRCount{{"f", "c", "key:1", 9}, {"f", "a", "visit", 4}, {"f", "b", "visit", 4}, {"f", "d", "key:2", 1}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("%+v %v", got, err)
	}
	putRaw(t, db, bucketIVRCounts, []byte("f\x00e\x00visit"), []byte{1})
	if _, err := db.IVRCounts(); err == nil {
		t.Error("short count not reported")
	}
	db2, _ := openTest(t)
	putRaw(t, db2, bucketIVRCounts, []byte("f\x00e"), []byte{0, 0, 0, 0, 0, 0, 0, 1})
	if _, err := db2.IVRCounts(); err == nil {
		t.Error("key without an exit not reported")
	}
}

func TestBackupOpensAsCopy(t *testing.T) {
	db, _ := openTest(t)
	db.EnsureCredentials([]string{"1001"})
	db.AppendCDRs([]CDR{{Call: "c1", Disposition: "answered"}})
	db.SaveBan(Ban{Addr: "203.0.113.7", Until: t0})
	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(path) // while the original is still open
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	pw1, _ := db.Credential("1001")
	if pw, err := cp.Credential("1001"); err != nil || pw != pw1 {
		t.Errorf("credential in the copy: %q %v", pw, err)
	}
	if got, _ := cp.CDRs(0, 10); len(got) != 1 || got[0].Call != "c1" {
		t.Errorf("CDRs in the copy: %+v", got)
	}
	if got, _ := cp.Bans(); len(got) != 1 {
		t.Errorf("bans in the copy: %+v", got)
	}
	if err := db.Backup(failWriter{}); err == nil {
		t.Error("a failing writer: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
