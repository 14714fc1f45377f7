// Package testenv decides what a test does when a real peer it needs (SIPp,
// baresip, qemu, libpri, spandsp) is not installed: scripts/test.sh installs
// them all and sets JINYIN_REQUIRE_PEERS=1, so there a missing peer fails the
// test; a bare `go test` on a laptop skips it and says why.
package testenv

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// Required reports whether missing peers fail tests instead of skipping them.
func Required() bool { return os.Getenv("JINYIN_REQUIRE_PEERS") == "1" }

// LookPath returns the path of a program the test needs.
func LookPath(t testing.TB, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		Missing(t, prog+" (Debian package "+pkg+")")
	}
	return p
}

// Missing skips or fails the test for want, as Required says.
func Missing(t testing.TB, want string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is not installed; scripts/test.sh installs it", want)
	}
	t.Skipf("%s is not installed; run scripts/test.sh to install it", want)
}

// FreeAddr returns a loopback host:port free on both UDP and TCP right now.
// The port is taken below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), where the ports the kernel hands to
// outgoing connections and to ":0" listeners never land: a port asked of
// the kernel and closed again could be given to another test's connection
// before this one binds it (CI saw "address already in use" that way).
// Each test process starts at its own place in the range and walks on in
// steps of portStride, leaving the ports just above each one free for
// peers that take port+1 for themselves (baresip's TLS, RTCP).
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo, hi := portRange()
	for i := 0; i < 200; i++ {
		port := lo + int(nextPort.Add(portStride)%uint32(hi-lo))
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no port free on both UDP and TCP")
	return ""
}

// nextPort walks the range; it starts at a place set by the process id, so
// that the test binaries go test runs side by side do not walk together.
var nextPort atomic.Uint32

const portStride = 17

func init() { nextPort.Store(uint32(os.Getpid()) * 2477) }

// portRange is [20000, the first ephemeral port) (the default RTP range ends at 19999), or a fixed range below
// the Linux default (32768) when the kernel's setting cannot be read or
// leaves too little room.
func portRange() (lo, hi int) {
	lo, hi = 20000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if first, err := strconv.Atoi(f[0]); err == nil && first > lo+2000 {
				hi = first
			}
		}
	}
	return lo, hi
}

// BuildSpandsp compiles a test-only C program against the system's spandsp
// (Debian libspandsp-dev): BuildC with spandsp.
func BuildSpandsp(t testing.TB, src string) string {
	t.Helper()
	return BuildC(t, src, "spandsp")
}

// debianDev names the Debian package of each pkg-config module BuildC takes.
var debianDev = map[string]string{"spandsp": "libspandsp-dev", "libosmocore": "libosmocore-dev"}

// BuildC compiles a test-only C program against the pkg-config modules
// given (spandsp, libosmocore) into the test's temporary directory and
// returns its path; a missing gcc, pkg-config or library skips or fails
// the test as Missing says. The firmware stays CGO_ENABLED=0: these are
// peers, run as processes.
func BuildC(t testing.TB, src string, modules ...string) string {
	t.Helper()
	gcc := LookPath(t, "gcc", "gcc")
	pkgConfig := LookPath(t, "pkg-config", "pkg-config")
	var flags []string
	for _, m := range modules {
		out, err := exec.Command(pkgConfig, "--cflags", "--libs", m).Output()
		if err != nil {
			Missing(t, fmt.Sprintf("%s (Debian package %s)", m, debianDev[m]))
		}
		flags = append(flags, strings.Fields(string(out))...)
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	args := append([]string{"-Wall", "-O2", "-o", bin, src}, flags...)
	if out, err := exec.Command(gcc, append(args, "-lm")...).CombinedOutput(); err != nil {
		t.Fatalf("building %s against %s: %v\n%s", src, strings.Join(modules, ", "), err, out)
	}
	return bin
}

// GetJSON GETs url and decodes its JSON into v; anything but 200 fails t.
func GetJSON(t testing.TB, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
