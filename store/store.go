package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	// ErrTooNew means the file was written by a newer firmware.
	ErrTooNew = errors.New("store: database schema is newer than this firmware")
	// ErrLocked means another process holds the database open.
	ErrLocked = errors.New("store: database is in use by another process")
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
)

var (
	bucketMeta          = []byte("meta")
	bucketCredentials   = []byte("credentials")
	bucketCDR           = []byte("cdr")
	bucketTiers         = []byte("tiers")
	bucketSubs          = []byte("subscriptions")
	bucketVoicemail     = []byte("voicemail")
	bucketIVRCounts     = []byte("ivr_counts")
	bucketQueueEvents   = []byte("queue_events")
	bucketCallbacks     = []byte("callbacks")
	bucketAgents        = []byte("agents")
	bucketRecordings    = []byte("recordings")
	bucketConsole       = []byte("console")
	bucketBans          = []byte("bans")
	bucketSecEvents     = []byte("security_events")
	bucketRegistrations = []byte("registrations")
	bucketCampaigns     = []byte("campaigns")
	bucketContacts      = []byte("campaign_contacts")
	bucketAttempts      = []byte("campaign_attempts")
	bucketFleet         = []byte("fleet")
	bucketOutbox        = []byte("fleet_outbox")
	keySchema           = []byte("schema")
)

// migrations[i] brings a file from schema version i to i+1.
var migrations = []func(tx *bolt.Tx) error{
	// 0 -> 1: meta and credentials.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCredentials)
		return err
	},
	// 1 -> 2: call detail records.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCDR)
		return err
	},
	// 2 -> 3: the IVR's caller tiers, notice subscriptions, voicemail and
	// node counters.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTiers, bucketSubs, bucketVoicemail, bucketIVRCounts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 3 -> 4: the queue's events, callbacks waiting, agents' state, call
	// recordings, the console's admin password.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketQueueEvents, bucketCallbacks, bucketAgents, bucketRecordings, bucketConsole} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 4 -> 5: bans, the security events' ring, registrations.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBans, bucketSecEvents, bucketRegistrations} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 5 -> 6: outbound campaigns' state and contacts.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCampaigns, bucketContacts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 6 -> 7: the campaigns' attempts, one record each.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketAttempts)
		return err
	},
	// 7 -> 8: what headquarters has acknowledged, and the events kept
	// only for it.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFleet, bucketOutbox} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
}

// SchemaVersion is the version this firmware writes.
func SchemaVersion() int { return len(migrations) }

// DB is the box's state.
type DB struct {
	bolt *bolt.DB
}

// Open opens (creating if needed) the database at path and migrates it to
// SchemaVersion. It waits at most a second for another process's lock.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{bolt: b}
	if err := db.migrate(); err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("store: create meta: %w", err)
		}
		v := 0
		if raw := meta.Get(keySchema); len(raw) == 4 {
			v = int(binary.BigEndian.Uint32(raw))
		}
		if v > len(migrations) {
			return fmt.Errorf("%w: file has version %d, firmware knows up to %d", ErrTooNew, v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("store: migrate %d -> %d: %w", v, v+1, err)
			}
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(v)))
	})
}

// FileVersion is the schema version of the database at path, read
// without migrating or writing it: 0 for a file that does not exist yet.
func FileVersion(path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer b.Close()
	v := 0
	err = b.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if raw := meta.Get(keySchema); len(raw) == 4 {
				v = int(binary.BigEndian.Uint32(raw))
			}
		}
		return nil
	})
	return v, err
}

// CopyFile copies the database at path to dst, consistently, without
// migrating it.
func CopyFile(path, dst string) error {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer b.Close()
	return b.View(func(tx *bolt.Tx) error { return tx.CopyFile(dst, 0o600) })
}

// Close waits for running transactions and closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Version returns the schema version of the open file.
func (db *DB) Version() (int, error) {
	var v int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keySchema)
		if len(raw) != 4 {
			return fmt.Errorf("store: schema version missing")
		}
		v = int(binary.BigEndian.Uint32(raw))
		return nil
	})
	return v, err
}

// Credential returns the SIP password of an extension.
func (db *DB) Credential(ext string) (string, error) {
	var pw string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCredentials).Get([]byte(ext))
		if v == nil {
			return fmt.Errorf("%w: credential for %s", ErrNotFound, ext)
		}
		pw = string(v)
		return nil
	})
	return pw, err
}

// EnsureCredentials gives every extension in exts a password, generating a
// random one for those that have none, and returns all of them. Passwords
// already stored are kept, so phones stay registered across restarts.
func (db *DB) EnsureCredentials(exts []string) (map[string]string, error) {
	out := make(map[string]string, len(exts))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCredentials)
		for _, ext := range exts {
			if v := b.Get([]byte(ext)); v != nil {
				out[ext] = string(v)
				continue
			}
			pw, err := randomPassword(12)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(ext), []byte(pw)); err != nil {
				return err
			}
			out[ext] = pw
		}
		return nil
	})
	return out, err
}

// randomPassword draws from an alphabet without look-alikes (0/O, 1/l/I),
// since technicians read these off a file and type them into phones.
func randomPassword(n int) (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("store: random password: %w", err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

// Backup writes a consistent copy of the whole database to w, while the
// box runs (one read transaction).
func (db *DB) Backup(w io.Writer) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}
