package si3215

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// chip is a register model of a Si3215, written from how DAHDI's wctdm
// and Silicon Labs' example code describe it, not from this driver:
//   - registers 0 (revision 5), 1 (bit 7 read-only, set: a Si3215) and
//     11 (0x33) identify it;
//   - indirect registers through 28-31: data written to 28/29 and then an
//     address to 30 writes; an address alone reads into 28/29; 31 is busy
//     for the first status read after each access;
//   - the Si3215's indirect addresses are 0-27 and 64-74, anything else
//     is a test error (a Si3210 address left untranslated);
//   - the battery (82) climbs 4 steps a millisecond to 0xC8 while the
//     converter is up (14 = 0 with a PWM period in 92), and falls 1 step
//     every 20 ms when it is down (1 step a millisecond with leak set);
//   - writing 0x5F to 96 calibrates for calTime, then 96 reads 0 and
//     98-107 hold a result (107 = dcdcCal).
type chip struct {
	t        *testing.T
	reg      [128]byte
	ind      map[byte]uint16
	pending  bool // 28 or 29 written since the last access
	busy     bool
	now      time.Duration
	vbat     float64
	leak     bool
	noPower  bool            // the converter's supply is missing
	si3210   bool            // register 1 bit 7 clear
	stuck    bool            // the indirect access status never clears
	calTimes []time.Duration // how long each calibration takes (300 ms when none is left; 0: never ends)
	calEnd   time.Duration
	dcdcCal  byte
	vmax     float64 // where the battery stops climbing (0xC8)
	failAt   int     // the SPI transfer that fails, counting from 1; 0: none
	tx       int
	writes   [][2]byte // every direct write, in order
	events   []event   // what happened, for the sequence checks
	filtered [5]uint16 // loop filters when calibration started
}

// event is a write the sequence checks look at, with the battery and the
// DC-DC converter's control register at that moment.
type event struct {
	reg, v byte
	volts  float64
	dcdc   byte
}

func newChip(t *testing.T) *chip {
	c := &chip{t: t, ind: map[byte]uint16{}, dcdcCal: 0x07, vmax: 0xC8}
	c.reg[0] = 0x05
	c.reg[1] = 0x80
	c.reg[8] = 0x02
	c.reg[11] = 0x33
	return c
}

func (c *chip) String() string                                            { return "si3215 model" }
func (c *chip) Duplex() conn.Duplex                                       { return conn.Full }
func (c *chip) TxPackets([]spi.Packet) error                              { return fmt.Errorf("not modelled") }
func (c *chip) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return c, nil }

// sleep advances the model's time: the battery moves, calibration ends.
func (c *chip) sleep(d time.Duration) {
	for step := time.Duration(0); step < d; step += time.Millisecond {
		c.now += time.Millisecond
		up := c.reg[regPowerDown] == 0 && c.reg[regDCDCPWM] != 0 && !c.noPower
		switch {
		case up:
			c.vbat = min(c.vbat+4, c.vmax)
		case c.leak:
			c.vbat = max(c.vbat-1, 0)
		default:
			c.vbat = max(c.vbat-0.05, 0)
		}
		if c.calEnd != 0 && c.now >= c.calEnd {
			c.calEnd = 0
			c.reg[regCalCtl] = 0
			for r := 98; r < 107; r++ {
				c.reg[r] = byte(0x10 + r - 98)
			}
			c.reg[regDCDCCal] = c.dcdcCal
			c.events = append(c.events, event{reg: 0xFF, volts: c.vbat * 0.376})
		}
	}
}

func validIndirect(a byte) bool { return a <= 27 || a >= 64 && a <= 74 }

func (c *chip) Tx(w, r []byte) error {
	if len(w) != 2 {
		c.t.Errorf("SPI transfer of %d octets", len(w))
		return nil
	}
	if c.tx++; c.tx == c.failAt {
		return errors.New("SPI transfer failed")
	}
	reg := w[0] & 0x7F
	if w[0]&0x80 != 0 {
		v := c.reg[reg]
		switch reg {
		case regVBat:
			v = byte(c.vbat)
		case regIStatus:
			if c.stuck {
				v = 1
			} else if c.busy {
				v, c.busy = 1, false
			}
		case regIdent:
			v = c.reg[regIdent] | 0x80
			if c.si3210 {
				v &^= 0x80
			}
		}
		r[1] = v
		return nil
	}
	c.writes = append(c.writes, [2]byte{reg, w[1]})
	switch reg {
	case regCalCtl, regDCDC, regLinefeed:
		c.events = append(c.events, event{reg: reg, v: w[1], volts: c.vbat * 0.376, dcdc: c.reg[regDCDC]})
	}
	switch reg {
	case regIDALow, regIDAHigh:
		c.pending = true
		c.reg[reg] = w[1]
	case regIAA:
		if !validIndirect(w[1]) {
			c.t.Errorf("indirect register %d does not exist on a Si3215", w[1])
		}
		if c.pending {
			c.ind[w[1]] = uint16(c.reg[regIDAHigh])<<8 | uint16(c.reg[regIDALow])
		} else {
			v := c.ind[w[1]]
			c.reg[regIDALow], c.reg[regIDAHigh] = byte(v), byte(v>>8)
		}
		c.pending, c.busy = false, true
	case regCalCtl:
		c.reg[reg] = w[1]
		if w[1] == 0x5F {
			for i := range c.filtered {
				c.filtered[i] = c.ind[22+byte(i)]
			}
			d := 300 * time.Millisecond
			if len(c.calTimes) > 0 {
				d, c.calTimes = c.calTimes[0], c.calTimes[1:]
			}
			c.calEnd = 0
			if d > 0 {
				c.calEnd = c.now + d
			}
		}
	default:
		c.reg[reg] = w[1]
	}
	return nil
}
