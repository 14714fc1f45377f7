package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// WebUser is an account of the web wallboard and the HTTP API: its role
// ("supervisor" acts, "viewer" only looks) and the bcrypt hash of its
// password. Kept in the console bucket under "web:" + name.
type WebUser struct {
	Role string `json:"role"`
	Hash []byte `json:"hash"`
}

func webKey(name string) []byte { return []byte("web:" + name) }

// SetWebUser stores or replaces a web account.
func (db *DB) SetWebUser(name string, u WebUser) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketConsole).Put(webKey(name), b) })
}

// GetWebUser returns a web account, ErrNotFound when there is none.
func (db *DB) GetWebUser(name string) (WebUser, error) {
	var u WebUser
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketConsole).Get(webKey(name))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("store: web user %q: %w", name, err)
		}
		return nil
	})
	return u, err
}

// WebUsers returns each web account's role, by name.
func (db *DB) WebUsers() (map[string]string, error) {
	out := map[string]string{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConsole).Cursor()
		for k, v := c.Seek([]byte("web:")); k != nil && bytes.HasPrefix(k, []byte("web:")); k, v = c.Next() {
			var u WebUser
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("store: web user %q: %w", k[4:], err)
			}
			out[string(k[4:])] = u.Role
		}
		return nil
	})
	return out, err
}
