// Package si3215 drives a Silicon Labs Si3215 ProSLIC as an FXS port:
// linefeed control for ringing, polarity and idle; loop closure for the
// hook; tip and ring voltage for line tests. Its audio travels on the
// board's PCM bus, given to New as a timeslot.
//
// The SPI access (a control octet with the read bit 0x80 and a 7-bit
// direct register address, then the data octet), the linefeed codes in
// register 64 (0 open, 1 forward active, 4 ringing, 5 reverse active),
// loop closure in register 68 bit 0, the presence check (register 8,
// audio loopback, reads 0x02 after reset) and the 376 mV step of the
// voltage sense registers 80 (tip) and 81 (ring) follow how DAHDI's wctdm
// driver uses the chip; they were not checked against the Si3215 datasheet
// in this project, and nothing here has run on silicon; so does SetPCM
// (registers 1-5, wctdm's PCM set-up). Left out: the
// ProSLIC power-up sequence (DC-DC converter set-up and calibration), the
// ring oscillator coefficients and the indirect registers, which a board
// needs before the linefeed codes do anything.
//
// Layer: a hal chip driver; it takes a periph spi.Port.
package si3215

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"jinyin/hal"
	"jinyin/hal/internal/silabs"
)

// Direct registers.
const (
	regLoopback = 8  // audio loopback; 0x02 after reset
	regLinefeed = 64 // linefeed control
	regHook     = 68 // loop closure and ring trip status
	regVTip     = 80 // tip voltage, 376 mV a step
	regVRing    = 81 // ring voltage
)

// Linefeed codes.
const (
	lfOpen    = 0
	lfForward = 1
	lfRinging = 4
	lfReverse = 5
)

// ErrAbsent is no ProSLIC answering.
var ErrAbsent = errors.New("si3215: no device (register 8 does not read 0x02)")

// Dev is one Si3215.
type Dev struct {
	hal.Timeslot
	mu       sync.Mutex
	c        spi.Conn
	reversed bool
}

var _ hal.FXS = (*Dev)(nil)

// New connects to the chip on p; audio is its PCM timeslot.
func New(p spi.Port, audio hal.Timeslot) (*Dev, error) {
	c, err := p.Connect(4*physic.MegaHertz, spi.Mode3, 8)
	if err != nil {
		return nil, fmt.Errorf("si3215: %w", err)
	}
	d := &Dev{Timeslot: audio, c: c}
	v, err := d.read(regLoopback)
	if err != nil {
		return nil, err
	}
	if v != 0x02 {
		return nil, ErrAbsent
	}
	return d, d.write(regLinefeed, lfForward)
}

func (d *Dev) write(reg, v byte) error {
	if err := d.c.Tx([]byte{reg & 0x7F, v}, nil); err != nil {
		return fmt.Errorf("si3215: write %d: %w", reg, err)
	}
	return nil
}

func (d *Dev) read(reg byte) (byte, error) {
	r := make([]byte, 2)
	if err := d.c.Tx([]byte{0x80 | reg&0x7F, 0}, r); err != nil {
		return 0, fmt.Errorf("si3215: read %d: %w", reg, err)
	}
	return r[1], nil
}

// Ring switches the linefeed to ringing, or back to active.
func (d *Dev) Ring(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	lf := byte(lfForward)
	if d.reversed {
		lf = lfReverse
	}
	if on {
		lf = lfRinging
	}
	return d.write(regLinefeed, lf)
}

// SetPolarity selects forward or reverse active.
func (d *Dev) SetPolarity(reversed bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reversed = reversed
	lf := byte(lfForward)
	if reversed {
		lf = lfReverse
	}
	return d.write(regLinefeed, lf)
}

// OffHook reads loop closure.
func (d *Dev) OffHook() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.read(regHook)
	return err == nil && v&0x01 != 0
}

// LoopVolts is tip minus ring.
func (d *Dev) LoopVolts() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	tip, err1 := d.read(regVTip)
	ring, err2 := d.read(regVRing)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (float64(tip) - float64(ring)) * 0.376
}

// Close opens the loop.
func (d *Dev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(regLinefeed, lfOpen)
}

// The PCM registers: the mode, and the transmit start count's low octet
// (then its high octet, and the receive start count's two).
const (
	regPCMMode  = 1
	regPCMTXLow = 2
)

// SetPCM places the port's audio on the PCM highway: startPCLK cycles
// after each frame sync, the same slot both ways (8 per 8-bit slot, 16
// per 16-bit one), A-law (E1 countries, China) or µ-law.
func (d *Dev) SetPCM(startPCLK uint16, muLaw bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range silabs.PCMWrites(regPCMMode, regPCMTXLow, startPCLK, muLaw) {
		if err := d.write(w[0], w[1]); err != nil {
			return err
		}
	}
	return nil
}
