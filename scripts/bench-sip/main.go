// Command bench-sip is the SIP load benchmark behind scripts/bench-sip.sh:
// SIPp on loopback against `jinyin run`, then against a bare sipgo UAS
// (bareuas) for the signalling ceiling. For each step it prints the calls
// completed and failed, the box's CPU per call-second and memory per call
// (from /proc), its RSS, and the p99 gap between the RTP packets the box
// sends, measured by a probe call of its own. Absolute figures do not
// travel between machines, so step 1 is measured against two yardsticks
// run in the same invocation: the syscall floor (floor/floor.c: the
// sockets' work of as many calls, nothing else) and a peer (diago/: a
// playback server on diago, under the same SIPp load), and the ratios are
// printed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"jinyin/internal/siptest"
	"jinyin/media/prompt"
	"jinyin/media/wav"
)

var (
	jinyin   = flag.String("jinyin", "", "jinyin binary")
	bareuas  = flag.String("bareuas", "", "bareuas binary")
	floorBin = flag.String("floor", "", "the floor program (floor/floor.c), for step 5")
	diagoBin = flag.String("diago", "", "the diago playback server (diago/), for step 6")
	profile  = flag.String("pprof", "", "write a CPU profile of the box in step 1's steady state to this file (go tool pprof); it costs CPU, so the step's figures are not for comparison")
	scenario = flag.String("scenario", "scripts/bench-sip/ivr-call.xml", "SIPp scenario")
	calls    = flag.Int("calls", 3000, "concurrent IVR calls in step 1")
	cps      = flag.Int("cps", 1000, "call rate in step 2 (1 s calls)")
	cpsSecs  = flag.Int("cps-seconds", 10, "length of step 2")
	flood    = flag.Int("flood", 5000, "INVITE rate of the flood in step 3 and against bareuas")
	floodSec = flag.Int("flood-seconds", 10, "length of the floods")
	only     = flag.String("only", "", "run only these steps, e.g. 1,3")
)

const (
	boxSIP   = "127.0.0.1:25060"
	boxHTTP  = "127.0.0.1:28080"
	bareSIP  = "127.0.0.1:25160"
	diagoSIP = "127.0.0.1:25260"
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "bench-sip-")
	check(err)
	defer os.RemoveAll(dir)
	fmt.Printf("%-34s %9s %7s %8s %11s %9s %8s %9s\n", "step", "completed", "failed", "refused", "CPU/call-s", "per call", "RSS max", "p99 gap")
	// Each step gets a freshly started box: transactions of one step are
	// kept 32 s (Timer J/L) and would be measured in the next.
	// The soak's callbacks are API writes: they need a supervisor.
	passwd := exec.Command(*jinyin, "passwd", "--data", filepath.Join(dir, "data"), benchUser)
	passwd.Stdin = strings.NewReader(benchPassword + "\n")
	out, err := passwd.CombinedOutput()
	if err != nil {
		check(fmt.Errorf("jinyin passwd: %v %s", err, out))
	}
	withBox := func(f func(pid, idleRSS int), extra ...string) {
		box := start(dir, *jinyin, append([]string{"run", "--data", filepath.Join(dir, "data"), "--set", "sip.listen=" + boxSIP, "--set", "http.listen=" + boxHTTP,
			"--set", "sip.rtp_ports=20000-39999", "--set", fmt.Sprintf("sip.max_calls=%d", *calls+500), "--set", "log.level=error",
			"--set", "security.flood_density=1000000"}, extra...)...) // SIPp's hundreds of INVITEs a second from one address are the load, not an attack
		defer func() { box.Process.Signal(os.Interrupt); box.Wait() }()
		waitHTTP()
		f(box.Process.Pid, rssKB(box.Process.Pid))
	}
	if *soakFor > 0 {
		passed := true
		dpath, bpath := filepath.Join(dir, "d"), filepath.Join(dir, "b")
		peer := startPRIPeer(*priPeerBin, dpath, bpath)
		defer peer.close()
		lines := startAnalog(fxsPath(dir), fxoPath(dir))
		withBox(func(pid, _ int) { passed = stepSoak(pid, dir, *soakFor, peer, lines) }, "--config", soakConfig(dir, *jinyin, dpath, bpath))
		if !passed {
			os.Exit(1)
		}
		return
	}
	var ratePerSec float64
	var box, floor, peer figures
	if run("1") {
		withBox(func(pid, idleRSS int) { box = stepConcurrent(pid, idleRSS) })
	}
	if run("2") {
		withBox(func(pid, _ int) { ratePerSec = stepRate(pid) })
	}
	if run("3") {
		withBox(func(pid, _ int) { stepFlood(pid) })
	}
	if run("4") {
		bare := start(dir, *bareuas, "-listen", bareSIP)
		defer bare.Process.Kill()
		time.Sleep(300 * time.Millisecond)
		bareRate := stepBare(bare.Process.Pid)
		if ratePerSec > 0 {
			fmt.Printf("\njinyin, answering with media, completed %.0f calls/s; the bare sipgo UAS, no media, %.0f calls/s: ratio %.2f\n", ratePerSec, bareRate, ratePerSec/bareRate)
		}
	}
	if run("5") && *floorBin != "" {
		floor = stepFloor(*floorBin)
	}
	if run("6") && *diagoBin != "" {
		peer = stepDiago(dir, *diagoBin)
	}
	if box.cpu > 0 && (floor.cpu > 0 || peer.cpu > 0) {
		fmt.Printf("\n%d concurrent calls, same run:     CPU/call-s  per call   p99 gap\n", *calls)
		ratio := func(name string, y figures) {
			r := func(a, b float64) string {
				if a <= 0 || b <= 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f", a/b)
			}
			fmt.Printf("  jinyin / %-24s %9s %10s %9s\n", name, r(box.cpu, y.cpu), r(box.kb, y.kb), r(box.p99, y.p99))
		}
		if floor.cpu > 0 {
			ratio("the floor", floor)
		}
		if peer.cpu > 0 {
			ratio("diago", peer)
		}
	}
}

