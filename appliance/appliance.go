// Package appliance is the box as PID 1 of its own image: it mounts what
// the kernel does not (proc, sys, dev, the boot partition with
// autoboot.txt, the data partition), then runs `jinyin run` as a child
// and starts it again whenever it stops, so a crash costs seconds and not
// the box. The network is the kernel's own (the ip= parameter on the
// command line), the root the initramfs in the boot slot: nothing the box
// writes outside DATA survives a reboot, so the root is read-only in
// effect, and the slot itself is only ever written whole, by an update.
//
// Chosen over gokrazy's init, which the issue names: gokrazy's init
// expects its own partition layout (root squashfs on partition 2 or 3,
// its /perm on 4, its updater and web password), while this image's A/B
// slots are the Raspberry Pi firmware's tryboot slots (see update); the
// jobs left for an init (mounts, a supervisor loop, reaping) are a page.
//
// Layer: the command line's; the standard library only.
package appliance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// Options are read from the kernel command line (jinyin.NAME=VALUE).
type Options struct {
	BootFS string // the partition holding autoboot.txt: jinyin.bootfs (/dev/mmcblk0p1)
	Data   string // the data partition: jinyin.data (/dev/mmcblk0p4)
	// LogConsole sends the box's log to the console (jinyin.log=console)
	// instead of the kernel's log buffer, where it stays off the
	// technician's console.
	LogConsole bool
	// Trial is a boot on trial (jinyin.tryboot=1, or the Pi firmware's
	// tryboot flag), and TrialWait how long it has to be confirmed
	// (jinyin.trialwait, 5 minutes) before init reboots into the old slot:
	// a new version that cannot even start is not kept waiting for.
	Trial     bool
	TrialWait time.Duration
}

// ParseCmdline reads the options from /proc/cmdline's text.
func ParseCmdline(cmdline string) Options {
	o := Options{BootFS: "/dev/mmcblk0p1", Data: "/dev/mmcblk0p4", TrialWait: 5 * time.Minute}
	for _, f := range strings.Fields(cmdline) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "jinyin.bootfs":
			o.BootFS = v
		case "jinyin.data":
			o.Data = v
		case "jinyin.log":
			o.LogConsole = v == "console"
		case "jinyin.tryboot":
			o.Trial = v == "1"
		case "jinyin.trialwait":
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				o.TrialWait = d
			}
		}
	}
	return o
}

// mount is one mount of the start-up.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
	required               bool
}

func mounts(o Options) []mount {
	return []mount{
		{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", true},
		{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", true},
		{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", true},
		{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "gid=5,mode=620", false},
		{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", true},
		{o.BootFS, "/boot", "vfat", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", false},
		{o.Data, "/data", "ext4", syscall.MS_NOSUID | syscall.MS_NODEV, "", true},
	}
}

// Init is PID 1: it never returns. self is the jinyin binary, args what
// `jinyin run` gets.
func Init(self string, args []string, console io.Writer) {
	cmdline, _ := os.ReadFile("/proc/cmdline")
	if len(cmdline) == 0 {
		syscall.Mount("proc", "/proc", "proc", 0, "")
		cmdline, _ = os.ReadFile("/proc/cmdline")
	}
	o := ParseCmdline(string(cmdline))
	for _, m := range mounts(o) {
		os.MkdirAll(m.target, 0o755)
		if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil && err != syscall.EBUSY {
			fmt.Fprintf(console, "jinyin init: mount %s on %s: %v\n", m.source, m.target, err)
			if m.required && m.target == "/data" {
				fmt.Fprintln(console, "jinyin init: no data partition: the box runs with its data in RAM (nothing it records survives a reboot)")
			}
		}
	}
	if !o.Trial {
		o.Trial = piTryboot()
	}
	if o.Trial {
		go trialDeadline(o.TrialWait, console)
	}
	logTo := os.Stdout
	if !o.LogConsole {
		if k := kmsg(); k != nil {
			logTo = k
		}
	}
	supervise(self, append([]string{"run"}, args...), logTo, console)
}

// piTryboot reads the Pi firmware's tryboot flag from the device tree.
func piTryboot() bool {
	b, err := os.ReadFile("/proc/device-tree/chosen/bootloader/tryboot")
	return err == nil && len(b) == 4 && b[3] == 1
}

// trialDeadline reboots a trial that is not confirmed in time: the next
// boot is the committed slot.
func trialDeadline(wait time.Duration, console io.Writer) {
	time.Sleep(wait)
	hist, _ := os.ReadFile("/data/updates.log")
	lines := strings.Split(strings.TrimSpace(string(hist)), "\n")
	if strings.Contains(lines[len(lines)-1], `"what":"confirmed"`) {
		return
	}
	fmt.Fprintf(console, "jinyin init: the update on trial was not confirmed within %v; rebooting into the old slot\n", wait)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
}

// kmsg is the write end of a pipe whose lines go to the kernel's log
// buffer (/dev/kmsg takes one record per write).
func kmsg() *os.File {
	k, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		k.Close()
		return nil
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			line := sc.Bytes()
			k.Write(append([]byte("jinyin: "), line[:min(len(line), 900)]...))
		}
	}()
	return w
}

// supervise runs the box and starts it again whenever it stops; the
// same wait collects the orphans a PID 1 inherits.
func supervise(self string, args []string, logTo *os.File, console io.Writer) {
	for {
		start := time.Now()
		p, err := os.StartProcess(self, append([]string{self}, args...), &os.ProcAttr{
			Env: []string{"PATH=/", "HOME=/data"}, Files: []*os.File{os.Stdin, logTo, logTo}})
		if err != nil {
			fmt.Fprintf(console, "jinyin init: %v\n", err)
			time.Sleep(5 * time.Second)
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid == p.Pid || err != nil {
				fmt.Fprintf(console, "jinyin init: the box stopped (%v); starting it again\n", describe(ws))
				break
			}
		}
		if time.Since(start) < 10*time.Second {
			time.Sleep(time.Second) // a box that fails at once does not spin
		}
	}
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
