package pri

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/pri/internal/fsmtimer"
	"jinyin/pri/q921"
	"jinyin/pri/q931"
)

// Match is how far a dialled number gets in the routing.
type Match uint8

const (
	NoMatch    Match = iota // no such number: cause 1
	MoreDigits              // a prefix of a number: wait for more (overlap receiving)
	Complete                // a number to route
)

// Config is one span's PRI signalling.
type Config struct {
	Span     int
	Network  bool  // pri-net: this side is the exchange
	Channels []int // B-channels in service
	Codec    media.Codec
	Clock    clock.Clock
	Log      *slog.Logger
	D        hal.DChannel
	B        func(n int) (hal.Timeslot, error)
	// Number says how far a called number routes.
	Number func(digits string) Match
	// Incoming runs an incoming call whose number is complete, on a
	// goroutine of its own: it answers or hangs up.
	Incoming func(c *Call)
	// OnEnd is told about every call that ended, for the call records.
	OnEnd func(c *Call)
	// Overloaded, when it reports true, refuses new incoming calls with
	// cause 42 (switching equipment congestion).
	Overloaded func() bool
	// T203 overrides Q.921's idle link check (10 s), for tests of link
	// loss that should not wait for it.
	T203 time.Duration
	// T309 is how long an active call waits for a lost data link before
	// it is cleared with cause 27; T309 (90 s, Q.931 Table 9-1) when 0.
	// libpri's pritimer t309 is the same knob.
	T309 time.Duration
}

// Stack is one span's Q.921 link and Q.931 call control. Its state is
// owned by one goroutine (the loop); everything else posts to it.
type Stack struct {
	cfg   Config
	clk   clock.Clock
	log   *slog.Logger
	link  *q921.Link
	posts chan func()
	quit  chan struct{}
	wg    sync.WaitGroup

	calls    map[callKey]*Call
	chans    map[int]*Call // B-channel -> call using it
	nextRef  uint16
	restart  *fsmtimer.Timer
	restarts int

	trace  atomic.Pointer[func(string)]
	linkUp atomic.Bool
	l1Down bool // the span has lost its signal (Layer1); the loop only
	wbuf   []byte
}

// callKey names a call: its reference and which side allocated it.
type callKey struct {
	ref  uint16
	ours bool
}

// New returns a span's stack; Start runs it.
func New(cfg Config) *Stack {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Stack{cfg: cfg, clk: cfg.Clock, log: cfg.Log, posts: make(chan func(), 256), quit: make(chan struct{}),
		calls: map[callKey]*Call{}, chans: map[int]*Call{}, nextRef: 1}
	s.restart = newTimer(s)
	s.link = s.newLink()
	return s
}

func (s *Stack) newLink() *q921.Link {
	return q921.NewLink(q921.Config{Network: s.cfg.Network, Clock: s.cfg.Clock, Post: s.post,
		Send: s.sendFrame, Up: s.up, Down: s.down, Data: s.data, T203: s.cfg.T203})
}

// Layer1 tells the stack whether the span has its signal (no LOS, AIS
// or loss of frame). Losing it is layer 1 deactivated (Q.921 §5.3.x,
// MPH-DEACTIVATE): the data link is released at once rather than after
// T200 × N200, calls not yet up are cleared (cause 41, temporary
// failure) and calls up wait T309 for the link (Q.931 §5.8.8) before
// clearing with cause 27, destination out of order. When the signal
// returns, the link is established again and calls are taken.
func (s *Stack) Layer1(up bool) {
	s.post(func() {
		switch {
		case !up && !s.l1Down:
			s.l1Down = true
			s.log.Warn("pri: span lost its signal: D-channel released", "span", s.cfg.Span)
			s.link.Stop()
			if s.linkUp.Load() {
				s.down()
			}
		case up && s.l1Down:
			s.l1Down = false
			s.log.Info("pri: span has its signal back: establishing the D-channel", "span", s.cfg.Span)
			s.link = s.newLink()
			s.link.Start()
		}
	})
}

// Start runs the stack: the link comes up as soon as the peer answers.
func (s *Stack) Start() {
	s.wg.Add(2)
	go s.loop()
	go s.read()
	s.post(s.link.Start)
}

