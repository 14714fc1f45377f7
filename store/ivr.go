package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SetTier puts a caller number in a tier ("key-account", "registered");
// an empty tier takes it out of the table.
func (db *DB) SetTier(number, tier string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTiers)
		if tier == "" {
			return b.Delete([]byte(number))
		}
		return b.Put([]byte(number), []byte(tier))
	})
}

// Tier returns the caller's tier, "" when the number is not in the table.
func (db *DB) Tier(number string) (string, error) {
	var tier string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		tier = string(tx.Bucket(bucketTiers).Get([]byte(number)))
		return nil
	})
	return tier, err
}

func subKey(list, number string) []byte { return []byte(list + "\x00" + number) }

// Subscribe puts number on a notice list (on) or takes it off.
func (db *DB) Subscribe(list, number string, on bool, at time.Time) error {
	if list == "" || number == "" || strings.ContainsRune(list+number, 0) {
		return fmt.Errorf("store: subscribe %q to %q: list and number are required", number, list)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubs)
		if !on {
			return b.Delete(subKey(list, number))
		}
		return b.Put(subKey(list, number), []byte(at.UTC().Format(time.RFC3339)))
	})
}

// Subscribers returns the numbers on a notice list, sorted.
func (db *DB) Subscribers(list string) ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSubs).Cursor()
		prefix := []byte(list + "\x00")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}

// Voicemail is one message left in a mailbox; its audio is a WAV file in
// the data directory, written before the record.
type Voicemail struct {
	Mailbox  string        `json:"mailbox"`
	ID       string        `json:"id"` // sortable: the time it was left, then the caller
	Caller   string        `json:"caller"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration"`
	File     string        `json:"file"` // relative to the data directory
	Heard    bool          `json:"heard"`
}

func vmKey(mailbox, id string) []byte { return []byte(mailbox + "\x00" + id) }

// AddVoicemail records a message.
func (db *DB) AddVoicemail(v Voicemail) error {
	if v.Mailbox == "" || v.ID == "" {
		return fmt.Errorf("store: voicemail needs a mailbox and an id")
	}
	return putJSON(db, bucketVoicemail, vmKey(v.Mailbox, v.ID), v)
}

// Voicemails lists a mailbox, oldest first; an empty mailbox lists all.
func (db *DB) Voicemails(mailbox string) ([]Voicemail, error) {
	var prefix []byte
	if mailbox != "" {
		prefix = []byte(mailbox + "\x00")
	}
	return listJSON[Voicemail](db, bucketVoicemail, prefix, "voicemail")
}

// Voicemail returns one message.
func (db *DB) Voicemail(mailbox, id string) (Voicemail, error) {
	return getJSON[Voicemail](db, bucketVoicemail, vmKey(mailbox, id), "voicemail")
}

// MarkHeard marks a message as listened to.
func (db *DB) MarkHeard(mailbox, id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVoicemail)
		raw := b.Get(vmKey(mailbox, id))
		if raw == nil {
			return ErrNotFound
		}
		var vm Voicemail
		if err := json.Unmarshal(raw, &vm); err != nil {
			return err
		}
		vm.Heard = true
		data, err := json.Marshal(vm)
		if err != nil {
			return err
		}
		return b.Put(vmKey(mailbox, id), data)
	})
}

// IVRCount is how often callers left one node of a flow one way ("visit"
// counts arrivals).
type IVRCount struct {
	Flow, Node, Exit string
	N                uint64
}

// AddIVRCounts adds counts to the stored totals in one transaction.
func (db *DB) AddIVRCounts(counts []IVRCount) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIVRCounts)
		for _, c := range counts {
			k := []byte(c.Flow + "\x00" + c.Node + "\x00" + c.Exit)
			var n uint64
			if v := b.Get(k); len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			if err := b.Put(k, binary.BigEndian.AppendUint64(nil, n+c.N)); err != nil {
				return err
			}
		}
		return nil
	})
}

// IVRCounts returns the stored totals, most frequent first.
func (db *DB) IVRCounts() ([]IVRCount, error) {
	var out []IVRCount
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIVRCounts).ForEach(func(k, v []byte) error {
			f := strings.SplitN(string(k), "\x00", 3)
			if len(f) != 3 || len(v) != 8 {
				return fmt.Errorf("store: malformed ivr count %q", k)
			}
			out = append(out, IVRCount{Flow: f[0], Node: f[1], Exit: f[2], N: binary.BigEndian.Uint64(v)})
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].N > out[j].N })
	return out, err
}
