package si3050

import (
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi/spitest"
)

func TestFXORegisters(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{
		{W: []byte{0x60, 2, 0}, R: []byte{0, 0, 0x03}},  // register 2: a DAA
		{W: []byte{0x20, 6, 0x00}},                      // power the line side up
		{W: []byte{0x60, 11, 0}, R: []byte{0, 0, 0x30}}, // line side revision 3: the link is up
		{W: []byte{0x20, 5, 0x08}},                      // on hook, line monitor on
		{W: []byte{0x60, 5, 0}, R: []byte{0, 0, 0x28}},  // register 5: RDTP set
		{W: []byte{0x20, 5, 0x09}},                      // off hook
		{W: []byte{0x60, 28, 0}, R: []byte{0, 0, 25}},   // loop current
		{W: []byte{0x60, 29, 0}, R: []byte{0, 0, 0xF6}}, // line voltage -10 V: reversed
		{W: []byte{0x20, 5, 0x08}},                      // close: on hook
	}}}
	d, err := open(pb, nil, noSleep)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Ringing() {
		t.Error("ring detect not read")
	}
	d.SetHook(true)
	if !d.LoopCurrent() || !d.Reversed() {
		t.Error("loop current or polarity not read")
	}
	d.Close()
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

func TestAbsent(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{{W: []byte{0x60, 2, 0}, R: []byte{0, 0, 0}}}}}
	if _, err := open(pb, nil, noSleep); err != ErrAbsent {
		t.Errorf("%v", err)
	}
}

// The PCM set-up DAHDI's wctdm gives its DAAs: start counts in registers
// 34-37, then register 33, 0x20 for A-law, 0x28 for µ-law.
func TestPCM(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{
		{W: []byte{0x60, 2, 0}, R: []byte{0, 0, 0x03}}, // a DAA
		{W: []byte{0x20, 6, 0x00}},                     // line side up
		{W: []byte{0x60, 11, 0}, R: []byte{0, 0, 0x10}},
		{W: []byte{0x20, 5, 0x08}},  // on hook, line monitor
		{W: []byte{0x20, 34, 0}},    // TX start count low: slot 0
		{W: []byte{0x20, 35, 0}},    // TX start count high
		{W: []byte{0x20, 36, 0}},    // RX start count low
		{W: []byte{0x20, 37, 0}},    // RX start count high
		{W: []byte{0x20, 33, 0x20}}, // PCM on, A-law
		{W: []byte{0x20, 34, 0x10}},
		{W: []byte{0x20, 35, 0x02}}, // start count 0x210
		{W: []byte{0x20, 36, 0x10}},
		{W: []byte{0x20, 37, 0x02}},
		{W: []byte{0x20, 33, 0x28}}, // µ-law
	}}}
	d, err := open(pb, nil, noSleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPCM(0, false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPCM(0x210, true); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

// China's termination as DAHDI's fxo_modes gives it ("CHINA": ohs 0, ohs2
// 0, rz 0, rt 0, ilim 0, dcv 0, mini 3, acim 0xf) in registers 16, 26,
// 30, 31.
func TestCountryChina(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{
		{W: []byte{0x60, 2, 0}, R: []byte{0, 0, 0x03}}, // a DAA
		{W: []byte{0x20, 6, 0x00}},                     // line side up
		{W: []byte{0x60, 11, 0}, R: []byte{0, 0, 0x10}},
		{W: []byte{0x20, 5, 0x08}},  // on hook, line monitor
		{W: []byte{0x20, 16, 0x00}}, // OHS, RZ, RT all 0
		{W: []byte{0x20, 26, 0x30}}, // DCV 0, MINI 3, ILIM 0
		{W: []byte{0x20, 30, 0x0F}}, // ACIM 0xF
		{W: []byte{0x20, 31, 0xA3}}, // OHS2 0
	}}}
	d, err := open(pb, nil, noSleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetCountry(Countries["cn"]); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

func noSleep(time.Duration) {}

// The line side is waited for 2 s, register 11 read every 100 ms: up on
// the 21st read, or refused after it.
func TestLineSide(t *testing.T) {
	for _, up := range []bool{true, false} {
		ops := []conntest.IO{{W: []byte{0x60, 2, 0}, R: []byte{0, 0, 0x03}}, {W: []byte{0x20, 6, 0x00}}}
		for range 20 {
			ops = append(ops, conntest.IO{W: []byte{0x60, 11, 0}, R: []byte{0, 0, 0x0F}}) // bits 3:0 are not the line side
		}
		last := byte(0x00)
		if up {
			last = 0x10
		}
		ops = append(ops, conntest.IO{W: []byte{0x60, 11, 0}, R: []byte{0, 0, last}})
		if up {
			ops = append(ops, conntest.IO{W: []byte{0x20, 5, 0x08}})
		}
		pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: ops}}
		var slept time.Duration
		_, err := open(pb, nil, func(d time.Duration) { slept += d })
		if up && err != nil || !up && err != ErrNoLineSide {
			t.Errorf("up %v: %v", up, err)
		}
		if slept != 2*time.Second {
			t.Errorf("up %v: waited %v, want 2 s", up, slept)
		}
		if err := pb.Close(); err != nil {
			t.Error(err)
		}
	}
}
