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
// "osmo-e1d", hal/osmoe1d; the D-channel's HDLC runs in the daemon).
// The analog ports' audio is the PCM block's two slots (16 bits each, the
// I2S overlay's ALSA devices): the FXS in slot 0 and the FXO in slot 1,
// their chips' PCM start counts set to 0 and 16 and A-law (hal/pcm over
// hal/alsa). None of this has run on the carrier: it exists as a layout
// on paper.
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
	"jinyin/hal/alsa"
	"jinyin/hal/ds26522"
	"jinyin/hal/pcm"
	"jinyin/hal/si3050"
	"jinyin/hal/si3215"
	"jinyin/hal/sim"
	"jinyin/update"
)

// Layout is where the carrier's chips and lights are.
type Layout struct {
	SpanSPI map[int]string // span id -> SPI port of its DS26522
	PortSPI map[int]string // analog port id -> SPI port of its chip
	// PortSlot is analog port id -> its slot on the PCM bus (0 or 1: the
	// BCM2711's PCM block has two), and PCM the bus's capture and
	// playback devices.
	PortSlot map[int]int
	PCM      [2]string
	AlarmLED map[int]string // span id -> GPIO of its alarm LED
	Watchdog string
}

// Carrier is the line-card carrier's layout.
var Carrier = Layout{
	SpanSPI:  map[int]string{1: "SPI0.0"},
	PortSPI:  map[int]string{1: "SPI1.0", 2: "SPI1.1"},
	PortSlot: map[int]int{1: 0, 2: 1},
	PCM:      [2]string{"/dev/snd/pcmC1D0c", "/dev/snd/pcmC1D0p"},
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
		// The image's layout (scripts/image.sh): autoboot.txt on
		// partition 1, the boot slots 2 and 3 (the firmware's tryboot
		// A/B), DATA on 4; the key is baked into the slot's root.
		Update: &update.Slots{Loader: "pi", Parts: [2]int{2, 3}, Device: "/dev/mmcblk0p%d", BootDir: "/boot", KeyFile: "/etc/jinyin/update.pub"},
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

// pcmChip is a port chip that places its audio on the PCM bus.
type pcmChip interface {
	hal.Port
	SetPCM(startPCLK uint16, muLaw bool) error
}

var (
	busOnce sync.Once
	bus     *pcm.Highway
	busErr  error
)

// pcmBus opens the PCM bus once: two 16-bit slots at 8000 frames a
// second, each port's A-law octet in its slot's first 8 bits (the high
// byte of the S16_LE sample).
func pcmBus() (*pcm.Highway, error) {
	busOnce.Do(func() {
		capture, err := alsa.OpenDevice(Carrier.PCM[0])
		if err != nil {
			busErr = err
			return
		}
		playback, err := alsa.OpenDevice(Carrier.PCM[1])
		if err != nil {
			capture.Close()
			busErr = err
			return
		}
		tdm, err := alsa.OpenTDM(capture, playback, alsa.Config{Slots: 2, Format: alsa.FormatS16LE, PeriodFrames: hal.BlockSize, Periods: 4})
		if err != nil {
			capture.Close()
			playback.Close()
			busErr = err
			return
		}
		bus = pcm.Open(tdm, 2, 0xD5)
	})
	return bus, busErr
}

// analogPort is the driver of a port chip: its audio is its slot on the
// PCM bus, A-law, starting 16 PCLK cycles per slot after the frame sync;
// without the bus's ALSA devices (no I2S overlay loaded) the port
// signals with idle audio.
func analogPort[D pcmChip](open func(spi.Port, hal.Timeslot) (D, error), errAbsent error) board.PortDriver {
	return func(c config.Port, country string) (hal.Port, bool, error) {
		name, ok := Carrier.PortSPI[c.ID]
		slot, ok2 := Carrier.PortSlot[c.ID]
		if !ok || !ok2 {
			return nil, false, fmt.Errorf("cm4: the carrier has no analog port %d", c.ID)
		}
		var audio hal.Timeslot = sim.NewSlot(0xD5, nil)
		onBus := false
		if b, err := pcmBus(); err == nil {
			audio, _ = b.Slot(slot)
			onBus = true
		}
		d, ok, err := chip(name, func(p spi.Port) (D, error) { return open(p, audio) }, errAbsent)
		if !ok {
			return nil, false, err
		}
		if onBus {
			if err := d.SetPCM(uint16(16*slot), false); err != nil {
				d.Close()
				return nil, false, err
			}
		}
		if daa, ok := any(d).(interface{ SetCountry(si3050.Country) error }); ok {
			cc, ok := si3050.Countries[country]
			if !ok {
				d.Close()
				return nil, false, fmt.Errorf("cm4: no DAA line settings for country %q", country)
			}
			if err := daa.SetCountry(cc); err != nil {
				d.Close()
				return nil, false, err
			}
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