// Close stops the stack; calls end without signalling (the span is going
// away).
func (s *Stack) Close() {
	select {
	case <-s.quit:
		return
	default:
	}
	done := make(chan struct{})
	s.post(func() {
		for _, c := range s.calls {
			c.hungUp()
		}
		s.link.Stop()
		close(done)
	})
	clock.Wait(s.clk, time.Second, done) // a stack never started has no loop to do it
	close(s.quit)
	s.cfg.D.Close()
	s.wg.Wait()
}

// post runs f on the loop.
func (s *Stack) post(f func()) {
	select {
	case s.posts <- f:
	case <-s.quit:
	}
}

// do runs f on the loop and waits for it. Not for use on the loop.
func (s *Stack) do(f func()) error {
	done := make(chan struct{})
	select {
	case s.posts <- func() { f(); close(done) }:
	case <-s.quit:
		return errClosed
	}
	select {
	case <-done:
		return nil
	case <-s.quit:
		return errClosed
	}
}

var errClosed = errors.New("pri: span stopped")

func (s *Stack) loop() {
	defer s.wg.Done()
	for {
		select {
		case f := <-s.posts:
			f()
		case <-s.quit:
			return
		}
	}
}

func (s *Stack) read() {
	defer s.wg.Done()
	buf := make([]byte, 512)
	for {
		n, err := s.cfg.D.ReadFrame(buf)
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			s.log.Warn("pri: D-channel read", "span", s.cfg.Span, "err", err)
			if !clock.Wait(s.clk, time.Second, s.quit) {
				return
			}
			continue
		}
		f, err := q921.Parse(buf[:n], false)
		if err != nil {
			s.tracef("< %v: % x", err, buf[:n])
			continue
		}
		f.Info = append([]byte(nil), f.Info...)
		s.post(func() {
			s.traceFrame("<", f)
			if !s.l1Down { // without signal, what comes is noise
				s.link.Receive(f)
			}
		})
	}
}

func (s *Stack) sendFrame(f q921.Frame) {
	s.traceFrame(">", f)
	b, err := q921.Append(s.wbuf[:0], f, false)
	if err != nil {
		s.log.Error("pri: encode frame", "err", err)
		return
	}
	s.wbuf = b
	if err := s.cfg.D.WriteFrame(b); err != nil {
		s.log.Warn("pri: D-channel write", "span", s.cfg.Span, "err", err)
	}
}

func (s *Stack) up() {
	s.linkUp.Store(true)
	s.log.Info("pri: D-channel up", "span", s.cfg.Span)
	for _, c := range s.calls {
		c.linkUp()
	}
}

func (s *Stack) down() {
	s.linkUp.Store(false)
	s.log.Warn("pri: D-channel down", "span", s.cfg.Span)
	for _, c := range s.callList() {
		c.linkDown()
	}
}

// LinkUp reports whether the D-channel's link is established.
func (s *Stack) LinkUp() bool { return s.linkUp.Load() }

// sendMsg encodes a message and sends it as an I frame.
func (s *Stack) sendMsg(m q931.Message) {
	b, err := m.Encode(nil)
	if err != nil {
		s.log.Error("pri: encode", "msg", m.Type, "err", err)
		return
	}
	s.traceMsg(">", m)
	s.link.Send(b)
}

// data is an I frame's Q.931 message.
func (s *Stack) data(info []byte) {
	m, err := q931.Decode(info)
	if err != nil {
		s.tracef("< %v: % x", err, info)
		s.log.Info("pri: undecodable message", "span", s.cfg.Span, "err", err)
		return
	}
	s.traceMsg("<", m)
	if m.CallRef == 0 {
		s.global(m)
		return
	}
	key := callKey{m.CallRef, m.Flag}
	c := s.calls[key]
	if c == nil {
		s.unknownCall(m)
		return
	}
	c.handle(m)
}

