package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// openTest opens a DB in a temporary directory and runs bbolt's consistency
// check when the test ends, as bbolt's own btesting does.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jinyin.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.bolt.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil && !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			t.Errorf("consistency check: %v", err)
		}
		db.Close()
	})
	return db, path
}

func TestOpenMigratesToCurrent(t *testing.T) {
	db, _ := openTest(t)
	v, err := db.Version()
	if err != nil || v != SchemaVersion() {
		t.Fatalf("version %d %v, want %d", v, err, SchemaVersion())
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jinyin.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(bucketMeta)
		return m.Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(SchemaVersion()+1)))
	})
	b.Close()
	if _, err := Open(path); !errors.Is(err, ErrTooNew) {
		t.Fatalf("got %v, want ErrTooNew", err)
	}
}

func TestLockedByOtherOpen(t *testing.T) {
	_, path := openTest(t)
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
}

func TestCredentialsKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jinyin.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.EnsureCredentials([]string{"1001", "1002"})
	if err != nil || len(first["1001"]) != 12 || first["1001"] == first["1002"] {
		t.Fatalf("got %v %v", first, err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	again, _ := db.EnsureCredentials([]string{"1001", "1002", "1003"})
	if again["1001"] != first["1001"] || again["1003"] == "" {
		t.Fatalf("passwords changed on reopen: %v vs %v", first, again)
	}
	if pw, err := db.Credential("1003"); err != nil || pw != again["1003"] {
		t.Fatalf("Credential: %q %v", pw, err)
	}
	if _, err := db.Credential("9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

// FileVersion reads a file's schema without touching it; CopyFile copies
// it as it is (the trial of an update migrates the copy, not the file).
func TestFileVersionAndCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jinyin.db")
	if v, err := FileVersion(path); v != 0 || err != nil {
		t.Errorf("no file: %d %v", v, err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v, err := FileVersion(path); v != SchemaVersion() || err != nil {
		t.Errorf("%d %v, want %d", v, err, SchemaVersion())
	}
	if err := CopyFile(path, filepath.Join(dir, "copy.db")); err != nil {
		t.Fatal(err)
	}
	if v, err := FileVersion(filepath.Join(dir, "copy.db")); v != SchemaVersion() || err != nil {
		t.Errorf("copy: %d %v", v, err)
	}
	os.WriteFile(filepath.Join(dir, "junk.db"), []byte("not a database"), 0o600)
	if _, err := FileVersion(filepath.Join(dir, "junk.db")); err == nil {
		t.Error("a file of junk has a version")
	}
}
