// Package store keeps the box's state in one bbolt file behind domain
// methods. It is the only package that opens bbolt or names a bucket.
//
// Layer: a leaf; it imports only the standard library, bbolt and
// internal/clock (the recorders' batch interval). Signalling,
// IVR and queue code call its methods; none of them sees a transaction.
//
// # Key layout
//
//	meta         "schema" -> big-endian uint32 schema version
//	credentials  extension number -> SIP digest password (UTF-8)
//	cdr          big-endian uint64 sequence -> CDR as JSON (schema 2)
//	tiers        caller number -> tier name (schema 3)
//	subscriptions  list "\x00" number -> RFC 3339 time subscribed (schema 3)
//	voicemail    mailbox "\x00" id -> Voicemail as JSON (schema 3)
//	ivr_counts   flow "\x00" node "\x00" exit -> big-endian uint64 (schema 3)
//	queue_events big-endian uint64 sequence -> QueueEvent as JSON (schema 4)
//	callbacks    callback id -> Callback as JSON, while it waits (schema 4)
//	agents       extension -> AgentState as JSON (schema 4)
//	recordings   recording id (sortable by time) -> Recording as JSON (schema 4)
//	console      "admin" -> bcrypt hash of the console password (schema 4);
//	             "web:"+user -> JSON WebUser, a wallboard/API account
//	bans         IP address -> Ban as JSON (schema 5)
//	security_events big-endian uint64 sequence -> SecurityEvent as JSON, the newest kept (schema 5)
//	registrations  extension -> its []Binding as JSON (schema 5)
//	campaigns    campaign name -> CampaignState as JSON (schema 6)
//	campaign_contacts  a bucket per campaign: big-endian uint64 place in
//	             its list -> Contact as JSON (schema 6)
//	campaign_attempts  a bucket per campaign: big-endian uint64 start (Unix
//	             ns) + uint64 place -> Attempt as JSON, written with the
//	             contact's outcome in one transaction (schema 7)
//
// Each schema version adds buckets or rewrites keys in a migration (see
// migrations in store.go); Open runs every migration newer than the file's
// version in one transaction, so a file is always at exactly one version.
//
// # Caveats
//
// Every write happens inside a bbolt read-write transaction, so a power cut
// at any moment leaves a file that opens at the last committed state; nothing
// writes the file outside one. Byte slices read from bbolt are only valid
// inside the transaction: the methods here copy what they return.
//
// A file written by a newer firmware (higher schema version) is refused with
// ErrTooNew rather than opened and damaged.
package store