// unknownCall answers a message for a call reference not in use (§5.8.3).
func (s *Stack) unknownCall(m q931.Message) {
	reply := q931.Message{CallRef: m.CallRef, CallRefLen: 2, Flag: !m.Flag}
	switch m.Type {
	case q931.Setup:
		if !m.Flag {
			s.setup(m)
		}
		return
	case q931.ReleaseComplete:
		return
	case q931.StatusEnquiry:
		reply.Type = q931.Status
		reply.IEs = []q931.IE{cause(q931.CauseStatusEnquiry), callState(Null)}
	case q931.Status:
		if ie, ok := m.Get(q931.IECallState); ok && len(ie.Data) == 1 && ie.Data[0]&0x3F == 0 {
			return
		}
		reply.Type = q931.ReleaseComplete
		reply.IEs = []q931.IE{cause(q931.CauseWrongState)}
	default:
		reply.Type = q931.ReleaseComplete
		reply.IEs = []q931.IE{cause(q931.CauseInvalidCallRef)}
	}
	s.sendMsg(reply)
}

// setup is an incoming call (§5.2).
func (s *Stack) setup(m q931.Message) {
	c := &Call{s: s, ref: m.CallRef, state: CallPresent, Incoming: true, Started: s.clk.Now()}
	c.timer, c.t309 = newTimer(s), newTimer(s)
	refuse := func(v uint8) {
		s.sendMsg(c.msg(q931.ReleaseComplete, cause(v)))
		c.cause = v
		c.Ended = s.clk.Now()
		if s.cfg.OnEnd != nil {
			s.cfg.OnEnd(c)
		}
	}
	// The numbers first, so that every refusal's record names them.
	badNumber := false
	if ie, ok := m.Get(q931.IECalledNumber); ok {
		n, err := q931.DecodeNumber(ie.Data)
		c.Called, badNumber = n.Digits, err != nil
	}
	if ie, ok := m.Get(q931.IECallingNumber); ok {
		if n, err := q931.DecodeNumber(ie.Data); err == nil {
			c.Calling = n.Digits
		}
	}
	ie, ok := m.Get(q931.IEBearerCapability)
	if !ok {
		refuse(q931.CauseMandatoryMissing)
		return
	}
	bc, err := q931.DecodeBearer(ie.Data)
	if err != nil {
		refuse(q931.CauseInvalidContents)
		return
	}
	if bc.Capability != q931.Speech && bc.Capability != q931.Audio3k1 {
		refuse(q931.CauseIncompatible) // the box carries voice only
		return
	}
	var want q931.Channel
	if ie, ok := m.Get(q931.IEChannelID); ok {
		if want, err = q931.DecodeChannel(ie.Data); err != nil {
			refuse(q931.CauseInvalidContents)
			return
		}
	} else if !s.cfg.Network {
		refuse(q931.CauseMandatoryMissing) // the network always names the channel
		return
	}
	if s.cfg.Overloaded != nil && s.cfg.Overloaded() {
		refuse(q931.CauseCongestion) // the box is short of CPU or memory: calls up keep theirs
		return
	}
	ch, v := s.pickChannel(want)
	if v != 0 {
		refuse(v)
		return
	}
	if badNumber {
		refuse(q931.CauseInvalidNumber)
		return
	}
	c.assign(ch)
	s.calls[callKey{c.ref, false}] = c
	c.overlap(m.Has(q931.IESendingComplete))
}

// pickChannel chooses the B-channel of an incoming call, or a cause. On
// glare (our own SETUP still waiting for the channel the peer wants) the
// network side keeps its channel (§5.7 of ETSI EN 300 102-1): as the
// network we move a preferred request elsewhere or refuse an exclusive
// one; as the user we give our channel up, and the network tells our call
// where to go.
func (s *Stack) pickChannel(want q931.Channel) (int, uint8) {
	if want.Number != 0 {
		if !s.inService(want.Number) {
			if want.Exclusive {
				return 0, q931.CauseChannelUnavailable
			}
		} else if other := s.chans[want.Number]; other == nil {
			return want.Number, 0
		} else if !s.cfg.Network && !other.Incoming && other.state == CallInitiated {
			delete(s.chans, want.Number)
			other.channel = 0
			return want.Number, 0
		} else if want.Exclusive {
			return 0, q931.CauseChannelUnavailable
		}
	}
	if ch := s.freeChannel(); ch != 0 {
		return ch, 0
	}
	return 0, q931.CauseNoCircuit
}

