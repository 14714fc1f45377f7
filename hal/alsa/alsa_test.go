package alsa

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"jinyin/hal"
	"jinyin/internal/testenv"
)

// The Go structs and ioctl numbers are the kernel's: gcc's reading of
// <sound/asound.h> (Debian linux-libc-dev) for this machine's ABI, or on
// 32-bit ARM (the test run under qemu-arm-static) what
// arm-linux-gnueabihf-gcc made of Debian's armhf header, kept in
// testdata/layout-armhf.txt (`arm-linux-gnueabihf-gcc -static
// testdata/layout.c && qemu-arm-static ./a.out`).
func TestLayoutIsTheKernels(t *testing.T) {
	var out []byte
	var err error
	if runtime.GOARCH == "arm" {
		out, err = os.ReadFile(filepath.Join("testdata", "layout-armhf.txt"))
	} else {
		out, err = exec.Command(testenv.BuildC(t, filepath.Join("testdata", "layout.c"))).Output()
	}
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, v, _ := strings.Cut(sc.Text(), " ")
		c[name], _ = strconv.ParseUint(v, 10, 64)
	}
	var hw hwParams
	var sw swParams
	var x xferi
	for _, g := range []struct {
		name string
		got  uintptr
	}{
		{"sizeof_hw_params", unsafe.Sizeof(hw)},
		{"offset_hw_masks", unsafe.Offsetof(hw.masks)},
		{"offset_hw_intervals", unsafe.Offsetof(hw.intervals)},
		{"offset_hw_rmask", unsafe.Offsetof(hw.rmask)},
		{"offset_hw_fifo_size", unsafe.Offsetof(hw.fifoSize)},
		{"sizeof_interval", unsafe.Sizeof(interval{})},
		{"sizeof_mask", unsafe.Sizeof(mask{})},
		{"sizeof_sw_params", unsafe.Sizeof(sw)},
		{"offset_sw_avail_min", unsafe.Offsetof(sw.availMin)},
		{"offset_sw_start_threshold", unsafe.Offsetof(sw.startThreshold)},
		{"offset_sw_boundary", unsafe.Offsetof(sw.boundary)},
		{"sizeof_xferi", unsafe.Sizeof(x)},
		{"offset_xferi_frames", unsafe.Offsetof(x.frames)},
		{"ioctl_hw_params", ioctlHWParams},
		{"ioctl_sw_params", ioctlSWParams},
		{"ioctl_prepare", ioctlPrepare},
		{"ioctl_start", ioctlStart},
		{"ioctl_drop", ioctlDrop},
		{"ioctl_writei", ioctlWriteI},
		{"ioctl_readi", ioctlReadI},
		{"format_s8", FormatS8},
		{"format_s16_le", FormatS16LE},
		{"access_rw_interleaved", accessRWInterleaved},
		{"param_channels", paramChannels},
		{"param_rate", paramRate},
		{"param_period_size", paramPeriodSz},
		{"param_periods", paramPeriods},
		{"param_first_interval", paramFirstIntv},
	} {
		want, ok := c[g.name]
		if !ok {
			t.Errorf("%s: not printed by layout.c", g.name)
			continue
		}
		if uint64(g.got) != want {
			t.Errorf("%s: Go %d, the kernel header %d", g.name, g.got, want)
		}
	}
}

// fake is an in-process PCM device: it takes hw_params the way the
// kernel's refinement does for a TDM port of up to maxSlots slots, S8
// only unless s16, and moves frames through a line: what playback is
// given is recorded, what capture reads comes from in.
type fake struct {
	maxSlots int
	s16      bool
	calls    []string
	hw       hwParams
	in       []byte
	out      []byte
	xrunOnce bool
	eintr    bool
	perCall  int // frames a transfer moves at most (0: all)
	sw       swParams
	closed   bool
}

