// Package si3050 drives a Silicon Labs Si3050 voice DAA (with its
// Si3011/18/19 line-side device) as an FXO port: hook switch, ring
// detection, line voltage for polarity and loop current for disconnect
// supervision. Its audio travels on the board's PCM bus, given to New.
//
// The SPI access (a control octet, 0x20 to write and 0x60 to read, then
// the register and the data), the presence check (register 2 reads
// 0x03), register 5 (bit 0 OH off-hook, bit 3 ONHM on-hook line monitor
// for caller ID, bits 5 and 6 the ring detect flags RDTP and RDTN),
// register 6 (0x00 powers the line side up), register 11 (the line-side
// device's revision in bits 7:4, read until it is not 0 as wctdm waits
// for the isolation link), register 28 (loop current)
// and register 29 (line voltage, signed, 1 V a step) follow how DAHDI's
// wctdm driver uses the DAA; they were not checked against the Si3050
// datasheet in this project, and nothing here has run on silicon. So do
// SetPCM (registers 33-37) and SetCountry (16, 26, 30, 31, China's and
// TBR21's values from DAHDI's fxo_modes table; a board calls it with the
// box's country). Left out: ring validation (registers 22-24), left at
// the chip's defaults, and wctdm's software reset before the set-up.
//
// Layer: a hal chip driver; it takes a periph spi.Port.
package si3050

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

// Registers.
const (
	regID       = 2  // 0x03 on a DAA
	regControl1 = 5  // OH, ONHM, RDTP/RDTN
	regControl2 = 6  // line side power
	regLineSide = 11 // bits 7:4 the line-side device's revision, 0 until the isolation link is up
	regLoopI    = 28 // loop current status
	regLineV    = 29 // line voltage status (signed)
)

const (
	ctl1OH   = 0x01
	ctl1ONHM = 0x08
	ctl1Ring = 0x60
)

// ErrAbsent is no DAA answering.
var ErrAbsent = errors.New("si3050: no device (register 2 does not read 0x03)")

// Dev is one Si3050.
type Dev struct {
	hal.Timeslot
	mu sync.Mutex
	c  spi.Conn
}

var _ hal.FXO = (*Dev)(nil)

// ErrNoLineSide is the isolation link to the line-side device (Si3011/18/
// 19) not coming up: register 11's line-side revision stays 0.
var ErrNoLineSide = errors.New("si3050: the line-side device did not come up over the isolation link within 2 s")

// Waiting for the line side, as wctdm does: register 11 read every 100
// ms, for up to 2 s.
const (
	lineSidePoll = 100 * time.Millisecond
	lineSideWait = 2 * time.Second
)

// New connects to the DAA on p, powers the line side, waits for it to
// answer over the isolation link and leaves the line on hook with the
// line monitor on for caller ID.
func New(p spi.Port, audio hal.Timeslot) (*Dev, error) {
	return open(p, audio, time.Sleep)
}

// open is New with the wait for the line side given, for the tests.
func open(p spi.Port, audio hal.Timeslot, sleep func(time.Duration)) (*Dev, error) {
	c, err := p.Connect(4*physic.MegaHertz, spi.Mode3, 8)
	if err != nil {
		return nil, fmt.Errorf("si3050: %w", err)
	}
	d := &Dev{Timeslot: audio, c: c}
	v, err := d.read(regID)
	if err != nil {
		return nil, err
	}
	if v != 0x03 {
		return nil, ErrAbsent
	}
	if err := d.write(regControl2, 0x00); err != nil {
		return nil, err
	}
	for waited := time.Duration(0); ; waited += lineSidePoll {
		v, err := d.read(regLineSide)
		if err != nil {
			return nil, err
		}
		if v&0xF0 != 0 {
			break
		}
		if waited >= lineSideWait {
			return nil, ErrNoLineSide
		}
		sleep(lineSidePoll)
	}
	return d, d.write(regControl1, ctl1ONHM)
}

func (d *Dev) write(reg, v byte) error {
	if err := d.c.Tx([]byte{0x20, reg, v}, nil); err != nil {
		return fmt.Errorf("si3050: write %d: %w", reg, err)
	}
	return nil
}

func (d *Dev) read(reg byte) (byte, error) {
	r := make([]byte, 3)
	if err := d.c.Tx([]byte{0x60, reg, 0}, r); err != nil {
		return 0, fmt.Errorf("si3050: read %d: %w", reg, err)
	}
	return r[2], nil
}

// SetHook goes off hook or back on (with the line monitor on).
func (d *Dev) SetHook(off bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := byte(ctl1ONHM)
	if off {
		v |= ctl1OH
	}
	return d.write(regControl1, v)
}

// Ringing reads the ring detect flags.
func (d *Dev) Ringing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.read(regControl1)
	return err == nil && v&ctl1Ring != 0
}

// Reversed reads the sign of the line voltage.
func (d *Dev) Reversed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.read(regLineV)
	return err == nil && int8(v) < 0
}

// LoopCurrent reports loop current above the noise of an idle line.
func (d *Dev) LoopCurrent() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.read(regLoopI)
	return err == nil && v > 2
}

// Close puts the line on hook.
func (d *Dev) Close() error { return d.SetHook(false) }

// The PCM registers: the mode, and the transmit start count's low octet
// (then its high octet, and the receive start count's two).
const (
	regPCMMode  = 33
	regPCMTXLow = 34
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

// Country is a line's DC and AC termination, the settings a DAA must meet
// where it is connected: on-hook speed (OHS, OHS2), ringer impedance (RZ)
// and threshold (RT), current limit (ILIM), DC voltage (DCV), minimum
// operational loop current (MINI), AC impedance (ACIM). The values are
// those of DAHDI's fxo_modes table (fxo_modes.h, "extracted from
// wctdm.c"), written into registers 16, 26, 30 and 31 as wctdm does; not
// checked against the Si3050 datasheet's country table here.
type Country struct {
	OHS, OHS2, RZ, RT, ILIM, DCV, MINI, ACIM byte
}

// Countries by the box's country setting: "cn" (China: DCV 0, MINI 3,
// ACIM 0xF, the complex impedance China's network specifies) and "itu"
// (TBR21, the European harmonised termination: ILIM 1, DCV 3, ACIM 2).
var Countries = map[string]Country{
	"cn":  {MINI: 3, ACIM: 0xF},
	"itu": {ILIM: 1, DCV: 3, ACIM: 2},
}

// Register numbers of the country settings.
const (
	regIntlControl1 = 16 // OHS bit 6, RZ bit 1, RT bit 0
	regDCTerm       = 26 // DCV bits 7:6, MINI bits 5:4, ILIM bit 1
	regACTerm       = 30 // ACIM bits 3:0
	regDAAControl5  = 31 // 0xA3 (full-wave ring detect, the rest as wctdm), OHS2 bit 3
)

// SetCountry sets the line's termination for country c.
func (d *Dev) SetCountry(c Country) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range [][2]byte{
		{regIntlControl1, c.OHS<<6 | c.RZ<<1 | c.RT},
		{regDCTerm, c.DCV<<6 | c.MINI<<4 | c.ILIM<<1},
		{regACTerm, c.ACIM},
		{regDAAControl5, 0xA3 | c.OHS2<<3},
	} {
		if err := d.write(w[0], w[1]); err != nil {
			return err
		}
	}
	return nil
}
