package rtp

// EventReceiverState is the RFC 4733 receiver's state.
type EventReceiverState uint8

const (
	// EventIdle: no event in progress.
	EventIdle EventReceiverState = iota
	// EventActive: an event has been reported and has not ended.
	EventActive
	// EventEnded: the last event ended; its redundant end packets and any
	// late packet of it are ignored.
	EventEnded
)

// DigitEvent is what the receiver reports: a digit starting, or ending
// with its duration.
type DigitEvent struct {
	Digit     byte
	Timestamp uint32 // RTP timestamp of the event's start
	Duration  uint16 // samples; set when End
	End       bool
}

// EventReceiver turns a stream of telephone-event packets into one start
// and one end per digit. It reports a digit on the first packet of the
// event that arrives, whatever its duration: SIPp's stock recordings
// (dtmf_2833_*.pcap) start every event with a duration-0 packet, which a
// receiver waiting for a positive duration misses. It also reports an
// event whose start packets were lost, an event seen only in its end
// packets (start and end at once), and ends an event whose end packets
// never came when the next event starts or Expire is called.
//
// Events are told apart by their RTP timestamp (RFC 4733 §2.5.1.2: all
// packets of an event carry its start timestamp).
type EventReceiver struct {
	State EventReceiverState
	ts    uint32 // current or last event's timestamp
	code  uint8
	dur   uint16
	idle  int // Expire calls since the last packet of the active event
}

// Packet handles one telephone-event packet and calls report for what it
// starts or ends (at most two reports: an end and a start).
func (r *EventReceiver) Packet(h Header, e Event, report func(DigitEvent)) {
	d := Digit(e.Code)
	if d == 0 {
		return // flash and other events: not a digit
	}
	switch r.State {
	case EventIdle:
		r.begin(h.Timestamp, e, d, report)
	case EventActive:
		switch {
		case h.Timestamp == r.ts:
			r.idle = 0
			if e.Duration > r.dur {
				r.dur = e.Duration
			}
			if e.End {
				r.finish(report)
			}
		case TSLess(h.Timestamp, r.ts):
			// A late packet of an earlier event: ignore.
		default:
			r.finish(report) // its end packets were lost
			r.begin(h.Timestamp, e, d, report)
		}
	case EventEnded:
		if h.Timestamp == r.ts || TSLess(h.Timestamp, r.ts) {
			return // redundant end packets, retransmissions, late packets
		}
		r.begin(h.Timestamp, e, d, report)
	}
}

func (r *EventReceiver) begin(ts uint32, e Event, d byte, report func(DigitEvent)) {
	r.State, r.ts, r.code, r.dur, r.idle = EventActive, ts, e.Code, e.Duration, 0
	report(DigitEvent{Digit: d, Timestamp: ts})
	if e.End {
		r.finish(report)
	}
}

func (r *EventReceiver) finish(report func(DigitEvent)) {
	r.State = EventEnded
	report(DigitEvent{Digit: Digit(r.code), Timestamp: r.ts, Duration: r.dur, End: true})
}

// Expire is called once per packet interval (20 ms) in which no
// telephone-event packet arrived. An active event that hears nothing for
// limit intervals is ended: its end packets were lost.
func (r *EventReceiver) Expire(limit int, report func(DigitEvent)) {
	if r.State != EventActive {
		return
	}
	if r.idle++; r.idle >= limit {
		r.finish(report)
	}
}
