package si3215

import (
	"errors"
	"fmt"
	"time"
)

// The ProSLIC start-up, in the order DAHDI's wctdm driver gives it
// (wctdm_init_proslic with its defaults: not fast, automatic calibration):
//
//  1. linefeed open and the DC-DC converter powered down, so a chip left
//     running by an earlier process is not calibrated live;
//  2. the indirect registers (oscillators, ringing, thresholds, filters,
//     DC-DC minimum) loaded from Silicon Labs' initial values;
//  3. loopback off, the revision C enhancement, automatic battery
//     switching off and Q7 off (wctdm: "to prevent Q7 from accidently
//     turning on and burning out");
//  4. the five loop filters (22-26) parked at 0x8000 while calibrating;
//  5. power up: the DC-DC converter's PWM period, power-down off, then
//     the battery (register 82, 376 mV a step) must reach 0xC0, about
//     72 V, within 500 ms; loop current limit 20 mA; the converter
//     engaged;
//  6. the leakage test: powered down again, the battery must not fall
//     below 6 steps within 500 ms (it falls fast only through a short);
//     like wctdm, a leak is reported, not refused;
//  7. power up again; calibrate everything (97 = 0x1F, 96 = 0x5F) and
//     wait up to 2 s for register 96 to clear, once more if it does not;
//     DC-DC calibration (93 = 0x99), a result in register 107 outside
//     2-13 replaced by 8;
//  8. the filters restored and every indirect register read back;
//     interrupt flags cleared, common-mode voltage 0x04, linefeed forward
//     active.
//
// Left out from wctdm: the manual calibration, "fast" restarts that skip
// calibration by restoring saved vectors, the ringing and gain options,
// the Si3210's DTMF registers and indirect scratch register 97 (the
// Si3215 has no DTMF decoder, and where wctdm's address translation
// leaves register 97 on a Si3215 was not established).

// More direct registers.
const (
	regVersion   = 0   // product and revision; revision 0 or 15: no chip
	regIdent     = 1   // bit 7 set on a Si3215 (its PCM mode register)
	regIdentity  = 11  // reads 0x33
	regPowerDown = 14  // 0x10 powers the DC-DC converter down
	regIntFlags  = 18  // 18-20: interrupt status, written 0xFF to clear
	regIDALow    = 28  // indirect data, low octet
	regIDAHigh   = 29  // indirect data, high octet
	regIAA       = 30  // indirect address; writing it starts the access
	regIStatus   = 31  // non-zero while an indirect access is under way
	regQ7        = 66  // 1: Q7 off
	regAuto      = 67  // automatic control; 0x07: no battery switching
	regLoopILim  = 71  // loop current limit, (mA-20)/3
	regVCM       = 73  // common-mode voltage
	regVBat      = 82  // battery sense, 376 mV a step
	regDCDCPWM   = 92  // DC-DC converter PWM period
	regDCDC      = 93  // DC-DC converter control
	regCalCtl    = 96  // calibration control; clears when done
	regCalEnable = 97  // calibrations to run
	regDCDCCal   = 107 // DC-DC calibration result
	regRevC      = 108 // enhancement enable (revision C)
)

const (
	batteryUp   = 0xC0 // register 82 at power-up: 72 V
	batteryLeak = 0x06 // below this within the leakage test: a short
	pollEvery   = 10 * time.Millisecond
	powerUpWait = 500 * time.Millisecond
	calWait     = 2 * time.Second
	accessPolls = 100 // indirect access status reads before giving up
)

