package store

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestRecorderBatchesAndCloseFlushes(t *testing.T) {
	db, _ := openTest(t)
	rec := NewRecorder(db, time.Hour, func(err error) { t.Error(err) }) // no timed flush: Close must commit
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 600; i++ { // more than one batch of 256
		rec.Record(CDR{Call: "c", Direction: "in", From: "13800138000", To: "100", Start: start, End: start.Add(time.Minute), Disposition: "answered"})
	}
	rec.Close()
	var late error
	rec.onErr = func(err error) { late = err }
	rec.Record(CDR{Call: "late"}) // after Close: reported, no panic
	if late == nil {
		t.Error("a record after Close was not reported")
	}
	all, err := db.CDRs(0, 1000)
	if err != nil || len(all) != 600 || all[0].Seq != 1 || all[599].Seq != 600 || all[5].From != "13800138000" || !all[5].End.Equal(start.Add(time.Minute)) {
		t.Fatalf("%d records, %v", len(all), err)
	}
	page, _ := db.CDRs(590, 100)
	if len(page) != 10 || page[0].Seq != 591 {
		t.Fatalf("page after 590: %d from %d", len(page), page[0].Seq)
	}
}

func TestRecorderTimedFlush(t *testing.T) {
	db, _ := openTest(t)
	rec := NewRecorder(db, 10*time.Millisecond, func(err error) { t.Error(err) })
	defer rec.Close()
	rec.Record(CDR{Call: "x", Disposition: "refused"})
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if all, _ := db.CDRs(0, 10); len(all) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a queued record was not committed within the interval")
		}
	}
}

// TestMigratesVersion1 opens a file written at schema 1 (before CDRs) and
// finds it migrated, its credentials kept.
func TestMigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(bucketMeta)
		c, _ := tx.CreateBucket(bucketCredentials)
		c.Put([]byte("1001"), []byte("kept"))
		return m.Put(keySchema, binary.BigEndian.AppendUint32(nil, 1))
	})
	b.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(); v != SchemaVersion() {
		t.Fatalf("version %d after migration", v)
	}
	if pw, _ := db.Credential("1001"); pw != "kept" {
		t.Fatal("credentials lost in migration")
	}
	if err := db.AppendCDRs([]CDR{{Call: "after"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTier("1", "key-account"); err != nil {
		t.Fatal(err)
	}
}
