package analog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/fsk"
	"jinyin/media/tone"
)

// FXSState is where an FXS port is.
type FXSState uint8

const (
	FXSIdle     FXSState = iota // on hook
	FXSRinging                  // ringing the phone for a call
	FXSDialling                 // off hook: dial tone, collecting digits
	FXSCalling                  // the phone's call is routed or up
	FXSTalking                  // the phone answered a call
	FXSFlash                    // hook flash in a call: dial tone, collecting the transfer number
	FXSBusy                     // the call is over but the handset is up: busy tone
)

var fxsNames = [...]string{"Idle", "Ringing", "Dialling", "Calling", "Talking", "Flash", "Busy"}

func (s FXSState) String() string {
	if int(s) < len(fxsNames) {
		return fxsNames[s]
	}
	return fmt.Sprintf("FXSState(%d)", uint8(s))
}

// FXSConfig is one FXS port.
type FXSConfig struct {
	ID    int
	Ext   string // the extension the phone answers as
	Port  hal.FXS
	Clock clock.Clock
	Log   *slog.Logger
	Codec media.Codec
	// Dial, Busy and Ring are the country's tones and ring cadence.
	Dial, Busy, Ring tone.Cadence
	// CallerID is how the caller's number reaches the phone: CIDFSKV23
	// or CIDFSKBell202 between the first and second ring, CIDDTMF (A,
	// the digits, C) before the first ring as Chinese exchanges send it,
	// or CIDNone ("").
	CallerID string
	Number   func(digits string) Match
	// Originate runs a call the phone dialled, on a goroutine of its own.
	Originate func(ch *Channel, number string)
	// Refused, when set, is told of a number Number matched nothing (the
	// phone hears busy), on a goroutine of its own, for its record.
	Refused func(number string)
}

// ErrBusy is a port that cannot take a call now.
var ErrBusy = errors.New("analog: port busy")

// FXS is a running FXS port.
type FXS struct {
	cfg FXSConfig
	line

	state    FXSState
	digits   string
	since    time.Time // when the state's clock started (dial tone, last digit)
	off      bool
	changed  time.Time // when the hook last changed
	ringOn   bool
	ringStep int
	ringNext time.Time
	callerID []int16
	cidFirst bool // the caller ID goes before the first ring
	answered chan *Channel
}

// NewFXS starts a port.
func NewFXS(cfg FXSConfig) *FXS {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	f := &FXS{cfg: cfg, changed: cfg.Clock.Now()}
	f.line.start(fmt.Sprintf("fxs%d", cfg.ID), cfg.Port, cfg.Codec, nil, f.digit, f.farEnd)
	ticker(cfg.Clock, f.stop, f.poll)
	return f
}

// Close stops the port.
func (f *FXS) Close() { f.close(func() { f.cfg.Port.Ring(false) }) }

// State is the port's state now.
func (f *FXS) State() FXSState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *FXS) set(s FXSState) {
	if s != f.state {
		f.cfg.Log.Debug("fxs", "port", f.cfg.ID, "from", f.state, "to", s)
	}
	f.state = s
	f.since = f.cfg.Clock.Now()
}

// poll is the port's 10 ms: hook, cadence and digit timers.
func (f *FXS) poll() {
	f.mu.Lock()
	defer f.unlock()
	now := f.cfg.Clock.Now()
	off := f.cfg.Port.OffHook()
	if off != f.off {
		onFor := now.Sub(f.changed)
		f.off, f.changed = off, now
		if off && onFor >= FlashMin && onFor < FlashMax && (f.state == FXSTalking || f.state == FXSCalling) {
			f.flash()
			return
		}
	}
	if f.cur == nil {
		return // a new channel is being set up
	}
	switch f.state {
	case FXSIdle:
		if off {
			f.set(FXSDialling)
			f.digits = ""
			f.cur.Play(tone.NewPlayer(f.cfg.Dial, media.FrameSamples))
		}
	case FXSRinging:
		if off {
			f.cfg.Port.Ring(false)
			f.set(FXSTalking)
			ch := f.cur
			ch.Play(nil)
			ch.drain()
			f.answered <- ch
			return
		}
		f.cadence(now)
	default:
		if !off {
			if now.Sub(f.changed) >= FlashMax {
				f.onHook()
			}
			return
		}
		if f.state == FXSDialling || f.state == FXSFlash {
			switch {
			case f.digits == "" && now.Sub(f.since) >= FirstDigit:
				f.busy()
			case f.digits != "" && now.Sub(f.since) >= InterDigit:
				if m := f.cfg.Number(f.digits); m == Complete || m == Open {
					f.route()
				} else {
					f.busy()
				}
			}
		}
	}
}