// indirect is the Si3215's indirect registers and their initial values:
// Silicon Labs' table of Si3210 initial values, as DAHDI's wctdm and
// Silicon Labs' own example code list them, at their Si3215 addresses
// (the Si3210's 13-40 are the Si3215's 0-27, its 41 and 43 the Si3215's
// 64 and 66; its DTMF registers 0-12 and 42 do not exist on a Si3215).
// The sources differ on the pulse-metering registers 23-25: the example
// code moves them to 10-12, wctdm, which has run on Si3215 modules, skips
// them, and so does this driver. Receive gain is unity (0x4000), Silicon
// Labs' value; later wctdm versions lower it 6 dB.
var indirect = [...]struct {
	addr byte
	v    uint16
}{
	{0, 0x7B30},  // OSC1_COEF
	{1, 0x0063},  // OSC1X
	{2, 0x0000},  // OSC1Y
	{3, 0x7870},  // OSC2_COEF
	{4, 0x007D},  // OSC2X
	{5, 0x0000},  // OSC2Y
	{6, 0x0000},  // RING_V_OFF
	{7, 0x7EF0},  // RING_OSC: 20 Hz
	{8, 0x0160},  // RING_X
	{9, 0x0000},  // RING_Y
	{13, 0x4000}, // RECV_DIGITAL_GAIN
	{14, 0x4000}, // XMIT_DIGITAL_GAIN
	{15, 0x1000}, // LOOP_CLOSE_TRES
	{16, 0x3600}, // RING_TRIP_TRES
	{17, 0x1000}, // COMMON_MIN_TRES
	{18, 0x0200}, // COMMON_MAX_TRES
	{19, 0x07C0}, // PWR_ALARM_Q1Q2
	{20, 0x2600}, // PWR_ALARM_Q3Q4
	{21, 0x1B80}, // PWR_ALARM_Q5Q6
	{22, 0x8000}, // LOOP_CLOSURE_FILTER
	{23, 0x0320}, // RING_TRIP_FILTER
	{24, 0x008C}, // TERM_LP_POLE_Q1Q2
	{25, 0x0100}, // TERM_LP_POLE_Q3Q4
	{26, 0x0010}, // TERM_LP_POLE_Q5Q6
	{27, 0x0C00}, // CM_BIAS_RINGING
	{64, 0x0C00}, // DCDC_MIN_V
	{66, 0x1000}, // LOOP_CLOSE_TRES_LOW
}

// The loop filters parked during calibration.
const filterFirst, filters = 22, 5

// Errors of the start-up.
var (
	ErrNot3215   = errors.New("si3215: the ProSLIC is not a Si3215 (register 1 bit 7 clear; a Si3210's indirect registers differ)")
	ErrNoBattery = errors.New("si3215: the battery did not reach 72 V within 500 ms (DC-DC converter or its supply)")
	ErrCalibrate = errors.New("si3215: calibration did not finish within 2 s, twice")
)

// Calibration is what the start-up measured.
type Calibration struct {
	BatteryVolts float64  // after the final power-up
	Leak         bool     // the battery fell through a short in the leakage test
	Vector       [12]byte // registers 96-107 after calibration
}

// Calibration reports the start-up's measurements.
func (d *Dev) Calibration() Calibration { return d.cal }

// powerUp runs the start-up sequence; on any error the converter is left
// powered down and the line open.
func (d *Dev) powerUp() error {
	err := d.startUp()
	if err != nil {
		d.write(regPowerDown, 0x10)
		d.write(regLinefeed, lfOpen)
	}
	return err
}

func (d *Dev) startUp() error {
	steps := [][2]byte{{regLinefeed, lfOpen}, {regPowerDown, 0x10}}
	if err := d.writes(steps); err != nil {
		return err
	}
	for _, r := range indirect {
		if err := d.writeIndirect(r.addr, r.v); err != nil {
			return err
		}
	}
	if err := d.writes([][2]byte{{regLoopback, 0}, {regRevC, 0xEB}, {regAuto, 0x07}, {regQ7, 1}}); err != nil {
		return err
	}
	var saved [filters]uint16
	for i := range saved {
		v, err := d.readIndirect(filterFirst + byte(i))
		if err != nil {
			return err
		}
		saved[i] = v
		if err := d.writeIndirect(filterFirst+byte(i), 0x8000); err != nil {
			return err
		}
	}
	if err := d.battery(); err != nil {
		return err
	}
	leak, err := d.leakTest()
	if err != nil {
		return err
	}
	d.cal.Leak = leak
	if err := d.battery(); err != nil {
		return err
	}
	if err := d.calibrate(); err != nil {
		return err
	}
	for i, v := range saved {
		if err := d.writeIndirect(filterFirst+byte(i), v); err != nil {
			return err
		}
	}
	for _, r := range indirect {
		v, err := d.readIndirect(r.addr)
		if err != nil {
			return err
		}
		if v != r.v {
			return fmt.Errorf("si3215: indirect register %d reads %#04x, written %#04x", r.addr, v, r.v)
		}
	}
	return d.writes([][2]byte{{regIntFlags, 0xFF}, {regIntFlags + 1, 0xFF}, {regIntFlags + 2, 0xFF}, {regVCM, 0x04}, {regLinefeed, lfForward}})
}

