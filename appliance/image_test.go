package appliance_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/update"
)

// The image test: scripts/image.sh builds the QEMU image (the one test
// that needs the image tooling: qemu-system-arm, mtools, dosfstools,
// fdisk, e2fsprogs, cpio), and this test plays the Raspberry Pi
// firmware's part between boots: it reads autoboot.txt and the trial flag
// from partition 1, boots the chosen slot's kernel and initramfs once,
// and does it again when the guest reboots (QEMU runs with -no-reboot).
// Run alone: go test -run TestImage -v ./appliance

const (
	mib       = 1 << 20
	autoboot  = 1 * mib   // partition 1's offset
	slotA     = 17 * mib  // partition 2
	slotB     = 177 * mib // partition 3
	adminPass = "technician-1"
)

func need(t *testing.T) {
	for prog, pkg := range map[string]string{"qemu-system-aarch64": "qemu-system-arm", "mcopy": "mtools", "mkfs.vfat": "dosfstools", "sfdisk": "fdisk", "mkfs.ext4": "e2fsprogs", "cpio": "cpio"} {
		testenv.LookPath(t, prog, pkg)
	}
	if testing.Short() {
		t.Skip("builds and boots an image")
	}
}

// image runs scripts/image.sh into dir with VERSION set.
func image(t *testing.T, dir, version string, args ...string) {
	t.Helper()
	if !slices.Contains(args, "--board") {
		args = append(args, "--board", "qemu")
	}
	cmd := exec.Command("bash", append([]string{"../scripts/image.sh", "--out", dir}, args...)...)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("image.sh: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// vm is the disk and the boots of one QEMU guest.
type vm struct {
	t       *testing.T
	dir     string
	disk    string
	stick   string // a second disk: the "USB stick" with an update bundle
	sip     string // the host's end of the guest's SIP port
	console *testenv.Buffer
	pos     int // how far expect has read the console
	in      io.WriteCloser
	cmd     *exec.Cmd
	done    chan error
	booted  int
	started time.Time
}

func mtools(t *testing.T, args ...string) ([]byte, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return out, err
}

// powerOn is the firmware: [tryboot]'s partition once if the trial flag
// is there (the guest's update.Emulated leaves it), else [all]'s.
func (v *vm) powerOn(extra string) {
	t := v.t
	part := fmt.Sprintf("%s@@%d", v.disk, autoboot)
	text, err := mtools(t, "mtype", "-i", part, "::autoboot.txt")
	if err != nil {
		t.Fatalf("autoboot.txt: %v %s", err, text)
	}
	a, err := update.ParseAutoboot(text)
	if err != nil {
		t.Fatal(err)
	}
	boot, trial := a.Part, false
	if _, err := mtools(t, "mdel", "-i", part, "::tryboot"); err == nil {
		boot, trial = a.Try, true
	}
	off := map[int]int{2: slotA, 3: slotB}[boot]
	slot := fmt.Sprintf("%s@@%d", v.disk, off)
	for _, f := range []string{"vmlinuz", "jinyin.cpio.gz", "cmdline.txt"} {
		if out, err := mtools(t, "mcopy", "-o", "-i", slot, "::"+f, filepath.Join(v.dir, f)); err != nil {
			t.Fatalf("slot %d: %s: %v %s", boot, f, err, out)
		}
	}
	cmdline, _ := os.ReadFile(filepath.Join(v.dir, "cmdline.txt"))
	args := fmt.Sprintf("%s jinyin.boot=%d %s", strings.TrimSpace(string(cmdline)), boot, extra)
	if trial {
		args += " jinyin.tryboot=1"
	}
	qemu := []string{"-M", "virt", "-cpu", "cortex-a57", "-smp", "2", "-m", "512", "-nographic", "-no-reboot",
		"-kernel", filepath.Join(v.dir, "vmlinuz"), "-initrd", filepath.Join(v.dir, "jinyin.cpio.gz"), "-append", args,
		"-drive", "file=" + v.disk + ",format=raw,if=virtio",
		"-netdev", "user,id=n0,hostfwd=udp:" + v.sip + "-10.0.2.15:5060", "-device", "virtio-net-pci,netdev=n0,romfile=",
		"-device", "i6300esb"}
	if v.stick != "" {
		qemu = append(qemu, "-drive", "file="+v.stick+",format=raw,if=virtio,readonly=on")
	}
	v.cmd = exec.Command("qemu-system-aarch64", qemu...)
	v.console, v.pos = &testenv.Buffer{}, 0
	v.cmd.Stdout, v.cmd.Stderr = v.console, v.console
	v.in, _ = v.cmd.StdinPipe()
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v.booted = boot
	v.done = make(chan error, 1)
	go func() { v.done <- v.cmd.Wait() }()
	t.Logf("booted slot %d (trial %v)", boot, trial)
}

func (v *vm) stop() {
	if v.cmd != nil && v.cmd.ProcessState == nil {
		v.cmd.Process.Kill()
		<-v.done
	}
}

// expect waits for s on the console, after what expect read before.
func (v *vm) expect(s string, within time.Duration) {
	v.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if i := strings.Index(v.console.String()[v.pos:], s); i >= 0 {
			v.pos += i + len(s)
			return
		}
	}
	v.t.Fatalf("no %q on the console within %v; console:\n%s", s, within, v.console.String())
}

// send types a line on the console.
func (v *vm) send(line string) {
	for _, c := range line + "\r" {
		v.in.Write([]byte(string(c)))
		time.Sleep(2 * time.Millisecond)
	}
}

// waitExit waits for the guest to reboot (QEMU ends with -no-reboot).
func (v *vm) waitExit(within time.Duration) {
	v.t.Helper()
	select {
	case <-v.done:
		v.cmd = nil
	case <-time.After(within):
		v.t.Fatalf("the guest did not reboot within %v; console:\n%s", within, v.console.String())
	}
}

// options sends SIP OPTIONS until a 200 comes back, and returns how long
// after QEMU's start it came.
func (v *vm) options(within time.Duration) time.Duration {
	v.t.Helper()
	c, err := net.Dial("udp", v.sip)
	if err != nil {
		v.t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		branch := fmt.Sprintf("z9hG4bK%d", time.Now().UnixNano())
		msg := "OPTIONS sip:100@10.0.2.15 SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=" + branch + "\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:100@10.0.2.15>\r\nCall-ID: " + branch + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
			return time.Since(v.started)
		}
	}
	v.t.Fatalf("no answer to OPTIONS within %v; console:\n%s", within, v.console.String())
	return 0
}

