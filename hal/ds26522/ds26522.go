// Package ds26522 drives the Maxim (Analog Devices) DS26522 dual
// T1/E1/J1 single-chip transceiver through its SPI port, as an E1 span:
// framer 1 and line interface 1 of the chip.
//
// The SPI framing (a read/write bit, the 14-bit address sent least
// significant bit first, a spare bit, then the data byte, also LSB first),
// the device ID check (IDR 0xF8: 0x68 in the top five bits), and the E1
// set-up sequence and bits (GTCCR, GTCR1/2, GFCR, GLSRR, GFSRR, RMMR,
// TMMR, RCR1 HDB3/CCS, RIOCR, TCR1, TIOCR, E1TAF/E1TNAF, RCR3 FLB, LTRCR,
// LTITSR, LRISMR, LMCR TE) were checked against the register definitions
// and initialisation of Linux's drivers/net/wan/slic_ds26522.c, which
// follows the datasheet. Not checked against the datasheet itself in this
// project, and marked so below: the CRC-4 enable bits (RCR1 bit 3, TCR1
// bit 0), the real-time alarm status register RRTS1 (0xB0) and its bit
// order, the error counters (LCVCR 0x50/0x51, PCVCR 0x52/0x53), and the
// recovered-clock reference (GTCCR 0x00) for line timing. Slips and
// errored seconds are not counted. Nothing here has run on silicon: the tests replay SPI
// transactions (periph's spitest) against what this driver means to send.
//
// Left out: T1/J1 mode, framer 2, network (remote) loopback, the chip's
// own HDLC controllers (a board takes the D-channel from its TDM bus, as
// the QorIQ boards Linux's driver serves do with their HDLC engine).
//
// Layer: a hal chip driver; it takes a periph spi.Port, never a path.
package ds26522

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"jinyin/hal"
)

// Registers (framer 1, LIU 1).
const (
	regLCVCR1 = 0x50 // line code violation count, high octet (unverified)
	regLCVCR2 = 0x51
	regPCVCR1 = 0x52 // path code (CRC-4) violation count (unverified)
	regPCVCR2 = 0x53
	regRMMR   = 0x80 // receive master mode
	regRCR1   = 0x81 // receive control 1
	regRCR3   = 0x83 // receive control 3
	regRIOCR  = 0x84 // receive I/O configuration
	regRRTS1  = 0xB0 // receive real-time status 1 (unverified)
	regGTCR1  = 0xF0 // global transceiver control 1
	regGFCR   = 0xF1 // global framer control
	regGTCR2  = 0xF2
	regGTCCR  = 0xF3 // global transceiver clock control
	regGLSRR  = 0xF5 // global LIU software reset
	regGFSRR  = 0xF6 // global framer and BERT software reset
	regIDR    = 0xF8 // device identification
	regE1TAF  = 0x164
	regE1TNAF = 0x165
	regTMMR   = 0x180 // transmit master mode
	regTCR1   = 0x181
	regTIOCR  = 0x184
	regLTRCR  = 0x1000 // LIU transmit/receive control
	regLTITSR = 0x1001 // LIU transmit impedance and pulse shape
	regLMCR   = 0x1002 // LIU maintenance control
	regLRISMR = 0x1007 // LIU receive impedance and sensitivity
)

// Bits.
const (
	mmrE1       = 0x01
	mmrSftRst   = 0x02
	mmrInitDone = 0x40
	mmrFrmEn    = 0x80
	rcr1HDB3    = 0x40
	rcr1CCS     = 0x20
	rcr1CRC4    = 0x08 // unverified
	tcr1HDB3    = 0x04
	tcr1CRC4    = 0x01 // unverified
	rcr3FLB     = 0x01 // framer loopback
	gtccrRefClk = 0xA0 // backplane reference from REFCLKIN, 2.048 MHz
	gtccrLine   = 0x00 // reference from LIU 1's recovered clock (unverified)
	lmcrTE      = 0x01 // transmit enable
)

// ErrAbsent is no DS26522 answering on the port.
var ErrAbsent = errors.New("ds26522: no device (IDR does not read 0x68)")

// Dev is one DS26522's framer 1 as a span.
type Dev struct {
	mu     sync.Mutex
	c      spi.Conn
	loop   string
	counts hal.Counters
	sleep  func(time.Duration)
}

var (
	_ hal.Span      = (*Dev)(nil)
	_ hal.Looper    = (*Dev)(nil)
	_ hal.Counterer = (*Dev)(nil)
)

// New connects to a DS26522 on p and checks its identity.
func New(p spi.Port) (*Dev, error) {
	c, err := p.Connect(2*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		return nil, fmt.Errorf("ds26522: %w", err)
	}
	d := &Dev{c: c, loop: hal.LoopOff, sleep: time.Sleep}
	id, err := d.read(regIDR)
	if err != nil {
		return nil, err
	}
	if id&0xF8 != 0x68 {
		return nil, ErrAbsent
	}
	return d, nil
}

// addr lays out the command and address octets: R/W first, then A0..A13,
// then a spare bit, as the chip clocks them in.
func addr(reg uint16, read bool) (byte, byte) {
	a := bits.Reverse16(reg) >> 1
	b0 := byte(a>>8) & 0x7F
	if read {
		b0 |= 0x80
	}
	return b0, byte(a) & 0xFE
}

