package pri

import (
	"fmt"
	"time"

	"jinyin/pri/internal/fsmtimer"
	"jinyin/pri/q931"
)

// CallState is a Q.931 call state (§2.1 user side, §2.2 network side; the
// numbers are the ones STATUS carries).
type CallState uint8

const (
	Null                   CallState = 0
	CallInitiated          CallState = 1  // SETUP sent; T303
	OverlapSending         CallState = 2  // SETUP ACKNOWLEDGE received
	OutgoingCallProceeding CallState = 3  // CALL PROCEEDING received; T310
	CallDelivered          CallState = 4  // ALERTING received
	CallPresent            CallState = 6  // SETUP received, nothing answered yet
	CallReceived           CallState = 7  // ALERTING sent
	ConnectRequest         CallState = 8  // CONNECT sent (user side); T313
	IncomingCallProceeding CallState = 9  // CALL PROCEEDING sent
	Active                 CallState = 10 // talking
	DisconnectRequest      CallState = 11 // DISCONNECT sent; T305
	DisconnectIndication   CallState = 12 // DISCONNECT received
	ReleaseRequest         CallState = 19 // RELEASE sent; T308
	OverlapReceiving       CallState = 25 // SETUP ACKNOWLEDGE sent; T302
)

var stateNames = map[CallState]string{
	Null: "Null", CallInitiated: "CallInitiated", OverlapSending: "OverlapSending",
	OutgoingCallProceeding: "OutgoingCallProceeding", CallDelivered: "CallDelivered",
	CallPresent: "CallPresent", CallReceived: "CallReceived", ConnectRequest: "ConnectRequest",
	IncomingCallProceeding: "IncomingCallProceeding", Active: "Active",
	DisconnectRequest: "DisconnectRequest", DisconnectIndication: "DisconnectIndication",
	ReleaseRequest: "ReleaseRequest", OverlapReceiving: "OverlapReceiving",
}

func (s CallState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("CallState(%d)", uint8(s))
}

// Timer values (ETSI EN 300 102-1 §9.1/9.2).
const (
	T302 = 15 * time.Second // overlap receiving: next digit
	T303 = 4 * time.Second  // SETUP answered
	T305 = 30 * time.Second // DISCONNECT answered
	T308 = 4 * time.Second  // RELEASE answered
	T309 = 90 * time.Second // an active call survives a data link failure this long
	T310 = 40 * time.Second // after CALL PROCEEDING, ALERTING or CONNECT
	T313 = 4 * time.Second  // CONNECT acknowledged (user side)
	T316 = 2 * time.Minute  // RESTART acknowledged
)

// handle runs one message for an existing call, in the span's loop.
func (c *Call) handle(m q931.Message) {
	switch m.Type {
	case q931.StatusEnquiry:
		c.send(q931.Status, cause(q931.CauseStatusEnquiry), callState(c.state))
		return
	case q931.Status:
		if ie, ok := m.Get(q931.IECallState); ok && len(ie.Data) == 1 && ie.Data[0]&0x3F == 0 {
			// The peer has no such call: clear ours (§5.8.11).
			c.clear(causeOf(m, q931.CauseWrongState))
		}
		return
	case q931.ReleaseComplete:
		c.clear(causeOf(m, q931.CauseNormal))
		return
	case q931.Release:
		c.s.sendMsg(c.msg(q931.ReleaseComplete))
		c.clear(causeOf(m, q931.CauseNormal))
		return
	case q931.Disconnect:
		switch c.state {
		case ReleaseRequest:
		default:
			c.cause = causeOf(m, q931.CauseNormal)
			c.state = DisconnectIndication
			c.hungUp()
			c.release(q931.CauseNormal)
		}
		return
	}
	switch c.state {
	case CallInitiated, OverlapSending, OutgoingCallProceeding, CallDelivered:
		c.outgoing(m)
	case OverlapReceiving:
		if m.Type == q931.Information {
			if ie, ok := m.Get(q931.IECalledNumber); ok {
				if n, err := q931.DecodeNumber(ie.Data); err == nil {
					c.Called += n.Digits
				}
			}
			c.overlap(m.Has(q931.IESendingComplete))
			return
		}
		c.wrongState(m)
	case ConnectRequest:
		if m.Type == q931.ConnectAck {
			c.timer.Stop()
			c.active()
			return
		}
		c.wrongState(m)
	case Active, CallReceived, IncomingCallProceeding:
		switch m.Type {
		case q931.ConnectAck, q931.Information, q931.Notify, q931.Facility, q931.ProgressMsg:
			// Nothing to do: keypad digits and notifications are not used.
		default:
			c.wrongState(m)
		}
	default:
		c.wrongState(m)
	}
}