// freeChannel is a free B-channel: the network hunts from the bottom, the
// user from the top, so that the two sides seldom pick the same one.
func (s *Stack) freeChannel() int {
	list := s.cfg.Channels
	for i := range list {
		ch := list[i]
		if !s.cfg.Network {
			ch = list[len(list)-1-i]
		}
		if s.chans[ch] == nil {
			return ch
		}
	}
	return 0
}

func (s *Stack) inService(ch int) bool {
	for _, c := range s.cfg.Channels {
		if c == ch {
			return true
		}
	}
	return false
}

func (s *Stack) match(digits string) Match {
	if s.cfg.Number == nil {
		return Complete
	}
	return s.cfg.Number(digits)
}

func (s *Stack) forget(c *Call) {
	delete(s.calls, callKey{c.ref, !c.Incoming})
	if c.channel != 0 && s.chans[c.channel] == c {
		delete(s.chans, c.channel)
	}
	if s.cfg.OnEnd != nil {
		s.cfg.OnEnd(c)
	}
}

func (s *Stack) callList() []*Call {
	out := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, c)
	}
	return out
}

// global handles messages on the global call reference: RESTART (§5.5).
func (s *Stack) global(m q931.Message) {
	switch m.Type {
	case q931.Restart:
		ie, ok := m.Get(q931.IERestartIndicator)
		if !ok {
			s.sendMsg(q931.Message{CallRefLen: 2, Flag: true, Type: q931.Status, IEs: []q931.IE{cause(q931.CauseMandatoryMissing), callState(Null)}})
			return
		}
		class, err := q931.DecodeRestart(ie.Data)
		if err != nil {
			s.sendMsg(q931.Message{CallRefLen: 2, Flag: true, Type: q931.Status, IEs: []q931.IE{cause(q931.CauseInvalidContents), callState(Null)}})
			return
		}
		var chans []int
		if class == q931.RestartChannels {
			cie, ok := m.Get(q931.IEChannelID)
			ch, err := q931.DecodeChannel(cie.Data)
			if !ok || err != nil || ch.Number == 0 {
				s.sendMsg(q931.Message{CallRefLen: 2, Flag: true, Type: q931.Status, IEs: []q931.IE{cause(q931.CauseMandatoryMissing), callState(Null)}})
				return
			}
			chans = []int{ch.Number}
		}
		s.restartChannels(chans)
		ack := q931.Message{CallRefLen: m.CallRefLen, Flag: !m.Flag, Type: q931.RestartAck}
		for _, ie := range m.IEs {
			if ie.ID == q931.IEChannelID || ie.ID == q931.IERestartIndicator {
				ack.IEs = append(ack.IEs, ie)
			}
		}
		s.sendMsg(ack)
	case q931.RestartAck:
		s.restart.Stop()
	}
}

// restartChannels clears the calls on chans (all when nil) without
// signalling: the peer has restarted them.
func (s *Stack) restartChannels(chans []int) {
	for _, c := range s.callList() {
		if chans == nil || (c.channel != 0 && contains(chans, c.channel)) {
			c.clear(q931.CauseTemporaryFailure)
		}
	}
}