func (f *fake) Ioctl(req uintptr, arg unsafe.Pointer) error {
	switch req {
	case ioctlHWParams:
		f.calls = append(f.calls, "hw_params")
		hw := (*hwParams)(arg)
		ch := hw.intervals[paramChannels-paramFirstIntv]
		formats := hw.masks[paramFormat].bits[0]
		if ch.min > uint32(f.maxSlots) || hw.masks[paramAccess].bits[0] != 1<<accessRWInterleaved ||
			(formats&(1<<FormatS8) == 0 && !(f.s16 && formats&(1<<FormatS16LE) != 0)) ||
			(formats&(1<<FormatS8) != 0 && f.s16) {
			return syscall.EINVAL
		}
		f.hw = *hw
	case ioctlSWParams:
		f.calls = append(f.calls, "sw_params")
		f.sw = *(*swParams)(arg)
		if f.sw.availMin == 0 {
			return syscall.EINVAL
		}
	case ioctlPrepare:
		f.calls = append(f.calls, "prepare")
	case ioctlStart:
		f.calls = append(f.calls, "start")
	case ioctlDrop:
		f.calls = append(f.calls, "drop")
	case ioctlReadI, ioctlWriteI:
		if f.xrunOnce {
			f.xrunOnce = false
			return syscall.EPIPE
		}
		if f.eintr {
			f.eintr = false
			return syscall.EINTR
		}
		x := (*xferi)(arg)
		if f.perCall > 0 && int(x.frames) > f.perCall {
			x.frames = uintptr(f.perCall)
		}
		fb := int(f.hw.intervals[paramChannels-paramFirstIntv].min)
		if f.s16 {
			fb *= 2
		}
		buf := unsafe.Slice((*byte)(x.buf), int(x.frames)*fb)
		if req == ioctlWriteI {
			f.out = append(f.out, buf...)
			return nil
		}
		n := copy(buf, f.in) / fb
		f.in = f.in[n*fb:]
		x.frames = uintptr(n)
	default:
		return syscall.ENOTTY
	}
	return nil
}

func (f *fake) Close() error { f.closed = true; return nil }

func TestTDMOverAFakeSSI(t *testing.T) {
	capture, playback := &fake{maxSlots: 32}, &fake{maxSlots: 32}
	frames := make([]byte, 3*hal.E1FrameSize)
	for i := range frames {
		frames[i] = byte(i)
	}
	capture.in = bytes.Clone(frames)
	tdm, err := OpenTDM(capture, playback, E1)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(capture.calls, ","); got != "hw_params,sw_params,prepare,start" {
		t.Errorf("capture set up with %s", got)
	}
	if got := strings.Join(playback.calls, ","); got != "hw_params,sw_params,prepare" {
		t.Errorf("playback set up with %s (it starts by itself once a period is in)", got)
	}
	// What the kernel was asked for.
	hw := capture.hw
	for _, p := range []struct{ param, want int }{{paramChannels, 32}, {paramRate, 8000}, {paramPeriodSz, 160}, {paramPeriods, 4}} {
		if iv := hw.intervals[p.param-paramFirstIntv]; iv.min != uint32(p.want) || iv.max != uint32(p.want) || iv.flags&intervalInteger == 0 {
			t.Errorf("parameter %d asked as %+v, want exactly %d", p.param, iv, p.want)
		}
	}
	if hw.masks[paramFormat].bits != [8]uint32{1 << FormatS8} {
		t.Errorf("format mask %x", hw.masks[paramFormat].bits)
	}
	// Playback was primed with a period of A-law idle.
	if len(playback.out) != 160*32 || playback.out[0] != 0xD5 || playback.out[len(playback.out)-1] != 0xD5 {
		t.Errorf("primed with %d octets", len(playback.out))
	}
	p := make([]byte, 10*hal.E1FrameSize)
	n, err := tdm.ReadFrames(p)
	if err != nil || n != len(frames) || !bytes.Equal(p[:n], frames) {
		t.Errorf("read %d %v", n, err)
	}
	playback.out = nil
	if err := tdm.WriteFrames(frames); err != nil || !bytes.Equal(playback.out, frames) {
		t.Errorf("wrote % x %v", playback.out[:8], err)
	}
	// An overrun: the stream is prepared and started again, and counted.
	capture.xrunOnce = true
	capture.in = bytes.Clone(frames[:hal.E1FrameSize])
	capture.calls = nil
	if n, err := tdm.ReadFrames(p); err != nil || n != hal.E1FrameSize {
		t.Errorf("after an xrun: %d %v", n, err)
	}
	if got := strings.Join(capture.calls, ","); got != "prepare,start" || tdm.Xruns() != 1 {
		t.Errorf("xrun recovery %s, %d counted", got, tdm.Xruns())
	}
	playback.xrunOnce = true
	playback.out = nil
	if err := tdm.WriteFrames(frames); err != nil || !bytes.Equal(playback.out, frames) || tdm.Xruns() != 2 {
		t.Errorf("underrun: %v, %d octets, %d xruns", err, len(playback.out), tdm.Xruns())
	}
	if err := tdm.Close(); err != nil || !capture.closed || !playback.closed {
		t.Errorf("close %v", err)
	}
}

