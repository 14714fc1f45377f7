package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The soak's mix beyond the IVR callers: agents answering a queue, queue
// callers, voicemail callers and PRI calls from libpri (the analog calls
// are analog.go's). Its box runs a config of its own: the embedded default
// with span 1 on the socket driver to the libpri peer, callbacks dialled
// out over it, the analog ports on the socket driver, and two extensions,
// 600 (straight into the general queue) and 601 (straight to the main
// mailbox).

var agents = []string{"1001", "1002", "1003", "1004"}

const (
	agentPort = "25900" // the agents' SIPp
	soakExtra = `
[[extension]]
number = "600"
name = "soak: the general queue"
kind = "ivr"
flow = "soakq"

[[extension]]
number = "601"
name = "soak: leave a message"
kind = "ivr"
flow = "soakvm"

[flow.soakq]
start = "q"

[flow.soakq.node.q]
type = "transfer"
target = "queue:general"

[flow.soakvm]
start = "vm"

[flow.soakvm.node.vm]
type = "voicemail"
prompts = ["voicemail-intro"]
mailbox = "main"
max_length = "1m"
silence = "30s"
next = "bye"

[flow.soakvm.node.bye]
type = "hangup"
`
)

// soakConfig writes the soak's config to dir and returns its path.
func soakConfig(dir, jinyinBin, dpath, bpath string) string {
	def, err := exec.Command(jinyinBin, "config", "default").Output()
	check(err)
	s := strings.Replace(string(def), "driver = \"sim\"\nsignalling = \"pri-cpe\"",
		"driver = \"socket\"\ndchannel = \""+dpath+"\"\nbchannels = \""+bpath+"\"\nsignalling = \"pri-cpe\"", 1)
	// Callbacks to outside numbers dial out over the span, to libpri.
	cb := strings.Replace(s, "callback = true ", "callback_trunk = \"pri\"\ncallback = true ", 1)
	if s == string(def) || cb == s {
		check(fmt.Errorf("the default config's span or callbacks are not where the soak expects them"))
	}
	// A centre calling its customers back dials a new number each time:
	// the toll-fraud breaker's distinct-destination limit is set for that
	// volume (the demo's 20 in 10 minutes would stop the span after 20).
	dests := strings.Replace(cb, "max_destinations = 20\n", "max_destinations = 500\n", 1)
	if dests == cb {
		check(fmt.Errorf("the default config's max_destinations is not where the soak expects it"))
	}
	// The analog ports on the socket driver, this program at their far
	// ends (analog.go).
	s = strings.Replace(dests, "driver = \"sim\"\nextension = \"2001\"", "driver = \"socket\"\nline = \""+fxsPath(dir)+"\"\nextension = \"2001\"", 1)
	s2 := strings.Replace(s, "driver = \"sim\"\ndestination = \"100\"", "driver = \"socket\"\nline = \""+fxoPath(dir)+"\"\ndestination = \"100\"", 1)
	if s == dests || s2 == s {
		check(fmt.Errorf("the default config's analog ports are not where the soak expects them"))
	}
	s = s2
	path := filepath.Join(dir, "soak.toml")
	check(os.WriteFile(path, []byte(s+soakExtra), 0o644))
	return path
}

// fxsPath and fxoPath are where the analog ports' far ends listen.
func fxsPath(dir string) string { return filepath.Join(dir, "fxs1") }
func fxoPath(dir string) string { return filepath.Join(dir, "fxo2") }

// startAgents starts the agents' SIPp, registers every agent's phone at
// it (again every 4 minutes: registrations last 5) and logs them in,
// until stop. It returns the SIPp run.
func startAgents(dir string, stop chan struct{}) *sippRun {
	r := sippUAS("scripts/bench-sip/agent-answer.xml", agentPort, "-rtp_echo", "-mp", "27000")
	creds, err := os.ReadFile(filepath.Join(dir, "data", "credentials.txt"))
	check(err)
	pw := map[string]string{}
	for _, line := range strings.Split(string(creds), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			pw[f[0]] = f[1]
		}
	}
	register := func() {
		for _, a := range agents {
			out, err := exec.Command("sipp", boxSIP, "-sf", "box/testdata/sipp/agent-register.xml", "-i", "127.0.0.1", "-p", "0", "-m", "1",
				"-nostdin", "-timeout", "10s", "-timeout_error", "-s", a, "-au", a, "-ap", pw[a], "-key", "agent_port", agentPort).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "soak: registering agent %s: %v\n%s", a, err, out)
			}
		}
	}
	register()
	for _, a := range agents {
		req, _ := http.NewRequest(http.MethodPost, "http://"+boxHTTP+"/agents/"+a+"/login", nil)
		req.SetBasicAuth(benchUser, benchPassword)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			check(fmt.Errorf("logging in agent %s: %v %v", a, err, res))
		}
		res.Body.Close()
	}
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(4 * time.Minute):
				register()
			}
		}
	}()
	return r
}