// figures are one media step's figures: CPU per call-second (µs), memory
// per call (KB) and the p99 gap between packets (ms); 0 when not measured.
type figures struct{ cpu, kb, p99 float64 }

// stepFloor runs the floor program for as many calls as step 1 and reads
// its CPU over 8 s of its steady state.
func stepFloor(bin string) figures {
	n := *calls
	cmd := exec.Command(bin, strconv.Itoa(n), "14")
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	defer cmd.Wait()
	time.Sleep(3 * time.Second)
	pid := cmd.Process.Pid
	cpu0, t0 := cpuTicks(pid), time.Now()
	time.Sleep(8 * time.Second)
	cpu1, t1 := cpuTicks(pid), time.Now()
	m := figures{cpu: float64(cpu1-cpu0) * 10000 / t1.Sub(t0).Seconds() / float64(n)}
	fmt.Printf("%-34s %9s %7s %8s %9.0fµs\n", fmt.Sprintf("5: the floor, %d calls' sockets", n), "", "", "", m.cpu)
	return m
}

// stepDiago is step 1 against the diago playback server: the same SIPp
// load playing the same prompt (welcome and the main menu, as PCM).
func stepDiago(dir, bin string) figures {
	set, err := prompt.Default()
	check(err)
	pl, err := set.Player("zh", "welcome", "main-menu")
	check(err)
	var pcm []int16
	for buf := make([]int16, 160); ; {
		k := pl.Fill(buf)
		pcm = append(pcm, buf[:k]...)
		if k < len(buf) {
			break
		}
	}
	var b bytes.Buffer
	check(wav.Encode(&b, wav.PCM, pcm))
	wavPath := filepath.Join(dir, "prompt.wav")
	check(os.WriteFile(wavPath, b.Bytes(), 0o600))
	peer := start(dir, bin, "-listen", diagoSIP, "-wav", wavPath)
	defer func() { peer.Process.Signal(os.Interrupt); peer.Wait() }()
	time.Sleep(500 * time.Millisecond)
	pid := peer.Process.Pid
	idle := rssKB(pid)
	n := *calls
	ramp := time.Duration(n/300+1) * time.Second
	hold := ramp + 25*time.Second
	stats := sippCall(diagoSIP, *scenario, "100", "-r", "300", "-l", strconv.Itoa(n), "-m", strconv.Itoa(n), "-d", strconv.Itoa(int(hold/time.Millisecond)), "-rtp_echo", "-mp", "26400")
	time.Sleep(ramp + 4*time.Second) // no /status to ask: the ramp and a margin
	cpu0, t0 := cpuTicks(pid), time.Now()
	gaps := probe(diagoSIP, 8*time.Second)
	cpu1, t1 := cpuTicks(pid), time.Now()
	rss := rssKB(pid)
	ok, failed := stats.wait()
	m := figures{cpu: float64(cpu1-cpu0) * 10000 / t1.Sub(t0).Seconds() / float64(n+1), kb: float64(rss-idle) / float64(n+1), p99: p99(gaps)}
	fmt.Printf("%-34s %9d %7d %8d %9.0fµs %7.1fKB %6.0fMiB %7.1fms\n", fmt.Sprintf("6: diago, %d concurrent calls", n), ok, failed, 0, m.cpu, m.kb, float64(rss)/1024, m.p99)
	return m
}

