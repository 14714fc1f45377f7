// Package sim simulates line-card hardware for the default board and for
// tests: spans whose alarms and faults a test injects.
//
// Layer: a hal implementation; it imports hal and the standard library.
package sim

import (
	"fmt"
	"sync"

	"jinyin/hal"
)

var _ hal.Span = (*Span)(nil)

// Span is a simulated E1/T1 span.
type Span struct {
	mu     sync.Mutex
	cfg    hal.SpanConfig
	alarms hal.Alarms
	loop   string
	counts hal.Counters
	closed bool

	dNear, dFar *Frames
	bNear       map[int]*Slot
	bFar        map[int]*Slot
}

var _ hal.PRI = (*Span)(nil)

// DChannel returns the span's D-channel; FarDChannel is the line's end of it.
func (s *Span) DChannel() (hal.DChannel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pipes()
	return s.dNear, nil
}

// FarDChannel is the other end of the D-channel: where a test plays the
// exchange (or the PBX) across the line.
func (s *Span) FarDChannel() *Frames {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pipes()
	return s.dFar
}

func (s *Span) pipes() {
	if s.dNear == nil {
		s.dNear, s.dFar = FramePipe()
		s.bNear, s.bFar = map[int]*Slot{}, map[int]*Slot{}
	}
}

// BChannel returns B-channel n (hal.CheckBChannel: 1-31 on E1, not 16; 1-23 on T1).
func (s *Span) BChannel(n int) (hal.Timeslot, error) {
	return s.slot(n, true)
}

// FarBChannel is the line's end of B-channel n.
func (s *Span) FarBChannel(n int) (*Slot, error) {
	return s.slot(n, false)
}

func (s *Span) slot(n int, near bool) (*Slot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := hal.CheckBChannel(s.cfg.Type, n); err != nil {
		return nil, fmt.Errorf("sim: no B-channel %d on this span: %w", n, err)
	}
	idle := hal.IdleOctet(s.cfg.Type)
	s.pipes()
	if s.bNear[n] == nil {
		s.bNear[n], s.bFar[n] = SlotPair(idle)
	}
	if near {
		return s.bNear[n], nil
	}
	return s.bFar[n], nil
}

var _ hal.Counterer = (*Span)(nil)

// Counters reports the errors injected so far.
func (s *Span) Counters() hal.Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// InjectErrors adds line errors, as a noisy line would.
func (s *Span) InjectErrors(c hal.Counters) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.CRC += c.CRC
	s.counts.BPV += c.BPV
	s.counts.Slips += c.Slips
	s.counts.ErroredSeconds += c.ErroredSeconds
}

var _ hal.Looper = (*Span)(nil)

// SetLoopback sets a loopback mode.
func (s *Span) SetLoopback(mode string) error {
	if !has([]string{hal.LoopOff, hal.LoopLocal, hal.LoopNetwork}, mode) {
		return fmt.Errorf("sim: loopback %q: use off, local or network", mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loop = mode
	return nil
}

// Loopback reports the loopback mode, "off" when none was set.
func (s *Span) Loopback() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loop == "" {
		return hal.LoopOff
	}
	return s.loop
}

// NewSpan returns a simulated span with no alarms.
func NewSpan() *Span { return &Span{} }

// Configure accepts the E1 and T1 settings a real framer accepts.
func (s *Span) Configure(c hal.SpanConfig) error {
	ok := map[string][3][]string{
		"e1": {{"crc4", "no-crc4"}, {"hdb3", "ami"}, {"line", "internal"}},
		"t1": {{"esf", "d4"}, {"b8zs", "ami"}, {"line", "internal"}},
	}[c.Type]
	if ok[0] == nil || !has(ok[0], c.Framing) || !has(ok[1], c.Coding) || !has(ok[2], c.Clock) {
		return fmt.Errorf("sim: span does not support %+v", c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Config returns the configuration last applied.
func (s *Span) Config() hal.SpanConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Alarms reports the injected alarms.
func (s *Span) Alarms() hal.Alarms {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alarms
}

// InjectAlarms sets the alarms the span reports, as a fault on the line
// would. With LOS, LOF or AIS the D-channel carries nothing either way
// until they clear; RAI alone (the far end reporting a fault) leaves it.
func (s *Span) InjectAlarms(a hal.Alarms) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alarms = a
	s.pipes()
	s.dNear.Cut(a&(hal.AlarmLOS|hal.AlarmLOF|hal.AlarmAIS) != 0)
}

// Close marks the span closed.
func (s *Span) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("sim: span already closed")
	}
	s.closed = true
	return nil
}
