package box

import (
	"testing"
	"time"
)

// A reboot at HH:MM is the next such time in the box's zone: later today,
// or tomorrow once it has passed.
func TestNextAt(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 3, 2, 30, 0, 0, time.UTC) // 10:30 in Beijing
	for hhmm, want := range map[string]time.Time{
		"11:00": time.Date(2026, 12, 3, 11, 0, 0, 0, cst),
		"10:30": time.Date(2026, 12, 4, 10, 30, 0, 0, cst), // now: tomorrow
		"03:00": time.Date(2026, 12, 4, 3, 0, 0, 0, cst),
		"23:59": time.Date(2026, 12, 3, 23, 59, 0, 0, cst),
	} {
		got, err := nextAt(now, hhmm, cst)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", hhmm, got, err, want)
		}
	}
	for _, bad := range []string{"25:00", "3am", "", "12:60"} {
		if _, err := nextAt(now, bad, cst); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
}
