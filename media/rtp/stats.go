package rtp

// Stats keeps the receive statistics of one source as RFC 3550 appendix A
// does: extended highest sequence number with wrap count, packets
// received and expected, cumulative loss, and interarrival jitter.
type Stats struct {
	started   bool
	probation int
	maxSeq    uint16
	cycles    uint32 // sequence wraps, shifted left 16
	baseSeq   uint32
	badSeq    uint32
	received  uint32
	// Interval counters for the fraction lost of the next report.
	expectedPrior, receivedPrior uint32
	transit                      int64
	jitter                       float64 // timestamp units
}

const (
	maxDropout    = 3000
	maxMisorder   = 100
	minSequential = 2
)

// Update records a packet with sequence seq, RTP timestamp ts, arriving at
// arrival (the local clock in the same timestamp units). It returns false
// for a packet that does not (yet) belong to the stream: one of the first
// packets while the source is on probation, or a jump that is not
// confirmed by the next packet.
func (s *Stats) Update(seq uint16, ts, arrival uint32) bool {
	if !s.started {
		s.init(seq)
		s.maxSeq = seq - 1
		s.probation = minSequential
		s.started = true
	}
	udelta := seq - s.maxSeq
	switch {
	case s.probation > 0:
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.init(seq)
				s.received++
				s.jitterUpdate(ts, arrival, true)
				return true
			}
		} else {
			s.probation = minSequential - 1
			s.maxSeq = seq
		}
		return false
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	case udelta <= 1<<16-maxMisorder:
		if uint32(seq) == s.badSeq {
			s.init(seq) // the source restarted: accept its new sequence
		} else {
			s.badSeq = uint32(seq+1) & 0xFFFF
			return false
		}
	default:
		// duplicate or reordered packet
	}
	s.received++
	s.jitterUpdate(ts, arrival, false)
	return true
}

func (s *Stats) init(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = 1<<16 + 1
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// jitterUpdate is RFC 3550 A.8: J += (|D| - J)/16.
func (s *Stats) jitterUpdate(ts, arrival uint32, first bool) {
	transit := int64(int32(arrival - ts))
	if !first {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit = transit
}

// ExtendedMax is the extended highest sequence number received.
func (s *Stats) ExtendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }

// Expected is the number of packets expected so far.
func (s *Stats) Expected() uint32 {
	if !s.started || s.probation > 0 {
		return 0
	}
	return s.ExtendedMax() - s.baseSeq + 1
}

// Received is the number of packets received.
func (s *Stats) Received() uint32 { return s.received }

// Lost is the cumulative number of packets lost (negative with duplicates).
func (s *Stats) Lost() int32 { return int32(s.Expected() - s.received) }

// Jitter is the interarrival jitter in timestamp units.
func (s *Stats) Jitter() uint32 { return uint32(s.jitter) }

// FractionLost returns the fraction lost since the previous call, in
// 1/256, as an RTCP report block carries it, and starts a new interval.
func (s *Stats) FractionLost() uint8 {
	expected := s.Expected()
	expInt := expected - s.expectedPrior
	recInt := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	if expInt == 0 || recInt >= expInt {
		return 0
	}
	return uint8((expInt - recInt) << 8 / expInt)
}
