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
	"time"
)

var (
	soakFor = flag.Duration("soak", 0, "run the soak (step 5) for this long instead of the benchmark steps")
	soakCPS = flag.Int("soak-cps", 5, "IVR calls started a second in the soak (10 s each)")
)

// sample is one look at the box during the soak.
type sample struct {
	at                     time.Duration
	rssKB, goroutines, fds int
	dbKB                   int64
	calls                  int
}

// stepSoak drives a steady mix for d: SIPp callers through the IVR
// (10 s each, their audio echoed, so DTMF detection runs), a callback
// booked over the API every 2 s, and a password guesser from a source of
// its own (banned within its first second, then dropped). Every 10 s it
// samples RSS, goroutines, open files and the database's size, and at
// the end prints each one's slope per hour over the run's second half,
// with the calls completed and failed. Growth that does not level off is
// a leak: the soak fails when, after the calls have drained, goroutines
// stay over their start by more than 50, or (in a soak of 10 minutes or
// more: a shorter one is still warming up) RSS grew more than 30 MiB an
// hour over the second half.
func stepSoak(pid int, dir string, d time.Duration) bool {
	total := int(d.Seconds()) * *soakCPS
	calls := sippStart(boxSIP, "-r", strconv.Itoa(*soakCPS), "-m", strconv.Itoa(total), "-d", "10000", "-rtp_echo", "-mp", "26400",
		"-timeout", fmt.Sprintf("%ds", int((d+time.Minute).Seconds()))) // the benchmark's 180 s would end it early
	stop := make(chan struct{})
	go guesser(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
			body := fmt.Sprintf(`{"queue":"general","number":"139%08d"}`, i)
			req, _ := http.NewRequest(http.MethodPost, "http://"+boxHTTP+"/callbacks", strings.NewReader(body))
			req.SetBasicAuth(benchUser, benchPassword)
			if res, err := http.DefaultClient.Do(req); err == nil {
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
	close(stop)
	ok, failed := calls.wait()
	waitCalls(0, 30*time.Second)
	time.Sleep(2 * time.Second)
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
	fmt.Printf("\nsoak %v at %d calls/s: %d calls completed, %d failed; %d samples\n", d.Round(time.Second), *soakCPS, ok, failed, len(samples))
	fmt.Printf("  slopes over the second half, per hour: RSS %+.1f MiB, goroutines %+.0f, open files %+.0f, database %+.0f KiB, calls up %+.0f\n",
		rssSlope, slope(func(s sample) float64 { return float64(s.goroutines) }), slope(func(s sample) float64 { return float64(s.fds) }),
		slope(func(s sample) float64 { return float64(s.dbKB) }), slope(func(s sample) float64 { return float64(s.calls) }))
	fmt.Printf("  start: RSS %d MiB, %d goroutines, %d files; drained: RSS %d MiB, %d goroutines, %d files, database %d KiB\n",
		base.rssKB/1024, base.goroutines, base.fds, end.rssKB/1024, end.goroutines, end.fds, end.dbKB)
	leak := false
	if end.goroutines > base.goroutines+50 {
		fmt.Printf("  LEAK: %d goroutines after the calls drained, %d at the start\n", end.goroutines, base.goroutines)
		leak = true
	}
	switch {
	case d < 10*time.Minute:
		fmt.Printf("  (RSS is still warming up in a soak shorter than 10 minutes: its slope is not judged)\n")
	case rssSlope > 30:
		fmt.Printf("  LEAK: RSS grows %.1f MiB an hour\n", rssSlope)
		leak = true
	}
	if failed > 0 {
		fmt.Printf("  %d calls failed\n", failed)
	}
	return !leak && failed == 0
}

func look(pid int, dir string, at time.Duration) sample {
	s := sample{at: at, rssKB: rssKB(pid), calls: status().Calls}
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
