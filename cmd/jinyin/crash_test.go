package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jinyin/acd"
	"jinyin/internal/testenv"
	"jinyin/media/tone"
	"jinyin/media/wav"
	"jinyin/store"
)

// TestKill9LosesNothingAcknowledged runs the real binary and kills it
// with SIGKILL at a random moment while API clients write to it: callbacks
// booked (acknowledged by the 200 that returns the stored callback), an
// agent's pause and unpause (acknowledged by a 200 each) and a prompt
// replaced (acknowledged by the 204; its length tells its version). After
// every kill the database must pass bbolt's consistency check, and after
// every restart each acknowledged callback must be there exactly once and
// waiting in its queue in its place (the time it joined), the agent as
// its last acknowledged change left it (or the one in flight when the box
// died), and the prompt its last acknowledged replacement (or the one in
// flight). JINYIN_CRASH_CYCLES sets the cycles (scripts/crash.sh runs 100).
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	cycles := crashCycles()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	crashSupervisor(t, data)
	acked := map[string]bool{} // callback numbers the box acknowledged
	inFlight := map[string]bool{}
	joined := map[string]time.Time{} // each callback's place in its queue
	booked, changes := 0, 0
	agent := agentOp{} // the last acknowledged pause/unpause, and the one in flight
	prompt := struct{ acked, flying int }{-1, -1}
	prompts := 0 // prompt replacements acknowledged
	rng := rand.New(rand.NewPCG(1, 2))
	calls := newCallsSide()
	for cycle := range cycles {
		sipAddr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
		p := startBox(t, dir, "--data", data, "--set", "sip.listen="+sipAddr, "--set", "http.listen="+httpAddr, "--set", "sip.rtp_ports=37000-37999")
		base := "http://" + httpAddr
		waitHTTP(t, p, base)
		login(t, base, "crash-test", "crash-test-password")

		// What earlier lives acknowledged is all there, once, and waiting.
		var cbs []store.Callback
		testenv.GetJSON(t, base+"/callbacks", &cbs)
		seen := map[string]int{}
		for _, cb := range cbs {
			seen[cb.Number]++
		}
		for n := range acked {
			if seen[n] != 1 {
				t.Fatalf("cycle %d: acknowledged callback %s is there %d times", cycle, n, seen[n])
			}
		}
		// Each keeps its place: the time it joined the queue, as its 200
		// said (or as first seen, for one in flight at a kill).
		for _, cb := range cbs {
			if j, ok := joined[cb.Number]; ok && !j.Equal(cb.Joined) {
				t.Fatalf("cycle %d: callback %s joined at %v, now at %v: it lost its place", cycle, cb.Number, j, cb.Joined)
			}
			joined[cb.Number] = cb.Joined
		}
		for n, k := range seen {
			if k != 1 || (!acked[n] && !inFlight[n]) {
				t.Fatalf("cycle %d: callback %s is there %d times, acknowledged %v", cycle, n, k, acked[n])
			}
			acked[n] = true // in flight when the box died, and stored: it stands
		}
		clear(inFlight)
		var st acd.Status
		testenv.GetJSON(t, base+"/queues", &st)
		waiting := 0
		for _, q := range st.Queues {
			waiting += q.Callbacks
		}
		if waiting != len(acked) {
			t.Fatalf("cycle %d: %d callbacks waiting in the queues, %d stored", cycle, waiting, len(acked))
		}
		for _, a := range st.Agents {
			if a.Ext != "1004" || agent.acked == nil && agent.flying == nil {
				continue
			}
			switch {
			case agent.flying != nil && agent.flying.is(a) && (agent.acked == nil || !agent.acked.is(a)):
				agent.acked = agent.flying // in flight, and stored: it stands
				changes++
			case agent.acked == nil || !agent.acked.is(a):
				t.Fatalf("cycle %d: agent 1004 is %+v; the last change acknowledged was %+v, in flight %+v", cycle, a, agent.acked, agent.flying)
			}
			agent.flying = nil
		}
		// The prompt is the last replacement acknowledged (or the one in
		// flight): its length says which.
		if prompt.acked >= 0 || prompt.flying >= 0 {
			got := promptVersion(t, base)
			switch {
			case got == prompt.flying:
				prompt.acked = got // in flight, and written: it stands
				prompts++
			case got != prompt.acked:
				t.Fatalf("cycle %d: the prompt is version %d; the last acknowledged was %d, in flight %d", cycle, got, prompt.acked, prompt.flying)
			}
			prompt.flying = -1
		}
		if cycle == 0 {
			post(base + "/agents/1004/login")
		}

		// Write and call until the kill, 1-5 s into the box's life.
		ctx, cancel := context.WithCancel(context.Background())
		calling := calls.drive(ctx, cycle, sipAddr, base)
		stop := make(chan struct{})
		writer := make(chan struct{})
		go func() {
			defer close(writer)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%3 == 2 {
					v := (prompt.acked + 1) % promptVersions
					prompt.flying = v
					if put(base+"/prompts/zh/welcome", promptWAV(v)) == http.StatusNoContent {
						prompt.acked, prompt.flying = v, -1
						prompts++
					}
					continue
				}
				if i%3 == 0 {
					n := fmt.Sprintf("139%08d", booked)
					booked++
					inFlight[n] = true
					var cb store.Callback
					if postJSON(base+"/callbacks", `{"queue":"general","number":"`+n+`"}`, &cb) == http.StatusOK {
						acked[n] = true
						joined[n] = cb.Joined
						delete(inFlight, n)
					}
					continue
				}
				op := agentState{paused: changes%2 == 0, reason: strconv.Itoa(changes)}
				agent.flying = &op
				url := base + "/agents/1004/unpause"
				if op.paused {
					url = base + "/agents/1004/pause?reason=" + op.reason
				}
				if post(url) == http.StatusOK {
					agent.acked, agent.flying = &op, nil
					changes++
				}
			}
		}()
		time.Sleep(time.Duration(1000+rng.IntN(4000)) * time.Millisecond) // real time: a random moment in the box's life
		kill := time.Now()
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		close(stop)
		cancel()
		<-writer
		calling.Wait()

		if err := checkBolt(filepath.Join(data, "jinyin.db")); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if err := calls.check(filepath.Join(data, "jinyin.db"), kill); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
	}
	if len(acked) == 0 || changes == 0 || prompts == 0 || calls.checkedCDRs == 0 || calls.checkedBans == 0 {
		t.Fatalf("nothing was acknowledged in %d cycles: the test wrote nothing", cycles)
	}
	t.Logf("%d kill -9 cycles: %d callbacks acknowledged of %d booked, %d agent changes and %d prompt replacements acknowledged; all present once, bbolt check clean",
		cycles, len(acked), booked, changes, prompts)
	t.Logf("%d kill -9 cycles: %d IVR calls ended 500 ms or more before a kill, each with one CDR (%d younger, none twice); %d voicemails saved, each there once; %d sources banned 500 ms or more before a kill, all banned after it (%d younger)",
		cycles, calls.checkedCDRs, calls.youngCDRs, len(calls.saved), calls.checkedBans, calls.youngBans)
}

