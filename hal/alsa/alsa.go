// Package alsa reaches a SoC's TDM port (i.MX6 SSI, i.MX SAI) as the
// kernel's ALSA PCM devices, by ioctl on /dev/snd/pcmC*D*c and ...p,
// without cgo or alsa-lib: hardware parameters (interleaved access, S8 or
// S16_LE, one channel per TDM slot, 8000 frames a second, 20 ms periods),
// then READI/WRITEI of whole frames. A TDM port carrying an E1's 32
// timeslots in 32 slots of 8 bits reads as E1 frames: TDM is a
// hal.E1Frames, the source hal/rawe1 takes apart.
//
// The structs and ioctl numbers are those of Linux's
// include/uapi/sound/asound.h (struct snd_pcm_hw_params, snd_pcm_sw_params,
// snd_xferi; _IOWR('A', 0x11, ...) etc.), written out here in Go; the
// tests compare their sizes, offsets and the ioctl numbers with what gcc
// makes of the header Debian's linux-libc-dev installs. From fsl_ssi.c
// (Linux 6.x): the SSI does TDM with up to 32 slots and takes S8; fsl_sai.c
// has no 8-bit format, so a SAI port runs S16_LE and the timeslot's octet
// is the sample's high byte (as the SAI shifts the slot's first bits into
// the word's top). Not run against either SoC here: the tests use an
// in-process fake device.
//
// Layer: a hal implementation; it imports hal and the standard library.
package alsa

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"jinyin/hal"
)

// Linux's ioctl number encoding (asm-generic/ioctl.h, which ARM and x86
// use): direction in bits 30-31, argument size in 16-29, type in 8-15,
// number in 0-7.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'A'<<8 | nr }

// PCM formats and access types (asound.h).
const (
	FormatS8    = 0 // SNDRV_PCM_FORMAT_S8
	FormatS16LE = 2 // SNDRV_PCM_FORMAT_S16_LE

	accessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED
)

// The hw_params fields, numbered as asound.h numbers them.
const (
	paramAccess    = 0
	paramFormat    = 1
	paramSubformat = 2
	paramFirstIntv = 8 // SNDRV_PCM_HW_PARAM_SAMPLE_BITS
	paramChannels  = 10
	paramRate      = 11
	paramPeriodSz  = 13
	paramPeriods   = 15
)

type mask struct{ bits [8]uint32 }

// interval is snd_interval: min, max and a word of bit fields (openmin,
// openmax, integer, empty, in that order from bit 0).
type interval struct {
	min, max uint32
	flags    uint32
}

const intervalInteger = 1 << 2

// hwParams is struct snd_pcm_hw_params.
type hwParams struct {
	flags     uint32
	masks     [3]mask
	mres      [5]mask
	intervals [12]interval
	ires      [9]interval
	rmask     uint32
	cmask     uint32
	info      uint32
	msbits    uint32
	rateNum   uint32
	rateDen   uint32
	fifoSize  uintptr // snd_pcm_uframes_t: unsigned long
	reserved  [64]byte
}

// swParams is struct snd_pcm_sw_params.
type swParams struct {
	tstampMode       int32
	periodStep       uint32
	sleepMin         uint32
	availMin         uintptr
	xferAlign        uintptr
	startThreshold   uintptr
	stopThreshold    uintptr
	silenceThreshold uintptr
	silenceSize      uintptr
	boundary         uintptr
	proto            uint32
	tstampType       uint32
	reserved         [56]byte
}

// xferi is struct snd_xferi.
type xferi struct {
	result int // snd_pcm_sframes_t: long
	buf    unsafe.Pointer
	frames uintptr
}

// The PCM ioctls jinyin uses.
var (
	ioctlHWParams = ioc(iocRead|iocWrite, 0x11, unsafe.Sizeof(hwParams{}))
	ioctlSWParams = ioc(iocRead|iocWrite, 0x13, unsafe.Sizeof(swParams{}))
	ioctlPrepare  = ioc(iocNone, 0x40, 0)
	ioctlStart    = ioc(iocNone, 0x42, 0)
	ioctlDrop     = ioc(iocNone, 0x43, 0)
	ioctlWriteI   = ioc(iocWrite, 0x50, unsafe.Sizeof(xferi{}))
	ioctlReadI    = ioc(iocRead, 0x51, unsafe.Sizeof(xferi{}))
)

// Device is an open PCM device node: the one thing the TDM layer needs of
// the kernel, so the tests can give it a fake.
type Device interface {
	Ioctl(req uintptr, arg unsafe.Pointer) error
	Close() error
}

