package si3215

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/hal/sim"
)

// si3210Initial is Silicon Labs' table of the Si3210's indirect registers
// from 13 on, by their Si3210 numbers (the 0-12 DTMF ones do not exist on
// a Si3215), as its example code and DAHDI's wctdm list it.
var si3210Initial = map[byte]uint16{
	13: 0x7B30, 14: 0x0063, 15: 0x0000, 16: 0x7870, 17: 0x007D, 18: 0x0000,
	19: 0x0000, 20: 0x7EF0, 21: 0x0160, 22: 0x0000, 23: 0x2000, 24: 0x2000,
	25: 0x0000, 26: 0x4000, 27: 0x4000, 28: 0x1000, 29: 0x3600, 30: 0x1000,
	31: 0x0200, 32: 0x07C0, 33: 0x2600, 34: 0x1B80, 35: 0x8000, 36: 0x0320,
	37: 0x008C, 38: 0x0100, 39: 0x0010, 40: 0x0C00, 41: 0x0C00, 42: 0x1000,
	43: 0x1000,
}

// si3215Addr is the Si3210-to-Si3215 address rule of Silicon Labs'
// example code (13-40 less 13, 41 and 43 plus 23, no 42), but for the
// pulse-metering registers 23-25, which it moves to 10-12 and DAHDI's
// wctdm leaves unwritten on a Si3215.
func si3215Addr(a byte) (byte, bool) {
	switch {
	case a >= 23 && a <= 25 || a == 42:
		return 0, false
	case a >= 13 && a <= 40:
		return a - 13, true
	case a == 41 || a == 43:
		return a + 23, true
	}
	return 0, false
}

func start(t *testing.T, c *chip) (*Dev, error) {
	t.Helper()
	return open(c, nil, c.sleep)
}

