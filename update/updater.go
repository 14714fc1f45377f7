package update

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"jinyin/internal/clock"
)

// Slots is a board's A/B layout, part of its profile.
type Slots struct {
	Loader  string // "pi" (the firmware's tryboot) or "emulated" (a harness plays it)
	Parts   [2]int // the two boot partitions
	Device  string // a partition's block device, by its number: "/dev/mmcblk0p%d"
	BootDir string // where the partition holding autoboot.txt is mounted
	KeyFile string // the update key's public half, in the read-only image

	// Root and Reboot are for tests: a directory standing for / (for
	// /proc), and what rebooting does; "" and nil on a box.
	Root   string
	Reboot func(arg string) error
}

// Boot is the boot loader s names.
func (s Slots) Boot() (Boot, error) {
	reboot := s.Reboot
	if reboot == nil {
		reboot = rebootWith
	}
	switch s.Loader {
	case "pi":
		return &Pi{BootDir: s.BootDir, Root: s.Root, reboot: reboot}, nil
	case "emulated":
		return &Emulated{BootDir: s.BootDir, Root: s.Root, reboot: reboot}, nil
	}
	return nil, fmt.Errorf("update: no boot loader %q", s.Loader)
}

// Event is one line of the update history (DATA/updates.log).
type Event struct {
	Time    time.Time `json:"time"`
	What    string    `json:"what"` // staged, trial, confirmed, failed, rolled back, refused
	Version string    `json:"version,omitempty"`
	Part    int       `json:"part,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	// Spans are, on a trial, the spans that were up before it: the new
	// version's health check waits for them.
	Spans []int `json:"spans,omitempty"`
}

// Status is what /status and the console show.
type Status struct {
	Version   string  `json:"version"`
	Part      int     `json:"slot"`      // the boot partition running
	Trial     bool    `json:"trial"`     // booted once to try it
	Confirmed bool    `json:"confirmed"` // the committed slot, or a trial that passed
	Staged    *Staged `json:"staged,omitempty"`
}

// Staged is an update written to the other slot, waiting for its reboot.
type Staged struct {
	Version string `json:"version"`
	Part    int    `json:"slot"`
}

// Errors of the updater.
var (
	ErrNotConfirmed = errors.New("update: the running version is on trial; confirm it before writing the other slot (it is the way back)")
	ErrNoKey        = errors.New("update: this image has no update key; it takes no updates")
	ErrNothing      = errors.New("update: nothing staged")
)

// Updater runs the A/B scheme for one box.
type Updater struct {
	boot    Boot
	slots   Slots
	key     ed25519.PublicKey // nil: updates refused
	board   string
	version string
	clk     clock.Clock
	logPath string

	mu        sync.Mutex
	part      int
	trial     bool
	confirmed bool
	staged    *Staged
}

// New reads how this boot came about and the update key; board and
// version are the running firmware's. A boot that is not a trial after a
// trial was asked for is the boot loader's fallback: it is recorded as
// rolled back.
func New(boot Boot, s Slots, board, version, dataDir string, clk clock.Clock) (*Updater, error) {
	u := &Updater{boot: boot, slots: s, board: board, version: version, clk: clk, logPath: filepath.Join(dataDir, "updates.log")}
	if k, err := os.ReadFile(s.KeyFile); err == nil {
		if u.key, err = ParsePublicKey(k); err != nil {
			return nil, fmt.Errorf("%s: %w", s.KeyFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	part, trial, err := boot.Booted()
	if err != nil {
		return nil, err
	}
	if part != s.Parts[0] && part != s.Parts[1] {
		return nil, fmt.Errorf("update: booted from partition %d, not one of the slots %v", part, s.Parts)
	}
	u.part, u.trial, u.confirmed = part, trial, !trial
	hist, err := u.History()
	if err != nil {
		return nil, err
	}
	if last, ok := lastTrial(hist); ok && !trial {
		if err := u.record(Event{What: "rolled back", Version: last.Version, Part: last.Part, Detail: fmt.Sprintf("the trial did not confirm; booted partition %d (%s) again", part, version)}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// lastTrial is the last trial asked for, if nothing ended it yet
// (confirmed or rolled back).
func lastTrial(hist []Event) (Event, bool) {
	for i := len(hist) - 1; i >= 0; i-- {
		switch hist[i].What {
		case "trial":
			return hist[i], true
		case "confirmed", "rolled back":
			return Event{}, false
		}
	}
	return Event{}, false
}

// Expected is, on a trial, the spans that were up before it.
func (u *Updater) Expected() []int {
	hist, _ := u.History()
	last, _ := lastTrial(hist)
	return last.Spans
}

// Status reports the running slot and what waits.
func (u *Updater) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return Status{Version: u.version, Part: u.part, Trial: u.trial, Confirmed: u.confirmed, Staged: u.staged}
}

func (u *Updater) other() int {
	if u.part == u.slots.Parts[0] {
		return u.slots.Parts[1]
	}
	return u.slots.Parts[0]
}

// Apply checks a bundle and writes its payload to the other slot. The
// signature is checked before anything is written; the payload's digest
// before the slot is marked staged.
func (u *Updater) Apply(r io.Reader) (Manifest, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	m, err := u.apply(r)
	if err != nil {
		u.record(Event{What: "refused", Version: m.Version, Detail: err.Error()})
		return m, err
	}
	u.staged = &Staged{Version: m.Version, Part: u.other()}
	return m, u.record(Event{What: "staged", Version: m.Version, Part: u.other()})
}

func (u *Updater) apply(r io.Reader) (Manifest, error) {
	if u.key == nil {
		return Manifest{}, ErrNoKey
	}
	if !u.confirmed {
		return Manifest{}, ErrNotConfirmed
	}
	b, err := Open(r, u.key)
	if err != nil {
		return Manifest{}, err
	}
	m := b.Manifest
	if m.Board != u.board {
		return m, fmt.Errorf("update: built for board %q, this box is %q", m.Board, u.board)
	}
	u.staged = nil // the other slot is about to hold something else
	dev := fmt.Sprintf(u.slots.Device, u.other())
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return m, err
	}
	defer f.Close()
	if size, err := f.Seek(0, io.SeekEnd); err == nil && size > 0 && size < m.Size {
		return m, fmt.Errorf("update: a payload of %d octets does not fit partition %d (%d octets)", m.Size, u.other(), size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return m, err
	}
	if _, err := io.Copy(f, b); err != nil {
		return m, err
	}
	return m, f.Sync()
}

// Reboot boots the staged slot once, as a trial; spansUp are the spans
// up now, which the new version must bring up again to be kept.
func (u *Updater) Reboot(spansUp []int) error {
	u.mu.Lock()
	staged := u.staged
	u.mu.Unlock()
	if staged == nil {
		return ErrNothing
	}
	if err := u.record(Event{What: "trial", Version: staged.Version, Part: staged.Part, Spans: spansUp}); err != nil {
		return err
	}
	return u.boot.Trial()
}

// Confirm ends a trial with the new version's health check: passed, the
// slot becomes the one every boot uses; failed, it is recorded and
// returned, and the caller stops and calls Fallback. Outside a trial it
// does nothing.
func (u *Updater) Confirm(health error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.trial || u.confirmed {
		return nil
	}
	if health != nil {
		return errors.Join(health, u.record(Event{What: "failed", Version: u.version, Part: u.part, Detail: health.Error()}))
	}
	if err := u.boot.Commit(u.part); err != nil {
		return err
	}
	u.confirmed = true
	return u.record(Event{What: "confirmed", Version: u.version, Part: u.part})
}

// Fallback reboots into the committed slot (after a failed trial).
func (u *Updater) Fallback() error { return u.boot.Reboot() }

// record appends e to the history and syncs it.
func (u *Updater) record(e Event) error {
	e.Time = u.clk.Now().UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(u.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// History is the recorded events, oldest first; a torn last line (a
// power cut mid-write) is left out.
func (u *Updater) History() ([]Event, error) {
	b, err := os.ReadFile(u.logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	for l := range bytes.Lines(b) {
		var e Event
		if bytes.HasSuffix(l, []byte("\n")) && json.Unmarshal(l, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}
