package store

import "time"

// Binding is one registered contact of an extension, as kept across a
// restart (sip.Binding).
type Binding struct {
	Contact   string    `json:"contact"` // the contact URI
	Source    string    `json:"source"`  // where the REGISTER came from
	Transport string    `json:"transport"`
	CallID    string    `json:"call_id"`
	CSeq      uint32    `json:"cseq"`
	Expires   time.Time `json:"expires"`
	Since     time.Time `json:"since"`
}

// SetBindings stores ext's bindings; none deletes them.
func (db *DB) SetBindings(ext string, bs []Binding) error {
	if len(bs) == 0 {
		return deleteKey(db, bucketRegistrations, []byte(ext))
	}
	return putJSON(db, bucketRegistrations, []byte(ext), bs)
}

// Bindings returns every extension's stored bindings, expired ones
// included.
func (db *DB) Bindings() (map[string][]Binding, error) {
	out := map[string][]Binding{}
	err := scanJSON(db, bucketRegistrations, nil, "registration", func(k []byte, bs []Binding) { out[string(k)] = bs })
	return out, err
}
