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
