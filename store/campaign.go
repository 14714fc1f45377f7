package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ContactState is where a campaign's contact stands.
type ContactState string

const (
	ContactWaiting  ContactState = "waiting"  // to be called (again, from NotBefore)
	ContactDialling ContactState = "dialling" // an attempt is out; its outcome is not known yet
	ContactDone     ContactState = "done"     // reached
	ContactFailed   ContactState = "failed"   // given up: attempts spent, a vacant number, do not call
	// ContactReview is an attempt whose outcome was lost (the box
	// stopped during it): the contact may have been called, so it is not
	// called again until an operator says so.
	ContactReview ContactState = "review"
)

// Contact is one number a campaign calls, with the variables its flow
// reads back.
type Contact struct {
	Seq    uint64            `json:"seq"` // its place in the campaign's list, from 1
	Number string            `json:"number"`
	TZ     string            `json:"tz,omitempty"` // IANA zone of the callee; "" is the campaign's
	Vars   map[string]string `json:"vars,omitempty"`
	// Consent is the evidence that the person agreed to be called (how
	// and when: "2026-10-02 web form, order A17"), as imported; a
	// marketing campaign calls no one without it.
	Consent   string       `json:"consent,omitempty"`
	State     ContactState `json:"state"`
	Attempts  int          `json:"attempts"`
	NotBefore time.Time    `json:"not_before,omitzero"`
	Last      time.Time    `json:"last,omitzero"`     // when the last attempt began
	Outcome   string       `json:"outcome,omitempty"` // the last attempt's
	// Answers are what the person keyed in the campaign's flow (its
	// collect nodes' variables: a survey's scores), kept from every
	// attempt that reached them.
	Answers map[string]string `json:"answers,omitempty"`
}

// CampaignState is a campaign's run state as an operator left it.
type CampaignState struct {
	State string `json:"state"` // "running", "paused" or "stopped"
}

// SetCampaignState stores a campaign's run state.
func (db *DB) SetCampaignState(name string, s CampaignState) error {
	return putJSON(db, bucketCampaigns, []byte(name), s)
}

// CampaignStates returns every campaign's stored run state.
func (db *DB) CampaignStates() (map[string]CampaignState, error) {
	out := map[string]CampaignState{}
	err := scanJSON(db, bucketCampaigns, nil, "campaign", func(k []byte, s CampaignState) { out[string(k)] = s })
	return out, err
}

// AddContacts appends contacts to a campaign's list, waiting, in one
// transaction; it returns the place of the first.
func (db *DB) AddContacts(campaign string, cs []Contact) (uint64, error) {
	var first uint64
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketContacts).CreateBucketIfNotExists([]byte(campaign))
		if err != nil {
			return err
		}
		for i, c := range cs {
			if c.Seq, err = b.NextSequence(); err != nil {
				return err
			}
			if i == 0 {
				first = c.Seq
			}
			c.State = ContactWaiting
			if err := putContact(b, c); err != nil {
				return err
			}
		}
		return nil
	})
	return first, err
}

func putContact(b *bolt.Bucket, c Contact) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.Put(binary.BigEndian.AppendUint64(nil, c.Seq), v)
}

// EachContact calls each for a campaign's contacts in list order, from
// place from on, until it returns false.
func (db *DB) EachContact(campaign string, from uint64, each func(Contact) bool) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketContacts).Bucket([]byte(campaign))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, from)); k != nil; k, v = c.Next() {
			var ct Contact
			if err := json.Unmarshal(v, &ct); err != nil {
				return fmt.Errorf("store: contact %x of %s: %w", k, campaign, err)
			}
			if !each(ct) {
				return nil
			}
		}
		return nil
	})
}

// updateContact changes one contact in a transaction of its own, which
// bbolt commits to disk (fsync) before it returns.
func (db *DB) updateContact(campaign string, seq uint64, f func(*Contact) error) (Contact, error) {
	var ct Contact
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		ct, err = updateContactTx(tx, campaign, seq, f)
		return err
	})
	return ct, err
}

func updateContactTx(tx *bolt.Tx, campaign string, seq uint64, f func(*Contact) error) (Contact, error) {
	var ct Contact
	b := tx.Bucket(bucketContacts).Bucket([]byte(campaign))
	var v []byte
	if b != nil {
		v = b.Get(binary.BigEndian.AppendUint64(nil, seq))
	}
	if v == nil {
		return ct, fmt.Errorf("%w: contact %d of campaign %s", ErrNotFound, seq, campaign)
	}
	if err := json.Unmarshal(v, &ct); err != nil {
		return ct, err
	}
	if err := f(&ct); err != nil {
		return ct, err
	}
	return ct, putContact(b, ct)
}

