package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OutboxEvent is an event the box keeps only for headquarters (package
// fleet): an alarm raised or cleared, a KPI snapshot. The records the
// box keeps anyway (CDRs, queue and security events) are sent from
// their own buckets instead, so they take no room here.
type OutboxEvent struct {
	Seq  uint64          `json:"seq"` // set when stored
	Time time.Time       `json:"time"`
	Kind string          `json:"kind"` // the subject's last token: "alarm", "kpi"
	Data json.RawMessage `json:"data"`
}

var keyInstance = []byte("instance")

// FleetInstance is the box's fleet id, made at random on first use and
// kept: with a record's sequence it makes the message id headquarters
// de-duplicates on, so a database started afresh (a factory reset, a
// restored backup) never reuses an id headquarters has seen.
func (db *DB) FleetInstance() (string, error) {
	var id string
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFleet)
		if v := b.Get(keyInstance); v != nil {
			id = string(v)
			return nil
		}
		raw := make([]byte, 8)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		id = hex.EncodeToString(raw)
		return b.Put(keyInstance, []byte(id))
	})
	return id, err
}

// FleetSent is the sequence of the last record of kind (a log's name:
// "cdr", "queue", "security", "outbox") headquarters acknowledged; 0
// before the first.
func (db *DB) FleetSent(kind string) (uint64, error) {
	var n uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketFleet).Get([]byte("sent:" + kind)); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return n, err
}

// SetFleetSent records that headquarters has every record of kind up to
// seq. For the outbox it also deletes those events: they were kept only
// for it.
func (db *DB) SetFleetSent(kind string, seq uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if kind == "outbox" {
			c := tx.Bucket(bucketOutbox).Cursor()
			for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= seq; k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketFleet).Put([]byte("sent:"+kind), binary.BigEndian.AppendUint64(nil, seq))
	})
}

// AppendOutbox keeps ev for headquarters, in a bucket of at most max
// events: when it is full, the oldest KPI snapshot goes first (the next
// one says more), then the oldest event of any kind. It returns how many
// were dropped to make room, and how many the outbox now holds.
func (db *DB) AppendOutbox(ev OutboxEvent, max int) (dropped, held int, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		held = b.Stats().KeyN
		for ; held >= max && held > 0; held-- {
			k := oldestOutbox(b, "kpi")
			if k == nil {
				k, _ = b.Cursor().First()
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			dropped++
		}
		if err := appendLogTx(tx, bucketOutbox, []OutboxEvent{ev}, func(e *OutboxEvent) *uint64 { return &e.Seq }); err != nil {
			return err
		}
		held++
		return nil
	})
	return dropped, held, err
}

// oldestOutbox is the key of the oldest event of kind, nil if none.
func oldestOutbox(b *bolt.Bucket, kind string) []byte {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e struct{ Kind string }
		if json.Unmarshal(v, &e) == nil && e.Kind == kind {
			return append([]byte(nil), k...)
		}
	}
	return nil
}

// Outbox returns up to limit events with sequence numbers after since.
func (db *DB) Outbox(since uint64, limit int) ([]OutboxEvent, error) {
	return readLog[OutboxEvent](db, bucketOutbox, since, limit, "outbox event")
}

// LastSeq is the newest sequence number of a log ("cdr", "queue",
// "security", "outbox"): with FleetSent, how far headquarters is behind.
func (db *DB) LastSeq(kind string) (uint64, error) {
	bucket, ok := map[string][]byte{"cdr": bucketCDR, "queue": bucketQueueEvents, "security": bucketSecEvents, "outbox": bucketOutbox}[kind]
	if !ok {
		return 0, fmt.Errorf("store: no log %q", kind)
	}
	var n uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucket).Sequence()
		return nil
	})
	return n, err
}

// OutboxLen is how many events wait in the outbox.
func (db *DB) OutboxLen() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}
