package box

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"jinyin/internal/clock"
	"jinyin/internal/httpapi"
	"jinyin/store"
	"jinyin/update"
)

// openUpdater starts the A/B updates on a board that has boot slots; a
// box whose boot loader cannot say where it booted from (a developer's
// machine with the cm4 profile) takes no updates.
func (b *Box) openUpdater() {
	s := b.prof.Update
	if s == nil {
		return
	}
	boot, err := s.Boot()
	if err == nil {
		b.updater, err = update.New(boot, *s, b.cfg.Box.Board, Version, b.data, b.clock)
	}
	if err != nil {
		b.log.Warn("firmware updates off", "err", err)
		b.updater = nil
		return
	}
	st := b.updater.Status()
	b.log.Info("firmware slot", "slot", st.Part, "trial", st.Trial, "version", st.Version)
}

// storePath is the database this boot opens. A trial of a version with a
// newer store schema runs on a migrated copy, so the old version, should
// the trial fail, still opens the data as it left it; the copy replaces
// the file once the trial is confirmed. What a failed trial wrote (its
// first seconds) is lost with its copy.
func (b *Box) storePath() (string, error) {
	path := filepath.Join(b.data, "jinyin.db")
	trialPath := path + ".trial"
	if b.updater == nil || !b.updater.Status().Trial {
		os.Remove(trialPath) // a trial that did not confirm
		return path, nil
	}
	v, err := store.FileVersion(path)
	if err != nil || v >= store.SchemaVersion() {
		return path, err
	}
	os.Remove(trialPath)
	if err := store.CopyFile(path, trialPath); err != nil {
		return "", err
	}
	b.promote = func() error { return os.Rename(trialPath, path) }
	b.log.Info("trial on a copy of the store", "schema", v, "to", store.SchemaVersion())
	return trialPath, nil
}

// health is the trial's check: SIP listening, the store open at this
// firmware's schema, and every span that was up before the update up
// again within a minute (WithHealthWait).
func (b *Box) health(stop <-chan struct{}) error {
	wait := b.healthWait
	if wait == 0 {
		wait = time.Minute
	}
	if len(b.sip.Addrs()) == 0 {
		return errors.New("SIP is not listening")
	}
	if v, err := b.db.Version(); err != nil || v != store.SchemaVersion() {
		return fmt.Errorf("store at schema %d (%v), want %d", v, err, store.SchemaVersion())
	}
	want := b.updater.Expected()
	for deadline := b.clock.Now().Add(wait); ; {
		down := slices.DeleteFunc(slices.Clone(want), func(id int) bool { return slices.Contains(b.spansUp(), id) })
		if len(down) == 0 {
			return nil
		}
		if !b.clock.Now().Before(deadline) {
			return fmt.Errorf("spans %v up before the update are not up after %v", down, wait)
		}
		if !clock.Wait(b.clock, time.Second, stop) {
			return errors.New("stopped during the health check")
		}
	}
}

// spansUp is the spans without alarms.
func (b *Box) spansUp() []int {
	var up []int
	for _, s := range b.spans {
		if s.Alarms() == 0 {
			up = append(up, s.Config.ID)
		}
	}
	return up
}

// confirmTrial runs on a trial boot once the box is up: it keeps the new
// version if it is healthy, and reboots into the old one otherwise.
func (b *Box) confirmTrial(stop <-chan struct{}) {
	if b.updater == nil || !b.updater.Status().Trial {
		return
	}
	herr := b.health(stop)
	if err := b.updater.Confirm(herr); err != nil {
		select {
		case <-stop:
			return // stopped before the check ended: the next boot is the old slot
		default:
		}
		b.log.Error("update not confirmed; rebooting into the old slot", "err", err)
		b.fallback.Store(true)
		b.Restart("update failed its health check")
		return
	}
	if b.promote != nil {
		// After the commit: a power cut between the two leaves the new
		// version opening the old file and migrating it again, never the
		// old version facing a newer schema.
		if err := b.promote(); err != nil {
			b.log.Error("trial store not promoted", "err", err)
		}
	}
	b.log.Info("update confirmed", "version", Version)
}

// callsUp counts the calls a reboot would cut: SIP and PRI.
func (b *Box) callsUp() int {
	n := b.sip.ActiveCalls()
	for _, st := range b.pris {
		for _, c := range st.Channels() {
			if c.State != "idle" {
				n++
			}
		}
	}
	return n
}

// rebootInto drains the box, bounded by maxWait, then boots the staged
// update once as a trial. New calls are refused meanwhile (SIP 503 with
// Retry-After, PRI cause 42): a trunk group's next route takes them.
func (b *Box) rebootInto(version string, maxWait time.Duration, stop <-chan struct{}) error {
	return b.restartAfterDrain("rebooting into update "+version, maxWait, stop, func() {
		up := b.spansUp()
		b.rebootSpans = &up // Run reboots once it has stopped everything
	})
}

// nextAt is the next time of day hh:mm in loc after now.
func nextAt(now time.Time, hhmm string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("at %q: want HH:MM", hhmm)
	}
	n := now.In(loc)
	at := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc)
	if !at.After(n) {
		at = at.AddDate(0, 0, 1)
	}
	return at, nil
}