// A SAI has no 8-bit format: S16_LE, the timeslot's octet in the high
// byte of each sample.
func TestTDMOverAFakeSAI(t *testing.T) {
	capture, playback := &fake{maxSlots: 32, s16: true}, &fake{maxSlots: 32, s16: true}
	if _, err := OpenTDM(capture, playback, E1); !errors.Is(err, ErrParams) {
		t.Fatalf("S8 on a SAI: %v", err)
	}
	cfg := E1
	cfg.Format = FormatS16LE
	capture.in = []byte{0x00, 0x9B, 0x00, 0x11}
	capture.in = append(capture.in, make([]byte, 2*32-4)...)
	tdm, err := OpenTDM(capture, playback, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 32)
	if n, err := tdm.ReadFrames(p); err != nil || n != 32 || p[0] != 0x9B || p[1] != 0x11 {
		t.Errorf("read %d % x %v", n, p[:2], err)
	}
	playback.out = nil
	if err := tdm.WriteFrames(bytes.Repeat([]byte{0x55}, 32)); err != nil || len(playback.out) != 64 || playback.out[0] != 0 || playback.out[1] != 0x55 {
		t.Errorf("wrote % x %v", playback.out, err)
	}
}

func TestTDMRefuses(t *testing.T) {
	if _, err := OpenTDM(&fake{maxSlots: 8}, &fake{maxSlots: 8}, E1); !errors.Is(err, ErrParams) {
		t.Errorf("32 slots on an 8-slot port: %v", err)
	}
	for _, cfg := range []Config{{Slots: 0, Format: FormatS8, PeriodFrames: 160, Periods: 4}, {Slots: 33, Format: FormatS8, PeriodFrames: 160, Periods: 4}, {Slots: 32, Format: 7, PeriodFrames: 160, Periods: 4}, {Slots: 32, PeriodFrames: 160, Periods: 1}} {
		if _, err := OpenTDM(&fake{maxSlots: 32}, &fake{maxSlots: 32}, cfg); err == nil {
			t.Errorf("config %+v taken", cfg)
		}
	}
	if _, err := OpenDevice("/nonexistent/pcmC0D0c"); err == nil {
		t.Error("opened a device that is not there")
	}
}

// The software parameters: woken each period, playback started once a
// period is in and stopped (an underrun) when the ring runs dry, the
// boundary the largest multiple of the ring under 2^30 frames as alsa-lib
// chooses it; and transfers the kernel cuts short or a signal interrupts
// are carried on until every frame is through.
func TestTDMSoftwareParamsAndShortTransfers(t *testing.T) {
	capture, playback := &fake{maxSlots: 32}, &fake{maxSlots: 32, perCall: 50}
	tdm, err := OpenTDM(capture, playback, E1)
	if err != nil {
		t.Fatal(err)
	}
	sw := playback.sw
	if sw.availMin != 160 || sw.startThreshold != 160 || sw.stopThreshold != 640 || sw.boundary != 640<<20 {
		t.Errorf("sw_params avail_min %d start %d stop %d boundary %d", sw.availMin, sw.startThreshold, sw.stopThreshold, sw.boundary)
	}
	if len(playback.out) != 160*32 {
		t.Errorf("prime of %d octets through transfers of 50 frames", len(playback.out))
	}
	frames := make([]byte, 200*32)
	for i := range frames {
		frames[i] = byte(i / 32)
	}
	playback.out, playback.eintr = nil, true
	if err := tdm.WriteFrames(frames); err != nil || !bytes.Equal(playback.out, frames) {
		t.Errorf("200 frames in transfers of 50, one interrupted: %d octets, %v", len(playback.out), err)
	}
	capture.in, capture.eintr = frames[:64], true
	if n, err := tdm.ReadFrames(make([]byte, 64)); n != 64 || err != nil {
		t.Errorf("read after a signal: %d %v", n, err)
	}
	if n, err := tdm.ReadFrames(make([]byte, 64)); n != 0 || err != nil {
		t.Errorf("nothing captured: %d %v", n, err)
	}
}

// On a SAI, writes longer than the conversion buffer go out whole.
func TestTDMLongS16Write(t *testing.T) {
	capture, playback := &fake{maxSlots: 2, s16: true}, &fake{maxSlots: 2, s16: true}
	tdm, err := OpenTDM(capture, playback, Config{Slots: 2, Format: FormatS16LE, PeriodFrames: 160, Periods: 2})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 2*1000) // 1000 frames: more than the 320 the buffer holds
	for i := range in {
		in[i] = byte(i)
	}
	playback.out = nil
	if err := tdm.WriteFrames(in); err != nil {
		t.Fatal(err)
	}
	if len(playback.out) != 2*len(in) {
		t.Fatalf("%d octets out for %d in", len(playback.out), len(in))
	}
	for i, b := range in {
		if playback.out[2*i] != 0 || playback.out[2*i+1] != b {
			t.Fatalf("sample %d: % x, want 00 %02x", i, playback.out[2*i:2*i+2], b)
		}
	}
	if _, err := OpenTDM(&fake{maxSlots: 32}, &fake{maxSlots: 32}, Config{Slots: 1, Format: FormatS8, PeriodFrames: 1, Periods: 2}); err != nil {
		t.Errorf("the smallest config: %v", err)
	}
}