// cadence switches the ringing voltage on its cadence and sends the
// caller ID after the first ring.
func (f *FXS) cadence(now time.Time) {
	if now.Before(f.ringNext) {
		return
	}
	on := f.cfg.Ring.OnOffMs
	if len(on) == 0 {
		on = []int{1000, 4000}
	}
	if f.cidFirst && f.callerID != nil {
		// DTMF caller ID, then the first ring 300 ms after it.
		f.cur.Play(&samples{pcm: f.callerID})
		f.ringNext = now.Add(time.Duration(len(f.callerID)/8+300) * time.Millisecond)
		f.callerID = nil
		return
	}
	step := on[f.ringStep%len(on)]
	f.ringOn = f.ringStep%2 == 0
	f.cfg.Port.Ring(f.ringOn)
	if f.ringStep == 1 && f.callerID != nil {
		f.cur.Play(&samples{pcm: f.callerID})
	}
	f.ringStep++
	f.ringNext = now.Add(time.Duration(step) * time.Millisecond)
}

// digit is a DTMF digit from the phone: the port takes it while the
// phone dials, and leaves it to the call otherwise.
func (f *FXS) digit(d byte) bool {
	f.mu.Lock()
	defer f.unlock()
	if f.state != FXSDialling && f.state != FXSFlash {
		return false
	}
	if f.digits == "" {
		f.cur.Play(nil) // the first digit stops the dial tone
	}
	f.digits += string(d)
	f.since = f.cfg.Clock.Now()
	switch f.cfg.Number(f.digits) {
	case Complete:
		f.route()
	case NoMatch:
		f.busy()
		if f.cfg.Refused != nil {
			go f.cfg.Refused(f.digits)
		}
	}
	return true
}

// route hands the number on: a new call, or the transfer of the call the
// phone flashed in.
func (f *FXS) route() {
	ch, number := f.cur, f.digits
	if f.state == FXSFlash {
		ch.mu.Lock()
		ch.transfer = number
		ch.mu.Unlock()
		f.cfg.Log.Info("fxs: hook-flash transfer", "port", f.cfg.ID, "to", number)
		f.set(FXSBusy)
		f.renew(func(c *Channel) { c.Play(tone.NewPlayer(f.cfg.Busy, media.FrameSamples)) })
		return
	}
	f.set(FXSCalling)
	ch.drain()
	go f.cfg.Originate(ch, number)
}

// flash is a hook flash in a call: the phone gets dial tone to dial a
// transfer number; the other party hears nothing meanwhile.
func (f *FXS) flash() {
	f.set(FXSFlash)
	f.digits = ""
	f.cur.Play(tone.NewPlayer(f.cfg.Dial, media.FrameSamples))
}

func (f *FXS) busy() {
	f.set(FXSBusy)
	f.cur.Play(tone.NewPlayer(f.cfg.Busy, media.FrameSamples))
}

// onHook is the handset put down: the call, if any, ends.
func (f *FXS) onHook() {
	f.set(FXSIdle)
	f.renew(nil)
}

// farEnd is the application hanging up the port's channel.
func (f *FXS) farEnd(ch *Channel) {
	f.mu.Lock()
	defer f.unlock()
	if f.cur != ch {
		return
	}
	switch f.state {
	case FXSCalling, FXSTalking, FXSFlash:
		f.set(FXSBusy)
		f.renew(func(c *Channel) { c.Play(tone.NewPlayer(f.cfg.Busy, media.FrameSamples)) })
	case FXSRinging:
		f.cfg.Port.Ring(false)
		f.set(FXSIdle)
		f.renew(nil)
	}
}

// Ring rings the phone for a call from from and returns the channel once
// the phone answers; ctx ends the ringing.
func (f *FXS) Ring(ctx context.Context, from string) (*Channel, error) {
	f.mu.Lock()
	if f.state != FXSIdle || f.off || f.cur == nil {
		f.mu.Unlock()
		return nil, ErrBusy
	}
	f.set(FXSRinging)
	f.ringStep, f.ringNext = 0, f.cfg.Clock.Now()
	f.callerID, f.cidFirst = nil, false
	if from != "" {
		now := f.cfg.Clock.Now()
		msg := fsk.CallerID{Time: now.Format("01021504"), Number: from}.Encode()
		switch f.cfg.CallerID {
		case CIDFSKV23:
			f.callerID = fsk.Modulate(fsk.V23, msg, -13)
		case CIDFSKBell202:
			f.callerID = fsk.Modulate(fsk.Bell202, msg, -13)
		case CIDDTMF:
			if pcm, err := tone.DTMF("A"+from+"C", 70, -8); err == nil {
				f.callerID, f.cidFirst = pcm, true
			}
		}
	}
	answered := make(chan *Channel, 1)
	f.answered = answered
	f.unlock()
	select {
	case ch := <-answered:
		return ch, nil
	case <-ctx.Done():
		f.mu.Lock()
		if f.state == FXSRinging {
			f.cfg.Port.Ring(false)
			f.set(FXSIdle)
			f.renew(nil)
		}
		f.unlock()
		select {
		case ch := <-answered: // answered as the ringing stopped
			ch.Hangup()
		default:
		}
		return nil, ctx.Err()
	}
}

// samples plays a slice once.
type samples struct{ pcm []int16 }

func (s *samples) Fill(dst []int16) int {
	n := copy(dst, s.pcm)
	s.pcm = s.pcm[n:]
	return n
}