// OpenDevice opens a PCM device node (/dev/snd/pcmC0D0c for capture,
// ...p for playback).
func OpenDevice(path string) (Device, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("alsa: open %s: %w", path, err)
	}
	return fdDevice(fd), nil
}

type fdDevice int

func (d fdDevice) Ioctl(req uintptr, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(d), req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

func (d fdDevice) Close() error { return syscall.Close(int(d)) }

// Config is how a TDM port is set up.
type Config struct {
	Slots        int // TDM slots per frame: channels (32 for an E1)
	Format       int // FormatS8 (SSI) or FormatS16LE (SAI)
	PeriodFrames int // frames per period: 160 is 20 ms
	Periods      int // periods in the ring: 4 is 80 ms of slack
}

// E1 is an E1's 32 timeslots in 32 slots of 8 bits.
var E1 = Config{Slots: hal.E1FrameSize, Format: FormatS8, PeriodFrames: hal.BlockSize, Periods: 4}

// TDM is a TDM port's capture and playback PCMs, read and written in
// whole frames of one octet per slot.
type TDM struct {
	cfg        Config
	cap, play  Device
	rbuf, wbuf []byte // S16 samples for the SAI's format
	xruns      uint64
}

var _ hal.E1Frames = (*TDM)(nil)

// ErrParams is a device that will not take the parameters asked for.
var ErrParams = errors.New("alsa: the device does not take these parameters")

// OpenTDM sets up capture and playback with cfg, fills the playback ring
// with one period of A-law idle and starts both.
func OpenTDM(capture, playback Device, cfg Config) (*TDM, error) {
	if cfg.Slots < 1 || cfg.Slots > 32 || (cfg.Format != FormatS8 && cfg.Format != FormatS16LE) || cfg.PeriodFrames < 1 || cfg.Periods < 2 {
		return nil, fmt.Errorf("alsa: TDM config %+v: want 1-32 slots, S8 or S16_LE, a period and at least 2 of them", cfg)
	}
	t := &TDM{cfg: cfg, cap: capture, play: playback}
	if cfg.Format == FormatS16LE {
		t.rbuf = make([]byte, 2*cfg.Slots*cfg.PeriodFrames*cfg.Periods)
		t.wbuf = make([]byte, len(t.rbuf))
	}
	for _, d := range []Device{capture, playback} {
		if err := t.setup(d); err != nil {
			return nil, err
		}
	}
	idle := make([]byte, cfg.Slots*cfg.PeriodFrames)
	for i := range idle {
		idle[i] = 0xD5
	}
	if err := t.WriteFrames(idle); err != nil {
		return nil, err
	}
	if err := capture.Ioctl(ioctlStart, nil); err != nil {
		return nil, fmt.Errorf("alsa: start capture: %w", err)
	}
	return t, nil
}

// setup is snd_pcm_hw_params_any narrowed to cfg, then sw_params and
// prepare.
func (t *TDM) setup(d Device) error {
	var hw hwParams
	for i := range hw.masks {
		for j := range hw.masks[i].bits {
			hw.masks[i].bits[j] = ^uint32(0)
		}
	}
	for i := range hw.intervals {
		hw.intervals[i] = interval{0, ^uint32(0), 0}
	}
	hw.rmask = ^uint32(0)
	only := func(m, bit int) {
		hw.masks[m] = mask{}
		hw.masks[m].bits[bit/32] = 1 << (bit % 32)
	}
	exact := func(p int, v uint32) { hw.intervals[p-paramFirstIntv] = interval{v, v, intervalInteger} }
	only(paramAccess, accessRWInterleaved)
	only(paramFormat, t.cfg.Format)
	only(paramSubformat, 0)
	exact(paramChannels, uint32(t.cfg.Slots))
	exact(paramRate, 8000)
	exact(paramPeriodSz, uint32(t.cfg.PeriodFrames))
	exact(paramPeriods, uint32(t.cfg.Periods))
	if err := d.Ioctl(ioctlHWParams, unsafe.Pointer(&hw)); err != nil {
		return fmt.Errorf("%w: %d slots %s at 8000/s, periods of %d frames: %v", ErrParams, t.cfg.Slots, formatName(t.cfg.Format), t.cfg.PeriodFrames, err)
	}
	for _, p := range []struct {
		param int
		want  uint32
	}{{paramChannels, uint32(t.cfg.Slots)}, {paramRate, 8000}, {paramPeriodSz, uint32(t.cfg.PeriodFrames)}, {paramPeriods, uint32(t.cfg.Periods)}} {
		if got := hw.intervals[p.param-paramFirstIntv]; got.min != p.want || got.max != p.want {
			return fmt.Errorf("%w: parameter %d came back %d-%d, want %d", ErrParams, p.param, got.min, got.max, p.want)
		}
	}
	sw := swParams{
		availMin:       uintptr(t.cfg.PeriodFrames),
		startThreshold: uintptr(t.cfg.PeriodFrames), // playback starts once a period is written
		stopThreshold:  uintptr(t.cfg.PeriodFrames * t.cfg.Periods),
		boundary:       uintptr(t.cfg.PeriodFrames * t.cfg.Periods),
	}
	for sw.boundary*2 <= 1<<30 {
		sw.boundary *= 2
	}
	if err := d.Ioctl(ioctlSWParams, unsafe.Pointer(&sw)); err != nil {
		return fmt.Errorf("alsa: sw_params: %w", err)
	}
	if err := d.Ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("alsa: prepare: %w", err)
	}
	return nil
}

