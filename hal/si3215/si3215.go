// Package si3215 drives a Silicon Labs Si3215 ProSLIC as an FXS port:
// its start-up (power-up, calibration, indirect registers); linefeed
// control for ringing, polarity and idle; loop closure for the hook; tip
// and ring voltage for line tests. Its audio travels on the board's PCM
// bus, given to New as a timeslot, placed by SetPCM.
//
// Checked against which source: the SPI access (a control octet with
// the read bit 0x80 and a 7-bit direct register address, then the data
// octet), the identity checks (register 0's revision, register 1 bit 7
// for a Si3215, register 11 reading 0x33), the linefeed codes in
// register 64 (0 open, 1 forward active, 4 ringing, 5 reverse active),
// loop closure in register 68 bit 0, the 376 mV step of the voltage sense
// registers 80 (tip), 81 (ring) and 82 (battery), the PCM registers 1-5
// and the start-up sequence (powerup.go) follow how DAHDI's wctdm driver
// uses the chip; the indirect registers' initial values and their Si3215
// addresses agree between wctdm and Silicon Labs' example code. None of it
// was checked against the Si3215 datasheet in this project, and nothing
// here has run on silicon; the tests run it against a register model of
// the chip written from those sources (si3215_test.go). Left out: the
// ring cadence (the box switches the linefeed itself), ringing voltage
// and frequency options, and the on-hook transmission timer.
//
// Layer: a hal chip driver; it takes a periph spi.Port.
package si3215

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"jinyin/hal"
	"jinyin/hal/internal/silabs"
)

// Direct registers.
const (
	regLoopback = 8  // loopback; cleared at start-up
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
var ErrAbsent = errors.New("si3215: no device (register 11 does not read 0x33, or register 0 no revision)")

// Dev is one Si3215.
type Dev struct {
	hal.Timeslot
	mu       sync.Mutex
	c        spi.Conn
	sleep    func(time.Duration) // between the start-up's polls
	cal      Calibration
	reversed bool
}

var _ hal.FXS = (*Dev)(nil)

// New connects to the chip on p, runs its start-up (about 1.5 s: two
// power-ups, the leakage test, calibration) and leaves the line forward
// active; audio is its PCM timeslot. The identity checks do not rely on
// reset values, so a chip left running by an earlier process is found
// and started again.
func New(p spi.Port, audio hal.Timeslot) (*Dev, error) {
	return open(p, audio, time.Sleep)
}

// open is New with the start-up's sleep given, for the tests' model of
// the chip and its time.
func open(p spi.Port, audio hal.Timeslot, sleep func(time.Duration)) (*Dev, error) {
	c, err := p.Connect(4*physic.MegaHertz, spi.Mode3, 8)
	if err != nil {
		return nil, fmt.Errorf("si3215: %w", err)
	}
	d := &Dev{Timeslot: audio, c: c, sleep: sleep}
	var id [3]byte
	for i, reg := range []byte{regVersion, regIdent, regIdentity} {
		if id[i], err = d.read(reg); err != nil {
			return nil, err
		}
	}
	if rev := id[0] & 0x0F; rev == 0 || rev == 0x0F || id[2] != 0x33 {
		return nil, ErrAbsent
	}
	if id[1]&0x80 == 0 {
		return nil, ErrNot3215
	}
	if err := d.powerUp(); err != nil {
		return nil, err
	}
	return d, nil
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