// outgoing handles the answers to our SETUP.
func (c *Call) outgoing(m q931.Message) {
	if ie, ok := m.Get(q931.IEChannelID); ok && (m.Type == q931.CallProceeding || m.Type == q931.Alerting ||
		m.Type == q931.Connect || m.Type == q931.SetupAck) {
		ch, err := q931.DecodeChannel(ie.Data)
		if err != nil || ch.Number == 0 || !c.s.inService(ch.Number) {
			c.s.log.Warn("pri: network assigned an unusable channel", "span", c.s.cfg.Span, "channel", ch, "err", err)
			c.disconnect(q931.CauseChannelUnacceptable)
			return
		}
		if ch.Number != c.channel {
			if other := c.s.chans[ch.Number]; other != nil && other != c {
				c.disconnect(q931.CauseChannelUnacceptable)
				return
			}
			delete(c.s.chans, c.channel)
			c.channel = ch.Number
			c.s.chans[ch.Number] = c
		}
	}
	switch m.Type {
	case q931.SetupAck:
		c.timer.Stop()
		c.state = OverlapSending
		c.timer.Start(T310, c.t310)
	case q931.CallProceeding:
		c.timer.Stop()
		c.state = OutgoingCallProceeding
		c.timer.Start(T310, c.t310)
	case q931.Alerting:
		c.timer.Stop()
		c.state = CallDelivered
	case q931.ProgressMsg, q931.Information, q931.Notify, q931.Facility:
	case q931.Connect:
		c.timer.Stop()
		c.s.sendMsg(c.msg(q931.ConnectAck))
		c.active()
	default:
		c.wrongState(m)
	}
}

// wrongState answers a message the state does not expect (§5.8.4): STATUS
// with cause 101, or 97 for a type that does not exist.
func (c *Call) wrongState(m q931.Message) {
	v := uint8(q931.CauseWrongState)
	if !m.Type.Known() {
		v = q931.CauseNoSuchMessage
	}
	c.send(q931.Status, cause(v), callState(c.state))
}

// overlap checks an incoming number after each digit: route it, wait for
// more, or refuse it.
func (c *Call) overlap(complete bool) {
	switch c.s.match(c.Called) {
	case Complete:
		c.timer.Stop()
		c.proceed()
	case MoreDigits:
		if complete {
			c.refuse(q931.CauseInvalidNumber)
			return
		}
		if c.state != OverlapReceiving {
			c.state = OverlapReceiving
			c.send(q931.SetupAck, chanID(c.channel))
		}
		c.timer.Start(T302, func() {
			if c.s.match(c.Called) == Complete {
				c.proceed()
			} else {
				c.disconnect(q931.CauseInvalidNumber)
			}
		})
	default:
		c.refuse(q931.CauseUnallocated)
	}
}

// refuse turns an incoming call away: RELEASE COMPLETE while nothing has
// been answered, DISCONNECT after.
func (c *Call) refuse(v uint8) {
	if c.state == CallPresent {
		c.s.sendMsg(c.msg(q931.ReleaseComplete, cause(v)))
		c.clear(v)
		return
	}
	c.disconnect(v)
}

// proceed accepts an incoming call whose number is complete and hands it
// to the application.
func (c *Call) proceed() {
	c.state = IncomingCallProceeding
	c.send(q931.CallProceeding, chanID(c.channel))
	if err := c.openMedia(); err != nil {
		c.s.log.Error("pri: B-channel", "span", c.s.cfg.Span, "channel", c.channel, "err", err)
		c.disconnect(q931.CauseTemporaryFailure)
		return
	}
	if c.s.cfg.Incoming != nil {
		go c.s.cfg.Incoming(c)
	}
}

// alert is the application saying the called party is being alerted.
func (c *Call) alert() {
	if c.state == IncomingCallProceeding {
		c.state = CallReceived
		c.send(q931.Alerting)
	}
}

