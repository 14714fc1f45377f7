// Package imx6 is the board profile of an i.MX6 line-card board: a
// DS26522 E1 transceiver on SPI whose TDM backplane is wired to the SoC's
// SSI1, run as a 32-slot, 8-bit TDM port (fsl_ssi.c: up to 32 slots, S8),
// so each SSI frame is an E1 frame. The E1's D-channel is timeslot 16
// through the software HDLC and its B-channels the other slots
// (hal/rawe1 over hal/alsa); the DS26522 sets up the line and reports
// its alarms and counters.
//
// The profile is data (Board below). What it assumes and nobody has
// checked on a board: the DS26522's backplane (RIOCR/TIOCR as its driver
// sets them) clocking 2.048 MHz frames to SSI1 in slave mode, and the
// device tree's simple-audio-card for SSI1 with dai-tdm-slot-num = 32
// and dai-tdm-slot-width = 8. The analog ports on a second SSI are not
// in this profile yet.
package imx6

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/spi/spireg"
	_ "periph.io/x/host/v3/gpioioctl" // the GPIO character device sysfs-gpio builds on
	_ "periph.io/x/host/v3/sysfs"     // spidev

	"jinyin/board"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/hal/alsa"
	"jinyin/hal/ds26522"
	"jinyin/hal/rawe1"
)

// Layout is where the board's chips are.
type Layout struct {
	SpanSPI map[int]string // span id -> SPI port of its DS26522
	// SpanPCM is span id -> its TDM port's capture and playback PCM
	// devices.
	SpanPCM  map[int][2]string
	Watchdog string
}

// Board is the board's layout.
var Board = Layout{
	SpanSPI:  map[int]string{1: "SPI1.0"},
	SpanPCM:  map[int][2]string{1: {"/dev/snd/pcmC0D0c", "/dev/snd/pcmC0D0p"}},
	Watchdog: "/dev/watchdog",
}

var (
	initOnce sync.Once
	initErr  error
)

func init() {
	board.Register(&board.Profile{
		Name:     "imx6",
		Doc:      "i.MX6 line-card board: DS26522 E1 on SPI, its timeslots on SSI1 (TDM, 32 slots of 8 bits)",
		Watchdog: Board.Watchdog,
		Spans: map[string]board.SpanDriver{
			"ds26522": openSpan,
			// An icE1usb on the board's USB, as on the CM4.
			"osmo-e1d": board.OsmoE1D,
		},
	})
}

// openSpan opens span c: its DS26522, absent when the SPI bus or the chip
// is not there, and its TDM port, a failure when it does not open.
func openSpan(c config.Span) (hal.Span, bool, error) {
	name, ok := Board.SpanSPI[c.ID]
	pcm, ok2 := Board.SpanPCM[c.ID]
	if !ok || !ok2 {
		return nil, false, fmt.Errorf("imx6: the board has no span %d", c.ID)
	}
	initOnce.Do(func() { _, initErr = driverreg.Init() })
	if initErr != nil {
		return nil, false, initErr
	}
	p, err := spireg.Open(name)
	if err != nil {
		return nil, false, nil // no spidev: the card is not fitted
	}
	d, err := ds26522.New(p)
	if err != nil {
		p.Close()
		if errors.Is(err, ds26522.ErrAbsent) {
			return nil, false, nil
		}
		return nil, false, err
	}
	tdm, err := openTDM(pcm)
	if err != nil {
		d.Close()
		return nil, false, fmt.Errorf("imx6: span %d's TDM port: %w", c.ID, err)
	}
	return &Span{Dev: d, raw: rawe1.Open(tdm)}, true, nil
}

func openTDM(pcm [2]string) (*alsa.TDM, error) {
	capture, err := alsa.OpenDevice(pcm[0])
	if err != nil {
		return nil, err
	}
	playback, err := alsa.OpenDevice(pcm[1])
	if err != nil {
		capture.Close()
		return nil, err
	}
	tdm, err := alsa.OpenTDM(capture, playback, alsa.E1)
	if err != nil {
		capture.Close()
		playback.Close()
		return nil, err
	}
	return tdm, nil
}

// Span is an E1 whose line is a DS26522 and whose timeslots come in raw
// over the SSI.
type Span struct {
	*ds26522.Dev
	raw *rawe1.Span
}

var (
	_ hal.PRI       = (*Span)(nil)
	_ hal.Counterer = (*Span)(nil)
	_ hal.Looper    = (*Span)(nil)
)

// Alarms is the line's (the transceiver's) and the frames' (timeslot 0
// as the SSI brings it in).
func (s *Span) Alarms() hal.Alarms { return s.Dev.Alarms() | s.raw.Alarms() }

// Counters adds the slips between the line and the binary to the
// transceiver's counts.
func (s *Span) Counters() hal.Counters {
	c := s.Dev.Counters()
	c.Slips += s.raw.Counters().Slips
	return c
}

// DChannel is timeslot 16 through the software HDLC.
func (s *Span) DChannel() (hal.DChannel, error) { return s.raw.DChannel() }

// BChannel is timeslot n over the SSI.
func (s *Span) BChannel(n int) (hal.Timeslot, error) { return s.raw.BChannel(n) }

// Close closes the TDM port and the transceiver.
func (s *Span) Close() error { return errors.Join(s.raw.Close(), s.Dev.Close()) }
