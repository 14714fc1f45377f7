package board

import "sync/atomic"

// LED is a status light: on a board, a GPIO pin; on the simulation, a
// value a test reads.
type LED interface {
	Set(on bool) error
}

// SimLED is an LED in memory.
type SimLED struct{ on atomic.Bool }

func (l *SimLED) Set(on bool) error { l.on.Store(on); return nil }

// On reports whether the LED is lit.
func (l *SimLED) On() bool { return l.on.Load() }