// answer is the application answering an incoming call.
func (c *Call) answer() error {
	if c.state != IncomingCallProceeding && c.state != CallReceived {
		return fmt.Errorf("pri: answer in state %v", c.state)
	}
	c.send(q931.Connect)
	if c.s.cfg.Network {
		c.active()
		return nil
	}
	c.state = ConnectRequest
	c.timer.Start(T313, func() { c.disconnect(q931.CauseTimerExpiry) })
	return nil
}

func (c *Call) active() {
	c.state = Active
	c.Answered = c.s.clk.Now()
	if c.media == nil {
		if err := c.openMedia(); err != nil {
			c.disconnect(q931.CauseTemporaryFailure)
			return
		}
	}
	c.done(nil)
}

func (c *Call) t303() {
	if !c.setupAgain {
		c.setupAgain = true
		c.s.sendMsg(c.setup)
		c.timer.Start(T303, c.t303)
		return
	}
	c.s.sendMsg(c.msg(q931.ReleaseComplete, cause(q931.CauseTimerExpiry)))
	c.clear(q931.CauseTimerExpiry)
}

func (c *Call) t310() { c.disconnect(q931.CauseTimerExpiry) }

// hangup is the application (or a timer) ending the call.
func (c *Call) hangup(v uint8) {
	switch c.state {
	case Null, DisconnectRequest, ReleaseRequest:
	case CallPresent:
		c.s.sendMsg(c.msg(q931.ReleaseComplete, cause(v)))
		c.clear(v)
	case CallInitiated:
		// Nothing answered yet: DISCONNECT is allowed in state 1 (§5.3.2).
		c.disconnect(v)
	default:
		c.disconnect(v)
	}
}

// disconnect sends DISCONNECT and waits T305 for RELEASE.
func (c *Call) disconnect(v uint8) {
	c.timer.Stop()
	if c.cause == 0 {
		c.cause = v
	}
	c.state = DisconnectRequest
	c.send(q931.Disconnect, cause(v))
	c.hungUp()
	c.timer.Start(T305, func() { c.release(q931.CauseTimerExpiry) })
}

// release sends RELEASE and waits T308 for RELEASE COMPLETE.
func (c *Call) release(v uint8) {
	c.timer.Stop()
	c.state = ReleaseRequest
	rel := c.msg(q931.Release, cause(v))
	c.s.sendMsg(rel)
	again := false
	var t308 func()
	t308 = func() {
		if !again {
			again = true
			c.s.sendMsg(rel)
			c.timer.Start(T308, t308)
			return
		}
		c.clear(q931.CauseTimerExpiry)
	}
	c.timer.Start(T308, t308)
}

// clear ends the call here: timers stop, the channel is free, the
// application hears the hang-up.
func (c *Call) clear(v uint8) {
	if c.state == Null { // cleared already (a new call is never in Null)
		return
	}
	c.timer.Stop()
	c.t309.Stop()
	if c.cause == 0 {
		c.cause = v
	}
	c.state = Null
	c.Ended = c.s.clk.Now()
	c.hungUp()
	c.s.forget(c)
}

// hungUp tells the application the call is over (once).
func (c *Call) hungUp() {
	if c.media != nil {
		c.media.End()
	}
	c.done(&CauseError{Cause: c.cause})
}

func (c *Call) done(err error) {
	if c.result != nil {
		c.result <- err
		c.result = nil
	}
}

// linkDown is a data link failure (§5.8.9): calls that are not active are
// cleared; active ones wait T309 for the link.
func (c *Call) linkDown() {
	if c.state != Active {
		c.clear(q931.CauseTemporaryFailure)
		return
	}
	if !c.t309.Running() {
		d := c.s.cfg.T309
		if d == 0 {
			d = T309
		}
		c.t309.Start(d, func() { c.clear(q931.CauseOutOfOrder) })
	}
}

// linkUp is the link back: an active call checks its state with the peer.
func (c *Call) linkUp() {
	if c.t309.Running() {
		c.t309.Stop()
		c.send(q931.Status, cause(q931.CauseNormalUnspecified), callState(c.state))
	}
}

// CauseError is a call cleared with a Q.850 cause.
type CauseError struct{ Cause uint8 }

func (e *CauseError) Error() string {
	return fmt.Sprintf("pri: call cleared, cause %d (%s)", e.Cause, q931.CauseName(e.Cause))
}

func newTimer(s *Stack) *fsmtimer.Timer { return fsmtimer.New(s.clk, s.post) }
