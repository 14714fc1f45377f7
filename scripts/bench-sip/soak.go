package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var (
	soakFor    = flag.Duration("soak", 0, "run the soak (step 5) for this long instead of the benchmark steps")
	soakCPS    = flag.Int("soak-cps", 5, "IVR calls started a second in the soak (10 s each)")
	priPeerBin = flag.String("pri-peer", "", "the libpri peer (pri/libpritest/csrc/peer.c, built) the soak calls over the PRI span from")
)

// sample is one look at the box during the soak.
type sample struct {
	at                    time.Duration
	rssKB, anonKB, heapKB int // RSS, its anonymous part (not the database's mmap), Go's heap in use
	goroutines, fds       int
	dbKB                  int64
	calls                 int
}

// stepSoak drives a steady mix for d: SIPp callers through the IVR
// (10 s each, their audio echoed, so DTMF detection runs); SIPp callers
// into the general queue (one every 8 s) answered by four SIPp agents
// who talk 8 s; SIPp callers leaving a voicemail (one every 15 s, 9 s
// each); libpri calling the IVR over the PRI span, one call after another
// held 10 s; a callback booked over the API every 20 s (the agent's
// phone rings, then the customer is dialled out over the span, where
// libpri answers); and a password guesser from a source of its own
// (banned within its first second, then dropped). Every 10 s it
// samples RSS, goroutines, open files and the database's size, and at
// the end prints each one's slope per hour over the run's second half,
// with the calls completed and failed. Growth that does not level off is
// a leak: the soak fails when, after the calls have drained, goroutines
// stay over their start by more than 50, or (in a soak of 10 minutes or
// more: a shorter one is still warming up) anonymous RSS grew more than
// 30 MiB an hour over the second half (the rest is the database's mmap,
// growing with its records); any failed call fails it too.
func stepSoak(pid int, dir string, d time.Duration, peer *priPeer) bool {
	total := int(d.Seconds()) * *soakCPS
	timeout := fmt.Sprintf("%ds", int((d + 4*time.Minute).Seconds())) // the benchmark's 180 s would end it early
	stop := make(chan struct{})
	agentsRun := startAgents(dir, stop)
	calls := sippStart(boxSIP, "-r", strconv.Itoa(*soakCPS), "-m", strconv.Itoa(total), "-d", "10000", "-rtp_echo", "-mp", "26400", "-timeout", timeout)
	queued := sippCall(boxSIP, "scripts/bench-sip/queue-call.xml", "600", "-r", "1", "-rp", "8000", "-l", "40", "-m", strconv.Itoa(max(1, int(d/(8*time.Second)))),
		"-rtp_echo", "-mp", "26500", "-timeout", timeout)
	messages := sippCall(boxSIP, *scenario, "601", "-r", "1", "-rp", "15000", "-l", "40", "-m", strconv.Itoa(max(1, int(d/(15*time.Second)))),
		"-d", "9000", "-rtp_echo", "-mp", "26600", "-timeout", timeout)
	priDone := make(chan struct{})
	go func() { peer.run(stop); close(priDone) }()
	go guesser(stop)
	var booked atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Second):
			}
			body := fmt.Sprintf(`{"queue":"general","number":"139%08d"}`, i)
			req, _ := http.NewRequest(http.MethodPost, "http://"+boxHTTP+"/callbacks", strings.NewReader(body))
			req.SetBasicAuth(benchUser, benchPassword)
			if res, err := http.DefaultClient.Do(req); err == nil {
				if res.StatusCode/100 == 2 {
					booked.Add(1)
				}
				res.Body.Close()
			}
		}
	}()
	start := time.Now()
	base := look(pid, dir, 0)
	samples := []sample{base}
	for tick := time.NewTicker(10 * time.Second); ; {
		select {
		case <-calls.done:
			tick.Stop()
			goto drained
		case <-tick.C:
			if at := time.Since(start); at <= d { // not the last calls' ramp-down
				samples = append(samples, look(pid, dir, at))
			}
		}
	}
