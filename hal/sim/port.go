package sim

import (
	"sync"

	"jinyin/hal"
)

// FXSPort is a simulated FXS port with a phone on it that a test handles:
// Lift, Hang, and Ringing to see whether it rings.
type FXSPort struct {
	*Slot
	far *Slot

	mu       sync.Mutex
	offHook  bool
	ringing  bool
	reversed bool
	rings    int
}

var _ hal.FXS = (*FXSPort)(nil)

// NewFXS returns a port with its phone on hook.
func NewFXS() *FXSPort {
	a, b := SlotPair(0xD5)
	return &FXSPort{Slot: a, far: b}
}

// Phone is the phone's end of the audio.
func (p *FXSPort) Phone() *Slot { return p.far }

// Lift takes the handset off hook.
func (p *FXSPort) Lift() { p.mu.Lock(); p.offHook = true; p.mu.Unlock() }

// Hang puts it back.
func (p *FXSPort) Hang() { p.mu.Lock(); p.offHook = false; p.mu.Unlock() }

// Ringing reports whether the bell is ringing now; Rings counts ring
// bursts so far.
func (p *FXSPort) Ringing() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.ringing }
func (p *FXSPort) Rings() int    { p.mu.Lock(); defer p.mu.Unlock(); return p.rings }

func (p *FXSPort) Ring(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && !p.ringing {
		p.rings++
	}
	p.ringing = on && !p.offHook // a SLIC trips ringing when the phone answers
	return nil
}

func (p *FXSPort) SetPolarity(reversed bool) error {
	p.mu.Lock()
	p.reversed = reversed
	p.mu.Unlock()
	return nil
}

func (p *FXSPort) OffHook() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.offHook }

func (p *FXSPort) LoopVolts() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := -48.0
	if p.offHook {
		v = -8
	}
	if p.reversed {
		v = -v
	}
	return v
}

func (p *FXSPort) Close() error { p.far.Close(); return p.Slot.Close() }

// FXOPort is a simulated FXO port on an exchange line that a test plays:
// Ring, Reverse, DropLoop, and Seized to see the port's hook.
type FXOPort struct {
	*Slot
	far *Slot

	mu       sync.Mutex
	off      bool
	ringing  bool
	reversed bool
	loopDown bool
}

var _ hal.FXO = (*FXOPort)(nil)

// NewFXO returns a port on an idle line.
func NewFXO() *FXOPort {
	a, b := SlotPair(0xD5)
	return &FXOPort{Slot: a, far: b}
}

// Exchange is the exchange's end of the audio.
func (p *FXOPort) Exchange() *Slot { return p.far }

// SetRinging applies or removes ringing voltage, as the exchange does in
// its cadence.
func (p *FXOPort) SetRinging(on bool) { p.mu.Lock(); p.ringing = on; p.mu.Unlock() }

// Reverse flips the line's polarity.
func (p *FXOPort) Reverse() { p.mu.Lock(); p.reversed = !p.reversed; p.mu.Unlock() }

// DropLoop interrupts loop current (the exchange clearing) until RestoreLoop.
func (p *FXOPort) DropLoop()    { p.mu.Lock(); p.loopDown = true; p.mu.Unlock() }
func (p *FXOPort) RestoreLoop() { p.mu.Lock(); p.loopDown = false; p.mu.Unlock() }

// Seized reports whether the port is off hook.
func (p *FXOPort) Seized() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.off }

func (p *FXOPort) SetHook(off bool) error {
	p.mu.Lock()
	p.off = off
	if off {
		p.ringing = false // answering trips the ringing
	}
	p.mu.Unlock()
	return nil
}

func (p *FXOPort) Ringing() bool  { p.mu.Lock(); defer p.mu.Unlock(); return p.ringing }
func (p *FXOPort) Reversed() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.reversed }
func (p *FXOPort) LoopCurrent() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.off && !p.loopDown
}

func (p *FXOPort) Close() error { p.far.Close(); return p.Slot.Close() }
