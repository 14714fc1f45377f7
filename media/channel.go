package media

import "sync/atomic"

// Source is audio to play: Fill writes up to len(dst) samples and returns
// how many; fewer than asked means it has ended. prompt.Player is one.
type Source interface {
	Fill(dst []int16) int
}

// ALawSource is a Source that can give its audio as A-law bytes directly:
// prompts are stored as A-law, so on a PCMA call (China's default) the
// media path copies them instead of decoding and encoding every frame.
// An optional feature, found by type assertion; FillALaw and Fill advance
// the same position.
type ALawSource interface {
	Source
	FillALaw(dst []byte) int
}

// EventKind is what happened on a channel.
type EventKind uint8

const (
	EventDigit    EventKind = iota + 1 // a DTMF digit began
	EventPlayDone                      // the source of one Play ended: Event.Play says which
	EventHangup                        // the far end hung up
)

// PlayID names one call of Play on a channel: each Play gets the next,
// from 1, and the EventPlayDone of its source carries it. A done event
// can come after the next Play (the source ended in the frame being sent
// as Play replaced it); its id is then not the one playing, and whoever
// waits for the new source's end must not take it for that.
type PlayID uint64

// Event is one thing a channel reports to whoever runs the call.
type Event struct {
	Kind   EventKind
	Digit  byte   // for EventDigit: 0-9 * # A-D
	InBand bool   // for EventDigit: heard in the audio, not signalled
	Play   PlayID // for EventPlayDone: the Play whose source ended
}

// Digits counts the DTMF digits heard on every channel of the process
// since it started: Signalled as RFC 4733 events, InBand detected in the
// audio (RTP or a timeslot). One atomic add a digit where it is reported,
// never per sample or packet; the box's metrics read it.
var Digits struct {
	Signalled, InBand atomic.Uint64
}

// Channel is one call's audio as the IVR and the queue see it: whatever
// carries it (a SIP leg, an E1 timeslot, an analog port), it plays sources,
// reports digits and hang-up, and can be hung up.
type Channel interface {
	// ID names the call in logs and records.
	ID() string
	// Play replaces what is playing; nil plays silence (and never
	// ends). It returns the id the source's EventPlayDone will carry.
	Play(src Source) PlayID
	// Events delivers digits, the end of a played source, and hang-up.
	// It is closed after EventHangup or Hangup.
	Events() <-chan Event
	// Hangup ends the call.
	Hangup() error
}

// PlayToEnd plays src on ch and returns once it has ended or the call
// has; the other events meanwhile are dropped.
func PlayToEnd(ch Channel, src Source) {
	id := ch.Play(src)
	for e := range ch.Events() {
		if (e.Kind == EventPlayDone && e.Play == id) || e.Kind == EventHangup {
			return
		}
	}
}

// Listener is a channel whose received audio can be taken as a Source:
// what bridging, recording and supervisor monitoring read. An optional
// feature, found by type assertion.
type Listener interface {
	// Listen returns the far end's audio, one 20 ms frame per Fill, with
	// silence where a frame was lost. It never ends.
	Listen() Source
}

// DigitSender is a channel that can send DTMF digits to its far end: on
// SIP as RFC 4733 events when telephone-event was agreed, else in-band as
// Q.23 tones in the audio. An optional feature, found by type assertion.
type DigitSender interface {
	SendDigit(d byte) error
}

// Bridge connects two channels' audio both ways until either hangs up,
// then hangs up the other. Both must be Listeners. Digits one side reports
// out of band are sent on to the other when it is a DigitSender: they are
// not in the audio the other side hears.
func Bridge(a, b Channel) error {
	aLeft, err := BridgeUntil(a, b)
	if err == nil && !aLeft {
		return a.Hangup()
	}
	return err
}

// BridgeUntil is Bridge that leaves a up when b hangs up (a caller kept
// on the line for a survey after the agent hangs up); it reports whether
// a was the one that left. When a leaves, b is hung up.
func BridgeUntil(a, b Channel) (aLeft bool, err error) {
	la, ok1 := a.(Listener)
	lb, ok2 := b.(Listener)
	if !ok1 || !ok2 {
		return false, errNotListener
	}
	a.Play(lb.Listen())
	b.Play(la.Listen())
	return Relay(a, b), nil
}

// Relay runs the signalling side of two channels whose audio is already
// connected (by BridgeUntil, or by the queue's mixes): digits one side
// reports out of band go on to the other when it is a DigitSender (a
// digit heard in the audio is already in what the other side hears),
// until one side hangs up. When a leaves, b is hung up and Relay reports
// true; when b leaves, a is silenced and left up.
func Relay(a, b Channel) (aLeft bool) {
	relay := func(e Event, to Channel) {
		if ds, ok := to.(DigitSender); ok && e.Kind == EventDigit && !e.InBand {
			ds.SendDigit(e.Digit)
		}
	}
	for {
		select {
		case e, ok := <-a.Events():
			if !ok || e.Kind == EventHangup {
				b.Hangup()
				return true
			}
			relay(e, b)
		case e, ok := <-b.Events():
			if !ok || e.Kind == EventHangup {
				a.Play(nil)
				return false
			}
			relay(e, a)
		}
	}
}

var errNotListener = errorString("media: bridge needs two channels whose audio can be listened to")

type errorString string

func (e errorString) Error() string { return string(e) }