// login answers the console: the admin password at first boot (twice),
// then the login.
func (v *vm) login(first bool) {
	v.t.Helper()
	if first {
		v.expect("New password:", time.Minute)
		v.send(adminPass)
		v.expect("Again:", 10*time.Second)
		v.send(adminPass)
	}
	v.expect("login:", time.Minute)
	v.send("admin")
	v.expect("assword:", 10*time.Second)
	v.send(adminPass)
	v.expect("> ", 10*time.Second)
}

// command runs a console command and returns what it printed.
func (v *vm) command(line, want string, within time.Duration) string {
	v.t.Helper()
	mark := v.pos
	v.send(line)
	v.expect(want, within)
	v.expect("> ", within) // the prompt after it: all of it printed
	return v.console.String()[mark:v.pos]
}

func TestImage(t *testing.T) {
	need(t)
	dir := t.TempDir()
	hostJinyin := filepath.Join(dir, "jinyin")
	if out, err := exec.Command("go", "build", "-o", hostJinyin, "../cmd/jinyin").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(hostJinyin, args...).CombinedOutput(); err != nil {
			t.Fatalf("jinyin %v: %v %s", args, err, out)
		}
	}
	run("update", "keygen", "--out", filepath.Join(dir, "k"))
	run("update", "keygen", "--out", filepath.Join(dir, "other"))
	built := time.Now()
	image(t, filepath.Join(dir, "v1"), "1.0.0", "--key", filepath.Join(dir, "k.pub"))
	t.Logf("image built in %v", time.Since(built).Round(time.Second))
	image(t, filepath.Join(dir, "v2"), "2.0.0", "--key", filepath.Join(dir, "k.pub"))
	// A version that cannot start: it listens on an address the box has not.
	image(t, filepath.Join(dir, "bad"), "2.1.0", "--key", filepath.Join(dir, "k.pub"), "--set", "sip.listen=10.9.9.9:5060")
	bundle := func(name, key, slot, version string) string {
		out := filepath.Join(dir, name+".bundle")
		run("update", "sign", "--key", key, "--version", version, "--board", "qemu", "--out", out, slot)
		// A disk is whole 512-octet sectors; what follows the payload is not read.
		f, _ := os.OpenFile(out, os.O_RDWR, 0)
		st, _ := f.Stat()
		f.Truncate((st.Size() + 511) / 512 * 512)
		f.Close()
		return out
	}
	good := bundle("good", filepath.Join(dir, "k.key"), filepath.Join(dir, "v2/jinyin-qemu.slot"), "2.0.0")
	evil := bundle("evil", filepath.Join(dir, "other.key"), filepath.Join(dir, "v2/jinyin-qemu.slot"), "6.6.6")
	failing := bundle("failing", filepath.Join(dir, "k.key"), filepath.Join(dir, "bad/jinyin-qemu.slot"), "2.1.0")

	v := &vm{t: t, dir: dir, disk: filepath.Join(dir, "v1/jinyin-qemu.img"), sip: testenv.FreeAddr(t)}
	t.Cleanup(v.stop)

	// First boot: SIP answers, the console asks for the admin password.
	v.powerOn("")
	t.Logf("boot to SIP answering: %v", v.options(2*time.Minute).Round(100*time.Millisecond))
	v.login(true)
	if out := v.command("update status", "slot 2", 10*time.Second); !strings.Contains(out, "jinyin 1.0.0, slot 2, confirmed") {
		t.Fatalf("status:\n%s", out)
	}
	v.stop()

	// A badly signed bundle is refused and changes nothing.
	v.stick = evil
	v.powerOn("")
	v.login(false)
	if out := v.command("update apply /dev/vdb", "bad signature", 30*time.Second); strings.Contains(out, "written to slot") {
		t.Fatalf("a badly signed update was taken:\n%s", out)
	}
	v.stop()

	// A good one: written to slot 3, booted once as a trial, confirmed.
	v.stick = good
	v.powerOn("")
	v.login(false)
	applied := time.Now()
	v.command("update apply /dev/vdb", "written to slot 3", 2*time.Minute)
	t.Logf("update written in %v", time.Since(applied).Round(100*time.Millisecond))
	v.command("update reboot", "rebooting into the update", 10*time.Second)
	v.waitExit(time.Minute)
	v.stick = ""
	v.powerOn("")
	if v.booted != 3 {
		t.Fatalf("booted slot %d after the update, want 3", v.booted)
	}
	v.options(2 * time.Minute)
	t.Logf("update applied to SIP answering on the new version: %v", time.Since(applied).Round(100*time.Millisecond))
	v.login(false)
	waitStatus := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
			if out := v.command("update status", "slot", 10*time.Second); strings.Contains(out, want) {
				return
			}
		}
		t.Fatalf("no %q in update status; console:\n%s", want, v.console.String())
	}
	waitStatus("jinyin 2.0.0, slot 3, confirmed")
	v.stop()
	v.powerOn("") // a power cut: slot 3 again, no trial
	if v.booted != 3 {
		t.Fatalf("booted slot %d after confirming, want 3", v.booted)
	}
	v.stop()

	// One that cannot start: the trial is not confirmed in time, init
	// reboots, and the firmware's fallback brings 2.0.0 back.
	v.stick = failing
	v.powerOn("")
	v.login(false)
	v.command("update apply /dev/vdb", "written to slot 2", 2*time.Minute)
	v.command("update reboot", "rebooting into the update", 10*time.Second)
	v.waitExit(time.Minute)
	v.stick = ""
	v.powerOn("jinyin.trialwait=20s")
	if v.booted != 2 {
		t.Fatalf("the trial booted slot %d, want 2", v.booted)
	}
	v.waitExit(2 * time.Minute) // init gives up on the trial
	v.powerOn("")
	if v.booted != 3 {
		t.Fatalf("after a failed trial booted slot %d, want 3", v.booted)
	}
	v.options(2 * time.Minute)
	v.login(false)
	out := v.command("update status", "slot 3", 10*time.Second)
	if !strings.Contains(out, "jinyin 2.0.0, slot 3, confirmed") || !strings.Contains(out, "rolled back") {
		t.Fatalf("after the fallback:\n%s", out)
	}
}

