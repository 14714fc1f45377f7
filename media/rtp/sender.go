package rtp

// EventSender produces the telephone-event payloads of one digit, one per
// packet interval (RFC 4733 §2.5.1): the first with the marker bit, each
// later one with the duration so far, and the end packet three times (the
// redundancy §2.5.1.4 recommends, since there is no retransmission).
type EventSender struct {
	ev       Event
	total    uint16 // the digit's length in samples
	step     uint16 // samples per packet interval
	sent     int    // packets sent
	endsLeft int
}

// Start begins a digit of durationSamples, sent every stepSamples.
func (s *EventSender) Start(code uint8, durationSamples, stepSamples uint16) {
	*s = EventSender{ev: Event{Code: code, Volume: 10}, total: durationSamples, step: stepSamples, endsLeft: 3}
}

// Next returns the next payload, whether it carries the marker bit, and
// false once all packets, the three end packets included, have gone.
func (s *EventSender) Next() (e Event, marker, ok bool) {
	if s.endsLeft == 0 || s.step == 0 {
		return Event{}, false, false
	}
	if !s.ev.End {
		s.ev.Duration = min(s.ev.Duration+s.step, s.total)
		if s.ev.Duration >= s.total {
			s.ev.End = true
		}
	}
	if s.ev.End {
		s.endsLeft--
	}
	marker = s.sent == 0
	s.sent++
	return s.ev, marker, true
}