func formatName(f int) string {
	if f == FormatS16LE {
		return "S16_LE"
	}
	return "S8"
}

// Xruns counts the overruns and underruns the port recovered from: each
// lost or repeated audio.
func (t *TDM) Xruns() uint64 { return t.xruns }

// xfer moves frames through READI/WRITEI, recovering from an xrun (EPIPE)
// by preparing the stream again, and from a signal (EINTR) by retrying.
func (t *TDM) xfer(d Device, req uintptr, p []byte, frames int, capture bool) (int, error) {
	done := 0
	for done < frames && len(p) > 0 {
		x := xferi{buf: unsafe.Pointer(&p[done*t.frameBytes()]), frames: uintptr(frames - done)}
		err := d.Ioctl(req, unsafe.Pointer(&x))
		switch {
		case err == nil:
			done += int(x.frames)
			if x.frames == 0 {
				return done, nil
			}
			if capture {
				return done, nil // whatever has arrived: the caller reads again
			}
		case errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN):
		case errors.Is(err, syscall.EPIPE):
			t.xruns++
			if err := d.Ioctl(ioctlPrepare, nil); err != nil {
				return done, fmt.Errorf("alsa: prepare after an xrun: %w", err)
			}
			if capture {
				if err := d.Ioctl(ioctlStart, nil); err != nil {
					return done, fmt.Errorf("alsa: restart capture: %w", err)
				}
			}
		default:
			return done, fmt.Errorf("alsa: transfer: %w", err)
		}
	}
	return done, nil
}

func (t *TDM) frameBytes() int {
	if t.cfg.Format == FormatS16LE {
		return 2 * t.cfg.Slots
	}
	return t.cfg.Slots
}

// ReadFrames waits for captured frames: whole frames of one octet per
// slot, at most len(p)/slots of them.
func (t *TDM) ReadFrames(p []byte) (int, error) {
	frames := len(p) / t.cfg.Slots
	if t.cfg.Format == FormatS8 {
		n, err := t.xfer(t.cap, ioctlReadI, p, frames, true)
		return n * t.cfg.Slots, err
	}
	frames = min(frames, len(t.rbuf)/t.frameBytes())
	n, err := t.xfer(t.cap, ioctlReadI, t.rbuf, frames, true)
	for i := range n * t.cfg.Slots {
		p[i] = t.rbuf[2*i+1] // the high byte: the slot's first 8 bits
	}
	return n * t.cfg.Slots, err
}

// WriteFrames queues whole frames for playback; it waits while the ring
// is full.
func (t *TDM) WriteFrames(p []byte) error {
	frames := len(p) / t.cfg.Slots
	if t.cfg.Format == FormatS8 {
		_, err := t.xfer(t.play, ioctlWriteI, p, frames, false)
		return err
	}
	for len(p) >= t.cfg.Slots {
		n := min(len(p)/t.cfg.Slots, len(t.wbuf)/t.frameBytes())
		for i := range n * t.cfg.Slots {
			t.wbuf[2*i], t.wbuf[2*i+1] = 0, p[i]
		}
		if _, err := t.xfer(t.play, ioctlWriteI, t.wbuf, n, false); err != nil {
			return err
		}
		p = p[n*t.cfg.Slots:]
	}
	return nil
}

// Close stops both streams and closes the devices.
func (t *TDM) Close() error {
	t.cap.Ioctl(ioctlDrop, nil)
	t.play.Ioctl(ioctlDrop, nil)
	return errors.Join(t.cap.Close(), t.play.Close())
}