func TestStartUp(t *testing.T) {
	c := newChip(t)
	d, err := start(t, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[byte]uint16{}
	for a, v := range si3210Initial {
		if b, ok := si3215Addr(a); ok {
			want[b] = v
		}
	}
	for a, v := range want {
		if c.ind[a] != v {
			t.Errorf("indirect %d = %#04x, want %#04x", a, c.ind[a], v)
		}
	}
	if len(c.ind) != len(want) {
		t.Errorf("%d indirect registers written, want %d", len(c.ind), len(want))
	}
	if c.filtered != [5]uint16{0x8000, 0x8000, 0x8000, 0x8000, 0x8000} {
		t.Errorf("loop filters during calibration %#04x, want all 0x8000", c.filtered)
	}
	for reg, v := range map[byte]byte{regLoopback: 0, regRevC: 0xEB, regAuto: 0x07, regQ7: 1, regLoopILim: 0, regPowerDown: 0, regDCDCPWM: 0xC0, regVCM: 0x04, regDCDCCal: 0x07, 18: 0xFF, 19: 0xFF, 20: 0xFF} {
		if c.reg[reg] != v {
			t.Errorf("register %d = %#02x, want %#02x", reg, c.reg[reg], v)
		}
	}
	// The order that protects the hardware: the converter engaged only
	// on a battery up, calibration only with it engaged, DC-DC
	// calibration after it, the line powered last.
	var engaged, calibrating, calibrated, dcdcCal, active int = -1, -1, -1, -1, -1
	for i, e := range c.events {
		switch {
		case e.reg == regDCDC && e.v == 0x19:
			engaged = i
			if e.volts < 72 {
				t.Errorf("DC-DC converter engaged at %.1f V", e.volts)
			}
		case e.reg == regCalCtl && e.v == 0x5F:
			calibrating = i
			if e.volts < 72 || e.dcdc != 0x19 {
				t.Errorf("calibration started at %.1f V, DC-DC %#02x", e.volts, e.dcdc)
			}
		case e.reg == 0xFF:
			calibrated = i
		case e.reg == regDCDC && e.v == 0x99:
			dcdcCal = i
		case e.reg == regLinefeed && e.v == lfForward:
			if active >= 0 {
				t.Error("line powered twice")
			}
			active = i
		}
	}
	if !(engaged >= 0 && engaged < calibrating && calibrating < calibrated && calibrated < dcdcCal && dcdcCal < active && active == len(c.events)-1) {
		t.Errorf("order: engaged %d, calibrating %d, calibrated %d, DC-DC calibration %d, active %d of %d", engaged, calibrating, calibrated, dcdcCal, active, len(c.events))
	}
	if c.writes[0] != [2]byte{regLinefeed, lfOpen} || c.writes[1] != [2]byte{regPowerDown, 0x10} {
		t.Errorf("first writes %v, want the line open and the converter down", c.writes[:2])
	}
	cal := d.Calibration()
	if cal.Leak {
		t.Error("leak reported on a sound line")
	}
	if cal.BatteryVolts < 72 || cal.BatteryVolts > 0xC8*0.376 {
		t.Errorf("battery %.1f V", cal.BatteryVolts)
	}
	if cal.Vector[0] != 0 || cal.Vector[2] != 0x10 || cal.Vector[11] != 0x07 {
		t.Errorf("calibration vector %#02x", cal.Vector)
	}
	if c.now > 2*time.Second {
		t.Errorf("start-up took %v of the chip's time", c.now)
	}
}

// A chip left running (line active, loopback cleared, converter up) by
// an earlier process is found and started from a safe state.
func TestStartUpAgain(t *testing.T) {
	c := newChip(t)
	if _, err := start(t, c); err != nil {
		t.Fatal(err)
	}
	c.writes, c.events = nil, nil
	if _, err := start(t, c); err != nil {
		t.Fatal(err)
	}
	if c.writes[0] != [2]byte{regLinefeed, lfOpen} || c.writes[1] != [2]byte{regPowerDown, 0x10} {
		t.Errorf("first writes %v", c.writes[:2])
	}
}

func TestLeak(t *testing.T) {
	c := newChip(t)
	c.leak = true
	d, err := start(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Calibration().Leak {
		t.Error("a battery falling through a short not reported")
	}
}

// The refusals leave the converter down and the line open.
func TestStartUpFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*chip)
		want error
	}{
		{"no battery", func(c *chip) { c.noPower = true }, ErrNoBattery},
		{"calibration never ends", func(c *chip) { c.calTimes = []time.Duration{0, 0} }, ErrCalibrate},
		{"calibration too slow twice", func(c *chip) { c.calTimes = []time.Duration{2100 * time.Millisecond, 2100 * time.Millisecond} }, ErrCalibrate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChip(t)
			tc.set(c)
			if _, err := start(t, c); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if c.reg[regPowerDown] != 0x10 || c.reg[regLinefeed] != lfOpen {
				t.Errorf("left with register 14 = %#02x, linefeed %d", c.reg[regPowerDown], c.reg[regLinefeed])
			}
			for _, e := range c.events {
				if e.reg == regLinefeed && e.v != lfOpen {
					t.Errorf("line powered (%d) on a failed start-up", e.v)
				}
			}
		})
	}
}

func TestCalibrationRetried(t *testing.T) {
	c := newChip(t)
	c.calTimes = []time.Duration{0, 300 * time.Millisecond}
	if _, err := start(t, c); err != nil {
		t.Fatal(err)
	}
	starts := 0
	for _, w := range c.writes {
		if w == [2]byte{regCalCtl, 0x5F} {
			starts++
		}
	}
	if starts != 2 {
		t.Errorf("calibration started %d times, want 2", starts)
	}
}

// A DC-DC calibration result outside 2-13 is replaced by 8.
func TestDCDCCalibration(t *testing.T) {
	for got, want := range map[byte]byte{0x00: 0x08, 0x01: 0x08, 0x02: 0x02, 0x0D: 0x0D, 0x0E: 0x08, 0x1F: 0x08} {
		c := newChip(t)
		c.dcdcCal = got
		if _, err := start(t, c); err != nil {
			t.Fatal(err)
		}
		if c.reg[regDCDCCal] != want {
			t.Errorf("DC-DC calibration %#02x left as %#02x, want %#02x", got, c.reg[regDCDCCal], want)
		}
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*chip)
		want error
	}{
		{"no chip: register 11", func(c *chip) { c.reg[11] = 0xFF }, ErrAbsent},
		{"no chip: revision 0", func(c *chip) { c.reg[0] = 0x00 }, ErrAbsent},
		{"no chip: revision 15", func(c *chip) { c.reg[0] = 0xFF }, ErrAbsent},
		{"a Si3210", func(c *chip) { c.si3210 = true }, ErrNot3215},
		{"revision 1 of product 3", func(c *chip) { c.reg[0] = 0x31 }, nil},
		{"revision 14", func(c *chip) { c.reg[0] = 0x0E }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChip(t)
			tc.set(c)
			if _, err := start(t, c); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if tc.want != nil && len(c.writes) != 0 {
				t.Errorf("%d writes to a chip that is not ours", len(c.writes))
			}
		})
	}
}