// battery powers the DC-DC converter up and waits for the battery.
func (d *Dev) battery() error {
	if err := d.writes([][2]byte{{regDCDCPWM, 0xC0}, {regPowerDown, 0}}); err != nil {
		return err
	}
	v, err := d.poll(regVBat, powerUpWait, func(v byte) bool { return v >= batteryUp })
	if err != nil {
		return err
	}
	if v < batteryUp {
		return ErrNoBattery
	}
	d.cal.BatteryVolts = float64(v) * 0.376
	return d.writes([][2]byte{{regLoopILim, 0}, {regDCDC, 0x19}})
}

// leakTest powers the converter down and watches the battery fall.
func (d *Dev) leakTest() (bool, error) {
	if err := d.writes([][2]byte{{regLinefeed, lfOpen}, {regPowerDown, 0x10}}); err != nil {
		return false, err
	}
	v, err := d.poll(regVBat, powerUpWait, func(v byte) bool { return v <= batteryLeak })
	return v < batteryLeak, err
}

// calibrate runs the automatic calibrations, then the DC-DC one.
func (d *Dev) calibrate() error {
	done := false
	for try := 0; try < 2 && !done; try++ {
		if err := d.writes([][2]byte{{regCalEnable, 0x1F}, {regCalCtl, 0x5F}}); err != nil {
			return err
		}
		v, err := d.poll(regCalCtl, calWait, func(v byte) bool { return v == 0 })
		if err != nil {
			return err
		}
		done = v == 0
	}
	if !done {
		return ErrCalibrate
	}
	if err := d.write(regDCDC, 0x99); err != nil {
		return err
	}
	r, err := d.read(regDCDCCal)
	if err != nil {
		return err
	}
	if r < 0x02 || r > 0x0D {
		if err := d.write(regDCDCCal, 0x08); err != nil {
			return err
		}
	}
	for i := range d.cal.Vector {
		if d.cal.Vector[i], err = d.read(regCalCtl + byte(i)); err != nil {
			return err
		}
	}
	return nil
}

// poll reads reg every 10 ms until ok or wait has passed, and returns
// the last value read.
func (d *Dev) poll(reg byte, wait time.Duration, ok func(byte) bool) (byte, error) {
	for waited := time.Duration(0); ; waited += pollEvery {
		v, err := d.read(reg)
		if err != nil || ok(v) || waited >= wait {
			return v, err
		}
		d.sleep(pollEvery)
	}
}

func (d *Dev) writes(w [][2]byte) error {
	for _, r := range w {
		if err := d.write(r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// The indirect registers are reached through 28-31: a write sets the
// data, then the address; a read sets the address, then reads the data;
// each waits first for the status to clear.
func (d *Dev) writeIndirect(addr byte, v uint16) error {
	if err := d.waitAccess(); err != nil {
		return err
	}
	return d.writes([][2]byte{{regIDALow, byte(v)}, {regIDAHigh, byte(v >> 8)}, {regIAA, addr}})
}

func (d *Dev) readIndirect(addr byte) (uint16, error) {
	if err := d.waitAccess(); err != nil {
		return 0, err
	}
	if err := d.write(regIAA, addr); err != nil {
		return 0, err
	}
	if err := d.waitAccess(); err != nil {
		return 0, err
	}
	lo, err := d.read(regIDALow)
	if err != nil {
		return 0, err
	}
	hi, err := d.read(regIDAHigh)
	return uint16(hi)<<8 | uint16(lo), err
}

func (d *Dev) waitAccess() error {
	for range accessPolls {
		v, err := d.read(regIStatus)
		if err != nil || v == 0 {
			return err
		}
	}
	return errors.New("si3215: indirect register access stays busy")
}