func (d *Dev) write(reg uint16, v byte) error {
	a0, a1 := addr(reg, false)
	if err := d.c.Tx([]byte{a0, a1, bits.Reverse8(v)}, nil); err != nil {
		return fmt.Errorf("ds26522: write 0x%03x: %w", reg, err)
	}
	return nil
}

func (d *Dev) read(reg uint16) (byte, error) {
	a0, a1 := addr(reg, true)
	r := make([]byte, 3)
	if err := d.c.Tx([]byte{a0, a1, 0}, r); err != nil {
		return 0, fmt.Errorf("ds26522: read 0x%03x: %w", reg, err)
	}
	return bits.Reverse8(r[2]), nil
}

type regVal struct {
	reg uint16
	v   byte
}

func (d *Dev) writeAll(list []regVal) error {
	for _, w := range list {
		if err := d.write(w.reg, w.v); err != nil {
			return err
		}
	}
	return nil
}

// Configure resets the chip and sets framer 1 up for E1.
func (d *Dev) Configure(c hal.SpanConfig) error {
	if c.Type != "e1" {
		return fmt.Errorf("ds26522: %s is not implemented in this driver; use e1", c.Type)
	}
	var rcr1, tcr1 byte = rcr1CCS, 0
	switch c.Coding {
	case "hdb3":
		rcr1 |= rcr1HDB3
		tcr1 |= tcr1HDB3
	case "ami":
	default:
		return fmt.Errorf("ds26522: coding %q: use hdb3 or ami", c.Coding)
	}
	switch c.Framing {
	case "crc4":
		rcr1 |= rcr1CRC4
		tcr1 |= tcr1CRC4
	case "no-crc4":
	default:
		return fmt.Errorf("ds26522: framing %q: use crc4 or no-crc4", c.Framing)
	}
	ref := byte(gtccrRefClk)
	switch c.Clock {
	case "line":
		ref = gtccrLine
	case "internal":
	default:
		return fmt.Errorf("ds26522: clock %q: use line or internal", c.Clock)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.writeAll([]regVal{
		{regGTCCR, ref}, {regGTCR2, 0x02}, {regGFCR, 0x00}, {regGTCR1, 0x00},
		{regGLSRR, 1}, {regGFSRR, 1},
	}); err != nil {
		return err
	}
	d.sleep(100 * time.Microsecond)
	return d.writeAll([]regVal{
		{regGLSRR, 0}, {regGFSRR, 0},
		{regRMMR, mmrSftRst}, {regTMMR, mmrSftRst},
		{regRMMR, mmrE1}, {regTMMR, mmrE1},
		{regRMMR, mmrE1 | mmrFrmEn}, {regTMMR, mmrE1 | mmrFrmEn},
		{regRCR1, rcr1}, {regRIOCR, 0x10}, // RSYSCLK 2.048 MHz, RSYNC out
		{regTCR1, tcr1}, {regTIOCR, 0x14}, // TSYSCLK 2.048 MHz, TSYNC out
		{regE1TAF, 0x1B}, {regE1TNAF, 0x40}, // frame alignment and NFAS words
		{regRMMR, mmrE1 | mmrFrmEn | mmrInitDone}, {regTMMR, mmrE1 | mmrFrmEn | mmrInitDone},
		{regLTRCR, 0x00},  // LIU in E1 mode
		{regLTITSR, 0x00}, // 75 ohm
		{regLRISMR, 0x03}, // 75 ohm, long haul
		{regLMCR, lmcrTE},
	})
}

// Alarms reads the real-time receive status.
func (d *Dev) Alarms() hal.Alarms {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.read(regRRTS1)
	if err != nil {
		return hal.AlarmLOS // a chip that does not answer carries nothing
	}
	var a hal.Alarms
	if v&0x01 != 0 {
		a |= hal.AlarmLOF
	}
	if v&0x02 != 0 {
		a |= hal.AlarmLOS
	}
	if v&0x04 != 0 {
		a |= hal.AlarmAIS
	}
	if v&0x08 != 0 {
		a |= hal.AlarmRAI
	}
	return a
}

// Counters adds what the chip counted since the last reading.
func (d *Dev) Counters() hal.Counters {
	d.mu.Lock()
	defer d.mu.Unlock()
	pair := func(hi, lo uint16) uint64 {
		h, err1 := d.read(hi)
		l, err2 := d.read(lo)
		if err1 != nil || err2 != nil {
			return 0
		}
		return uint64(h)<<8 | uint64(l)
	}
	d.counts.BPV += pair(regLCVCR1, regLCVCR2)
	d.counts.CRC += pair(regPCVCR1, regPCVCR2)
	return d.counts
}

// SetLoopback sets framer loopback (local) or none.
func (d *Dev) SetLoopback(mode string) error {
	var v byte
	switch mode {
	case hal.LoopOff:
	case hal.LoopLocal:
		v = rcr3FLB
	default:
		return fmt.Errorf("ds26522: loopback %q is not implemented; use local or off", mode)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.write(regRCR3, v); err != nil {
		return err
	}
	d.loop = mode
	return nil
}

// Loopback is the mode last set.
func (d *Dev) Loopback() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loop
}

// Close turns the transmitter off.
func (d *Dev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(regLMCR, 0)
}
