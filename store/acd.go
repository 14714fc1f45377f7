package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// QueueKind is what a QueueEvent records. Its string is what is stored
// and what the API shows: the values below must not change, or databases
// written before would no longer read back as the same kinds.
type QueueKind string

// The kinds of queue events.
const (
	QueueEnter             QueueKind = "enter"              // a caller joined (Position)
	QueueConnect           QueueKind = "connect"            // an agent answered (Wait, Ring)
	QueueAbandon           QueueKind = "abandon"            // a caller left unserved (Position, Wait; Reason max-wait, no agents)
	QueueComplete          QueueKind = "complete"           // a call ended (Talk, Wrap; Reason: who hung up)
	QueueRingNoAnswer      QueueKind = "ring-no-answer"     // an agent rang out
	QueueTransfer          QueueKind = "transfer"           // a caller moved to a queue (Reason)
	QueueCallbackRequested QueueKind = "callback-requested" // a callback booked
	QueueCallbackDialled   QueueKind = "callback-dialled"   // a callback's customer dialled (Value: attempt)
	QueueCallbackAnswered  QueueKind = "callback-answered"  // the customer answered (Value 1: on time)
	QueueCallbackFailed    QueueKind = "callback-failed"    // an attempt failed, or the callback was given up
	QueueSurvey            QueueKind = "survey"             // a caller's score (Value)
	QueueLogin             QueueKind = "login"
	QueueLogout            QueueKind = "logout"
	QueuePause             QueueKind = "pause" // Reason
	QueueUnpause           QueueKind = "unpause"
	QueueMonitor           QueueKind = "monitor" // a supervisor joined or changed mode (Reason)
)

// QueueEvent is one thing that happened in the call-centre queue: enter,
// connect (with wait and ring time), abandon (with position and wait),
// complete (by agent or caller), ring-no-answer, transfer, callback
// requested/dialled/answered/failed, survey, pause/unpause, login/logout.
type QueueEvent struct {
	Seq      uint64        `json:"seq"` // set when stored
	Time     time.Time     `json:"time"`
	Kind     QueueKind     `json:"kind"`
	Queue    string        `json:"queue,omitempty"`
	Call     string        `json:"call,omitempty"`
	Caller   string        `json:"caller,omitempty"`
	Agent    string        `json:"agent,omitempty"`
	Tier     string        `json:"tier,omitempty"`
	Position int           `json:"position,omitempty"`
	Wait     time.Duration `json:"wait,omitempty"`
	Ring     time.Duration `json:"ring,omitempty"`
	Talk     time.Duration `json:"talk,omitempty"`
	Wrap     time.Duration `json:"wrap,omitempty"`   // complete: the wrap-up the agent is given after it
	Reason   string        `json:"reason,omitempty"` // pause reason, who hung up, why a callback failed
	Value    int           `json:"value,omitempty"`  // survey score
}

// AppendQueueEvents stores events in one transaction, in order.
func (db *DB) AppendQueueEvents(evs []QueueEvent) error {
	return appendLog(db, bucketQueueEvents, evs, func(e *QueueEvent) *uint64 { return &e.Seq })
}

// QueueEvents returns up to limit events with sequence numbers after since.
func (db *DB) QueueEvents(since uint64, limit int) ([]QueueEvent, error) {
	return readLog[QueueEvent](db, bucketQueueEvents, since, limit, "queue event")
}

// EachQueueEvent gives every queue event to f in the order stored, until
// f returns false or an error (which EachQueueEvent returns).
func (db *DB) EachQueueEvent(f func(QueueEvent) (bool, error)) error {
	return eachLog(db, bucketQueueEvents, "queue event", 0, func(e *QueueEvent) uint64 { return e.Seq }, f)
}

// EachQueueEventFrom is EachQueueEvent from the first event at or after
// t, found without reading the ones before.
func (db *DB) EachQueueEventFrom(t time.Time, f func(QueueEvent) (bool, error)) error {
	since, err := seqBefore(db, bucketQueueEvents, "time", t)
	if err != nil {
		return err
	}
	return eachLog(db, bucketQueueEvents, "queue event", since, func(e *QueueEvent) uint64 { return e.Seq }, f)
}

