package box_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	boardsim "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/internal/testenv"
)

// terminal is the technician's side of a pty pair socat made: what the
// console sent, and a way to type.
type terminal struct {
	t    *testing.T
	f    *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	seen int
}

// ptyPair runs socat to join two ptys, the box's at DIR/console and the
// technician's at DIR/tech.
func ptyPair(t *testing.T, dir string) (boxSide string, term *terminal) {
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
	term = &terminal{t: t, f: f}
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

func (tm *terminal) typeKeys(s string) {
	tm.t.Helper()
	if _, err := tm.f.WriteString(s); err != nil {
		tm.t.Fatal(err)
	}
}

// expect waits until the console has sent want after what was expected
// before, and returns what came up to it.
func (tm *terminal) expect(want string) string {
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

// The console over a real pty: first-boot password, lockout, login,
// commands by prefix, help, completion, history, an injected alarm, an
// agent paused from the console, passwd, exit.
func TestConsoleOverPty(t *testing.T) {
	dir := t.TempDir()
	dev, term := ptyPair(t, dir)
	clk := clock.NewFake(time.Now())
	cfg := strings.Replace(string(config.Default()), `device = ""`, `device = "`+dev+`"`, 1)
	startConfig(t, dir, []byte(cfg), box.WithClock(clk))

	term.expect("No admin password is set")
	term.expect("New password: ")
	term.typeKeys("short\rshort\r")
	term.expect("Too short")
	term.typeKeys("s3cret-pass\rs3cret-pass\r")
	if got := term.expect("Password set."); strings.Contains(got, "s3cret") {
		t.Error("the password was echoed")
	}
	// Three wrong passwords: the console waits 30 s before the next login.
	for i := 0; i < 3; i++ {
		term.expect("login: ")
		term.typeKeys("admin\rwrong-one\r")
		term.expect("Login incorrect.")
	}
	term.expect("Too many failures: wait 30s")
	time.Sleep(100 * time.Millisecond)
	clk.Advance(30 * time.Second)
	term.expect("login: ")
	term.typeKeys("admin\rs3cret-pass\r")
	term.expect("jinyin-demo> ")

	term.typeKeys("sh sp\r")
	out := term.expect("jinyin-demo> ")
	if !strings.Contains(out, "SPAN") || !strings.Contains(out, "crc4") || !strings.Contains(out, "pri-cpe") {
		t.Errorf("show spans:\n%s", out)
	}
	term.typeKeys("show alarms\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "no alarms") {
		t.Errorf("show alarms before:\n%s", out)
	}
	boardsim.Opened(1).InjectAlarms(hal.AlarmLOS | hal.AlarmAIS)
	term.typeKeys("show alarms\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "LOS|AIS") {
		t.Errorf("show alarms after LOS was injected:\n%s", out)
	}
	term.typeKeys("s\r") // ambiguous
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, `"s" is ambiguous: show, span`) {
		t.Errorf("s:\n%s", out)
	}
	term.typeKeys("show ?")
	if out := term.expect("jinyin-demo> show "); !strings.Contains(out, "queues") || !strings.Contains(out, "callers waiting") {
		t.Errorf("show ?:\n%s", out)
	}
	term.typeKeys("\x15ag\t") // Ctrl-U, then Tab completes "agent "
	term.expect("agent ")
	term.typeKeys("1001 login\r")
	term.expect("agent 1001: login")
	term.expect("jinyin-demo> ")
	term.typeKeys("agent 1001 pause lunch\r")
	term.expect("jinyin-demo> ")
	term.typeKeys("sh ag\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "paused (lunch)") {
		t.Errorf("show agents:\n%s", out)
	}
	term.typeKeys("\x1b[A\x1b[A\r") // history: the pause again
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "agent 1001: pause") {
		t.Errorf("history recall:\n%s", out)
	}
	term.typeKeys("show span 9\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "no span \"9\"; the spans are 1") {
		t.Errorf("show span 9:\n%s", out)
	}
	term.typeKeys("sh q\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "complaints") || !strings.Contains(out, "general") {
		t.Errorf("show queues:\n%s", out)
	}
	term.typeKeys("span 1 loop loc\r")
	term.expect("span 1: loopback local")
	term.expect("jinyin-demo> ")
	term.typeKeys("sh sp 1\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "loopback    local") || !strings.Contains(out, "LOS|AIS") {
		t.Errorf("show span 1:\n%s", out)
	}
	if got := boardsim.Opened(1).Loopback(); got != "local" {
		t.Errorf("the span's loopback is %q", got)
	}
	term.typeKeys("sh kpi\r")
	if out := term.expect("jinyin-demo> "); !strings.Contains(out, "Queues, today") || !strings.Contains(out, "Callbacks: 0 asked") {
		t.Errorf("show kpi:\n%s", out)
	}
	term.typeKeys("passwd\rnew-pass-1\rnew-pass-1\r")
	term.expect("Password changed.")
	term.typeKeys("exit\r")
	term.expect("login: ")
	term.typeKeys("admin\rnew-pass-1\r")
	term.expect("jinyin-demo> ")
	// Idle for 10 minutes: logged out.
	time.Sleep(100 * time.Millisecond)
	clk.Advance(10 * time.Minute)
	term.expect("logged out")
	term.expect("login: ")
}
