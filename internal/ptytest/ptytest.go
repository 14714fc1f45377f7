// Package ptytest gives console tests a real serial line: a pty pair made
// by socat, the box on one side, the test typing on the other.
package ptytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/testenv"
)

// Terminal is the technician's side of a pty pair socat made: what the
// console sent, and a way to type.
type Terminal struct {
	t    *testing.T
	f    *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	seen int
}

// Pair runs socat to join two ptys, the box's at DIR/console and the
// technician's at DIR/tech.
func Pair(t *testing.T, dir string) (boxSide string, term *Terminal) {
	bin := testenv.LookPath(t, "socat", "socat")
	boxSide, techSide := filepath.Join(dir, "console"), filepath.Join(dir, "tech")
	cmd := exec.Command(bin, "pty,raw,echo=0,link="+boxSide, "pty,raw,echo=0,link="+techSide)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, e1 := os.Stat(boxSide)
		_, e2 := os.Stat(techSide)
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("socat made no ptys")
		}
	}
	f, err := os.OpenFile(techSide, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	term = &Terminal{t: t, f: f}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close() })
	return boxSide, term
}

// Type sends keys to the console.
func (tm *Terminal) Type(s string) {
	tm.t.Helper()
	if _, err := tm.f.WriteString(s); err != nil {
		tm.t.Fatal(err)
	}
}

// Command types a line and returns what the console answers, up to its
// next prompt.
func (tm *Terminal) Command(line, prompt string) string {
	tm.t.Helper()
	tm.Type(line + "\r")
	return tm.Expect(prompt)
}

// Expect waits until the console has sent want after what was expected
// before, and returns what came up to it.
func (tm *Terminal) Expect(want string) string {
	tm.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		tm.mu.Lock()
		all := tm.out.String()
		i := strings.Index(all[tm.seen:], want)
		if i >= 0 {
			got := all[tm.seen : tm.seen+i+len(want)]
			tm.seen += i + len(want)
			tm.mu.Unlock()
			return got
		}
		tm.mu.Unlock()
		if time.Now().After(deadline) {
			tm.t.Fatalf("console did not send %q; it sent:\n%s", want, all[tm.seen:])
		}
	}
}
