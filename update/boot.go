package update

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"jinyin/internal/fsutil"
)

// Boot is where this boot came from and how the next one is chosen: the
// boot loader's side of the A/B scheme.
type Boot interface {
	// Booted is the boot partition this boot came from, and whether it
	// is the one trial boot of a new slot.
	Booted() (part int, trial bool, err error)
	// Commit makes part the partition every boot uses, and the other the
	// one a trial boot uses.
	Commit(part int) error
	// Trial reboots once into the other partition; a boot after that
	// one, whatever happens to it, is the committed partition again.
	Trial() error
	// Reboot reboots into the committed partition.
	Reboot() error
}

// Autoboot is the Raspberry Pi firmware's autoboot.txt for A/B boots:
//
//	[all]
//	tryboot_a_b=1
//	boot_partition=2
//	[tryboot]
//	boot_partition=3
//
// (Raspberry Pi's documentation, "autoboot.txt": with tryboot_a_b the
// partitions are whole boot slots, config.txt and the kernel included).
type Autoboot struct {
	Part, Try int
}

// String is the file.
func (a Autoboot) String() string {
	return fmt.Sprintf("[all]\ntryboot_a_b=1\nboot_partition=%d\n[tryboot]\nboot_partition=%d\n", a.Part, a.Try)
}

// ParseAutoboot reads autoboot.txt: boot_partition in [all] (or before
// any section) and in [tryboot]; other keys and sections are ignored.
func ParseAutoboot(text []byte) (Autoboot, error) {
	var a Autoboot
	section := "all"
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == '#':
		case l[0] == '[' && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || strings.TrimSpace(k) != "boot_partition" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > 63 {
				return a, fmt.Errorf("update: autoboot.txt: boot_partition %q", v)
			}
			switch section {
			case "all":
				a.Part = n
			case "tryboot":
				a.Try = n
			}
		}
	}
	if a.Part == 0 || a.Try == 0 || a.Part == a.Try {
		return a, errors.New("update: autoboot.txt names no two boot partitions ([all] and [tryboot] boot_partition)")
	}
	return a, nil
}

// Pi is the Raspberry Pi firmware's tryboot: the partition and the
// tryboot flag from the device tree the firmware hands the kernel, the
// trial by a reboot with the argument "0 tryboot", autoboot.txt in the
// first (FAT) partition, mounted at BootDir.
type Pi struct {
	BootDir string // where the partition holding autoboot.txt is mounted
	Root    string // "" on a box; a directory standing for / in the tests
	reboot  func(arg string) error
}

// Booted reads /proc/device-tree/chosen/bootloader/{partition,tryboot}
// (big-endian 32-bit cells, as the firmware writes them).
func (p *Pi) Booted() (int, bool, error) {
	dir := filepath.Join(p.Root, "/proc/device-tree/chosen/bootloader")
	part, err := cell(filepath.Join(dir, "partition"))
	if err != nil {
		return 0, false, err
	}
	try, err := cell(filepath.Join(dir, "tryboot"))
	if errors.Is(err, os.ErrNotExist) {
		try, err = 0, nil // a firmware without tryboot
	}
	return int(part), try == 1, err
}

func cell(path string) (uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("update: %s: %d octets, not a 32-bit cell", path, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

// Commit rewrites autoboot.txt (a new file renamed over the old one,
// synced, so a power cut leaves the old file or the new one).
func (p *Pi) Commit(part int) error { return commit(p.BootDir, part) }

// Trial reboots with "0 tryboot": the firmware boots [tryboot]'s
// partition once.
func (p *Pi) Trial() error { return p.reboot("0 tryboot") }

// Reboot restarts into the committed partition.
func (p *Pi) Reboot() error { return p.reboot("") }

func commit(bootDir string, part int) error {
	path := filepath.Join(bootDir, "autoboot.txt")
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	a, err := ParseAutoboot(old)
	if err != nil {
		return err
	}
	if part != a.Part && part != a.Try {
		return fmt.Errorf("update: partition %d is not a boot slot (autoboot.txt has %d and %d)", part, a.Part, a.Try)
	}
	if part == a.Part {
		return nil
	}
	a.Part, a.Try = a.Try, a.Part
	return rewrite(path, old, []byte(a.String()))
}

// rewrite replaces a FAT file's contents. Swapping the partitions leaves
// the file its size (one digit for another), so it is written in place:
// one sector's data, no FAT or directory change that a power cut could
// leave half done (a rename on a FAT partition changes both, and the
// image test found the partition unreadable after a cut that followed
// one). Then everything is synced.
func rewrite(path string, old, text []byte) error {
	if len(text) != len(old) {
		err := fsutil.WriteFileAtomic(path, text, 0o644)
		syscall.Sync()
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(text, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	syscall.Sync()
	return err
}

// Emulated is the same scheme where a harness plays the firmware (the
// QEMU image's test): the partition and the trial flag come on the kernel
// command line (jinyin.boot=N, jinyin.tryboot=1), and a trial is asked
// for by a file "tryboot" beside autoboot.txt that the harness reads and
// removes before it boots the [tryboot] partition once.
type Emulated struct {
	BootDir string
	Root    string
	reboot  func(arg string) error
}

// Booted reads /proc/cmdline.
func (e *Emulated) Booted() (int, bool, error) {
	b, err := os.ReadFile(filepath.Join(e.Root, "/proc/cmdline"))
	if err != nil {
		return 0, false, err
	}
	part, trial := 0, false
	for _, f := range strings.Fields(string(b)) {
		switch k, v, _ := strings.Cut(f, "="); k {
		case "jinyin.boot":
			part, _ = strconv.Atoi(v)
		case "jinyin.tryboot":
			trial = v == "1"
		}
	}
	if part == 0 {
		return 0, false, errors.New("update: no jinyin.boot= on the kernel command line")
	}
	return part, trial, nil
}

// Commit rewrites autoboot.txt as on a Pi.
func (e *Emulated) Commit(part int) error { return commit(e.BootDir, part) }

// Trial leaves the flag for the harness and reboots.
func (e *Emulated) Trial() error {
	if err := fsutil.WriteFileAtomic(filepath.Join(e.BootDir, "tryboot"), []byte("1\n"), 0o644); err != nil {
		return err
	}
	return e.reboot("")
}

// Reboot restarts into the committed partition.
func (e *Emulated) Reboot() error { return e.reboot("") }

// BootedSlot says which boot slot this machine booted from, and whether
// on trial, for `jinyin version`: "" when no boot loader says (not the
// box's own image). Whether a trial was confirmed is the running box's
// to say (/status, the console).
func BootedSlot() string {
	for _, b := range []Boot{&Pi{}, &Emulated{}} {
		if part, trial, err := b.Booted(); err == nil && part > 0 {
			if trial {
				return fmt.Sprintf("boot slot %d, on trial", part)
			}
			return fmt.Sprintf("boot slot %d", part)
		}
	}
	return ""
}
