package analog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/fsk"
	"jinyin/media/tone"
)

// FXOState is where an FXO port is.
type FXOState uint8

const (
	FXOIdle      FXOState = iota // on hook, listening for caller ID and ringing
	FXORinging                   // rings counted, not answered yet
	FXOAnswered                  // an inbound call is up
	FXOSeized                    // off hook to dial out
	FXOConnected                 // an outbound call is up
)

var fxoNames = [...]string{"Idle", "Ringing", "Answered", "Seized", "Connected"}

func (s FXOState) String() string {
	if int(s) < len(fxoNames) {
		return fxoNames[s]
	}
	return fmt.Sprintf("FXOState(%d)", uint8(s))
}

// Caller ID methods of an FXO line.
const (
	CIDNone       = "none"
	CIDFSKV23     = "fsk-v23"     // ETSI EN 300 659, after the first ring
	CIDFSKBell202 = "fsk-bell202" // Telcordia GR-30, after the first ring
	CIDDTMF       = "dtmf"        // ETSI EN 300 659-1 annex B / China: A or D, digits, C, before the first ring
)

// FXOConfig is one FXO port.
type FXOConfig struct {
	ID       int
	Port     hal.FXO
	Clock    clock.Clock
	Log      *slog.Logger
	Codec    media.Codec
	CallerID string
	// Rings is the ring to answer on: 2 leaves room for FSK caller ID
	// after the first; 0 chooses by CallerID.
	Rings int
	// Busy is the exchange's busy tone, heard as disconnect supervision.
	Busy tone.Cadence
	// Incoming runs an answered inbound call on a goroutine of its own.
	Incoming func(ch *Channel, callerID string)
}

// FXO is a running FXO port.
type FXO struct {
	cfg  FXOConfig
	fsk  *fsk.Demodulator
	busy *busyDetector
	line

	state     FXOState
	rings     int
	ringOn    bool
	ringFrom  time.Time
	lastRing  time.Time
	counted   bool
	cid       string
	dtmfCID   []byte
	collect   bool
	reversed  bool
	loopGone  time.Time
	busyHeard bool
	flashing  bool // on hook for a flash: supervision waits
}

// NewFXO starts a port.
func NewFXO(cfg FXOConfig) *FXO {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Rings == 0 {
		cfg.Rings = 1
		if strings.HasPrefix(cfg.CallerID, "fsk") {
			cfg.Rings = 2
		}
	}
	o := &FXO{cfg: cfg, busy: newBusyDetector(cfg.Busy)}
	std := fsk.V23
	if cfg.CallerID == CIDFSKBell202 {
		std = fsk.Bell202
	}
	o.fsk = fsk.NewDemodulator(std, func(c fsk.CallerID) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.cid = c.Number
		if c.Number == "" {
			o.cid = c.Absence
		}
	})
	o.reversed = cfg.Port.Reversed()
	o.line.start(fmt.Sprintf("fxo%d", cfg.ID), cfg.Port, cfg.Codec, o.tap, o.dtmfDigit, o.farEnd)
	ticker(cfg.Clock, o.stop, o.poll)
	return o
}

// Close stops the port and puts the line on hook.
func (o *FXO) Close() { o.close(func() { o.cfg.Port.SetHook(false) }) }

// State is the port's state now.
func (o *FXO) State() FXOState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state
}

// tap hears the line: caller ID while on hook, busy tone while off.
func (o *FXO) tap(pcm []int16) {
	o.mu.Lock()
	st := o.state
	o.mu.Unlock()
	switch st {
	case FXOIdle, FXORinging:
		if strings.HasPrefix(o.cfg.CallerID, "fsk") {
			o.fsk.Process(pcm)
		}
	case FXOAnswered, FXOConnected:
		o.mu.Lock()
		busy := o.busy
		o.mu.Unlock()
		if busy.block(pcm) {
			o.mu.Lock()
			o.busyHeard = true
			o.mu.Unlock()
		}
	}
}

// dtmfDigit collects DTMF caller ID while the line is on hook: A or D
// starts it, C ends it. Digits in a call are the call's.
func (o *FXO) dtmfDigit(d byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cfg.CallerID != CIDDTMF || (o.state != FXOIdle && o.state != FXORinging) {
		return false
	}
	switch {
	case d == 'A' || d == 'D':
		o.collect, o.dtmfCID = true, o.dtmfCID[:0]
	case d == 'C' || d == '#':
		if o.collect {
			o.cid = string(o.dtmfCID)
		}
		o.collect = false
	case o.collect && len(o.dtmfCID) < 32:
		o.dtmfCID = append(o.dtmfCID, d)
	}
	return true
}

func (o *FXO) set(s FXOState) {
	if s != o.state {
		o.cfg.Log.Debug("fxo", "port", o.cfg.ID, "from", o.state, "to", s)
	}
	o.state = s
}

