package si3215

import (
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi/spitest"

	"jinyin/hal/sim"
)

func TestFXSRegisters(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{
		{W: []byte{0x88, 0}, R: []byte{0, 0x02}}, // read register 8: present
		{W: []byte{64, 1}},                       // linefeed: forward active
		{W: []byte{64, 4}},                       // ringing
		{W: []byte{64, 1}},                       // ring off
		{W: []byte{0xC4, 0}, R: []byte{0, 0x01}}, // read register 68: loop closed
		{W: []byte{64, 5}},                       // reverse active
		{W: []byte{0xD0, 0}, R: []byte{0, 20}},   // register 80, tip
		{W: []byte{0xD1, 0}, R: []byte{0, 40}},   // register 81, ring
		{W: []byte{64, 0}},                       // close: open
	}}}
	a, _ := sim.SlotPair(0xD5)
	d, err := New(pb, a)
	if err != nil {
		t.Fatal(err)
	}
	d.Ring(true)
	d.Ring(false)
	if !d.OffHook() {
		t.Error("loop closure not read as off hook")
	}
	d.SetPolarity(true)
	if v := d.LoopVolts(); v > -7.5 || v < -7.6 {
		t.Errorf("loop %.3f V, want -7.52", v)
	}
	d.Close()
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

func TestAbsent(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{{W: []byte{0x88, 0}, R: []byte{0, 0xFF}}}}}
	if _, err := New(pb, nil); err != ErrAbsent {
		t.Errorf("%v", err)
	}
}

// The PCM set-up DAHDI's wctdm gives its ProSLICs: start counts in
// registers 2-5, then register 1, 0x20 for A-law, 0x28 for µ-law.
func TestPCM(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{
		{W: []byte{0x88, 0}, R: []byte{0, 0x02}}, // present
		{W: []byte{64, 1}},                       // forward active
		{W: []byte{2, 16}},                       // TX start count low: slot 1 of 16-bit slots
		{W: []byte{3, 0}},                        // TX start count high
		{W: []byte{4, 16}},                       // RX start count low
		{W: []byte{5, 0}},                        // RX start count high
		{W: []byte{1, 0x20}},                     // PCM on, A-law, 8 bits
		{W: []byte{2, 0x08}},                     // start count 264: low octet
		{W: []byte{3, 0x01}},                     // high octet
		{W: []byte{4, 0x08}},
		{W: []byte{5, 0x01}},
		{W: []byte{1, 0x28}}, // µ-law
	}}}
	d, err := New(pb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPCM(16, false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPCM(264, true); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}