// NewQueueRecorder starts a batching writer of queue events.
func NewQueueRecorder(db *DB, interval time.Duration, onErr func(error)) *Recorder[QueueEvent] {
	return newRecorder(db.AppendQueueEvents, "queue event", interval, onErr)
}

// Callback is a caller's request to be called back, kept while it waits.
// Joined is when the caller joined the queue: the callback keeps that
// place. Attempts counts dials begun; it is written, with Dialling, before
// each dial of the customer. A callback found Dialling at start lost its
// attempt's outcome (the customer may have been reached): it is held for
// Review and not dialled again until a supervisor says so.
type Callback struct {
	ID        string    `json:"id"`
	Queue     string    `json:"queue"`
	Number    string    `json:"number"`
	Tier      string    `json:"tier,omitempty"`
	Joined    time.Time `json:"joined"`
	Requested time.Time `json:"requested"`
	Promised  time.Time `json:"promised"`            // when the box promised to call back by
	NotBefore time.Time `json:"not_before,omitzero"` // a window the caller chose
	Attempts  int       `json:"attempts"`
	Dialling  bool      `json:"dialling,omitempty"`
	Review    bool      `json:"review,omitempty"`
}

// SaveCallback stores or updates a waiting callback.
func (db *DB) SaveCallback(c Callback) error {
	return putJSON(db, bucketCallbacks, []byte(c.ID), c)
}

// DeleteCallback removes a callback that is done (answered or given up).
func (db *DB) DeleteCallback(id string) error {
	return deleteKey(db, bucketCallbacks, []byte(id))
}

// Callbacks returns the callbacks waiting, by id.
func (db *DB) Callbacks() ([]Callback, error) {
	return listJSON[Callback](db, bucketCallbacks, nil, "callback")
}

// AgentState is an agent's login and pause, kept across restarts.
type AgentState struct {
	LoggedIn bool   `json:"logged_in"`
	Paused   bool   `json:"paused"`
	Reason   string `json:"reason,omitempty"`
}

// SetAgentState stores an agent's state.
func (db *DB) SetAgentState(ext string, s AgentState) error {
	return putJSON(db, bucketAgents, []byte(ext), s)
}

// AgentStates returns every stored agent state.
func (db *DB) AgentStates() (map[string]AgentState, error) {
	out := map[string]AgentState{}
	err := scanJSON(db, bucketAgents, nil, "agent", func(k []byte, s AgentState) { out[string(k)] = s })
	return out, err
}

// Recording is a queue call recorded to a stereo WAV (caller left, agent
// right) under the data directory; Sampled marks it for quality review.
type Recording struct {
	ID       string        `json:"id"` // start time, then the call: sorts by time
	Queue    string        `json:"queue"`
	Agent    string        `json:"agent"`
	Caller   string        `json:"caller"`
	Call     string        `json:"call"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	File     string        `json:"file"` // relative to the data directory
	Bytes    int64         `json:"bytes"`
	Sampled  bool          `json:"sampled"`
}

// AddRecording stores a recording's row (after its file is complete).
func (db *DB) AddRecording(r Recording) error {
	return putJSON(db, bucketRecordings, []byte(r.ID), r)
}

// DeleteRecording removes a recording's row.
func (db *DB) DeleteRecording(id string) error {
	return deleteKey(db, bucketRecordings, []byte(id))
}

// Recording returns one recording's row.
func (db *DB) Recording(id string) (Recording, error) {
	return getJSON[Recording](db, bucketRecordings, []byte(id), "recording")
}

// Recordings returns the recordings, oldest first.
func (db *DB) Recordings() ([]Recording, error) {
	return listJSON[Recording](db, bucketRecordings, nil, "recording")
}

// ConsolePassword returns the console admin's password hash, ErrNotFound
// before one is set.
func (db *DB) ConsolePassword() ([]byte, error) {
	var h []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		h = append(h, tx.Bucket(bucketConsole).Get([]byte("admin"))...)
		return nil
	})
	if err == nil && len(h) == 0 {
		err = ErrNotFound
	}
	return h, err
}

// SetConsolePassword stores the console admin's password hash.
func (db *DB) SetConsolePassword(hash []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConsole).Put([]byte("admin"), hash)
	})
}