func TestIndirectBusy(t *testing.T) {
	c := newChip(t)
	c.stuck = true
	if _, err := start(t, c); err == nil {
		t.Fatal("started with the indirect access status stuck")
	}
	if c.reg[regPowerDown] != 0x10 {
		t.Error("converter not left down")
	}
}

func TestFXSRegisters(t *testing.T) {
	c := newChip(t)
	a, _ := sim.SlotPair(0xD5)
	d, err := open(c, a, c.sleep)
	if err != nil {
		t.Fatal(err)
	}
	n := len(c.writes)
	d.Ring(true)
	d.Ring(false)
	c.reg[regHook] = 0x01
	if !d.OffHook() {
		t.Error("loop closure not read as off hook")
	}
	c.reg[regHook] = 0x02 // ring trip only
	if d.OffHook() {
		t.Error("ring trip read as off hook")
	}
	d.SetPolarity(true)
	d.Ring(true)
	d.Ring(false) // back to reverse
	c.reg[regVTip], c.reg[regVRing] = 20, 40
	if v := d.LoopVolts(); math.Abs(v-(-7.52)) > 1e-9 {
		t.Errorf("loop %.3f V, want -7.52", v)
	}
	d.SetPolarity(false)
	d.Close()
	want := [][2]byte{{64, 4}, {64, 1}, {64, 5}, {64, 4}, {64, 5}, {64, 1}, {64, 0}}
	if got := c.writes[n:]; !slices.Equal(got, want) {
		t.Errorf("linefeed writes %v, want %v", got, want)
	}
}

// The PCM set-up DAHDI's wctdm gives its ProSLICs: start counts in
// registers 2-5, then register 1, 0x20 for A-law, 0x28 for µ-law.
func TestPCM(t *testing.T) {
	c := newChip(t)
	d, err := start(t, c)
	if err != nil {
		t.Fatal(err)
	}
	n := len(c.writes)
	if err := d.SetPCM(16, false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPCM(264, true); err != nil {
		t.Fatal(err)
	}
	want := [][2]byte{
		{2, 16}, {3, 0}, {4, 16}, {5, 0}, {1, 0x20}, // slot 1 of 16-bit slots, A-law
		{2, 0x08}, {3, 0x01}, {4, 0x08}, {5, 0x01}, {1, 0x28}, // start count 264, µ-law
	}
	if got := c.writes[n:]; !slices.Equal(got, want) {
		t.Errorf("PCM writes %v, want %v", got, want)
	}
}

// The battery must reach 0xC0 (72 V); 0xBF is refused, after 500 ms of
// the chip's time.
func TestBatteryThreshold(t *testing.T) {
	c := newChip(t)
	c.vmax = 0xC0
	if _, err := start(t, c); err != nil {
		t.Fatalf("a battery of exactly 0xC0: %v", err)
	}
	c = newChip(t)
	c.vmax = 0xBF
	if _, err := start(t, c); !errors.Is(err, ErrNoBattery) {
		t.Fatalf("a battery of 0xBF: %v", err)
	}
	if c.now != powerUpWait {
		t.Errorf("gave up after %v, want %v", c.now, powerUpWait)
	}
}

// Any SPI transfer of the start-up failing fails it, with the transfer's
// error.
func TestSPIFailure(t *testing.T) {
	whole := newChip(t)
	if _, err := start(t, whole); err != nil {
		t.Fatal(err)
	}
	for at := 1; at <= whole.tx; at++ {
		c := newChip(t)
		c.failAt = at
		if _, err := start(t, c); err == nil || !strings.Contains(err.Error(), "SPI transfer failed") {
			t.Fatalf("transfer %d of %d failing: %v", at, whole.tx, err)
		}
	}
}
