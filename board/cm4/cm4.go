// Package cm4 is the board profile of a Raspberry Pi Compute Module 4 on
// a line-card carrier: one DS26522 E1 transceiver on SPI0 chip select 0,
// an Si3215 FXS and an Si3050 FXO on SPI1 chip selects 0 and 1, span 1's
// alarm LED on GPIO5, and the BCM2711's watchdog at /dev/watchdog. The
// profile is data (the layout below); the drivers are the hal chip
// drivers, reached through periph's host drivers (spidev and GPIO).
//
// The CM4's PCM block carries two slots per frame
// (bcm2835_i2s_set_dai_tdm_slot in Linux's bcm2835-i2s.c: "limited to
// 2-channel setups"), so it cannot bring in an E1's 32 timeslots: the
// DS26522 span comes up with its framer configured and alarms, counters
// and loopback working, but without PRI signalling or audio. An E1 with
// PRI on this carrier is an icE1usb served by osmo-e1d (span driver
// "osmo-e1d", hal/osmoe1d; the D-channel's HDLC runs in the daemon). The
// analog ports still signal (ring, hook, caller ID timing) with idle
// audio: their two PCM slots need the ALSA TDM path, not written yet.
// None of this has run on the carrier: it exists as a layout on paper.
package cm4

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	_ "periph.io/x/host/v3/bcm283x" // the CM4's SoC: its GPIO
	_ "periph.io/x/host/v3/rpi"     // the Raspberry Pi pin names
	_ "periph.io/x/host/v3/sysfs"   // spidev

	"jinyin/board"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/hal/ds26522"
	"jinyin/hal/si3050"
	"jinyin/hal/si3215"
	"jinyin/hal/sim"
)

// Layout is where the carrier's chips and lights are.
type Layout struct {
	SpanSPI  map[int]string // span id -> SPI port of its DS26522
	PortSPI  map[int]string // analog port id -> SPI port of its chip
	AlarmLED map[int]string // span id -> GPIO of its alarm LED
	Watchdog string
}

// Carrier is the line-card carrier's layout.
var Carrier = Layout{
	SpanSPI:  map[int]string{1: "SPI0.0"},
	PortSPI:  map[int]string{1: "SPI1.0", 2: "SPI1.1"},
	AlarmLED: map[int]string{1: "GPIO5"},
	Watchdog: "/dev/watchdog",
}

var (
	initOnce sync.Once
	initErr  error
)

// hostInit loads periph's host drivers once: only the CM4's, not every
// SoC periph knows (host.Init would add 5 MiB to the binary). A machine
// without SPI (a laptop, CI) is not an error here: the ports are then
// absent.
func hostInit() error {
	initOnce.Do(func() { _, initErr = driverreg.Init() })
	return initErr
}

// spiPort opens an SPI port; absent reports that the bus is not there.
func spiPort(name string) (p spiPortCloser, absent bool, err error) {
	if err := hostInit(); err != nil {
		return nil, false, err
	}
	pc, err := spireg.Open(name)
	if err != nil {
		return nil, true, nil // no spidev for it: the card is not fitted
	}
	return pc, false, nil
}

type spiPortCloser = spi.PortCloser

func init() {
	board.Register(&board.Profile{
		Name:     "cm4",
		Doc:      "Raspberry Pi CM4 line-card carrier: DS26522 E1, Si3215 FXS, Si3050 FXO on SPI",
		Watchdog: Carrier.Watchdog,
		AlarmLED: func(span int) board.LED {
			name, ok := Carrier.AlarmLED[span]
			if !ok || hostInit() != nil {
				return nil
			}
			if p := gpioreg.ByName(name); p != nil {
				return pinLED{p}
			}
			return nil
		},
		Spans: map[string]board.SpanDriver{
			"ds26522": func(c config.Span) (hal.Span, bool, error) {
				name, ok := Carrier.SpanSPI[c.ID]
				if !ok {
					return nil, false, fmt.Errorf("cm4: the carrier has no span %d", c.ID)
				}
				d, ok, err := chip(name, ds26522.New, ds26522.ErrAbsent)
				if !ok {
					return nil, false, err // not a typed nil in the interface
				}
				return d, true, nil
			},
			// The E1 through an icE1usb on one of the CM4's USB
			// ports, served by osmo-e1d: PRI signalling and
			// B-channel audio, which the DS26522 cannot bring in on
			// this carrier (see the package comment).
			"osmo-e1d": board.OsmoE1D,
		},
		Ports: map[string]board.PortDriver{
			"si3215": analogPort(si3215.New, si3215.ErrAbsent),
			"si3050": analogPort(si3050.New, si3050.ErrAbsent),
		},
	})
}

// analogPort is the driver of a port chip; its audio is idle, as the
// carrier's PCM path is not implemented.
func analogPort[D hal.Port](open func(spi.Port, hal.Timeslot) (D, error), errAbsent error) board.PortDriver {
	return func(c config.Port) (hal.Port, bool, error) {
		name, ok := Carrier.PortSPI[c.ID]
		if !ok {
			return nil, false, fmt.Errorf("cm4: the carrier has no analog port %d", c.ID)
		}
		d, ok, err := chip(name, func(p spi.Port) (D, error) { return open(p, sim.NewSlot(0xD5, nil)) }, errAbsent)
		if !ok {
			return nil, false, err
		}
		return d, true, nil
	}
}

// chip opens the chip on an SPI port: absent when the bus is not there or
// the chip does not answer as itself, failed on any other error.
func chip[D any](name string, open func(spi.Port) (D, error), errAbsent error) (D, bool, error) {
	var none D
	p, absent, err := spiPort(name)
	if absent || err != nil {
		return none, false, err
	}
	d, err := open(p)
	if err != nil {
		p.Close()
		if errors.Is(err, errAbsent) {
			return none, false, nil
		}
		return none, false, err
	}
	return d, true, nil
}

type pinLED struct{ p gpio.PinIO }

func (l pinLED) Set(on bool) error {
	if on {
		return l.p.Out(gpio.High)
	}
	return l.p.Out(gpio.Low)
}
