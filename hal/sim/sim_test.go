package sim

import (
	"testing"

	"jinyin/hal"
)

func TestSpan(t *testing.T) {
	s := NewSpan()
	if err := s.Configure(hal.SpanConfig{Type: "e1", Framing: "esf", Coding: "hdb3", Clock: "line"}); err == nil {
		t.Error("E1 accepted T1 framing")
	}
	want := hal.SpanConfig{Type: "e1", Framing: "crc4", Coding: "hdb3", Clock: "line"}
	if err := s.Configure(want); err != nil || s.Config() != want {
		t.Fatalf("configure: %v %+v", err, s.Config())
	}
	s.InjectAlarms(hal.AlarmLOS | hal.AlarmRAI)
	if got := s.Alarms().String(); got != "LOS|RAI" {
		t.Errorf("alarms %q", got)
	}
	if s.Close() != nil || s.Close() == nil {
		t.Error("second close must fail")
	}
}

func TestPRILine(t *testing.T) {
	s := NewSpan()
	if err := s.Configure(hal.SpanConfig{Type: "e1", Framing: "crc4", Coding: "hdb3", Clock: "line"}); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DChannel()
	far := s.FarDChannel()
	if err := d.WriteFrame([]byte{0, 1, 0x7f}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 300)
	if n, err := far.ReadFrame(buf); err != nil || string(buf[:n]) != "\x00\x01\x7f" {
		t.Fatalf("frame %x %v", buf[:n], err)
	}
	if _, err := s.BChannel(16); err == nil {
		t.Error("timeslot 16 is the D-channel on E1, not a B-channel")
	}
	b, _ := s.BChannel(1)
	fb, _ := s.FarBChannel(1)
	block := make([]byte, hal.BlockSize)
	if err := b.ReadBlock(block); err != nil || block[0] != 0xD5 {
		t.Fatalf("idle B-channel reads %x, %v; want A-law idle 0xD5", block[0], err)
	}
	block[0] = 0x42
	fb.WriteBlock(block)
	got := make([]byte, hal.BlockSize)
	if err := b.ReadBlock(got); err != nil || got[0] != 0xD5 {
		t.Fatalf("one block alone must wait for a second (the jitter margin): got %x, %v", got[0], err)
	}
	block[0] = 0x43
	fb.WriteBlock(block)
	for _, want := range []byte{0x42, 0x43, 0xD5} {
		if err := b.ReadBlock(got); err != nil || got[0] != want {
			t.Fatalf("B-channel carried %x, %v; want %x", got[0], err, want)
		}
	}
	d.Close()
	if _, err := d.ReadFrame(buf); err != ErrClosed {
		t.Errorf("read after close: %v", err)
	}
}

// A span with LOS, LOF or AIS carries no D-channel frame either way; RAI
// alone leaves the line working.
func TestAlarmCutsDChannel(t *testing.T) {
	for _, tc := range []struct {
		alarms  hal.Alarms
		carries bool
	}{
		{0, true}, {hal.AlarmLOS, false}, {hal.AlarmLOF, false}, {hal.AlarmAIS, false},
		{hal.AlarmRAI, true}, {hal.AlarmAIS | hal.AlarmRAI, false},
	} {
		s := NewSpan()
		d, _ := s.DChannel()
		far := s.FarDChannel()
		s.InjectAlarms(tc.alarms)
		d.WriteFrame([]byte{1})
		far.WriteFrame([]byte{2})
		if got := len(d.(*Frames).in) == 1 && len(far.in) == 1; got != tc.carries {
			t.Errorf("%v: frames carried %v, want %v", tc.alarms, got, tc.carries)
		}
		s.InjectAlarms(0)
		d.WriteFrame([]byte{3})
		if len(far.in) != 1+boolInt(tc.carries) {
			t.Errorf("%v cleared: the line does not carry again", tc.alarms)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
