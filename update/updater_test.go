package update

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// box is a board in a directory: two slot "partitions" of 64 KiB (files
// of a fixed size, as block devices are), the boot partition with
// autoboot.txt, /proc/cmdline, and the data directory. powerOn plays
// the boot loader as the Pi's does with tryboot_a_b: a trial boot once
// if asked, else autoboot.txt's partition.
type box struct {
	t               *testing.T
	dir, boot, data string
	root            string
	slots           Slots
	pub             ed25519.PublicKey
	priv            ed25519.PrivateKey
	clk             *clock.Fake
	reboots         int
	version         map[int]string // the factory images' versions
	booted          int
	trial           bool
}

const partSize = 64 << 10

func newBox(t *testing.T) *box {
	dir := t.TempDir()
	b := &box{t: t, dir: dir, boot: filepath.Join(dir, "boot"), data: filepath.Join(dir, "data"), root: filepath.Join(dir, "root"),
		clk: clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)), version: map[int]string{2: "1.0.0", 3: "0.9.0"}}
	for _, d := range []string{b.boot, b.data, filepath.Join(b.root, "proc"), filepath.Join(b.root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []int{2, 3} {
		if err := os.WriteFile(b.part(p), make([]byte, partSize), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(b.boot, "autoboot.txt"), []byte(Autoboot{2, 3}.String()), 0o644)
	b.pub, b.priv, _ = ed25519.GenerateKey(nil)
	key := filepath.Join(b.root, "etc/update.pub")
	os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString(b.pub)+"\n"), 0o644)
	b.slots = Slots{Loader: "emulated", Parts: [2]int{2, 3}, Device: filepath.Join(dir, "p%d"), BootDir: b.boot, KeyFile: key}
	b.powerOn()
	return b
}

func (b *box) part(p int) string { return filepath.Join(b.dir, fmt.Sprintf("p%d", p)) }

