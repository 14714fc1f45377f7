package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
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
	soakHeaps  = flag.String("soak-heaps", "", "write the box's heap profiles (after a collection) at the soak's half-way point, its end and once the calls have drained to this folder, as heap-half.pprof, heap-end.pprof and heap-drained.pprof, for go tool pprof -base (GODEBUG=memprofilerate=4096 makes them finer)")
)

// sample is one look at the box during the soak.
type sample struct {
	at                    time.Duration
	rssKB, anonKB, heapKB int // RSS, its anonymous part (not the database's mmap), Go's heap in use
	liveKB                int // the Go heap's live objects, after a forced collection
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
// libpri answers); an analog phone on the FXS port dialling the IVR and
// the exchange calling in over the FXO port, one each every 30 s, held
// 10 s (analog.go); and a password guesser from a source of its own
// (banned within its first second, then dropped). Every 10 s it
// samples RSS, goroutines, open files and the database's size, and at
// the end prints each one's slope per hour over the run's second half,
// with the calls completed and failed. Growth that does not level off is
// a leak: the soak fails when, after the calls have drained, goroutines
// stay over their start by more than 50, or (in a soak of 10 minutes or
// more: a shorter one is still warming up) the live heap, sampled after
// a forced collection, grew more than 10 MiB an hour over the second half
// (1 KiB kept per call at this mix's 5 calls a second is 18 MiB an hour);
// any failed call fails it too.
func stepSoak(pid int, dir string, d time.Duration, peer *priPeer, lines *analogPeer) bool {
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
	analogDone := make(chan struct{})
	go func() { lines.run(stop); close(analogDone) }()
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
	halfSaved := false
	for tick := time.NewTicker(10 * time.Second); ; {
		select {
		case <-calls.done:
			tick.Stop()
			goto drained
		case <-tick.C:
			if at := time.Since(start); at <= d { // not the last calls' ramp-down
				samples = append(samples, look(pid, dir, at))
				if *soakHeaps != "" && at > d/2 {
					name := "heap-end.pprof"
					if !halfSaved {
						name, halfSaved = "heap-half.pprof", true
					}
					liveHeapKB(filepath.Join(*soakHeaps, name))
				}
			}
		}
	}
drained:
	ok, failed := calls.wait()
	qOK, qFailed := queued.wait()
	vmOK, vmFailed := messages.wait()
	close(stop)
	<-priDone
	<-analogDone
	waitCalls(0, 30*time.Second)
	time.Sleep(2 * time.Second)
	agentsRun.cmd.Process.Signal(os.Interrupt)
	aOK, aFailed := agentsRun.wait()
	priOK, priFailed, priOut := peer.counts()
	fxsOK, fxsFailed, fxoOK, fxoFailed := lines.counts()
	end := look(pid, dir, time.Since(start))
	if *soakHeaps != "" {
		liveHeapKB(filepath.Join(*soakHeaps, "heap-drained.pprof"))
	}
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
	liveSlope := slope(func(s sample) float64 { return float64(s.liveKB) / 1024 })
	fmt.Printf("\nsoak %v, %d samples:\n", d.Round(time.Second), len(samples))
	fmt.Printf("  IVR callers (%d/s, 10 s): %d completed, %d failed\n", *soakCPS, ok, failed)
	fmt.Printf("  queue callers: %d completed, %d failed; the agents' phones: %d calls completed, %d failed\n", qOK, qFailed, aOK, aFailed)
	fmt.Printf("  voicemail callers: %d completed, %d failed; %d messages in the mailbox\n", vmOK, vmFailed, voicemails())
	fmt.Printf("  PRI calls from libpri: %d completed, %d failed; callbacks booked %d, calls out over the span answered %d\n", priOK, priFailed, booked.Load(), priOut)
	fmt.Printf("  analog: the FXS phone dialled the IVR %d times, %d failed; the exchange called in over FXO %d times, %d failed\n", fxsOK, fxsFailed, fxoOK, fxoFailed)
	fmt.Printf("  slopes over the second half, per hour: RSS %+.1f MiB (anonymous %+.1f, Go heap in use %+.1f, live heap %+.1f), goroutines %+.0f, open files %+.0f, database %+.0f KiB, calls up %+.0f\n",
		rssSlope, anonSlope, heapSlope, liveSlope, slope(func(s sample) float64 { return float64(s.goroutines) }), slope(func(s sample) float64 { return float64(s.fds) }),
		slope(func(s sample) float64 { return float64(s.dbKB) }), slope(func(s sample) float64 { return float64(s.calls) }))
	fmt.Printf("  start: RSS %d MiB (anonymous %d, heap %d, live %d), %d goroutines, %d files; drained: RSS %d MiB (anonymous %d, heap %d, live %d), %d goroutines, %d files, database %d KiB\n",
		base.rssKB/1024, base.anonKB/1024, base.heapKB/1024, base.liveKB/1024, base.goroutines, base.fds, end.rssKB/1024, end.anonKB/1024, end.heapKB/1024, end.liveKB/1024, end.goroutines, end.fds, end.dbKB)
	leak := false
	if end.goroutines > base.goroutines+50 {
		fmt.Printf("  LEAK: %d goroutines after the calls drained, %d at the start\n", end.goroutines, base.goroutines)
		leak = true
	}
	switch {
	case d < 10*time.Minute:
		fmt.Printf("  (RSS is still warming up in a soak shorter than 10 minutes: its slope is not judged)\n")
	case liveSlope > 10:
		// Judged on the live heap: RSS moves with garbage not yet
		// collected and with pages the runtime has not yet returned, and
		// its file-backed part is the database's mmap, growing with the
		// records by design (its size is the database's slope).
		fmt.Printf("  LEAK: the live heap grows %.1f MiB an hour\n", liveSlope)
		leak = true
	}
	failed += qFailed + vmFailed + aFailed + priFailed + fxsFailed + fxoFailed
	if failed > 0 {
		fmt.Printf("  %d calls failed\n", failed)
	}
	return !leak && failed == 0
}

func look(pid int, dir string, at time.Duration) sample {
	s := sample{at: at, rssKB: rssKB(pid), anonKB: procStatusKB(pid, "RssAnon:"), heapKB: heapInUseKB(), liveKB: liveHeapKB(""), calls: status().Calls}
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

// liveHeapKB is the box's live heap after a forced collection (the
// HeapAlloc line of /debug/pprof/heap?gc=1&debug=1), the one memory
// figure that neither garbage nor the runtime's lag in returning pages
// to the kernel moves. With save set, it also writes the heap profile
// (gc=1, binary) there, for go tool pprof -base.
func liveHeapKB(save string) int {
	if save != "" {
		if res, err := http.Get("http://" + boxHTTP + "/debug/pprof/heap?gc=1"); err == nil {
			if f, err := os.Create(save); err == nil {
				io.Copy(f, res.Body)
				f.Close()
			}
			res.Body.Close()
		}
	}
	res, err := http.Get("http://" + boxHTTP + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n / 1024
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
