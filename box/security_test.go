package box_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/siptest"
	"jinyin/internal/testenv"
	"jinyin/store"
)

// TestAttackersBanned is the demo box (guests off, as on a public network)
// against the tools attackers use, each from a loopback source of its own,
// while an agent's phone on 127.0.0.1 keeps registering and a caller hears
// the IVR: SIPVicious svmap finds the box, svwar --force with REGISTER,
// INVITE and OPTIONS finds no extension, svcrack and a 100-guesses-a-second
// guesser are banned after 10 wrong passwords and then get nothing, and
// the bans outlive a restart.
func TestAttackersBanned(t *testing.T) {
	t.Parallel()
	python := sipvicious(t)
	dir := t.TempDir()
	demo := strings.Replace(string(config.Default()), "guests = true", "guests = false", 1)
	sipAddr, httpAddr, stop := startConfig(t, dir, []byte(demo))
	host, port, _ := net.SplitHostPort(sipAddr)

	// The legitimate side, on 127.0.0.1: a caller (agent 1001, since
	// guests are off) in the IVR, and agent 1002's phone registering.
	call := dial(t, sipAddr, "100", "1001", password(t, dir, "1001"))
	callStart := time.Now()
	h := listen(t, call)
	sipp, pw := testenv.LookPath(t, "sipp", "sip-tester"), password(t, dir, "1002")
	// The phone registers again and again until the attacks are over (5
	// times at least), as a phone whose registration is refreshed often.
	registered := make(chan error, 1)
	attacksOver := make(chan struct{})
	regs := 0
	go func() {
		for i := 0; ; i++ {
			if err := sippRegister(sipp, sipAddr, "1002", pw); err != nil {
				registered <- fmt.Errorf("registration %d: %w", i+1, err)
				return
			}
			regs++
			select {
			case <-attacksOver:
				if i >= 4 {
					registered <- nil
					return
				}
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()

	vicious := func(source, tool string, args ...string) string {
		t.Helper()
		cmd := exec.Command(python, append([]string{filepath.Join("testdata", "sipvicious", "from.py"), tool}, args...)...)
		cmd.Env = append(os.Environ(), "JINYIN_SOURCE="+source)
		out, _ := cmd.CombinedOutput() // the tools' exit status says nothing useful
		return string(out)
	}
	// svmap finds a SIP device: the box answers OPTIONS, as it must.
	if out := vicious("127.0.0.66", "svmap", "-b", "127.0.0.66", "-p", port, host); !strings.Contains(out, sipAddr) {
		t.Errorf("svmap did not find the box:\n%s", out)
	}
	// svwar, each method from its own source (an unanswered 407 is
	// retransmitted into the next scan from the same socket).
	for i, m := range []string{"REGISTER", "INVITE", "OPTIONS"} {
		src := fmt.Sprintf("127.0.0.%d", 67+i*10)
		out := vicious(src, "svwar", "--force", "-m", m, "-e", "100-103,1000-1004,2000-2002,9999", "-x", src, "-p", port, host)
		if !strings.Contains(out, "found nothing") || strings.Contains(out, "| Extension") {
			t.Errorf("svwar -m %s found extensions:\n%s", m, out)
		}
	}
	// svcrack guesses 1001's password from a dictionary without it.
	dict := filepath.Join(t.TempDir(), "dict.txt")
	var words strings.Builder
	for i := range 300 {
		fmt.Fprintf(&words, "guess%03d\n", i)
	}
	os.WriteFile(dict, []byte(words.String()), 0o600)
	start := time.Now()
	out := vicious("127.0.0.68", "svcrack", "-u", "1001", "-d", dict, "-x", "127.0.0.68", "-p", port, "--maximumtime=3", host)
	t.Logf("svcrack ran %v: %s", time.Since(start).Round(time.Millisecond), lastLine(out))
	// A faster guesser: 100 guesses a second, each a REGISTER answered
	// with a wrong password, for 3 s.
	// A new call from the legitimate side while the guesser runs.
	type placed struct {
		c   *siptest.Call
		err error
	}
	during := make(chan placed, 1)
	pw1001 := password(t, dir, "1001")
	go func() {
		time.Sleep(time.Second)
		c, err := invite(sipAddr, "100", "1001", pw1001)
		during <- placed{c, err}
	}()
	answered, first, last := guesser(t, "127.0.0.69", sipAddr, "1001", 100, 3*time.Second)
	close(attacksOver)
	if p := <-during; p.err != nil {
		t.Errorf("a call placed during the attacks: %v", p.err)
	} else {
		listen(t, hangUpAtCleanup(t, p.c)).hear("zh", "welcome")
	}

	evs := securityEvents(t, httpAddr)
	for _, c := range []struct {
		source string
		tool   string
	}{{"127.0.0.68", "svcrack"}, {"127.0.0.69", "guesser"}} {
		fails, banned := 0, time.Time{}
		var start time.Time
		for _, e := range evs {
			if strings.HasPrefix(e.Source, c.source+":") && e.Name == "InvalidPassword" && banned.IsZero() {
				if fails++; fails == 1 {
					start = e.Time
				}
			}
			if e.Source == c.source && e.Name == "Banned" {
				banned = e.Time
			}
		}
		if fails != 10 || banned.IsZero() {
			t.Errorf("%s from %s: %d wrong passwords answered, banned at %v; want 10, then a ban", c.tool, c.source, fails, banned)
			continue
		}
		t.Logf("%s: %d wrong passwords answered before the ban, in %v", c.tool, fails, banned.Sub(start).Round(time.Millisecond))
	}
	if answered != 10 {
		t.Errorf("the guesser had %d guesses answered, want 10", answered)
	}
	t.Logf("guesser at 100/s: %d guesses answered in %v, then silence", answered, last.Sub(first).Round(time.Millisecond))

	// The legitimate side was served throughout.
	// Clean audio throughout: every frame of the attacks' time arrived
	// (8,000 A-law bytes a second, within a frame or two of jitter), and
	// the prompts are heard byte for byte.
	if got, want := len(call.Heard()), int(time.Since(callStart).Seconds()*8000); got < want-480 {
		t.Errorf("the caller heard %d bytes in %v, want %d", got, time.Since(callStart), want)
	}
	h.hear("zh", "welcome", "main-menu")
	if err := <-registered; err != nil {
		t.Errorf("agent 1002's phone, during the attacks: %v", err)
	}
	t.Logf("agent 1002's phone registered %d times during the attacks", regs)

	// The bans outlive a restart: the banned get nothing, others an answer.
	stop()
	sipAddr, httpAddr, _ = startConfig(t, dir, []byte(demo))
	var bans []store.Ban
	testenv.GetJSON(t, "http://"+httpAddr+"/security/bans", &bans)
	got := map[string]bool{}
	for _, b := range bans {
		got[b.Addr] = true
	}
	if !got["127.0.0.68"] || !got["127.0.0.69"] || got["127.0.0.1"] {
		t.Errorf("bans after the restart: %+v", bans)
	}
	if line, err := optionsFrom("127.0.0.68", sipAddr); err == nil {
		t.Errorf("a banned source was answered after the restart: %q", line)
	}
	if line, err := optionsFrom("127.0.0.1", sipAddr); err != nil || line != "SIP/2.0 200 OK" {
		t.Errorf("OPTIONS from the phones' address after the restart: %q %v", line, err)
	}
}

// sipvicious is the interpreter of Debian's SIPVicious tools (their
// scripts' #! line), for testdata/sipvicious/from.py.
func sipvicious(t *testing.T) string {
	t.Helper()
	svwar := testenv.LookPath(t, "svwar", "sipvicious")
	f, err := os.Open(svwar)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	python, ok := strings.CutPrefix(strings.TrimSpace(line), "#!")
	if !ok {
		t.Fatalf("%s is not a script: %q", svwar, line)
	}
	return strings.Fields(python)[0]
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// sippRegister registers ext once with SIPp (the binary sipp) from
// 127.0.0.1.
func sippRegister(sipp, sipAddr, ext, password string) error {
	cmd := exec.Command(sipp, sipAddr, "-sf", filepath.Join("testdata", "sipp", "agent-register.xml"),
		"-i", "127.0.0.1", "-p", "0", "-m", "1", "-nostdin", "-timeout", "10s", "-timeout_error",
		"-s", ext, "-au", ext, "-ap", password, "-key", "agent_port", "5099")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

func securityEvents(t *testing.T, httpAddr string) []store.SecurityEvent {
	t.Helper()
	var evs []store.SecurityEvent
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		testenv.GetJSON(t, "http://"+httpAddr+"/security/events?limit=1000", &evs)
		if len(evs) > 0 || time.Now().After(deadline) {
			return evs
		}
	}
}

// guesser is siptest.Guess, failing the test on its errors.
func guesser(t *testing.T, source, sipAddr, ext string, perSecond int, d time.Duration) (answered int, first, last time.Time) {
	t.Helper()
	answered, first, last, err := siptest.Guess(source, sipAddr, ext, perSecond, d)
	if err != nil {
		t.Fatal(err)
	}
	return answered, first, last
}

// optionsFrom sends OPTIONS from source and returns the status line.
func optionsFrom(source, addr string) (string, error) {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(source)}, mustUDP(addr))
	if err != nil {
		return "", err
	}
	defer c.Close()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKopt" + fmt.Sprint(time.Now().UnixNano()) +
		"\r\nMax-Forwards: 70\r\nFrom: <sip:tech@" + source + ">;tag=1\r\nTo: <sip:" + addr + ">\r\nCall-ID: opt" + fmt.Sprint(time.Now().UnixNano()) +
		"\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line, nil
}

func mustUDP(addr string) *net.UDPAddr {
	a, _ := net.ResolveUDPAddr("udp", addr)
	return a
}

// TestRegistrationsSurviveARestart: an agent's phone registered before
// the box restarts is registered after it at once, not after its next
// REGISTER (up to an hour later).
func TestRegistrationsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startBox(t, dir)
	if err := sippRegister(testenv.LookPath(t, "sipp", "sip-tester"), sipAddr, "1002", password(t, dir, "1002")); err != nil {
		t.Fatal(err)
	}
	if n := status(t, httpAddr).Registered["1002"]; n != 1 {
		t.Fatalf("before the restart: 1002 has %d contacts", n)
	}
	stop()
	_, httpAddr, _ = startBox(t, dir)
	if n := status(t, httpAddr).Registered["1002"]; n != 1 {
		t.Errorf("after the restart: 1002 has %d contacts", n)
	}
}
