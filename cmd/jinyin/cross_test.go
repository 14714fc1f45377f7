package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"jinyin/internal/testenv"
)

// TestCrossBuildsRunUnderQEMU builds the release binaries with
// scripts/build.sh and runs the ARM ones under qemu-user-static: they must
// be static, report their target, and the ARMv7 one must serve SIP.
func TestCrossBuildsRunUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds take a while; not in -short")
	}
	fileCmd := testenv.LookPath(t, "file", "file")
	qemu := map[string]string{
		"arm":   testenv.LookPath(t, "qemu-arm-static", "qemu-user-static"),
		"arm64": testenv.LookPath(t, "qemu-aarch64-static", "qemu-user-static"),
	}
	dist := t.TempDir()
	build := exec.Command("bash", "../../scripts/build.sh")
	build.Env = append(build.Environ(), "DIST="+dist, "VERSION=test-1")
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	t.Logf("sizes:\n%s", out)
	checkREADMESizes(t, dist)
	for target, want := range map[string]string{"arm": "ARM, EABI5", "arm64": "ARM aarch64", "amd64": "x86-64"} {
		binPath := filepath.Join(dist, "jinyin-linux-"+target)
		desc, err := exec.Command(fileCmd, binPath).Output()
		if err != nil || !strings.Contains(string(desc), "statically linked") || !strings.Contains(string(desc), want) {
			t.Errorf("%s: file says %q (%v); want a static %s binary", target, desc, err, want)
		}
		if q := qemu[target]; q != "" {
			v, err := exec.Command(q, binPath, "version").Output()
			wantTarget := map[string]string{"arm": "linux/armv7", "arm64": "linux/arm64"}[target]
			if err != nil || !strings.HasPrefix(string(v), "jinyin test-1 ") || !strings.Contains(string(v), wantTarget) {
				t.Errorf("%s under qemu: %q %v; want version test-1 on %s", target, v, err, wantTarget)
			}
		}
	}

	// The ARMv7 box itself, under emulation, answers SIP.
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(qemu["arm"], filepath.Join(dist, "jinyin-linux-arm"), "run", "--data", t.TempDir(),
		"--set", "sip.listen="+addr, "--set", "http.listen=")
	b := startCmd(t, cmd)
	waitSIP(t, b, addr)
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, b); err != nil {
		t.Fatalf("ARM box exit: %v\n%s", err, b.stderr)
	}
}

// checkREADMESizes holds the README's table of binary sizes ("| ... |
// dist/jinyin-linux-arm | 13.0 MiB |") to the binaries just built, within
// half a MiB, so the figures cannot go stale silently: a change that moves
// a binary further fails here with the row to write.
func checkREADMESizes(t *testing.T, dist string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| [^|]+ \| dist/(jinyin-linux-[a-z0-9]+) \| ([0-9.]+) MiB \|$`)
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) != 3 {
		t.Fatalf("the README's size table has %d rows, want 3 (arm, arm64, amd64)", len(rows))
	}
	for _, r := range rows {
		fi, err := os.Stat(filepath.Join(dist, r[1]))
		if err != nil {
			t.Errorf("README names %s: %v", r[1], err)
			continue
		}
		said, _ := strconv.ParseFloat(r[2], 64)
		got := float64(fi.Size()) / (1 << 20)
		if d := got - said; d > 0.5 || d < -0.5 {
			t.Errorf("README says dist/%s is %s MiB; it is %.1f MiB now: update the table", r[1], r[2], got)
		}
	}
}
