// Package tdm makes a line card's timeslot (an E1 B-channel, an analog
// port's audio) a media.Channel: it plays sources into the timeslot on the
// line's 20 ms clock, hears DTMF in what comes back, and lets bridges and
// recordings listen. The signalling that owns the call (Q.931, an analog
// port) says when the far end has gone (End) and how to hang up.
//
// Layer: media, above hal. The per-block path allocates nothing.
package tdm

import (
	"sync"

	"jinyin/hal"
	"jinyin/media"
	"jinyin/media/dtmf"
)

// Channel is a call's audio on a timeslot.
type Channel struct {
	id     string
	ts     hal.Timeslot
	codec  media.Codec
	hangup func() error

	mu      sync.Mutex
	src     media.Source
	play    media.PlayID // the Play src came from
	plays   media.PlayID // the last Play's id
	ended   bool
	events  chan media.Event
	done    chan struct{}
	stopped chan struct{}
	tap     func(pcm []int16)
	digit   func(d byte) (taken bool)

	det      *dtmf.Detector
	rx       [hal.BlockSize]byte
	tx       [hal.BlockSize]byte
	pcm      [media.FrameSamples]int16    // received, decoded
	out      [media.FrameSamples]int16    // to send, before encoding
	heard    [8][media.FrameSamples]int16 // what Listen returns, oldest first
	head, n  int
	listened bool
}

var (
	_ media.Channel  = (*Channel)(nil)
	_ media.Listener = (*Channel)(nil)
)

// New returns the channel of a call on ts. hangup is the signalling's way
// to clear the call; it must not wait for the channel.
func New(id string, ts hal.Timeslot, codec media.Codec, hangup func() error) *Channel {
	c := &Channel{id: id, ts: ts, codec: codec, hangup: hangup,
		events: make(chan media.Event, 16), done: make(chan struct{}), stopped: make(chan struct{})}
	c.det = dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if e.End {
			return
		}
		media.Digits.InBand.Add(1) // a digit dialled to the port too: it was heard
		c.mu.Lock()
		digit := c.digit
		c.mu.Unlock()
		if digit == nil || !digit(e.Digit) {
			c.deliver(media.Event{Kind: media.EventDigit, Digit: e.Digit, InBand: true})
		}
	})
	go c.run()
	return c
}

func (c *Channel) ID() string { return c.id }

// Play replaces what is sent; nil sends silence.
func (c *Channel) Play(src media.Source) media.PlayID {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.plays++
	c.src, c.play = src, c.plays
	return c.plays
}

func (c *Channel) Events() <-chan media.Event { return c.events }

// Hangup clears the call through the signalling and ends the channel.
func (c *Channel) Hangup() error {
	if c.isEnded() {
		return nil
	}
	err := c.hangup()
	c.end(false)
	return err
}

// End is the signalling telling the channel the far end has gone: the
// app gets EventHangup.
func (c *Channel) End() { c.end(true) }

// Done is closed when the channel has ended.
func (c *Channel) Done() <-chan struct{} { return c.done }

// Stopped is closed once the channel no longer touches its timeslot, so
// that another channel may take it.
func (c *Channel) Stopped() <-chan struct{} { return c.stopped }

// SetTap lets the line's signalling hear the channel, on the channel's
// goroutine: audio sees each received block, decoded (an FXO port's caller
// ID and tone detectors); digit sees each DTMF digit first, and a digit it
// takes (a number being dialled to the port) is not an event for the
// application. Either may be nil.
func (c *Channel) SetTap(audio func(pcm []int16), digit func(d byte) (taken bool)) {
	c.mu.Lock()
	c.tap, c.digit = audio, digit
	c.mu.Unlock()
}

func (c *Channel) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

func (c *Channel) end(remote bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	if remote {
		select {
		case c.events <- media.Event{Kind: media.EventHangup}:
		default:
		}
	}
	close(c.events)
	close(c.done)
}

func (c *Channel) deliver(e media.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	select {
	case c.events <- e:
	default: // a full queue drops the event rather than stall the line
	}
}

// run is the channel's 20 ms: read a block (the line's clock), hear it,
// and send one.
func (c *Channel) run() {
	defer close(c.stopped)
	for {
		select {
		case <-c.done:
			c.ts.WriteBlock(c.idle())
			return
		default:
		}
		if err := c.ts.ReadBlock(c.rx[:]); err != nil {
			c.end(true)
			return
		}
		c.receive()
		c.send()
	}
}

func (c *Channel) idle() []byte {
	for i := range c.tx {
		c.tx[i] = c.codec.Silence()
	}
	return c.tx[:]
}

func (c *Channel) receive() {
	c.codec.Decode(c.pcm[:], c.rx[:])
	c.det.Process(c.pcm[:])
	c.mu.Lock()
	tap := c.tap
	if c.listened {
		if c.n == len(c.heard) {
			c.head = (c.head + 1) % len(c.heard)
			c.n--
		}
		c.heard[(c.head+c.n)%len(c.heard)] = c.pcm
		c.n++
	}
	c.mu.Unlock()
	if tap != nil {
		tap(c.pcm[:])
	}
}

func (c *Channel) send() {
	c.mu.Lock()
	src, play := c.src, c.play
	c.mu.Unlock()
	n := len(c.tx)
	if a, ok := src.(media.ALawSource); ok {
		n = a.FillALaw(c.tx[:])
		c.codec.FromALaw(c.tx[:n])
		for i := n; i < len(c.tx); i++ {
			c.tx[i] = c.codec.Silence()
		}
	} else {
		pcm := c.out[:]
		n = 0 // nothing playing is silence, not the last block again
		if src != nil {
			n = src.Fill(pcm)
		}
		clear(pcm[n:])
		c.codec.Encode(c.tx[:], pcm)
	}
	c.ts.WriteBlock(c.tx[:])
	if src != nil && n < len(c.tx) {
		c.mu.Lock()
		if c.play == play { // not replaced while it filled this block
			c.src = nil
		}
		c.mu.Unlock()
		c.deliver(media.Event{Kind: media.EventPlayDone, Play: play})
	}
}

// Listen returns what the far end says, one 20 ms frame per Fill.
func (c *Channel) Listen() media.Source {
	c.mu.Lock()
	c.listened = true
	c.mu.Unlock()
	return listener{c}
}

type listener struct{ c *Channel }

func (l listener) Fill(dst []int16) int {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		clear(dst)
		return len(dst)
	}
	n := copy(dst, c.heard[c.head][:])
	clear(dst[n:])
	c.head = (c.head + 1) % len(c.heard)
	c.n--
	return len(dst)
}
