package pri

import (
	"fmt"
	"time"

	"jinyin/media"
	"jinyin/media/tdm"
	"jinyin/pri/internal/fsmtimer"
	"jinyin/pri/q931"
)

// Call is one call on a B-channel. Its exported fields are set before the
// application sees it; as a media.Channel it carries the B-channel audio.
type Call struct {
	s          *Stack
	ref        uint16
	state      CallState
	channel    int
	cause      uint8
	timer      *fsmtimer.Timer
	t309       *fsmtimer.Timer
	media      *tdm.Channel
	result     chan error
	setup      q931.Message
	setupAgain bool

	Incoming                 bool
	Called, Calling          string
	Started, Answered, Ended time.Time
}

var (
	_ media.Channel  = (*Call)(nil)
	_ media.Listener = (*Call)(nil)
)

func (c *Call) assign(ch int) {
	c.channel = ch
	c.s.chans[ch] = c
}

// msg is a message on this call's reference.
func (c *Call) msg(t q931.Type, ies ...q931.IE) q931.Message {
	return q931.Message{CallRef: c.ref, CallRefLen: 2, Flag: c.Incoming, Type: t, IEs: ies}
}

func (c *Call) send(t q931.Type, ies ...q931.IE) { c.s.sendMsg(c.msg(t, ies...)) }

func (c *Call) openMedia() error {
	ts, err := c.s.cfg.B(c.channel)
	if err != nil {
		return err
	}
	c.media = tdm.New(c.ID(), ts, c.s.cfg.Codec, func() error {
		c.s.post(func() { c.hangup(q931.CauseNormal) })
		return nil
	})
	return nil
}

// ID names the call: span, B-channel, call reference.
func (c *Call) ID() string { return fmt.Sprintf("pri%d/B%d/%d", c.s.cfg.Span, c.channel, c.ref) }

// Channel is the call's B-channel.
func (c *Call) Channel() int { return c.channel }

// Cause is the cause the call was cleared with, 0 while it is up.
func (c *Call) Cause() uint8 { return c.cause }

// Alert sends ALERTING on an incoming call.
func (c *Call) Alert() { c.s.post(c.alert) }

// Answer connects an incoming call.
func (c *Call) Answer() error {
	var err error
	if e := c.s.do(func() { err = c.answer() }); e != nil {
		return e
	}
	return err
}

// HangupCause clears the call with a Q.850 cause (17 busy, 1 unallocated...).
func (c *Call) HangupCause(v uint8) {
	if c.media != nil {
		c.media.End()
	}
	c.s.post(func() { c.hangup(v) })
}

// The media.Channel of the call; Hangup clears with cause 16.
func (c *Call) Play(src media.Source) media.PlayID { return c.media.Play(src) }
func (c *Call) Events() <-chan media.Event         { return c.media.Events() }
func (c *Call) Hangup() error                      { return c.media.Hangup() }
func (c *Call) Listen() media.Source               { return c.media.Listen() }
