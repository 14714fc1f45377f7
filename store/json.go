package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Records are kept as JSON, in two shapes: logs (CDRs, queue events) under
// big-endian sequence numbers, appended and read from a point on; and
// keyed records (callbacks, recordings, voicemail, agents), put and
// listed in key order.

// appendLog stores recs under the bucket's next sequence numbers, in one
// transaction and in order, setting each one's number through seq.
func appendLog[T any](db *DB, bucket []byte, recs []T, seq func(*T) *uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return appendLogTx(tx, bucket, recs, seq) })
}

// appendLogTx is appendLog inside a caller's transaction.
func appendLogTx[T any](tx *bolt.Tx, bucket []byte, recs []T, seq func(*T) *uint64) error {
	b := tx.Bucket(bucket)
	for i := range recs {
		n, err := b.NextSequence()
		if err != nil {
			return err
		}
		*seq(&recs[i]) = n
		v, err := json.Marshal(&recs[i])
		if err != nil {
			return err
		}
		if err := b.Put(binary.BigEndian.AppendUint64(nil, n), v); err != nil {
			return err
		}
	}
	return nil
}

// readLog returns up to limit records with sequence numbers after since.
func readLog[T any](db *DB, bucket []byte, since uint64, limit int, what string) ([]T, error) {
	var out []T
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, since+1)); k != nil && len(out) < limit; k, v = c.Next() {
			var r T
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: %s %x: %w", what, k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// putJSON stores v as JSON under key.
func putJSON(db *DB, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, data) })
}

// getJSON reads one keyed record; ErrNotFound when there is none.
func getJSON[T any](db *DB, bucket, key []byte, what string) (T, error) {
	var r T
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key)
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("store: %s %q: %w", what, key, err)
		}
		return nil
	})
	return r, err
}

// deleteKey removes a keyed record.
func deleteKey(db *DB, bucket, key []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete(key) })
}

// scanJSON decodes each record whose key starts with prefix (all of them
// for an empty prefix), in key order.
func scanJSON[T any](db *DB, bucket, prefix []byte, what string, each func(key []byte, v T)) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r T
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: %s %q: %w", what, k, err)
			}
			each(k, r)
		}
		return nil
	})
}

// listJSON is scanJSON into a slice.
func listJSON[T any](db *DB, bucket, prefix []byte, what string) ([]T, error) {
	var out []T
	err := scanJSON(db, bucket, prefix, what, func(_ []byte, v T) { out = append(out, v) })
	return out, err
}

// eachLog gives the records of a log to f in order from the one after
// since, reading a page at a time (each in its own read transaction, so a
// long export does not hold one), until f says stop or fails.
func eachLog[T any](db *DB, bucket []byte, what string, since uint64, seq func(*T) uint64, f func(T) (bool, error)) error {
	const page = 1000
	for {
		recs, err := readLog[T](db, bucket, since, page, what)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if more, err := f(r); err != nil || !more {
				return err
			}
		}
		if len(recs) < page {
			return nil
		}
		since = seq(&recs[len(recs)-1])
	}
}

// seqBefore is the sequence number just before the first record of a log
// whose time (the JSON field field) is not before t, by binary search: the
// records of a log are appended in about the order of that time, so a
// reader of a day need not decode the years before it. 0 when the first
// record is already at or after t.
func seqBefore(db *DB, bucket []byte, field string, t time.Time) (uint64, error) {
	var lo, hi uint64 // the answer lies in [lo, hi]
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		first, _ := c.First()
		last, _ := c.Last()
		if first == nil {
			return nil
		}
		lo, hi = binary.BigEndian.Uint64(first)-1, binary.BigEndian.Uint64(last)
		timeAt := func(seq uint64) (uint64, time.Time, error) {
			k, v := c.Seek(binary.BigEndian.AppendUint64(nil, seq))
			if k == nil {
				return 0, time.Time{}, nil
			}
			var rec map[string]json.RawMessage
			var at time.Time
			if err := json.Unmarshal(v, &rec); err != nil {
				return 0, at, fmt.Errorf("store: %x: %w", k, err)
			}
			err := json.Unmarshal(rec[field], &at)
			return binary.BigEndian.Uint64(k), at, err
		}
		for lo < hi {
			mid := lo + (hi-lo+1)/2
			k, at, err := timeAt(mid)
			if err != nil {
				return err
			}
			if k == 0 || !at.Before(t) {
				hi = mid - 1
			} else {
				lo = k
			}
		}
		return nil
	})
	return lo, err
}