// BeginAttempt records that a contact is about to be called, on disk
// before it returns: the call may go out only after. A contact that is
// not waiting (another attempt out, reached, in review) is refused.
func (db *DB) BeginAttempt(campaign string, seq uint64, at time.Time) (Contact, error) {
	return db.updateContact(campaign, seq, func(c *Contact) error {
		if c.State != ContactWaiting {
			return fmt.Errorf("store: contact %d of %s is %s, not waiting", seq, campaign, c.State)
		}
		c.State, c.Attempts, c.Last, c.Outcome = ContactDialling, c.Attempts+1, at, ""
		return nil
	})
}

// Attempt is one call a campaign made, as it ended: kept (at least 30
// days, as China's MIIT 2020 notice asks of call centres' numbers and
// call times) for the campaign's reports.
type Attempt struct {
	Campaign string            `json:"campaign"`
	Seq      uint64            `json:"seq"` // the contact's
	Number   string            `json:"number"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Outcome  string            `json:"outcome"`
	Answers  map[string]string `json:"answers,omitempty"`
	// Agent is how long an agent was taken by the call (talk and
	// wrap-up), in an agent-assisted campaign.
	Agent time.Duration `json:"agent,omitempty"`
}

// AttemptEnd is how an attempt ended, and where its contact goes.
type AttemptEnd struct {
	Outcome   string
	State     ContactState // waiting again (from NotBefore), done or failed
	NotBefore time.Time
	Answers   map[string]string // what the person keyed
	Agent     time.Duration     // Attempt.Agent
	At        time.Time
}

// EndAttempt records an attempt's outcome and where the contact goes.
func (db *DB) EndAttempt(campaign string, seq uint64, end AttemptEnd) error {
	outcome, answers := end.Outcome, end.Answers
	return db.bolt.Update(func(tx *bolt.Tx) error {
		c, err := updateContactTx(tx, campaign, seq, func(c *Contact) error {
			if c.State != ContactDialling {
				return fmt.Errorf("store: contact %d of %s is %s, no attempt out", seq, campaign, c.State)
			}
			c.State, c.Outcome, c.NotBefore = end.State, outcome, end.NotBefore
			for k, v := range answers {
				if c.Answers == nil {
					c.Answers = map[string]string{}
				}
				c.Answers[k] = v
			}
			return nil
		})
		if err != nil {
			return err
		}
		a := Attempt{Campaign: campaign, Seq: seq, Number: c.Number, Start: c.Last, End: end.At, Outcome: outcome, Answers: answers, Agent: end.Agent}
		v, err := json.Marshal(a)
		if err != nil {
			return err
		}
		b, err := tx.Bucket(bucketAttempts).CreateBucketIfNotExists([]byte(campaign))
		if err != nil {
			return err
		}
		return b.Put(attemptKey(c.Last, seq), v)
	})
}

// attemptKey orders a campaign's attempts by start, then contact.
func attemptKey(start time.Time, seq uint64) []byte {
	ns := uint64(0)
	if start.After(time.Unix(0, 0)) {
		ns = uint64(start.UnixNano())
	}
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, ns), seq)
}

// PruneAttempts deletes the attempts that started before before, in
// every campaign; it returns how many.
func (db *DB) PruneAttempts(before time.Time) (int, error) {
	n := 0
	end := attemptKey(before, 0)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAttempts).ForEachBucket(func(name []byte) error {
			c := tx.Bucket(bucketAttempts).Bucket(name).Cursor()
			for k, _ := c.First(); k != nil && string(k) < string(end); k, _ = c.Next() {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
	return n, err
}

// Attempts calls f with each of a campaign's attempts that started in
// [from, to), oldest first, until f returns false.
func (db *DB) Attempts(campaign string, from, to time.Time, f func(Attempt) bool) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAttempts).Bucket([]byte(campaign))
		if b == nil {
			return nil
		}
		end := attemptKey(to, 0)
		c := b.Cursor()
		for k, v := c.Seek(attemptKey(from, 0)); k != nil && string(k) < string(end); k, v = c.Next() {
			var a Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("store: attempt %x of %s: %w", k, campaign, err)
			}
			if !f(a) {
				return nil
			}
		}
		return nil
	})
}

// SetContact puts a contact in state (an operator's review: waiting
// again, or failed), whatever it was.
func (db *DB) SetContact(campaign string, seq uint64, state ContactState) error {
	_, err := db.updateContact(campaign, seq, func(c *Contact) error {
		c.State = state
		return nil
	})
	return err
}

// ReviewInterrupted puts every contact with an attempt out in review:
// what the box finds on start, after a crash or a power cut, is an
// attempt whose outcome it never learnt. It returns how many.
func (db *DB) ReviewInterrupted(reason string) (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketContacts).ForEachBucket(func(name []byte) error {
			b := tx.Bucket(bucketContacts).Bucket(name)
			var out []Contact
			err := b.ForEach(func(_, v []byte) error {
				var c Contact
				if err := json.Unmarshal(v, &c); err != nil {
					return err
				}
				if c.State == ContactDialling {
					c.State, c.Outcome = ContactReview, reason
					out = append(out, c)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, c := range out {
				if err := putContact(b, c); err != nil {
					return err
				}
			}
			n += len(out)
			return nil
		})
	})
	return n, err
}
