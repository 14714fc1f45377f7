package sdp

import "bytes"

// Origin numbers the descriptions one side sends in a session (RFC 3264
// §8): every one carries the same o= user, id and address; a description
// that changes anything else carries the version one above the last one
// sent, and one that changes nothing (a session refresh, an offer repeated
// in a 200 to an SDP-less re-INVITE) keeps the version, since "if the
// version in the origin line does not increment, the SDP MUST be identical
// to the SDP with that version number".
//
// The zero Origin is not ready: set ID and Version (RFC 8866 §5.2 suggests
// an NTP timestamp for both; the box draws a random number).
type Origin struct {
	ID      uint64
	Version uint64
	last    []byte   // the last description sent, its o= line included
	sent    *Session // and as a description
}

// Last is the last description sent, nil before the first.
func (o *Origin) Last() *Session { return o.sent }

// Marshal stamps s with the session's id and the right version and writes
// it, remembering it as the last description sent.
func (o *Origin) Marshal(s *Session) []byte {
	s.SessionID, s.SessionVer = o.ID, o.Version
	b := s.Marshal()
	if o.last != nil && !bytes.Equal(b, o.last) {
		o.Version++
		s.SessionVer = o.Version
		b = s.Marshal()
	}
	o.last, o.sent = b, s
	return b
}