func contains(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// Restart sends RESTART for one B-channel, or for the whole interface
// with channel 0, clearing the calls on it here first; it is sent again
// if T316 passes unacknowledged.
func (s *Stack) Restart(channel int) error {
	var err error
	if e := s.do(func() {
		if channel != 0 && !s.inService(channel) {
			err = fmt.Errorf("pri: span %d has no B-channel %d in service", s.cfg.Span, channel)
			return
		}
		m := q931.Message{CallRefLen: 2, Type: q931.Restart}
		if channel != 0 {
			s.restartChannels([]int{channel})
			m.IEs = []q931.IE{chanID(channel), {ID: q931.IERestartIndicator, Data: []byte{0x80 | q931.RestartChannels}}}
		} else {
			s.restartChannels(nil)
			m.IEs = []q931.IE{{ID: q931.IERestartIndicator, Data: []byte{0x80 | q931.RestartInterface}}}
		}
		s.restarts = 0
		var again func()
		again = func() {
			if s.restarts++; s.restarts <= 2 {
				s.sendMsg(m)
				s.restart.Start(T316, again)
			}
		}
		again()
	}); e != nil {
		return e
	}
	return err
}

// Dial places a call to called on a free B-channel and returns it once
// answered. A call the network refuses or clears returns a *CauseError.
func (s *Stack) Dial(ctx context.Context, called, calling string) (*Call, error) {
	result := make(chan error, 1)
	var c *Call
	var err error
	if e := s.do(func() {
		if !s.link.Up() {
			err = &CauseError{Cause: q931.CauseOutOfOrder}
			return
		}
		ch := s.freeChannel()
		if ch == 0 {
			err = &CauseError{Cause: q931.CauseNoCircuit}
			return
		}
		c = &Call{s: s, ref: s.allocRef(), Called: called, Calling: calling, Started: s.clk.Now(), result: result}
		c.timer, c.t309 = newTimer(s), newTimer(s)
		c.assign(ch)
		s.calls[callKey{c.ref, true}] = c
		c.setup = c.msg(q931.Setup,
			q931.IE{ID: q931.IEBearerCapability, Data: q931.Bearer{Capability: q931.Speech, Layer1: layer1(s.cfg.Codec)}.Encode()},
			q931.IE{ID: q931.IEChannelID, Data: q931.Channel{Exclusive: s.cfg.Network, Number: ch}.Encode()},
			q931.IE{ID: q931.IECallingNumber, Data: q931.Number{Type: q931.TypeUnknown, Plan: q931.PlanISDN, HasPresentation: true, Digits: calling}.Encode()},
			q931.IE{ID: q931.IECalledNumber, Data: q931.Number{Type: q931.TypeUnknown, Plan: q931.PlanISDN, Digits: called}.Encode()},
			q931.IE{ID: q931.IESendingComplete})
		c.state = CallInitiated
		s.sendMsg(c.setup)
		c.timer.Start(T303, c.t303)
	}); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	select {
	case err := <-result:
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		s.post(func() { c.result = nil; c.hangup(q931.CauseNormal) })
		return nil, ctx.Err()
	}
}

func layer1(c media.Codec) uint8 {
	if c == media.PCMU {
		return q931.LayerMuLaw
	}
	return q931.LayerALaw
}

// allocRef is a call reference not in use by our calls (1-32767).
func (s *Stack) allocRef() uint16 {
	for {
		r := s.nextRef
		s.nextRef = s.nextRef%0x7FFF + 1
		if s.calls[callKey{r, true}] == nil {
			return r
		}
	}
}

// ChannelStatus is one B-channel as `show channels` lists it.
type ChannelStatus struct {
	Channel int
	State   string // "idle" or the call state
	Call    string // who is talking
}

// Channels lists the span's B-channels in service (in the order of the
// config) with their calls, read on the stack's loop; nil once the stack
// has stopped.
func (s *Stack) Channels() []ChannelStatus {
	var out []ChannelStatus
	s.do(func() {
		for _, ch := range s.cfg.Channels {
			st := ChannelStatus{Channel: ch, State: "idle"}
			if c := s.chans[ch]; c != nil {
				dir := "in"
				if !c.Incoming {
					dir = "out"
				}
				st.State, st.Call = c.state.String(), fmt.Sprintf("%s %s -> %s", dir, c.Calling, c.Called)
			}
			out = append(out, st)
		}
	})
	return out
}

// Elements built for sending.
func cause(v uint8) q931.IE {
	return q931.IE{ID: q931.IECause, Data: q931.Cause{Location: q931.LocPrivateLocal, Value: v}.Encode()}
}

func callState(st CallState) q931.IE { return q931.IE{ID: q931.IECallState, Data: []byte{byte(st)}} }

func chanID(ch int) q931.IE {
	return q931.IE{ID: q931.IEChannelID, Data: q931.Channel{Exclusive: true, Number: ch}.Encode()}
}

// causeOf is a message's cause value, or def without one.
func causeOf(m q931.Message, def uint8) uint8 {
	if ie, ok := m.Get(q931.IECause); ok {
		if c, err := q931.DecodeCause(ie.Data); err == nil {
			return c.Value
		}
	}
	return def
}
