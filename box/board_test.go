package box_test

import (
	"testing"

	boardsim "jinyin/board/sim"
	"jinyin/hal"
)

// A span alarm lights the span's alarm LED, and clearing it puts it out.
func TestAlarmLED(t *testing.T) {
	startBox(t, t.TempDir())
	led := boardsim.AlarmLED(1)
	waitUntil(t, "the LED out on a clean span", func() bool { return !led.On() })
	boardsim.Opened(1).InjectAlarms(hal.AlarmLOS)
	waitUntil(t, "the alarm LED on LOS", led.On)
	boardsim.Opened(1).InjectAlarms(0)
	waitUntil(t, "the alarm LED out", func() bool { return !led.On() })
}