func (o *FXO) poll() {
	o.mu.Lock()
	defer o.unlock()
	if o.cur == nil {
		return
	}
	now := o.cfg.Clock.Now()
	p := o.cfg.Port
	switch o.state {
	case FXOIdle, FXORinging:
		ringing := p.Ringing()
		if ringing && !o.ringOn {
			o.ringFrom = now
		}
		o.ringOn = ringing
		if !ringing {
			o.counted = false
		} else if !o.counted && now.Sub(o.ringFrom) >= RingDetect {
			o.counted = true
			o.rings++
			o.lastRing = now
			o.set(FXORinging)
			if o.rings >= o.cfg.Rings {
				o.answer()
				return
			}
		}
		if o.state == FXORinging && now.Sub(o.lastRing) > RingGone {
			o.cfg.Log.Info("fxo: ringing stopped before the call was answered", "port", o.cfg.ID, "caller", o.cid)
			o.idle()
		}
	case FXOAnswered, FXOConnected:
		if o.flashing {
			return
		}
		cleared := ""
		if r := p.Reversed(); r != o.reversed {
			o.reversed = r
			cleared = "polarity reversal"
		}
		if p.LoopCurrent() {
			o.loopGone = time.Time{}
		} else if o.loopGone.IsZero() {
			o.loopGone = now
		} else if now.Sub(o.loopGone) >= LoopDropMin {
			cleared = "loop current drop"
		}
		if o.busyHeard {
			cleared = "busy tone"
		}
		if cleared != "" {
			o.cfg.Log.Info("fxo: the exchange cleared the call", "port", o.cfg.ID, "by", cleared)
			o.cur.End()
			o.idle()
		}
	}
}

// answer goes off hook to an inbound call and hands it on.
func (o *FXO) answer() {
	o.cfg.Port.SetHook(true)
	o.set(FXOAnswered)
	o.offHook()
	ch, cid := o.cur, o.cid
	ch.drain()
	o.cfg.Log.Info("fxo: call answered", "port", o.cfg.ID, "caller", cid)
	go o.cfg.Incoming(ch, cid)
}

// offHook starts disconnect supervision from the line as it is now.
func (o *FXO) offHook() {
	o.reversed = o.cfg.Port.Reversed()
	o.loopGone = time.Time{}
	o.busyHeard = false
	o.busy = newBusyDetector(o.cfg.Busy)
}

// idle puts the line on hook and listens again.
func (o *FXO) idle() {
	o.cfg.Port.SetHook(false)
	o.set(FXOIdle)
	o.rings, o.cid, o.collect, o.counted = 0, "", false, false
	o.renew(nil)
}

// farEnd is the application hanging up.
func (o *FXO) farEnd(ch *Channel) {
	o.mu.Lock()
	defer o.unlock()
	if o.cur == ch && o.state != FXOIdle && o.state != FXORinging {
		o.idle()
	}
}

// FlashTime is how long a hook flash breaks the loop (ETSI ES 201 970:
// 80-130 ms at the exchange; Chinese exchanges accept up to 300 ms).
const FlashTime = 120 * time.Millisecond

// Flash breaks the loop briefly on a call that is up, as a phone's
// recall button does: the exchange's way to hold and transfer.
func (o *FXO) Flash() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != FXOAnswered && o.state != FXOConnected || o.flashing {
		return fmt.Errorf("analog: fxo port %d: no call to flash", o.cfg.ID)
	}
	o.flashing = true
	o.cfg.Port.SetHook(false)
	o.cfg.Clock.AfterFunc(FlashTime, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.flashing = false
		if o.state == FXOAnswered || o.state == FXOConnected {
			o.cfg.Port.SetHook(true)
			o.offHook()
		}
	})
	return nil
}

// Dial seizes the line, waits for dial tone's time, dials number in DTMF
// and returns the call. An analog line gives no answer signal: the call is
// up as soon as it is dialled.
func (o *FXO) Dial(ctx context.Context, number string) (*Channel, error) {
	digits, err := tone.DTMF(number, 80, -8)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.awaitSession(o.cfg.Clock, 100*time.Millisecond) // the last call's channel may still be letting go
	if o.state != FXOIdle || o.cfg.Port.Ringing() || o.cur == nil {
		o.mu.Unlock()
		return nil, ErrBusy
	}
	o.cfg.Port.SetHook(true)
	o.set(FXOSeized)
	o.offHook()
	ch := o.cur
	o.unlock()
	wait := func(d time.Duration) error {
		t := make(chan struct{})
		tm := o.cfg.Clock.AfterFunc(d, func() { close(t) })
		select {
		case <-t:
			return nil
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		case <-ch.Done():
			return ErrBusy
		}
	}
	if err := wait(time.Second); err != nil { // dial tone
		ch.Hangup()
		return nil, err
	}
	ch.Play(&samples{pcm: digits})
	if err := wait(time.Duration(len(digits)/8+100) * time.Millisecond); err != nil {
		ch.Hangup()
		return nil, err
	}
	o.mu.Lock()
	if o.cur == ch {
		o.set(FXOConnected)
	}
	o.mu.Unlock()
	ch.drain()
	return ch, nil
}