drained:
	ok, failed := calls.wait()
	qOK, qFailed := queued.wait()
	vmOK, vmFailed := messages.wait()
	close(stop)
	<-priDone
	waitCalls(0, 30*time.Second)
	time.Sleep(2 * time.Second)
	agentsRun.cmd.Process.Signal(os.Interrupt)
	aOK, aFailed := agentsRun.wait()
	priOK, priFailed, priOut := peer.counts()
	end := look(pid, dir, time.Since(start))
	half := samples[len(samples)/2:]
	slope := func(f func(sample) float64) float64 {
		var n, sx, sy, sxx, sxy float64
		for _, s := range half {
			x, y := s.at.Hours(), f(s)
			n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
		}
		if n < 2 || n*sxx == sx*sx {
			return 0
		}
		return (n*sxy - sx*sy) / (n*sxx - sx*sx)
	}
	rssSlope := slope(func(s sample) float64 { return float64(s.rssKB) / 1024 })
	anonSlope := slope(func(s sample) float64 { return float64(s.anonKB) / 1024 })
	heapSlope := slope(func(s sample) float64 { return float64(s.heapKB) / 1024 })
	fmt.Printf("\nsoak %v, %d samples:\n", d.Round(time.Second), len(samples))
	fmt.Printf("  IVR callers (%d/s, 10 s): %d completed, %d failed\n", *soakCPS, ok, failed)
	fmt.Printf("  queue callers: %d completed, %d failed; the agents' phones: %d calls completed, %d failed\n", qOK, qFailed, aOK, aFailed)
	fmt.Printf("  voicemail callers: %d completed, %d failed; %d messages in the mailbox\n", vmOK, vmFailed, voicemails())
	fmt.Printf("  PRI calls from libpri: %d completed, %d failed; callbacks booked %d, calls out over the span answered %d\n", priOK, priFailed, booked.Load(), priOut)
	fmt.Printf("  slopes over the second half, per hour: RSS %+.1f MiB (anonymous %+.1f, Go heap in use %+.1f), goroutines %+.0f, open files %+.0f, database %+.0f KiB, calls up %+.0f\n",
		rssSlope, anonSlope, heapSlope, slope(func(s sample) float64 { return float64(s.goroutines) }), slope(func(s sample) float64 { return float64(s.fds) }),
		slope(func(s sample) float64 { return float64(s.dbKB) }), slope(func(s sample) float64 { return float64(s.calls) }))
	fmt.Printf("  start: RSS %d MiB (anonymous %d, heap %d), %d goroutines, %d files; drained: RSS %d MiB (anonymous %d, heap %d), %d goroutines, %d files, database %d KiB\n",
		base.rssKB/1024, base.anonKB/1024, base.heapKB/1024, base.goroutines, base.fds, end.rssKB/1024, end.anonKB/1024, end.heapKB/1024, end.goroutines, end.fds, end.dbKB)
	leak := false
	if end.goroutines > base.goroutines+50 {
		fmt.Printf("  LEAK: %d goroutines after the calls drained, %d at the start\n", end.goroutines, base.goroutines)
		leak = true
	}
	switch {
	case d < 10*time.Minute:
		fmt.Printf("  (RSS is still warming up in a soak shorter than 10 minutes: its slope is not judged)\n")
	case anonSlope > 30:
		// The file-backed rest of RSS is the database's mmap, which grows
		// with the records by design (its size is the database's slope).
		fmt.Printf("  LEAK: anonymous RSS grows %.1f MiB an hour\n", anonSlope)
		leak = true
	}
	failed += qFailed + vmFailed + aFailed + priFailed
	if failed > 0 {
		fmt.Printf("  %d calls failed\n", failed)
	}
	return !leak && failed == 0
}

func look(pid int, dir string, at time.Duration) sample {
	s := sample{at: at, rssKB: rssKB(pid), anonKB: procStatusKB(pid, "RssAnon:"), heapKB: heapInUseKB(), calls: status().Calls}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = len(ents)
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "jinyin.db")); err == nil {
		s.dbKB = fi.Size() / 1024
	}
	if res, err := http.Get("http://" + boxHTTP + "/debug/pprof/goroutine?debug=1"); err == nil {
		line, _ := bufio.NewReader(res.Body).ReadString('\n') // "goroutine profile: total N"
		res.Body.Close()
		if i := strings.LastIndexByte(line, ' '); i >= 0 {
			s.goroutines, _ = strconv.Atoi(strings.TrimSpace(line[i+1:]))
		}
	}
	return s
}

// guesser sends REGISTERs with a wrong password from 127.0.0.50, five a
// second, until stop: the box bans it and drops the rest.
func guesser(stop chan struct{}) {
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 50)}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(boxSIP)))
	if err != nil {
		return
	}
	defer conn.Close()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
		fmt.Fprintf(conn, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-soak%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:1001@%s>;tag=s%d\r\nTo: <sip:1001@%s>\r\nCall-ID: soak-%d\r\nCSeq: 1 REGISTER\r\n"+
			"Authorization: Digest username=\"1001\", realm=\"jinyin-demo\", nonce=\"x\", uri=\"sip:%s\", response=\"00000000000000000000000000000000\"\r\n"+
			"Contact: <sip:1001@%s>\r\nContent-Length: 0\r\n\r\n", boxSIP, conn.LocalAddr(), i, boxSIP, i, boxSIP, i, boxSIP, conn.LocalAddr())
	}
}

// The supervisor account the soak books its callbacks as (main makes it
// with jinyin passwd before the first box starts).
const benchUser, benchPassword = "bench", "bench-password"

// procStatusKB is a kB field of /proc/PID/status.
func procStatusKB(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// heapInUseKB is the box's go_memstats_heap_inuse_bytes from /metrics.
func heapInUseKB() int {
	res, err := http.Get("http://" + boxHTTP + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f / 1024)
		}
	}
	return 0
}
