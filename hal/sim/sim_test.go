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
