package box

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"jinyin/board"
	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/fsutil"
	"jinyin/internal/httpapi"
)

// configRoutes serve the box's configuration file: GET /config is the
// file, PUT /config replaces it (a supervisor's login, or headquarters
// over the fleet link). What is put is checked as `jinyin check` checks
// it, against this firmware's boards, and refused whole with its issues
// (422) if it has any; taken, it replaces the file atomically (the one
// before kept as FILE.prev) and the box restarts on it after a drain:
// new calls refused, the calls up ended by their callers, max_wait (10
// minutes by default) at most.
func (b *Box) configRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		text, err := b.configText()
		if err != nil {
			httpapi.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/toml")
		w.Write(text)
	})
	mux.HandleFunc("PUT /config", func(w http.ResponseWriter, r *http.Request) {
		if b.configFile == "" {
			httpapi.Error(w, http.StatusConflict, "the box runs on the embedded default: start it with --config FILE to take a configuration")
			return
		}
		maxWait := 10 * time.Minute
		if s := r.URL.Query().Get("max_wait"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 || d > time.Hour {
				httpapi.Error(w, http.StatusBadRequest, "max_wait: a duration up to 1h, e.g. 10m")
				return
			}
			maxWait = d
		}
		text, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			httpapi.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		if _, err := config.Load(b.configFile, text, b.sets, Env(board.Env())); err != nil {
			httpapi.Error(w, http.StatusUnprocessableEntity, "not taken: "+err.Error())
			return
		}
		if old, err := os.ReadFile(b.configFile); err == nil {
			if err := fsutil.WriteFileAtomic(b.configFile+".prev", old, 0o640); err != nil {
				httpapi.Error(w, http.StatusInternalServerError, err.Error())
				return
			}
		}
		if err := fsutil.WriteFileAtomic(b.configFile, text, 0o640); err != nil {
			httpapi.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		b.log.Warn("configuration replaced over the API; restarting after the drain", "file", b.configFile, "max_wait", maxWait)
		go b.restartAfterDrain("new configuration", maxWait, b.stopUpdate, nil)
		w.WriteHeader(http.StatusAccepted)
		httpapi.JSON(w, map[string]string{"restart": "after the drain (" + maxWait.String() + " at most)"}, nil)
	})
}

// configText is the file the box runs on, or the embedded default.
func (b *Box) configText() ([]byte, error) {
	if b.configFile == "" {
		return config.Default(), nil
	}
	return os.ReadFile(b.configFile)
}

// restartAfterDrain refuses new calls, waits for the calls up to end
// (maxWait at most), runs last (when not nil), and restarts the box.
func (b *Box) restartAfterDrain(why string, maxWait time.Duration, stop <-chan struct{}, last func()) error {
	b.load.Drain(why)
	for deadline := b.clock.Now().Add(maxWait); b.callsUp() > 0 && b.clock.Now().Before(deadline); {
		if !clock.Wait(b.clock, time.Second, stop) {
			b.load.Resume()
			return errors.New("stopped while draining")
		}
	}
	if n := b.callsUp(); n > 0 {
		b.log.Warn("restarting with calls up after the drain's maximum wait", "calls", n, "max_wait", maxWait)
	}
	if last != nil {
		last()
	}
	b.Restart(why)
	return nil
}
