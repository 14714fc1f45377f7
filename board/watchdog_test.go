package board

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"jinyin/internal/clock"
)

func TestWatchdog(t *testing.T) {
	if w, err := OpenWatchdog(filepath.Join(t.TempDir(), "none"), clock.Real{}, nil); w != nil || err != nil {
		t.Fatalf("a board without a watchdog: %v %v", w, err)
	}
	path := filepath.Join(t.TempDir(), "watchdog")
	os.WriteFile(path, nil, 0o600)
	clk := clock.NewFake(time.Unix(0, 0))
	alive := true
	w, err := OpenWatchdog(path, clk, func() bool { return alive })
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * WatchdogKick)
	alive = false // a hung box is not fed
	clk.Advance(2 * WatchdogKick)
	w.Stop()
	got, _ := os.ReadFile(path)
	if string(got) != "\x00\x00\x00\x00V" {
		t.Errorf("wrote %q: four feeds (open and three kicks), then the magic close", got)
	}
}