// crashCycles is the kill -9 tests' cycles: JINYIN_CRASH_CYCLES, 4 in
// the suite.
func crashCycles() int {
	if n, err := strconv.Atoi(os.Getenv("JINYIN_CRASH_CYCLES")); err == nil && n > 0 {
		return n
	}
	return 4
}

// crashSupervisor gives a data directory the kill -9 tests' supervisor,
// crash-test, whose login the API's writes need.
func crashSupervisor(t *testing.T, data string) {
	t.Helper()
	passwd := exec.Command(bin, "passwd", "--data", data, "crash-test")
	passwd.Stdin = strings.NewReader("crash-test-password\n")
	if out, err := passwd.CombinedOutput(); err != nil {
		t.Fatalf("jinyin passwd: %v %s", err, out)
	}
}

// checkBolt runs bbolt's consistency check on a database no one has
// open.
func checkBolt(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("the database after kill -9: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check after kill -9: %w", err)
		}
		return nil
	})
}

// promptVersions is how many prompt versions the crash test tells apart,
// by their length.
const promptVersions = 1000

// promptWAV is version v of a prompt: 100 ms of a tone and v more samples.
func promptWAV(v int) []byte {
	var b bytes.Buffer
	wav.Encode(&b, wav.ALaw, tone.Sine(440, -10, 800+v))
	return b.Bytes()
}

// promptVersion is the version of the prompt the box at base serves.
func promptVersion(t *testing.T, base string) int {
	t.Helper()
	res, err := client.Get(base + "/prompts/zh/welcome")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a, err := wav.Decode(res.Body)
	if err != nil {
		t.Fatalf("the prompt: %v", err)
	}
	return len(a.Samples) - 800
}

// postJSON is post that reads a 200's JSON body into v.
func postJSON(url, body string, v any) int {
	res, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(v) != nil {
		return 0 // cut off mid-answer: not acknowledged
	}
	return res.StatusCode
}

// put sends a PUT; 0 when it got no answer.
func put(url string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

type agentState struct {
	paused bool
	reason string
}

// agentOp is the agent's last acknowledged change, and the one in
// flight.
type agentOp struct{ acked, flying *agentState }

// is reports whether the agent is as s left it.
func (s *agentState) is(a acd.AgentStatus) bool {
	return a.Paused == s.paused && (!s.paused || a.Reason == s.reason)
}

func waitHTTP(t *testing.T, p *proc, base string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("the box exited: %v\n%s", p.err, p.stderr)
		default:
		}
		if res, err := http.Get(base + "/status"); err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the box's API did not come up\n%s", p.stderr)
		}
	}
}

// client keeps the session cookie of the supervisor login the API's
// writes need.
var client = func() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Timeout: 2 * time.Second, Jar: jar}
}()

// login opens a supervisor session on the box at base.
func login(t *testing.T, base, user, password string) {
	t.Helper()
	res, err := client.PostForm(base+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if u, _ := url.Parse(base); len(client.Jar.Cookies(u)) == 0 {
		t.Fatalf("login as %s: %s, no session", user, res.Status)
	}
}

// post sends a POST with an optional JSON body; 0 when it got no answer.
func post(url string, body ...string) int {
	res, err := client.Post(url, "application/json", strings.NewReader(strings.Join(body, "")))
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