// powerOn is the firmware choosing the partition.
func (b *box) powerOn() {
	a, err := ParseAutoboot(must(os.ReadFile(filepath.Join(b.boot, "autoboot.txt"))))
	if err != nil {
		b.t.Fatal(err)
	}
	b.booted, b.trial = a.Part, false
	if os.Remove(filepath.Join(b.boot, "tryboot")) == nil {
		b.booted, b.trial = a.Try, true
	}
	cmd := fmt.Sprintf("console=ttyAMA0 jinyin.boot=%d", b.booted)
	if b.trial {
		cmd += " jinyin.tryboot=1"
	}
	os.WriteFile(filepath.Join(b.root, "proc/cmdline"), []byte(cmd+"\n"), 0o644)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// start runs the firmware in the booted partition: the version its
// payload says, or the test's table for the factory image.
func (b *box) start() *Updater {
	b.t.Helper()
	e := &Emulated{BootDir: b.boot, Root: b.root, reboot: func(string) error { b.reboots++; b.powerOn(); return nil }}
	v := b.version[b.booted]
	if img := must(os.ReadFile(b.part(b.booted))); bytes.HasPrefix(img, []byte("firmware ")) {
		v = strings.Fields(string(img))[1]
	}
	u, err := New(e, b.slots, "cm4", v, b.data, b.clk)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

func (b *box) bundle(version string, m Manifest) []byte {
	m.Version = version
	if m.Board == "" {
		m.Board = "cm4"
	}
	return bundle(b.t, b.priv, m, []byte("firmware "+version+" "+strings.Repeat("x", 1000)))
}

func whats(t *testing.T, u *Updater) string {
	t.Helper()
	h, err := u.History()
	if err != nil {
		t.Fatal(err)
	}
	var w []string
	for _, e := range h {
		w = append(w, e.What+" "+e.Version)
	}
	return strings.Join(w, ", ")
}

// A good update: staged in the other slot, booted once, confirmed by its
// health check, and then every boot is the new slot.
func TestUpdateConfirmed(t *testing.T) {
	b := newBox(t)
	u := b.start()
	if s := u.Status(); s.Part != 2 || s.Trial || !s.Confirmed || s.Version != "1.0.0" {
		t.Fatalf("factory status %+v", s)
	}
	if err := u.Reboot(nil); !errors.Is(err, ErrNothing) {
		t.Errorf("reboot with nothing staged: %v", err)
	}
	if _, err := u.Apply(bytes.NewReader(b.bundle("1.1.0", Manifest{}))); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Staged == nil || s.Staged.Part != 3 || s.Staged.Version != "1.1.0" {
		t.Errorf("staged %+v", s.Staged)
	}
	if img := must(os.ReadFile(b.part(3))); !bytes.HasPrefix(img, []byte("firmware 1.1.0 ")) {
		t.Errorf("slot 3 holds %q", img[:20])
	}
	if err := u.Reboot([]int{1, 2}); err != nil {
		t.Fatal(err)
	}
	u = b.start()
	if s := u.Status(); s.Part != 3 || !s.Trial || s.Confirmed || s.Version != "1.1.0" {
		t.Fatalf("trial status %+v", s)
	}
	if got := u.Expected(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("spans expected up %v, want [1 2]", got)
	}
	if _, err := u.Apply(bytes.NewReader(b.bundle("1.2.0", Manifest{}))); !errors.Is(err, ErrNotConfirmed) {
		t.Errorf("apply on trial: %v", err)
	}
	if img := must(os.ReadFile(b.part(2))); bytes.HasPrefix(img, []byte("firmware 1.2.0")) {
		t.Error("the way back was overwritten during a trial")
	}
	if err := u.Confirm(nil); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); !s.Confirmed || s.Part != 3 {
		t.Errorf("after confirming %+v", s)
	}
	b.powerOn() // a power cut, a reboot: slot 3 again, not as a trial
	u = b.start()
	if s := u.Status(); s.Part != 3 || s.Trial || s.Version != "1.1.0" {
		t.Errorf("after a reboot %+v", s)
	}
	if got := whats(t, u); got != "staged 1.1.0, trial 1.1.0, refused , confirmed 1.1.0" {
		t.Errorf("history: %s", got)
	}
}

// A trial whose health check fails reboots, and the boot loader brings
// the old slot back; so does a trial that never answers (a hang the
// watchdog resets).
func TestUpdateRolledBack(t *testing.T) {
	for _, hang := range []bool{false, true} {
		b := newBox(t)
		u := b.start()
		if _, err := u.Apply(bytes.NewReader(b.bundle("1.1.0", Manifest{}))); err != nil {
			t.Fatal(err)
		}
		u.Reboot(nil)
		u = b.start()
		if hang {
			b.powerOn() // the watchdog: a plain reset
		} else {
			if err := u.Confirm(errors.New("SIP not listening")); err == nil || !strings.Contains(err.Error(), "SIP not listening") {
				t.Errorf("failed health: %v", err)
			}
			if a, _ := ParseAutoboot(must(os.ReadFile(filepath.Join(b.boot, "autoboot.txt")))); a != (Autoboot{2, 3}) {
				t.Errorf("a failed trial committed: %+v", a)
			}
			u.Fallback()
		}
		u = b.start()
		if s := u.Status(); s.Part != 2 || s.Trial || !s.Confirmed || s.Version != "1.0.0" {
			t.Errorf("hang %v: after the fallback %+v", hang, s)
		}
		want := "staged 1.1.0, trial 1.1.0, failed 1.1.0, rolled back 1.1.0"
		if hang {
			want = "staged 1.1.0, trial 1.1.0, rolled back 1.1.0"
		}
		if got := whats(t, u); got != want {
			t.Errorf("hang %v: history %s", hang, got)
		}
		if a, _ := ParseAutoboot(must(os.ReadFile(filepath.Join(b.boot, "autoboot.txt")))); a != (Autoboot{2, 3}) {
			t.Errorf("autoboot changed by a failed trial: %+v", a)
		}
	}
}

// What is refused leaves both slots as they were.
func TestUpdateRefused(t *testing.T) {
	b := newBox(t)
	u := b.start()
	_, other, _ := ed25519.GenerateKey(nil)
	big := bundle(t, b.priv, Manifest{Version: "2.0.0", Board: "cm4"}, bytes.Repeat([]byte("x"), partSize+1))
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"badly signed":    {bundle(t, other, Manifest{Version: "6.6.6", Board: "cm4"}, []byte("firmware evil")), ErrSignature},
		"another board":   {b.bundle("1.1.0", Manifest{Board: "imx6"}), nil},
		"too big":         {big, nil},
		"payload altered": {bytes.Replace(b.bundle("1.1.0", Manifest{}), []byte("xxx"), []byte("xyx"), 1), ErrPayload},
	} {
		before := must(os.ReadFile(b.part(3)))
		_, err := u.Apply(bytes.NewReader(tc.b))
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", name, err)
		}
		if u.Status().Staged != nil {
			t.Errorf("%s: staged", name)
		}
		if tc.want == ErrSignature && !bytes.Equal(before, must(os.ReadFile(b.part(3)))) {
			t.Errorf("%s: the other slot was written", name)
		}
	}
	if !bytes.Equal(must(os.ReadFile(b.part(2)))[:16], make([]byte, 16)) {
		t.Error("the running slot was written")
	}
	if err := u.Reboot(nil); !errors.Is(err, ErrNothing) {
		t.Errorf("reboot into a refused update: %v", err)
	}
	h, _ := u.History()
	if len(h) != 4 {
		t.Errorf("%d events for 4 refusals", len(h))
	}
	for _, e := range h {
		if e.What != "refused" || e.Detail == "" {
			t.Errorf("%+v", e)
		}
	}
}

func TestNoKey(t *testing.T) {
	b := newBox(t)
	os.Remove(b.slots.KeyFile)
	u := b.start()
	if _, err := u.Apply(bytes.NewReader(b.bundle("1.1.0", Manifest{}))); !errors.Is(err, ErrNoKey) {
		t.Errorf("%v", err)
	}
	os.WriteFile(b.slots.KeyFile, []byte("not a key\n"), 0o644)
	if _, err := New(&Emulated{BootDir: b.boot, Root: b.root}, b.slots, "cm4", "1", b.data, b.clk); err == nil {
		t.Error("a garbage key taken")
	}
}

// A torn last line (a power cut while recording) is left out, the rest
// kept.
func TestHistoryTorn(t *testing.T) {
	b := newBox(t)
	u := b.start()
	u.Apply(bytes.NewReader(b.bundle("1.1.0", Manifest{})))
	f, _ := os.OpenFile(filepath.Join(b.data, "updates.log"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026-12-03T02:00:00Z","what":"tri`)
	f.Close()
	if got := whats(t, u); got != "staged 1.1.0" {
		t.Errorf("history %s", got)
	}
}