// maxUpdate is the largest bundle the box takes: a boot slot.
const maxUpdate = 512 << 20

// updateRoutes serve the updates: GET /update (the slot, the staged
// update, the history) and POST /update (a bundle in the body; with
// reboot=drain the box drains and boots it, with reboot=HH:MM at that
// time of day, max_wait bounding the drain, 10 minutes by default).
// POST needs a supervisor's login, as every change does.
func (b *Box) updateRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /update", func(w http.ResponseWriter, r *http.Request) {
		if b.updater == nil {
			httpapi.Error(w, http.StatusNotFound, "this box takes no firmware updates (no boot slots, or no update key)")
			return
		}
		hist, err := b.updater.History()
		httpapi.JSON(w, map[string]any{"status": b.updater.Status(), "history": hist}, err)
	})
	mux.HandleFunc("POST /update", func(w http.ResponseWriter, r *http.Request) {
		if b.updater == nil {
			httpapi.Error(w, http.StatusNotFound, "this box takes no firmware updates (no boot slots, or no update key)")
			return
		}
		maxWait := 10 * time.Minute
		if v := r.URL.Query().Get("max_wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				httpapi.Error(w, http.StatusBadRequest, "max_wait: a duration such as 10m")
				return
			}
			maxWait = d
		}
		when := r.URL.Query().Get("reboot")
		if when != "" && when != "drain" {
			if _, err := nextAt(b.clock.Now(), when, b.cfg.Location()); err != nil {
				httpapi.Error(w, http.StatusBadRequest, "reboot: drain or HH:MM: "+err.Error())
				return
			}
		}
		m, err := b.updater.Apply(http.MaxBytesReader(w, r.Body, maxUpdate))
		if err != nil {
			code := http.StatusUnprocessableEntity
			if errors.Is(err, update.ErrNotConfirmed) {
				code = http.StatusConflict
			}
			httpapi.Error(w, code, err.Error())
			return
		}
		b.log.Warn("update staged", "version", m.Version, "reboot", when)
		answer := map[string]any{"staged": m, "status": b.updater.Status()}
		if when != "" {
			answer["reboot"], _ = b.scheduleReboot(when, maxWait)
		}
		w.WriteHeader(http.StatusAccepted)
		httpapi.JSON(w, answer, nil)
	})
}

// scheduleReboot boots the staged update after a drain ("drain") or at a
// time of day ("HH:MM"), and says when.
func (b *Box) scheduleReboot(when string, maxWait time.Duration) (string, error) {
	st := b.updater.Status()
	if st.Staged == nil {
		return "", update.ErrNothing
	}
	reboot := func() {
		if err := b.rebootInto(st.Staged.Version, maxWait, b.stopUpdate); err != nil {
			b.log.Error("update reboot", "err", err)
		}
	}
	if when == "drain" {
		go reboot()
		return "after the drain (new calls refused, the calls up end, " + maxWait.String() + " at most)", nil
	}
	at, err := nextAt(b.clock.Now(), when, b.cfg.Location())
	if err != nil {
		return "", err
	}
	b.clock.AfterFunc(at.Sub(b.clock.Now()), reboot)
	return "at " + at.Format(time.DateTime) + ", after a drain", nil
}

// consoleUpdates is the console's view of the updater.
type consoleUpdates struct{ b *Box }

func (c consoleUpdates) Status() string {
	s := c.b.updater.Status()
	state := "confirmed"
	if s.Trial && !s.Confirmed {
		state = "on trial"
	}
	out := fmt.Sprintf("jinyin %s, slot %d, %s", s.Version, s.Part, state)
	if s.Staged != nil {
		out += fmt.Sprintf("; %s staged in slot %d", s.Staged.Version, s.Staged.Part)
	}
	return out
}

func (c consoleUpdates) History() ([]string, error) {
	hist, err := c.b.updater.History()
	var out []string
	for _, e := range hist {
		l := fmt.Sprintf("%s  %-11s %s slot %d", e.Time.In(c.b.cfg.Location()).Format(time.DateTime), e.What, e.Version, e.Part)
		if e.Detail != "" {
			l += ": " + e.Detail
		}
		out = append(out, l)
	}
	return out, err
}

func (c consoleUpdates) Apply(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return c.Receive(f)
}

func (c consoleUpdates) Receive(r io.Reader) (string, error) {
	m, err := c.b.updater.Apply(io.LimitReader(r, maxUpdate))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("jinyin %s for %s written to slot %d; `update reboot` boots it once as a trial\n", m.Version, m.Board, c.b.updater.Status().Staged.Part), nil
}

func (c consoleUpdates) Reboot(when string) (string, error) {
	s, err := c.b.scheduleReboot(when, 10*time.Minute)
	return "rebooting into the update " + s + "\n", err
}

// updateStatus is the updater's part of /status, nil without one.
func (b *Box) updateStatus() *update.Status {
	if b.updater == nil {
		return nil
	}
	s := b.updater.Status()
	return &s
}
