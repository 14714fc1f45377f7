package update

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutoboot(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Autoboot
		ok   bool
	}{
		{"[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n", Autoboot{2, 3}, true},
		{"# keys before any section are [all]'s\nboot_partition=3\ntryboot_a_b=1\n\n[tryboot]\n boot_partition = 2 \n", Autoboot{3, 2}, true},
		{"[all]\nboot_partition=2\n[none]\nboot_partition=9\n[tryboot]\nboot_partition=3\n", Autoboot{2, 3}, true},
		{"[all]\nboot_partition=2\n", Autoboot{}, false},                               // no tryboot slot
		{"[all]\nboot_partition=2\n[tryboot]\nboot_partition=2\n", Autoboot{}, false},  // the same one twice
		{"[all]\nboot_partition=x\n[tryboot]\nboot_partition=3\n", Autoboot{}, false},  // not a number
		{"[all]\nboot_partition=64\n[tryboot]\nboot_partition=3\n", Autoboot{}, false}, // out of range
		{"[all]\nboot_partition=0\n[tryboot]\nboot_partition=3\n", Autoboot{}, false},
		{"", Autoboot{}, false},
	} {
		got, err := ParseAutoboot([]byte(tc.text))
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.text, got, err, tc.want)
		}
	}
	// What String writes, the firmware's documented form, parses back.
	a := Autoboot{3, 2}
	if !strings.Contains(a.String(), "tryboot_a_b=1\n") {
		t.Errorf("no tryboot_a_b in %q", a)
	}
	if got, err := ParseAutoboot([]byte(a.String())); err != nil || got != a {
		t.Errorf("round trip %+v %v", got, err)
	}
}

func writeCell(t *testing.T, path string, v uint32) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, binary.BigEndian.AppendUint32(nil, v), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPi(t *testing.T) {
	root, boot := t.TempDir(), t.TempDir()
	var rebooted []string
	p := &Pi{BootDir: boot, Root: root, reboot: func(arg string) error { rebooted = append(rebooted, arg); return nil }}
	dt := filepath.Join(root, "proc/device-tree/chosen/bootloader")
	if _, _, err := p.Booted(); err == nil {
		t.Error("booted with no device tree")
	}
	writeCell(t, filepath.Join(dt, "partition"), 3)
	if part, trial, err := p.Booted(); err != nil || part != 3 || trial {
		t.Errorf("no tryboot cell: %d %v %v", part, trial, err)
	}
	writeCell(t, filepath.Join(dt, "tryboot"), 1)
	if part, trial, err := p.Booted(); err != nil || part != 3 || !trial {
		t.Errorf("%d %v %v", part, trial, err)
	}
	writeCell(t, filepath.Join(dt, "tryboot"), 0)
	if _, trial, _ := p.Booted(); trial {
		t.Error("tryboot 0 read as a trial")
	}
	os.WriteFile(filepath.Join(dt, "partition"), []byte{0, 3}, 0o644)
	if _, _, err := p.Booted(); err == nil {
		t.Error("a 2-octet cell taken")
	}

	os.WriteFile(filepath.Join(boot, "autoboot.txt"), []byte(Autoboot{2, 3}.String()), 0o644)
	if err := p.Commit(3); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(boot, "autoboot.txt")); string(b) != (Autoboot{3, 2}).String() {
		t.Errorf("after committing 3: %q", b)
	}
	if err := p.Commit(3); err != nil { // already so: nothing to do
		t.Error(err)
	}
	if err := p.Commit(4); err == nil {
		t.Error("committed a partition that is not a slot")
	}
	p.Trial()
	p.Reboot()
	if strings.Join(rebooted, "|") != "0 tryboot|" {
		t.Errorf("reboots %q", rebooted)
	}
}

func TestEmulated(t *testing.T) {
	root, boot := t.TempDir(), t.TempDir()
	var rebooted []string
	e := &Emulated{BootDir: boot, Root: root, reboot: func(arg string) error { rebooted = append(rebooted, arg); return nil }}
	os.MkdirAll(filepath.Join(root, "proc"), 0o755)
	for _, tc := range []struct {
		cmdline string
		part    int
		trial   bool
		ok      bool
	}{
		{"console=ttyAMA0 jinyin.boot=3 jinyin.tryboot=1 quiet", 3, true, true},
		{"jinyin.boot=2", 2, false, true},
		{"jinyin.boot=2 jinyin.tryboot=0", 2, false, true},
		{"console=ttyAMA0", 0, false, false},
	} {
		os.WriteFile(filepath.Join(root, "proc/cmdline"), []byte(tc.cmdline+"\n"), 0o644)
		part, trial, err := e.Booted()
		if (err == nil) != tc.ok || part != tc.part || trial != tc.trial {
			t.Errorf("%q: %d %v %v", tc.cmdline, part, trial, err)
		}
	}
	if err := e.Trial(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(boot, "tryboot")); err != nil {
		t.Error("no tryboot flag left for the harness")
	}
	e.Reboot()
	if len(rebooted) != 2 || rebooted[0] != "" || rebooted[1] != "" {
		t.Errorf("reboots %q", rebooted)
	}
}
