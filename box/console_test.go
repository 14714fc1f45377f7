package box_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	boardsim "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/internal/ptytest"
)

// demoPrompt is the console's prompt on the demo box.
const demoPrompt = "jinyin-demo> "

// The console over a real pty: first-boot password, lockout, login,
// commands by prefix, help, completion, history, an injected alarm, an
// agent paused from the console, passwd, exit.
func TestConsoleOverPty(t *testing.T) {
	dir := t.TempDir()
	dev, term := ptytest.Pair(t, dir)
	clk := clock.NewFake(time.Now())
	cfg := strings.Replace(string(config.Default()), `device = ""`, `device = "`+dev+`"`, 1)
	sipAddr, httpAddr, _ := startConfig(t, dir, []byte(cfg), box.WithClock(clk))

	term.Expect("No admin password is set")
	term.Expect("New password: ")
	term.Type("short\rshort\r")
	term.Expect("Too short")
	term.Type("s3cret-pass\rs3cret-pass\r")
	if got := term.Expect("Password set."); strings.Contains(got, "s3cret") {
		t.Error("the password was echoed")
	}
	// Three wrong passwords: the console waits 30 s before the next login.
	for i := 0; i < 3; i++ {
		term.Expect("login: ")
		term.Type("admin\rwrong-one\r")
		term.Expect("Login incorrect.")
	}
	term.Expect("Too many failures: wait 30s")
	stop := stepClock(clk, time.Second) // the console sets its timer after it says so
	term.Expect("login: ")
	stop()
	term.Type("admin\rs3cret-pass\r")
	term.Expect(demoPrompt)

	term.Type("sh sp\r")
	out := term.Expect(demoPrompt)
	if !strings.Contains(out, "SPAN") || !strings.Contains(out, "crc4") || !strings.Contains(out, "pri-cpe") {
		t.Errorf("show spans:\n%s", out)
	}
	if out := term.Command("show alarms", demoPrompt); !strings.Contains(out, "no alarms") {
		t.Errorf("show alarms before:\n%s", out)
	}
	boardsim.Opened(1).InjectAlarms(hal.AlarmLOS | hal.AlarmAIS)
	if out := term.Command("show alarms", demoPrompt); !strings.Contains(out, "LOS|AIS") {
		t.Errorf("show alarms after LOS was injected:\n%s", out)
	}
	term.Type("s\r") // ambiguous
	if out := term.Expect(demoPrompt); !strings.Contains(out, `"s" is ambiguous: show, sip, span`) {
		t.Errorf("s:\n%s", out)
	}
	term.Type("show ?")
	if out := term.Expect("jinyin-demo> show "); !strings.Contains(out, "queues") || !strings.Contains(out, "callers waiting") {
		t.Errorf("show ?:\n%s", out)
	}
	term.Type("\x15ag\t") // Ctrl-U, then Tab completes "agent "
	term.Expect("agent ")
	term.Type("1001 login\r")
	term.Expect("agent 1001: login")
	term.Expect(demoPrompt)
	term.Type("agent 1001 pause lunch\r")
	term.Expect(demoPrompt)
	if out := term.Command("sh ag", demoPrompt); !strings.Contains(out, "paused (lunch)") {
		t.Errorf("show agents:\n%s", out)
	}
	term.Type("\x1b[A\x1b[A\r") // history: the pause again
	if out := term.Expect(demoPrompt); !strings.Contains(out, "agent 1001: pause") {
		t.Errorf("history recall:\n%s", out)
	}
	if out := term.Command("show span 9", demoPrompt); !strings.Contains(out, "no span \"9\"; the spans are 1") {
		t.Errorf("show span 9:\n%s", out)
	}
	if out := term.Command("sh q", demoPrompt); !strings.Contains(out, "complaints") || !strings.Contains(out, "general") {
		t.Errorf("show queues:\n%s", out)
	}
	term.Type("span 1 loop loc\r")
	term.Expect("span 1: loopback local")
	term.Expect(demoPrompt)
	boardsim.Opened(1).InjectErrors(hal.Counters{CRC: 7, BPV: 3, Slips: 1, ErroredSeconds: 2})
	if out := term.Command("sh sp 1", demoPrompt); !strings.Contains(out, "loopback    local") || !strings.Contains(out, "LOS|AIS") ||
		!strings.Contains(out, "since start  7    3    1      2") || !strings.Contains(out, "last 24 h    7    3    1      2") {
		t.Errorf("show span 1:\n%s", out)
	}
	if got := boardsim.Opened(1).Loopback(); got != "local" {
		t.Errorf("the span's loopback is %q", got)
	}
	if out := term.Command("sh ch", demoPrompt); !strings.Contains(out, "span 1/31") || strings.Contains(out, "span 1/16") || !strings.Contains(out, "out of service (LOS|AIS)") {
		t.Errorf("show channels:\n%s", out)
	}
	if out := term.Command("sh v", demoPrompt); !strings.Contains(out, "no messages") {
		t.Errorf("show voicemail:\n%s", out)
	}
	if out := term.Command("sh rec samp", demoPrompt); !strings.Contains(out, "no recordings") {
		t.Errorf("show recordings sampled:\n%s", out)
	}
	// The first wallboard account, made on the console, acts on the API.
	term.Type("web passwd boss\r")
	term.Expect("New password: ")
	term.Type("boss-secret\rboss-secret\r")
	if got := term.Expect("Password of boss (supervisor) set."); strings.Contains(got, "boss-secret") {
		t.Error("the web password was echoed")
	}
	term.Expect(demoPrompt)
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/agents/1002/login", nil)
	req.SetBasicAuth("boss", "boss-secret")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("the console's web account: %v %v", err, res)
	}
	if out := term.Command("sh kpi", demoPrompt); !strings.Contains(out, "Queues, today") || !strings.Contains(out, "First-contact resolution -") {
		t.Errorf("show kpi:\n%s", out)
	}
	term.Type("sip debug on\r")
	term.Expect("SIP trace on")
	term.Expect(demoPrompt)
	if line, err := options(sipAddr); err != nil || line != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS: %q %v", line, err)
	}
	term.Expect("<--- UDP")
	term.Expect("OPTIONS sip:")
	term.Expect("---> UDP")
	term.Expect("SIP/2.0 200 OK")
	term.Type("sip debug off\r")
	term.Expect("SIP trace off")
	term.Expect(demoPrompt)
	term.Type("passwd\rnew-pass-1\rnew-pass-1\r")
	term.Expect("Password changed.")
	term.Type("exit\r")
	term.Expect("login: ")
	term.Type("admin\rnew-pass-1\r")
	term.Expect(demoPrompt)
	// Idle for 10 minutes: logged out.
	stop = stepClock(clk, time.Minute)
	term.Expect("logged out")
	stop()
	term.Expect("login: ")
}

// stepClock moves clk on by step every millisecond until stop is called:
// a timer the box sets after the test saw what it waits for still comes
// due, without the test guessing how long the box takes to set it.
func stepClock(clk *clock.Fake, step time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
				clk.Advance(step)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// options sends one SIP OPTIONS over UDP and returns the status line.
func options(addr string) (string, error) { return optionsFrom("127.0.0.1", addr) }
