package store

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// bucketsAt lists what a file at each schema version holds (doc.go's key
// layout), besides meta.
var bucketsAt = [][]string{
	0: {},
	1: {"credentials"},
	2: {"credentials", "cdr"},
	3: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts"},
	4: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts",
		"queue_events", "callbacks", "agents", "recordings", "console"},
	5: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts",
		"queue_events", "callbacks", "agents", "recordings", "console", "bans", "security_events", "registrations"},
	6: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts",
		"queue_events", "callbacks", "agents", "recordings", "console", "bans", "security_events", "registrations",
		"campaigns", "campaign_contacts"},
	7: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts",
		"queue_events", "callbacks", "agents", "recordings", "console", "bans", "security_events", "registrations",
		"campaigns", "campaign_contacts", "campaign_attempts"},
	8: {"credentials", "cdr", "tiers", "subscriptions", "voicemail", "ivr_counts",
		"queue_events", "callbacks", "agents", "recordings", "console", "bans", "security_events", "registrations",
		"campaigns", "campaign_contacts", "campaign_attempts", "fleet", "fleet_outbox"},
}

// oldFile writes a file as firmware at schema v left it, one record in
// each of its buckets.
func oldFile(t *testing.T, v int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		if v > 0 { // version 0 had no schema key
			if err := m.Put([]byte("schema"), []byte{0, 0, 0, byte(v)}); err != nil {
				return err
			}
		}
		for _, name := range bucketsAt[v] {
			bk, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			if err := bk.Put([]byte("old-key"), []byte("old-"+name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	return path
}

func TestMigratesEveryOlderVersion(t *testing.T) {
	if SchemaVersion() != 8 {
		t.Fatalf("schema %d: add the new version to bucketsAt", SchemaVersion())
	}
	for v := 0; v < SchemaVersion(); v++ {
		path := oldFile(t, v)
		db, err := Open(path)
		if err != nil {
			t.Fatalf("from %d: %v", v, err)
		}
		if got, err := db.Version(); err != nil || got != 8 {
			t.Errorf("from %d: version %d %v", v, got, err)
		}
		err = db.bolt.View(func(tx *bolt.Tx) error {
			for _, name := range bucketsAt[8] {
				bk := tx.Bucket([]byte(name))
				if bk == nil {
					t.Errorf("from %d: no bucket %s", v, name)
					continue
				}
				kept := slices.Contains(bucketsAt[v], name)
				if got := string(bk.Get([]byte("old-key"))); kept && got != "old-"+name {
					t.Errorf("from %d: %s lost its record (%q)", v, name, got)
				} else if !kept && got != "" {
					t.Errorf("from %d: new bucket %s holds %q", v, name, got)
				}
			}
			if raw := tx.Bucket([]byte("meta")).Get([]byte("schema")); !slices.Equal(raw, []byte{0, 0, 0, 8}) {
				t.Errorf("from %d: schema key %x", v, raw)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// the new buckets work
		if err := db.AppendSecurityEvents(secEvents("x"), 10); err != nil {
			t.Errorf("from %d: %v", v, err)
		}
		if err := db.SaveBan(Ban{Addr: "192.0.2.1"}); err != nil {
			t.Errorf("from %d: %v", v, err)
		}
		db.Close()
		// and a reopen at the current version changes nothing
		db, err = Open(path)
		if err != nil {
			t.Fatalf("reopen from %d: %v", v, err)
		}
		if got, _ := db.SecurityEvents(0, 10); len(got) != 1 {
			t.Errorf("reopen from %d: %d events", v, len(got))
		}
		db.Close()
	}
}

func TestRefusesEveryNewerSchema(t *testing.T) {
	for _, v := range []uint32{uint32(SchemaVersion()) + 1, uint32(SchemaVersion()) + 2, 1 << 20} {
		path := filepath.Join(t.TempDir(), "new.db")
		b, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		b.Update(func(tx *bolt.Tx) error {
			m, _ := tx.CreateBucket([]byte("meta"))
			return m.Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, v))
		})
		b.Close()
		if _, err := Open(path); !errors.Is(err, ErrTooNew) {
			t.Errorf("version %d: got %v, want ErrTooNew", v, err)
		}
		// refused untouched: the file still says v
		b, err = bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatalf("version %d: refusal left the file locked or damaged: %v", v, err)
		}
		b.View(func(tx *bolt.Tx) error {
			if raw := tx.Bucket([]byte("meta")).Get([]byte("schema")); binary.BigEndian.Uint32(raw) != v {
				t.Errorf("version %d rewritten to %x", v, raw)
			}
			if tx.Bucket([]byte("credentials")) != nil {
				t.Errorf("version %d: migrations ran", v)
			}
			return nil
		})
		b.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "jinyin.db"))
	if err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("open in a missing directory: %v", err)
	}
}

func TestVersionMissing(t *testing.T) {
	db, _ := openTest(t)
	db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keySchema) })
	if _, err := db.Version(); err == nil {
		t.Error("missing schema key: no error")
	}
}

func TestPasswordsFromTheAlphabet(t *testing.T) {
	db, _ := openTest(t)
	exts := []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"}
	pws, err := db.EnsureCredentials(exts)
	if err != nil || len(pws) != 8 {
		t.Fatalf("%v %v", pws, err)
	}
	for ext, pw := range pws {
		if len(pw) != 12 {
			t.Errorf("%s: %q is not 12 characters", ext, pw)
		}
		for _, c := range pw {
			if c == '0' || c == 'O' || c == '1' || c == 'l' || c == 'I' || c == 'i' || c == 'o' || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '2' && c <= '9') {
				t.Errorf("%s: %q has %q", ext, pw, c)
			}
		}
	}
}
