package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/wav"
	"jinyin/store"
)

var bin string // the jinyin binary built once for these tests

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jinyin-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "jinyin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `jinyin run` process.
type proc struct {
	cmd    *exec.Cmd
	stderr *testenv.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, valid after done
}

func startBox(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run"}, args...)...)
	cmd.Dir = dir
	return startCmd(t, cmd)
}

func startCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	b := &proc{cmd: cmd, stderr: &testenv.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.err = cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-b.done
	})
	return b
}

// options sends one SIP OPTIONS over network to addr and returns the status line.
func options(network, addr string) (string, error) {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	proto := strings.ToUpper(network)
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + proto + " " + local + ";branch=z9hG4bK" + fmt.Sprint(time.Now().UnixNano()) + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:test@127.0.0.1>;tag=1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: " + fmt.Sprint(time.Now().UnixNano()) + "@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// waitSIP polls until the box answers OPTIONS on UDP, at most 10 s.
func waitSIP(t *testing.T, b *proc, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-b.done:
			t.Fatalf("box exited early: %v\n%s", b.err, b.stderr)
		default:
		}
		if line, err := options("udp", addr); err == nil && line == "SIP/2.0 200 OK" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("box did not answer SIP OPTIONS on %s within 10 s\n%s", addr, b.stderr)
}

func waitExit(t *testing.T, b *proc) error {
	t.Helper()
	select {
	case <-b.done:
		return b.err
	case <-time.After(10 * time.Second):
		t.Fatalf("box did not exit within 10 s\n%s", b.stderr)
		return nil
	}
}

func TestRunServesSIPAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	b := startBox(t, dir, "--set", "sip.listen="+addr, "--set", "http.listen=")
	waitSIP(t, b, addr)
	if line, err := options("tcp", addr); err != nil || line != "SIP/2.0 200 OK" {
		t.Errorf("TCP OPTIONS: %q %v", line, err)
	}
	b.cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(t, b); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, b.stderr)
	}
	// The default data directory is ./jinyin-data; it must hold the agents'
	// credentials and a store that opens again (closed cleanly).
	creds, err := os.ReadFile(filepath.Join(dir, "jinyin-data", "credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(creds)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "1001 ") || len(strings.Fields(lines[3])) != 2 {
		t.Errorf("credentials.txt:\n%s", creds)
	}
	db, err := store.Open(filepath.Join(dir, "jinyin-data", "jinyin.db"))
	if err != nil {
		t.Fatalf("store after clean stop: %v", err)
	}
	pw, err := db.Credential("1001")
	db.Close()
	if err != nil || lines[0] != "1001 "+pw {
		t.Errorf("credentials.txt %q disagrees with store %q %v", lines[0], pw, err)
	}
}

// TestRunWithNoArguments runs exactly what the README tells a newcomer to run.
// The default's ports must be free: a laptop's own SIP phone or web server
// skips it, but scripts/test.sh (JINYIN_REQUIRE_PEERS=1) runs it, waiting a
// while for another test's box to let go of them.
func TestRunWithNoArguments(t *testing.T) {
	wait := time.Duration(0)
	if testenv.Required() {
		wait = 30 * time.Second
	}
	if taken := waitFree(wait, "udp:127.0.0.1:5060", "tcp:127.0.0.1:5060", "tcp:127.0.0.1:8080"); taken != "" {
		if testenv.Required() {
			t.Fatalf("%s is taken on this machine (JINYIN_REQUIRE_PEERS=1: the default's ports must be free)", taken)
		}
		t.Skipf("%s is taken on this machine; the other run tests cover the same path on free ports", taken)
	}
	b := startBox(t, t.TempDir())
	waitSIP(t, b, "127.0.0.1:5060")
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, b); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, b.stderr)
	}
}

// waitFree waits up to d for every NETWORK:ADDRESS to be free, and
// returns the first one still taken, or "".
func waitFree(d time.Duration, addrs ...string) string {
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		taken := ""
		for _, a := range addrs {
			network, addr, _ := strings.Cut(a, ":")
			var c io.Closer
			var err error
			if network == "udp" {
				c, err = net.ListenPacket(network, addr)
			} else {
				c, err = net.Listen(network, addr)
			}
			if err != nil {
				taken = a
				break
			}
			c.Close()
		}
		if taken == "" || time.Now().After(deadline) {
			return taken
		}
	}
}

func TestRunSurvivesKillMidWrite(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		addr := testenv.FreeAddr(t)
		b := startBox(t, dir, "--data", "d", "--set", "sip.listen="+addr, "--set", "http.listen=")
		waitSIP(t, b, addr)
		b.cmd.Process.Kill() // as a power cut would: no shutdown at all
		waitExit(t, b)
	}
	db, err := store.Open(filepath.Join(dir, "d", "jinyin.db"))
	if err != nil {
		t.Fatalf("store after SIGKILL: %v", err)
	}
	db.Close()
}

