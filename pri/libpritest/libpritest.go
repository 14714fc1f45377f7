// Package libpritest runs libpri (Debian libpri-dev) as the far end of a
// PRI for interop tests: csrc/peer.c, built with gcc when a test starts, listens
// on the D-channel and B-channel sockets that jinyin's socket span driver
// connects to, and is driven line by line over its stdin and stdout.
//
// Test-only: nothing in the firmware imports it, and it uses no cgo, so
// the firmware stays CGO_ENABLED=0.
package libpritest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/testenv"
)

// Peer is a running libpri peer.
type Peer struct {
	t            testing.TB
	cmd          *exec.Cmd
	in           io.WriteCloser
	lines        chan string
	DPath, BPath string // where the span connects: the D-channel and B-channel sockets

	mu  sync.Mutex
	log []string
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build compiles peer.c once per test binary.
func build(t testing.TB) string {
	gcc := testenv.LookPath(t, "gcc", "gcc")
	if _, err := os.Stat("/usr/include/libpri.h"); err != nil {
		testenv.Missing(t, "libpri (Debian package libpri-dev)")
	}
	if _, err := os.Stat("/usr/include/spandsp/dtmf.h"); err != nil {
		testenv.Missing(t, "spandsp (Debian package libspandsp-dev)")
	}
	buildOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "libpritest")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "peer")
		out, err := exec.Command(gcc, "-Wall", "-O1", "-o", binary, filepath.Join(filepath.Dir(self), "csrc", "peer.c"),
			"-lpri", "-lspandsp", "-lm").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("gcc peer.c: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Start runs libpri as role "net" (the exchange) or "cpe" (a PBX).
func Start(t testing.TB, role string) *Peer {
	t.Helper()
	bin := build(t)
	dir, err := os.MkdirTemp("", "pri") // short: socket paths are limited to 107 octets
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Peer{t: t, lines: make(chan string, 256), DPath: filepath.Join(dir, "d"), BPath: filepath.Join(dir, "b")}
	p.cmd = exec.Command(bin, role, p.DPath, p.BPath)
	p.cmd.Stderr = &lineLog{p: p, prefix: "stderr: "}
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.note(sc.Text())
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(p.Close)
	p.Expect("LISTENING")
	return p
}

func (p *Peer) note(s string) {
	p.mu.Lock()
	p.log = append(p.log, s)
	p.mu.Unlock()
}

// Log is everything the peer printed so far.
func (p *Peer) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// Send gives the peer a command (see peer.c).
func (p *Peer) Send(cmd string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, cmd+"\n"); err != nil {
		p.t.Fatalf("libpri peer: %v", err)
	}
}

// Expect waits up to 20 s for an event line starting with prefix, passing
// over others, and returns it.
func (p *Peer) Expect(prefix string) string {
	p.t.Helper()
	deadline := time.After(20 * time.Second) // real time: libpri runs in its own process
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("libpri peer exited waiting for %q; it said:\n%s", prefix, p.Log())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			p.t.Fatalf("libpri peer: no %q in 20 s; it said:\n%s", prefix, p.Log())
		}
	}
}

// Close stops the peer.
func (p *Peer) Close() {
	if p.cmd.Process != nil {
		p.in.Close()
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// lineLog keeps the peer's stderr (libpri's own messages) in the log.
type lineLog struct {
	p      *Peer
	prefix string
}

func (l *lineLog) Write(b []byte) (int, error) {
	for _, s := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		l.p.note(l.prefix + s)
	}
	return len(b), nil
}
