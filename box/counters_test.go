package box

import (
	"testing"
	"time"

	"jinyin/hal"
)

// The last 24 hours are counted from the oldest reading within them.
func TestCountersDayAgo(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	h := &counters{readings: []reading{{at: t0}}}
	for i := 1; i <= 30; i++ {
		h.readings = append(h.readings, reading{t0.Add(time.Duration(i) * time.Hour), hal.Counters{CRC: uint64(10 * i)}})
	}
	now := t0.Add(30 * time.Hour)
	if got := h.dayAgo(now); got.CRC != 60 { // the reading at hour 6
		t.Errorf("24 h before hour 30: %+v, want the reading of hour 6", got)
	}
	if got := (&counters{readings: []reading{{at: t0}}}).dayAgo(t0.Add(time.Hour)); got.CRC != 0 {
		t.Errorf("an hour after start: %+v", got)
	}
}
