package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jinyin/internal/clock"
)

// Ban is a source address the box ignores until Until.
type Ban struct {
	Addr   string    `json:"addr"` // an IP address, as netip prints it
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// SaveBan stores (or extends) the ban of b.Addr.
func (db *DB) SaveBan(b Ban) error { return putJSON(db, bucketBans, []byte(b.Addr), b) }

// DeleteBan lifts the ban of addr; lifting one that is not there is no error.
func (db *DB) DeleteBan(addr string) error { return deleteKey(db, bucketBans, []byte(addr)) }

// Bans lists the stored bans, expired ones included, in address order.
func (db *DB) Bans() ([]Ban, error) { return listJSON[Ban](db, bucketBans, nil, "ban") }

// SecurityEvent is one security event (Asterisk's names where they fit:
// InvalidAccountID, InvalidPassword, ChallengeResponseFailed, FailedACL,
// RequestBadFormat, SessionLimit, SuccessfulAuth; and Banned, Unbanned,
// DialDenied).
type SecurityEvent struct {
	Seq     uint64    `json:"seq"` // set when stored
	Time    time.Time `json:"time"`
	Name    string    `json:"event"`
	Service string    `json:"service"`           // SIP, route
	Source  string    `json:"source,omitempty"`  // address:port the request came from
	Account string    `json:"account,omitempty"` // the user or extension it claimed
	Detail  string    `json:"detail,omitempty"`
}

// AppendSecurityEvents stores evs in order and keeps only the newest keep
// events (a bounded ring), in one transaction.
func (db *DB) AppendSecurityEvents(evs []SecurityEvent, keep int) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := appendLogTx(tx, bucketSecEvents, evs, func(e *SecurityEvent) *uint64 { return &e.Seq }); err != nil {
			return err
		}
		b := tx.Bucket(bucketSecEvents)
		last := b.Sequence()
		if last <= uint64(keep) {
			return nil
		}
		end := binary.BigEndian.AppendUint64(nil, last-uint64(keep)+1)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && string(k) < string(end); k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// SecurityEvents returns up to limit events after sequence number since.
func (db *DB) SecurityEvents(since uint64, limit int) ([]SecurityEvent, error) {
	return readLog[SecurityEvent](db, bucketSecEvents, since, limit, "security event")
}

// NewSecurityRecorder batches security events to db every interval on
// clk, keeping the newest keep.
func NewSecurityRecorder(clk clock.Clock, db *DB, interval time.Duration, keep int, onErr func(error)) *Recorder[SecurityEvent] {
	return startRecorder(clk, func(evs []SecurityEvent) error { return db.AppendSecurityEvents(evs, keep) }, "security event", interval, onErr)
}

// NewestSecurityEvents returns the newest n events, oldest first.
func (db *DB) NewestSecurityEvents(n int) ([]SecurityEvent, error) {
	var out []SecurityEvent
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSecEvents).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var e SecurityEvent
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("store: security event %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}