func run(step string) bool { return *only == "" || strings.Contains(*only, step) }

// stepConcurrent holds N IVR calls up and measures the steady state.
func stepConcurrent(pid int, idleRSS int) figures {
	n := *calls
	ramp := time.Duration(n/300+1) * time.Second
	hold := ramp + 25*time.Second
	stats := sippStart(boxSIP, "-r", "300", "-l", strconv.Itoa(n), "-m", strconv.Itoa(n), "-d", strconv.Itoa(int(hold/time.Millisecond)), "-rtp_echo", "-mp", "26000")
	waitCalls(n, ramp+15*time.Second)
	time.Sleep(2 * time.Second)
	profiled := make(chan struct{})
	if *profile != "" {
		go func() { defer close(profiled); saveProfile(*profile, 8) }()
	} else {
		close(profiled)
	}
	cpu0, t0 := cpuTicks(pid), time.Now()
	gaps := probe(boxSIP, 8*time.Second)
	cpu1, t1 := cpuTicks(pid), time.Now()
	<-profiled
	rss := rssKB(pid)
	up := status().Calls
	ok, failed := stats.wait()
	cpuPerCallSec := float64(cpu1-cpu0) * 10000 / t1.Sub(t0).Seconds() / float64(up) // ticks are 10 ms
	m := figures{cpu: cpuPerCallSec, kb: float64(rss-idleRSS) / float64(up), p99: p99(gaps)}
	fmt.Printf("%-34s %9d %7d %8d %9.0fµs %7.1fKB %6.0fMiB %7.1fms\n", fmt.Sprintf("1: %d concurrent IVR calls", n), ok, failed, 0,
		m.cpu, m.kb, float64(rss)/1024, m.p99)
	return m
}

// saveProfile writes the box's CPU profile over secs seconds to path.
func saveProfile(path string, secs int) {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", boxHTTP, secs))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-sip: profile:", err)
		return
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	check(err)
	defer f.Close()
	io.Copy(f, res.Body)
}

// stepRate runs short calls (answer, 1 s of prompt, hang up) at a rate.
func stepRate(pid int) float64 {
	total := *cps * *cpsSecs
	refused0 := status().Refused
	cpu0, t0 := cpuTicks(pid), time.Now()
	stats := sippStart(boxSIP, "-r", strconv.Itoa(*cps), "-m", strconv.Itoa(total), "-d", "1000", "-rtp_echo", "-mp", "26100")
	maxRSS := watchRSS(pid, stats.done)
	ok, failed := stats.wait()
	cpu1, t1 := cpuTicks(pid), time.Now()
	elapsed := t1.Sub(t0).Seconds()
	fmt.Printf("%-34s %9d %7d %8d %9.0fµs %9s %6.0fMiB %9s\n", fmt.Sprintf("2: %d calls/s, 1 s each", *cps), ok, failed, status().Refused-refused0,
		float64(cpu1-cpu0)*10000/float64(ok), "", float64(maxRSS)/1024, "")
	return float64(ok) / elapsed
}

// stepFlood keeps 200 calls up and floods INVITEs far above the admitted rate.
func stepFlood(pid int) {
	bg := sippStart(boxSIP, "-r", "100", "-l", "200", "-m", "200", "-d", strconv.Itoa((*floodSec+12)*1000), "-rtp_echo", "-mp", "26200")
	waitCalls(200, 10*time.Second)
	refused0 := status().Refused
	fl := sippStart(boxSIP, "-r", strconv.Itoa(*flood), "-m", strconv.Itoa(*flood**floodSec), "-d", "0", "-rtp_echo", "-mp", "26300", "-recv_timeout", "5000")
	gapsDone := make(chan []time.Duration)
	go func() { time.Sleep(time.Second); gapsDone <- probe(boxSIP, time.Duration(*floodSec-3)*time.Second) }()
	maxRSS := watchRSS(pid, fl.done)
	ok, failed := fl.wait()
	gaps := <-gapsDone
	refused := status().Refused - refused0
	bgOK, bgFailed := bg.wait()
	// SIPp counts a call refused with 503 as successful: the scenario expects it.
	fmt.Printf("%-34s %9d %7d %8d %11s %9s %6.0fMiB %7.1fms\n", fmt.Sprintf("3: flood %d INVITE/s, %d s", *flood, *floodSec), ok-int(refused), failed, refused, "", "", float64(maxRSS)/1024, p99(gaps))
	fmt.Printf("%-34s %9d %7d\n", "   calls up during the flood", bgOK, bgFailed)
}