func TestRunFailsClearly(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, append(defaultConfigText(t), []byte("\n[oops]\n")...), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"port taken", []string{"--set", "sip.listen=" + taken.LocalAddr().String()}, "address already in use"},
		{"data dir not a directory", []string{"--data", filepath.Join(notDir, "d"), "--set", "sip.listen=" + testenv.FreeAddr(t)}, "data directory"},
		{"config rejected", []string{"--config", bad}, "bad.toml:"},
		{"bad --set", []string{"--set", "sip.listen=nowhere"}, "--set sip.listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"run", "--data", filepath.Join(dir, "data"), "--set", "http.listen="}, tc.args...)...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("err %v, output:\n%s\nwant non-zero exit mentioning %q", err, out, tc.want)
			}
		})
	}
}

func defaultConfigText(t *testing.T) []byte {
	out, err := exec.Command(bin, "config", "default").Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, defaultConfigText(t), 0o600)
	if out, err := exec.Command(bin, "check", "--config", good).CombinedOutput(); err != nil {
		t.Fatalf("default config rejected: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.toml")
	src := strings.Replace(string(defaultConfigText(t)), `level = "info"`, `level = "loud"`, 1)
	src = strings.Replace(src, `type = "e1"`, `type = "j1"`, 1)
	os.WriteFile(bad, []byte(src), 0o600)
	out, err := exec.Command(bin, "check", "--config", bad).Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 problems, got:\n%s", out)
	}
	for _, l := range lines {
		var line, col int
		var file string
		if n, _ := fmt.Sscanf(strings.Replace(l, ":", " ", 3), "%s %d %d", &file, &line, &col); n != 3 || file != bad {
			t.Errorf("not FILE:LINE:COL: %q", l)
		}
	}
}

// TestConfigShow: a file of one line runs as the demo with that line:
// config show prints the config in effect, every key, and run and check
// refuse a file with the same list of problems.
func TestConfigShow(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.toml")
	os.WriteFile(small, []byte("[sip]\nlisten = \"127.0.0.1:15070\"\n"), 0o600)
	out, err := exec.Command(bin, "config", "show", "--config", small, "--set", "log.level=debug").Output()
	if err != nil {
		t.Fatalf("config show: %v", err)
	}
	for _, want := range []string{`listen = '127.0.0.1:15070'`, `level = 'debug'`, "[[extension]]", "[flow.main]", "max_calls = 3000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	if out, err := exec.Command(bin, "check", small).CombinedOutput(); err != nil {
		t.Errorf("check of the one-line file: %v\n%s", err, out)
	}
	// And it runs the demo: the box answers SIP on that line's address.
	addr := testenv.FreeAddr(t)
	os.WriteFile(small, []byte("[sip]\nlisten = \""+addr+"\"\n"), 0o600)
	b := startBox(t, dir, "--config", small, "--set", "http.listen=")
	waitSIP(t, b, addr)
	b.cmd.Process.Signal(syscall.SIGINT)
	if err := waitExit(t, b); err != nil {
		t.Fatalf("the one-line file's box: %v\n%s", err, b.stderr)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[sip]\nlisen = \"x\"\nmax_calls = \"many\"\n[log]\nlevel = \"loud\"\n"), 0o600)
	check, _ := exec.Command(bin, "check", bad).Output()
	show, err := exec.Command(bin, "config", "show", bad).CombinedOutput()
	run, _ := exec.Command(bin, "run", "--config", bad, "--data", filepath.Join(dir, "data")).CombinedOutput()
	want := bad + `:2:1: unknown key "sip.lisen": did you mean "listen"?` + "\n" +
		bad + `:3:13: sip.max_calls: want a whole number, got the string "many"` + "\n" +
		bad + `:5:9: level must be one of "debug", "info", "warn", "error", not "loud"` + "\n"
	if string(check) != want {
		t.Errorf("check:\n%s\nwant\n%s", check, want)
	}
	if err == nil || !strings.HasPrefix(string(show), want) {
		t.Errorf("config show of a bad file: %v\n%s", err, show)
	}
	if !strings.HasPrefix(string(run), want) {
		t.Errorf("run of a bad file:\n%s", run)
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "jinyin ") || !strings.Contains(string(out), "linux/") {
		t.Fatalf("%q %v", out, err)
	}
}

func TestDTMFCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, f wav.Format, pcm []int16, cut int) string {
		var b bytes.Buffer
		if err := wav.Encode(&b, f, pcm); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes()[:b.Len()-cut], 0o600)
		return p
	}
	tones := func(digits string) []int16 {
		var ts []dtmftest.Tone
		for i := range len(digits) {
			ts = append(ts, dtmftest.Tone{Digit: digits[i], RowDBm0: -8, ColDBm0: -6, DurationMs: 80, GapMs: 80})
		}
		return dtmftest.Signal(200, ts, 20, 1)
	}
	alaw := write("order.wav", wav.ALaw, tones("20261123#"), 0)
	pcm := write("pcm.wav", wav.PCM, tones("*9"), 0)
	ulaw := write("silence.wav", wav.MuLaw, make([]int16, 8000), 0)
	cut := write("cut.wav", wav.PCM, tones("1234"), 2400) // all but 10 ms of the 4th digit is gone
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("not a wav"), 0o600)

	out, err := exec.Command(bin, "dtmf", alaw, pcm, ulaw).Output()
	want := alaw + ": 20261123#\n" + pcm + ": *9\n" + ulaw + ": \n"
	if err != nil || string(out) != want {
		t.Fatalf("got %q %v\nwant %q", out, err, want)
	}
	out, err = exec.Command(bin, "dtmf", "--events", pcm).Output()
	var s1, s2 float64
	var d1, d2 int
	n, _ := fmt.Sscanf(strings.TrimPrefix(string(out), pcm+": *9 "), "*@%fs+%dms 9@%fs+%dms", &s1, &d1, &s2, &d2)
	// Tones at 200 and 360 ms, 80 ms long: within 3 ms.
	if err != nil || n != 4 || math.Abs(s1-0.2) > 0.003 || math.Abs(s2-0.36) > 0.003 || d1 < 77 || d1 > 83 || d2 < 77 || d2 > 83 {
		t.Errorf("--events: %q %v", out, err)
	}
	cmd := exec.Command(bin, "dtmf", cut, bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("a bad file must make the exit status 1, got %v", err)
	}
	if string(out) != cut+": 123\n" || !strings.Contains(stderr.String(), "truncated") || !strings.Contains(stderr.String(), "bad.wav: wav: not a RIFF/WAVE file") {
		t.Errorf("stdout %q stderr %q", out, stderr.String())
	}
}

// TestDTMFStreams feeds `jinyin dtmf` 1.1 GiB of 16-bit audio (20 hours)
// through a FIFO, with a digit near the start, in the middle and at the
// end: it finds all three, and its peak memory is within 8 MiB of what a
// 1-second file takes, the yardstick run in the same test.
func TestDTMFStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1.1 GiB")
	}
	dir := t.TempDir()
	digit := func(d byte) []byte { // 1 MiB: the digit, then silence
		pcm := dtmftest.Signal(100, []dtmftest.Tone{{Digit: d, RowDBm0: -8, ColDBm0: -6, DurationMs: 80, GapMs: 80}}, 0, 1)
		b := make([]byte, 1<<20)
		for i, s := range pcm {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
		}
		return b
	}
	header := func(size uint32) []byte {
		var b bytes.Buffer
		wav.Encode(&b, wav.PCM, nil)
		h := b.Bytes()
		binary.LittleEndian.PutUint32(h[40:], size)
		return h
	}
	maxRSS := func(name string) (string, int64) {
		cmd := exec.Command(bin, "dtmf", name)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	}

	short := filepath.Join(dir, "short.wav")
	if err := os.WriteFile(short, append(header(1<<20), digit('7')...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, base := maxRSS(short)
	if out != short+": 7\n" {
		t.Fatalf("yardstick: %q", out)
	}

	fifo := filepath.Join(dir, "long.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const chunks = 1127 // 1127 MiB, 1.1 GiB
	errc := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			errc <- err
			return
		}
		defer w.Close()
		silence := make([]byte, 1<<20)
		if _, err := w.Write(header(0xFFFFFFFF)); err != nil {
			errc <- err
			return
		}
		for i := range chunks {
			b := silence
			switch i {
			case 1:
				b = digit('1')
			case chunks / 2:
				b = digit('2')
			case chunks - 1:
				b = digit('3')
			}
			if _, err := w.Write(b); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	out, long := maxRSS(fifo)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if out != fifo+": 123\n" {
		t.Errorf("long stream: %q, want the digits 123", out)
	}
	t.Logf("peak RSS: 1-second file %.1f MiB, 1.1 GiB stream %.1f MiB", float64(base)/(1<<20), float64(long)/(1<<20))
	if long > base+8<<20 {
		t.Errorf("peak RSS %d MiB on 1.1 GiB against %d MiB on 1 s: memory grows with the file", long>>20, base>>20)
	}
}