// sippUAS starts SIPp answering on port with a UAS scenario, until killed.
func sippUAS(scenario, port string, args ...string) *sippRun {
	stat := filepath.Join(os.TempDir(), "bench-sip-uas-"+port+".csv")
	base := []string{"-sf", scenario, "-i", "127.0.0.1", "-p", port, "-mi", "127.0.0.1", "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1"}
	cmd := exec.Command("sipp", append(base, args...)...)
	check(cmd.Start())
	r := &sippRun{cmd: cmd, stat: stat, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	return r
}

// priPeer is the libpri peer (the exchange) and the calls it makes: one
// call at a time into the IVR (100), held 10 s and hung up, on the next
// free B-channel; calls the box places on the span (callbacks dialling
// their customers) are answered and hung up after 5 s.
type priPeer struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	events chan string

	mu                  sync.Mutex
	ok, failed, outward int // calls in completed and failed; calls out answered
}

func startPRIPeer(bin, dpath, bpath string) *priPeer {
	p := &priPeer{events: make(chan string, 256)}
	p.cmd = exec.Command(bin, "net", dpath, bpath)
	var err error
	p.in, err = p.cmd.StdinPipe()
	check(err)
	out, err := p.cmd.StdoutPipe()
	check(err)
	check(p.cmd.Start())
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "LISTENING" {
				close(listening)
				continue
			}
			p.events <- sc.Text()
		}
		close(p.events)
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		check(fmt.Errorf("the libpri peer did not start"))
	}
	return p
}

func (p *priPeer) send(cmd string) { fmt.Fprintln(p.in, cmd) }

// run places and answers calls until stop, then waits up to 30 s for the
// calls up to end.
func (p *priPeer) run(stop chan struct{}) {
	type call struct {
		in               bool
		placed, answered time.Time
		hungUp           bool
	}
	calls := map[int]*call{} // by B-channel
	inbound := 0             // the channel of our call into the IVR, 0 when none
	next := 1
	stopping, deadline := false, time.Time{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	channel := func(ev string) int {
		i := strings.Index(ev, "ch=")
		if i < 0 {
			return 0
		}
		n, _ := strconv.Atoi(strings.Fields(ev[i+3:])[0])
		return n
	}
	for {
		select {
		case <-stop:
			if !stopping {
				stopping, deadline = true, time.Now().Add(30*time.Second)
			}
			stop = nil
		case ev, open := <-p.events:
			if !open {
				fmt.Fprintln(os.Stderr, "soak: the libpri peer exited")
				return
			}
			ch := channel(ev)
			c := calls[ch]
			switch {
			case strings.HasPrefix(ev, "RING "):
				calls[ch] = &call{placed: time.Now(), answered: time.Now()}
				p.send(fmt.Sprintf("ch %d answer", ch))
				p.mu.Lock()
				p.outward++
				p.mu.Unlock()
			case strings.HasPrefix(ev, "ANSWER ") && c != nil && c.in:
				c.answered = time.Now()
			case strings.HasPrefix(ev, "HANGUP") && c != nil:
				if c.in {
					p.mu.Lock()
					if c.hungUp && !c.answered.IsZero() {
						p.ok++
					} else {
						p.failed++
						fmt.Fprintf(os.Stderr, "soak: PRI call on B%d: %s before it was done\n", ch, ev)
					}
					p.mu.Unlock()
					inbound = 0
				}
				delete(calls, ch)
			}
		case <-tick.C:
		}
		now := time.Now()
		for ch, c := range calls {
			hold := 5 * time.Second
			if c.in {
				hold = 10 * time.Second
			}
			switch {
			case c.hungUp:
			case !c.answered.IsZero() && now.Sub(c.answered) >= hold,
				c.answered.IsZero() && now.Sub(c.placed) >= 15*time.Second:
				p.send(fmt.Sprintf("ch %d hangup 16", ch))
				c.hungUp = true
			}
		}
		if stopping && (len(calls) == 0 || now.After(deadline)) {
			return
		}
		if !stopping && inbound == 0 {
			for i := 0; i < 15; i++ {
				ch := (next+i-1)%15 + 1
				if calls[ch] == nil {
					p.send(fmt.Sprintf("call 100 %d", ch))
					calls[ch] = &call{in: true, placed: now}
					inbound, next = ch, ch+1
					break
				}
			}
		}
	}
}

func (p *priPeer) counts() (ok, failed, outward int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.failed, p.outward
}

func (p *priPeer) close() {
	p.send("quit")
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
	}
}

// voicemails is how many messages GET /voicemail lists.
func voicemails() int {
	res, err := http.Get("http://" + boxHTTP + "/voicemail")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var list []struct{}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		return -1
	}
	return len(list)
}