// The CM4 image has the layout the Pi firmware's tryboot A/B needs and
// what a Pi 4 boot slot holds. (It boots on the carrier only: QEMU has no
// CM4 firmware to run it.)
func TestCM4Image(t *testing.T) {
	need(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.pub"), []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o644)
	image(t, dir, "1.0.0", "--board", "cm4", "--key", filepath.Join(dir, "k.pub"))
	img := filepath.Join(dir, "jinyin-cm4.img")
	table, err := exec.Command("sfdisk", "-d", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"start=        2048, size=       32768, type=c", "start=       34816, size=      327680, type=c",
		"start=      362496, size=      327680, type=c", "start=      690176, size=      524288, type=83"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("no %q in the partition table:\n%s", want, table)
		}
	}
	ab, _ := mtools(t, "mtype", "-i", fmt.Sprintf("%s@@%d", img, autoboot), "::autoboot.txt")
	if a, err := update.ParseAutoboot(ab); err != nil || a != (update.Autoboot{Part: 2, Try: 3}) || !bytes.Contains(ab, []byte("tryboot_a_b=1")) {
		t.Errorf("autoboot.txt %q: %v", ab, err)
	}
	for _, off := range []int{slotA, slotB} {
		slot := fmt.Sprintf("%s@@%d", img, off)
		list, _ := mtools(t, "mdir", "-b", "-i", slot, "::")
		for _, f := range []string{"start4.elf", "fixup4.dat", "bcm2711-rpi-cm4.dtb", "vmlinuz", "overlays", "config.txt", "cmdline.txt", "jinyin.cpio.gz"} {
			if !bytes.Contains(list, []byte("::/"+f)) {
				t.Errorf("slot at %d MiB has no %s", off/mib, f)
			}
		}
		cfg, _ := mtools(t, "mtype", "-i", slot, "::config.txt")
		cmd, _ := mtools(t, "mtype", "-i", slot, "::cmdline.txt")
		for _, want := range []string{"arm_64bit=1", "initramfs jinyin.cpio.gz followkernel", "enable_uart=1", "dtparam=watchdog=on"} {
			if !bytes.Contains(cfg, []byte(want)) {
				t.Errorf("config.txt lacks %q:\n%s", want, cfg)
			}
		}
		if !bytes.Contains(cmd, []byte("jinyin.data=/dev/mmcblk0p4")) || !bytes.Contains(cmd, []byte("console=ttyAMA0,115200")) {
			t.Errorf("cmdline.txt %q", cmd)
		}
	}
}