func stepBare(pid int) float64 {
	t0 := time.Now()
	st := sippStart(bareSIP, "-r", strconv.Itoa(*flood), "-m", strconv.Itoa(*flood**floodSec), "-d", "0", "-recv_timeout", "5000")
	maxRSS := watchRSS(pid, st.done)
	ok, failed := st.wait()
	rate := float64(ok) / time.Since(t0).Seconds()
	fmt.Printf("%-34s %9d %7d %8d %11s %9s %6.0fMiB %9s\n", fmt.Sprintf("4: bare sipgo UAS, %d INVITE/s", *flood), ok, failed, 0, "", "", float64(maxRSS)/1024, "")
	return rate
}

// sippRun is a SIPp process and the statistics file it writes.
type sippRun struct {
	cmd  *exec.Cmd
	stat string
	done chan struct{}
}

var sippPort = 25300

func sippStart(target string, args ...string) *sippRun {
	return sippCall(target, *scenario, "100", args...)
}

// sippCall starts SIPp calling service at target with a UAC scenario.
func sippCall(target, scenario, service string, args ...string) *sippRun {
	sippPort += 10
	stat := filepath.Join(os.TempDir(), fmt.Sprintf("bench-sip-%d.csv", sippPort))
	base := []string{target, "-sf", scenario, "-s", service, "-i", "127.0.0.1", "-p", strconv.Itoa(sippPort), "-mi", "127.0.0.1",
		"-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-max_socket", "60000", "-timeout", "180s"}
	cmd := exec.Command("sipp", append(base, args...)...)
	check(cmd.Start())
	r := &sippRun{cmd: cmd, stat: stat, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	return r
}

// wait returns the successful and failed call counts from the last line
// of SIPp's statistics file.
func (r *sippRun) wait() (ok, failed int) {
	<-r.done
	defer os.Remove(r.stat)
	f, err := os.Open(r.stat)
	check(err)
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	get := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 || i >= len(last) {
			return -1
		}
		n, _ := strconv.Atoi(last[i])
		return n
	}
	return get("SuccessfulCall(C)"), get("FailedCall(C)")
}

func start(dir, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	return cmd
}

type boxStatus struct {
	Calls   int    `json:"calls"`
	Refused uint64 `json:"refused"`
}

func status() boxStatus {
	var st boxStatus
	res, err := http.Get("http://" + boxHTTP + "/status")
	if err == nil {
		json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
	}
	return st
}

func waitHTTP() {
	for i := 0; i < 100; i++ {
		if res, err := http.Get("http://" + boxHTTP + "/status"); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	check(fmt.Errorf("the box did not come up"))
}

func waitCalls(n int, limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if status().Calls >= n {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "bench-sip: only %d of %d calls up\n", status().Calls, n)
}

// cpuTicks is utime+stime of a process in clock ticks (10 ms).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func rssKB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

// watchRSS samples RSS every 100 ms until done and returns the maximum.
func watchRSS(pid int, done chan struct{}) int {
	m := 0
	for {
		m = max(m, rssKB(pid))
		select {
		case <-done:
			return m
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probe places one call to the IVR and records the gaps between the RTP
// packets the box sends it for d.
func probe(target string, d time.Duration) []time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), d+20*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, target, "100")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return nil
	}
	defer call.Close()
	if err := call.Answered(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return nil
	}
	defer call.Dialog.Bye(ctx)
	rtpConn := call.RTP
	// The kernel stamps each packet as it arrives (SO_TIMESTAMPNS), so the
	// probe's own scheduling on the busy cores does not enter the gaps.
	if rc, err := rtpConn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
	}
	buf, oob := make([]byte, 1500), make([]byte, 128)
	var gaps []time.Duration
	var last time.Time
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		rtpConn.SetReadDeadline(end)
		_, oobn, _, _, err := rtpConn.ReadMsgUDP(buf, oob)
		if err != nil {
			break
		}
		at := time.Now()
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
					at = time.Unix(ts.Unix())
				}
			}
		}
		if !last.IsZero() {
			gaps = append(gaps, at.Sub(last))
		}
		last = at
	}
	return gaps
}

func p99(gaps []time.Duration) float64 {
	if len(gaps) == 0 {
		return -1
	}
	slices.Sort(gaps)
	if os.Getenv("GAPS") != "" {
		n := len(gaps)
		fmt.Fprintf(os.Stderr, "gaps n=%d p1=%v p10=%v p50=%v p90=%v p99=%v max=%v\n", n, gaps[n/100], gaps[n/10], gaps[n/2], gaps[n*9/10], gaps[n*99/100], gaps[n-1])
	}
	return float64(gaps[len(gaps)*99/100]) / float64(time.Millisecond)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-sip:", err)
		os.Exit(1)
	}
}
