package board

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"jinyin/internal/clock"
)

// WatchdogKick is how often the watchdog is fed; Linux watchdog drivers
// default to a 15-60 s timeout.
const WatchdogKick = 5 * time.Second

// Watchdog feeds a Linux hardware watchdog (/dev/watchdog): once opened,
// the board resets unless something is written within its timeout, so a
// hung box restarts by itself. Stop writes the magic 'V' first, so a clean
// shutdown does not reset the board.
type Watchdog struct {
	f    *os.File
	clk  clock.Clock
	mu   sync.Mutex
	t    clock.Timer
	done bool
	// alive, when set, must report true for the watchdog to be fed: a box
	// whose own loops have stopped is left to be reset.
	alive func() bool
}

// OpenWatchdog opens the device and starts feeding it. A board without
// one (no such file) gets nil and no error.
func OpenWatchdog(path string, clk clock.Clock, alive func() bool) (*Watchdog, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	w := &Watchdog{f: f, clk: clk, alive: alive}
	w.kick()
	return w, nil
}

func (w *Watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if w.alive == nil || w.alive() {
		w.f.Write([]byte{0})
	}
	w.t = w.clk.AfterFunc(WatchdogKick, w.kick)
}

// Stop disarms the watchdog (magic close) and closes it.
func (w *Watchdog) Stop() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	if w.t != nil {
		w.t.Stop()
	}
	w.f.Write([]byte("V"))
	return w.f.Close()
}
