package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/siptest"
	"jinyin/internal/testenv"
	"jinyin/store"
)

// agentPhone is agent 1004's SIP phone for the callback crash test: it
// registers with the box, answers every call at once and hangs up 3 s
// after the call is up (the customer, ringing at most 1.5 s, has been
// spoken to).
func agentPhone(t *testing.T, sipAddr, password string) {
	t.Helper()
	raw, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := net.ResolveUDPAddr("udp", sipAddr)
	res, err := siptest.RegisterUDP(raw, dst, "1004", password, "agent-phone")
	if err != nil || !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("agent 1004's phone did not register: %q %v", firstLine(res), err)
	}
	addr := raw.LocalAddr().(*net.UDPAddr)
	raw.Close()
	pc, err := net.ListenPacket("udp", addr.String()) // the registered contact
	if err != nil {
		t.Fatal(err)
	}
	ua, _ := sipgo.NewUA()
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua)
	dialogs := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "1004", Host: "127.0.0.1", Port: addr.Port}})
	answer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n", addr.Port+2)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil || dlg.RespondSDP([]byte(answer)) != nil {
			return
		}
		select {
		case <-time.After(3 * time.Second): // real time: the agent stays on while the customer rings (at most 1.5 s), then talks
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			dlg.Bye(ctx)
			cancel()
		case <-dlg.Context().Done():
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadBye(req, tx) })
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close(); srv.Close(); ua.Close() })
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// TestKill9CallbacksDialledOnce runs the real binary with agent 1004 on a
// SIP phone of the test's (registered once: registrations survive the
// restarts) and the general queue's callbacks going out through a SIP
// carrier of the test's, which rings 0.5-1.5 s and answers. Callbacks are
// booked over the API while the box is killed with SIGKILL at random
// moments: no customer is ever called twice (a callback answered is
// gone; one whose dial a kill cut short is held for review instead of
// being dialled again), and bbolt's check is clean after each kill.
func TestKill9CallbacksDialledOnce(t *testing.T) {
	cycles := crashCycles()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	crashSupervisor(t, data)
	far := startCarrier(t)
	def := string(config.Default())
	toml := strings.Replace(def, "name = \"general\"\n", "name = \"general\"\ncallback_trunk = \"carrier\"\n", 1)
	toml = strings.Replace(toml, "wrap_up = \"10s\"", "wrap_up = \"0s\"", 1)
	if toml == def {
		t.Fatal("the default config's general queue is not where the test expects it")
	}
	toml += fmt.Sprintf("\n[[trunk]]\nname = \"carrier\"\nhost = %q\ndestination = \"100\"\n", far.addr)
	cfg := filepath.Join(dir, "callbacks.toml")
	os.WriteFile(cfg, []byte(toml), 0o600)
	rng := rand.New(rand.NewPCG(5, 6))
	booked := 0
	var review []store.Callback
	debugLog := ""
	for cycle := range cycles + 1 {
		sipAddr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
		p := startBox(t, dir, "--config", cfg, "--data", data, "--set", "sip.listen="+sipAddr, "--set", "http.listen="+httpAddr,
			"--set", "sip.rtp_ports=39000-39999", "--set", "security.max_destinations=100000", "--set", "security.outbound_per_minute=100000")
		base := "http://" + httpAddr
		waitHTTP(t, p, base)
		login(t, base, "crash-test", "crash-test-password")
		if cycle == 0 {
			pw := ""
			for _, line := range strings.Split(readFile(t, filepath.Join(data, "credentials.txt")), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "1004" {
					pw = f[1]
				}
			}
			agentPhone(t, sipAddr, pw)
			if code := post(base + "/agents/1004/login"); code != http.StatusOK {
				t.Fatalf("login: %d", code)
			}
		}
		if cycle == cycles { // the last life: the waiting callbacks are served
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				var cbs []store.Callback
				testenv.GetJSON(t, base+"/callbacks", &cbs)
				review = review[:0]
				for _, cb := range cbs {
					if cb.Review {
						review = append(review, cb)
					}
				}
				if len(cbs) == len(review) {
					break
				}
			}
			res, _ := client.Get(base + "/queues")
			buf := make([]byte, 3000)
			n, _ := res.Body.Read(buf)
			res.Body.Close()
			debugLog = p.stderr.String() + "\n" + string(buf[:n])
			break
		}
		stop := make(chan struct{})
		booking := make(chan struct{})
		go func() {
			defer close(booking)
			for {
				select {
				case <-stop:
					return
				case <-time.After(150 * time.Millisecond):
				}
				var cb store.Callback
				n := fmt.Sprintf("1380%07d", booked)
				booked++
				postJSON(base+"/callbacks", `{"queue":"general","number":"`+n+`"}`, &cb)
			}
		}()
		time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond) // real time: a random moment in the box's life
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		close(stop)
		<-booking
		if err := checkBolt(filepath.Join(data, "jinyin.db")); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
	}
	called, twice := far.called(), far.calledTwice(t)
	t.Logf("%d kill -9 cycles: %d callbacks booked, %d customers called, %d twice; %d held for review at the end (never redialled)",
		cycles, booked, len(called), twice, len(review))
	if len(called) == 0 {
		t.Fatalf("no callback was dialled: the test says nothing\n%s", tail(debugLog))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
