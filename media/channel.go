package media

// Source is audio to play: Fill writes up to len(dst) samples and returns
// how many; fewer than asked means it has ended. prompt.Player is one.
type Source interface {
	Fill(dst []int16) int
}

// EventKind is what happened on a channel.
type EventKind uint8

const (
	EventDigit    EventKind = iota + 1 // a DTMF digit began
	EventPlayDone                      // the source given to Play ended
	EventHangup                        // the far end hung up
)

// Event is one thing a channel reports to whoever runs the call.
type Event struct {
	Kind  EventKind
	Digit byte // for EventDigit: 0-9 * # A-D
}

// Channel is one call's audio as the IVR and the queue see it: whatever
// carries it (a SIP leg, an E1 timeslot, an analog port), it plays sources,
// reports digits and hang-up, and can be hung up.
type Channel interface {
	// ID names the call in logs and records.
	ID() string
	// Play replaces what is playing; nil plays silence.
	Play(src Source)
	// Events delivers digits, the end of a played source, and hang-up.
	// It is closed after EventHangup or Hangup.
	Events() <-chan Event
	// Hangup ends the call.
	Hangup() error
}
