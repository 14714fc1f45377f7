package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"jinyin/campaign"
	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/store"
)

// carrier is a SIP trunk's far end for the campaign tests: it answers
// every INVITE with 200 and PCMA after ringing 0.5-1.5 s, and counts the calls each number gets
// (distinct Call-IDs: a retransmission is the same call).
type carrier struct {
	addr  string
	mu    sync.Mutex
	calls map[string]map[string]bool // number -> Call-IDs
}

func startCarrier(t *testing.T) *carrier {
	t.Helper()
	c := &carrier{calls: map[string]map[string]bool{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = pc.LocalAddr().String()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	answer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n", port+1)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		n, id := req.Recipient.User, req.CallID().Value()
		c.mu.Lock()
		if c.calls[n] == nil {
			c.calls[n] = map[string]bool{}
		}
		c.calls[n][id] = true
		c.mu.Unlock()
		tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
		select {
		case <-time.After(time.Duration(500+rand.IntN(1000)) * time.Millisecond): // real time: a phone ringing
		case <-tx.Done():
			return
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(answer))
		res.To().Params.Add("tag", "c"+fmt.Sprint(len(id)))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: n, Host: "127.0.0.1", Port: port}})
		tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close(); srv.Close(); ua.Close() })
	return c
}

// calledTwice fails the test for each number called more than once and
// says how many were.
func (c *carrier) calledTwice(t *testing.T) int {
	t.Helper()
	twice := 0
	for n, k := range c.called() {
		if k > 1 {
			twice++
			t.Errorf("%s was called %d times", n, k)
		}
	}
	return twice
}

// called is how many calls each number got.
func (c *carrier) called() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for n, ids := range c.calls {
		out[n] = len(ids)
	}
	return out
}

// campaignConfig is the demo with a SIP trunk to the carrier and a
// notice campaign through it, running from the start, its flow one that
// hangs up once answered (what is said is not what this test is about).
func campaignConfig(t *testing.T, dir, carrier string, lines int) string {
	t.Helper()
	extra := fmt.Sprintf(`
[[trunk]]
name = "carrier"
host = %q
destination = "100"

[[campaign]]
name = "delay"
flow = "delay"
trunk = "carrier"
lines = %d
start = true
max_attempts = 1

[flow.delay]
start = "bye"

[flow.delay.node.bye]
type = "hangup"
`, carrier, lines)
	path := filepath.Join(dir, "campaign.toml")
	if err := os.WriteFile(path, append(config.Default(), extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKill9CampaignCallsNoOneTwice runs the real binary with a notice
// campaign of 60 contacts dialling through a SIP trunk (the test's
// carrier answers every call), kills it with SIGKILL at random moments,
// and restarts it: no contact is ever called twice (each attempt is on
// disk before its INVITE, and an attempt a kill left without an outcome
// goes to review instead of being dialled again); every contact called
// is done or in review, every one done was called once; bbolt's check
// is clean after each kill. JINYIN_CRASH_CYCLES sets the cycles
// (scripts/crash.sh).
func TestKill9CampaignCallsNoOneTwice(t *testing.T) {
	cycles := crashCycles()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	far := startCarrier(t)
	cfg := campaignConfig(t, dir, far.addr, 5)
	crashSupervisor(t, data)
	rng := rand.New(rand.NewPCG(3, 4))
	const contacts = 60
	var csv strings.Builder
	csv.WriteString("number,order\n")
	for i := range contacts {
		fmt.Fprintf(&csv, "1390%07d,A%d\n", i, i)
	}
	var last campaign.Progress
	var review []store.Contact
	for cycle := range cycles + 1 {
		sipAddr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
		p := startBox(t, dir, "--config", cfg, "--data", data, "--set", "sip.listen="+sipAddr, "--set", "http.listen="+httpAddr,
			"--set", "sip.rtp_ports=39000-39999", "--set", "security.max_destinations=100000", "--set", "security.outbound_per_minute=100000",
			"--set", "security.max_outbound=1000")
		base := "http://" + httpAddr
		waitHTTP(t, p, base)
		login(t, base, "crash-test", "crash-test-password")
		if cycle == 0 {
			res, err := client.Post(base+"/campaigns/delay/contacts", "text/csv", strings.NewReader(csv.String()))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("import: %s", res.Status)
			}
		}
		if cycle == cycles { // the last life: let it settle, and read the outcome
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				last = campaign.Progress{} // JSON into a map adds to it
				testenv.GetJSON(t, base+"/campaigns/delay", &last)
				if last.ByState[string(store.ContactWaiting)] == 0 && last.Out == 0 || time.Now().After(deadline) {
					break
				}
			}
			testenv.GetJSON(t, base+"/campaigns/delay/review", &review)
			break
		}
		time.Sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond) // real time: a random moment in the box's life
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if err := checkBolt(filepath.Join(data, "jinyin.db")); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
	}
	called, twice := far.called(), far.calledTwice(t)
	for _, c := range review {
		if c.Outcome == "" || c.Attempts != 1 {
			t.Errorf("in review: %+v", c)
		}
	}
	t.Logf("%d kill -9 cycles: %d of 60 contacts called, %d twice; at the end %v (%d in review, never redialled)",
		cycles, len(called), twice, last.ByState, last.ByState[string(store.ContactReview)])
	if len(called) == 0 || last.ByState[string(store.ContactDone)] == 0 {
		t.Fatalf("the campaign called no one: %+v", last)
	}
	if last.ByState[string(store.ContactDone)]+last.ByState[string(store.ContactReview)]+last.ByState[string(store.ContactFailed)] != contacts {
		t.Errorf("contacts %v, want all %d settled", last.ByState, contacts)
	}
	if last.ByState[string(store.ContactDone)] > len(called) {
		t.Errorf("%d contacts done, %d called", last.ByState[string(store.ContactDone)], len(called))
	}
}
