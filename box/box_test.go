package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/board"
	_ "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/wav"
	"jinyin/store"
	"jinyin/web"
)

// startBox runs the embedded default (the demo) on free loopback ports;
// stop stops it (also done at cleanup).
func startBox(t *testing.T, dir string) (sipAddr, httpAddr string, stop func()) {
	return startConfig(t, dir, config.Default())
}

// startConfig runs a config on free loopback ports.
func startConfig(t testing.TB, dir string, toml []byte, opts ...box.Option) (sipAddr, httpAddr string, stop func()) {
	return startConfigAt(t, dir, toml, testenv.FreeAddr(t), opts...)
}

// startConfigAt runs a config with SIP on sipAddr, for boxes that name
// each other.
func startConfigAt(t testing.TB, dir string, toml []byte, sipAddr string, opts ...box.Option) (_, httpAddr string, stop func()) {
	httpAddr = testenv.FreeAddr(t)
	// The boxes of this package share the test process's heap (with its
	// garbage and other tests' leftovers) and its media pacer's CPU, which
	// the overload gate would read as theirs: the default's memory limit
	// and the gate's media side are off here (both refused calls with 503
	// in CI). TestMemoryOverloadRefusesNewCalls sets a limit of its own.
	toml = bytes.Replace(toml, []byte("memory_limit_mb = 200 "), []byte("memory_limit_mb = 0   "), 1)
	cfg, err := config.Load("test.toml", toml, []string{"sip.listen=" + sipAddr, "http.listen=" + httpAddr, "sip.rtp_ports=36000-36999"}, box.Env(board.Env()))
	if err != nil {
		t.Fatal(err)
	}
	addSupervisor(t, dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	b, err := box.New(cfg, dir, log, append([]box.Option{box.WithoutMediaGate()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return sipAddr, httpAddr, stop
}

// The supervisor account every test box has (there is no default one),
// and a client that sends its credentials: the API's writes need them.
const testSupervisor, testSupervisorPassword = "test-supervisor", "test-password"

var supervisor = &http.Client{Transport: basicAuth{}}

type basicAuth struct{}

func (basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(testSupervisor, testSupervisorPassword)
	return http.DefaultTransport.RoundTrip(r)
}

// addSupervisor gives a stopped box's data the test supervisor account.
func addSupervisor(t testing.TB, dir string) {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.GetWebUser(testSupervisor); err == nil {
		return
	}
	if err := web.SetPassword(db, testSupervisor, web.Supervisor, testSupervisorPassword); err != nil {
		t.Fatal(err)
	}
}

// openStore opens the store of a stopped box.
func openStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// status is GET /status; a request that fails, an answer other than 200
// or one that is not the JSON of box.Status fails the test.
func status(t *testing.T, httpAddr string) box.Status {
	t.Helper()
	var st box.Status
	res, err := http.Get("http://" + httpAddr + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %s", res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	return st
}

// startBaresip registers baresip as ext with the password the box wrote
// to credentials.txt; it answers automatically and plays the DTMF tones
// 2580 (three times) into every call. It returns baresip's output.
func startBaresip(t *testing.T, dir, sipAddr, httpAddr, ext string) *testenv.Buffer {
	out, _ := startBaresipCtl(t, dir, sipAddr, httpAddr, ext, nil)
	return out
}

// startBaresipCtl is startBaresip with the address of baresip's TCP
// control (ctrl_tcp: netstrings of JSON commands, see baresipCommand).
// tls, when not nil, turns baresip's config (in its folder) and password
// into the config and account line it runs with instead of plain UDP.
func startBaresipCtl(t *testing.T, dir, sipAddr, httpAddr, ext string, tls func(bsdir, conf, password string) (string, string)) (*testenv.Buffer, string) {
	bin := testenv.LookPath(t, "baresip", "baresip")
	pw := password(t, dir, ext)
	// The digits three times, 700 ms apart: the box bridges the caller a
	// moment after baresip's source starts, and on a loaded CI machine
	// that moment has been longer than the 1 s lead (the first round
	// lost); a listener needs one round whole.
	var ts []dtmftest.Tone
	for range 3 {
		for _, d := range "2580" {
			ts = append(ts, dtmftest.Tone{Digit: byte(d), RowDBm0: -8, ColDBm0: -6, DurationMs: 100, GapMs: 100})
		}
		ts[len(ts)-1].GapMs = 700
	}
	var tones bytes.Buffer
	wav.Encode(&tones, wav.PCM, dtmftest.Signal(1000, ts, 0, 1))
	os.WriteFile(filepath.Join(dir, "tones.wav"), tones.Bytes(), 0o600)
	bsdir := filepath.Join(dir, "baresip")
	os.MkdirAll(bsdir, 0o700)
	for try := 0; ; try++ {
		out, ctlAddr, inUse := runBaresip(t, bin, bsdir, dir, sipAddr, httpAddr, ext, pw, tls)
		if !inUse || try == 2 {
			return out, ctlAddr
		}
		// A port baresip takes beside the one given (TLS on port+1) was
		// another test binary's: again on others.
	}
}

// runBaresip starts baresip registered as ext; inUse reports that it
// could not bind a port, which the caller tries again.
func runBaresip(t *testing.T, bin, bsdir, dir, sipAddr, httpAddr, ext, pw string, tls func(bsdir, conf, password string) (string, string)) (*testenv.Buffer, string, bool) {
	port, ctlAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	conf := "sip_listen " + port + "\nctrl_tcp_listen " + ctlAddr + "\naudio_source aufile," + filepath.Join(dir, "tones.wav") +
		"\naudio_player aufile," + filepath.Join(dir, "heard.wav") + "\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n"
	account := "<sip:" + ext + "@" + sipAddr + ";transport=udp>;auth_pass=" + pw + ";answermode=auto;regint=600"
	if tls != nil {
		conf, account = tls(bsdir, conf, pw)
	} else {
		conf += "sip_trans_def udp\n"
	}
	os.WriteFile(filepath.Join(bsdir, "config"), []byte(conf), 0o600)
	os.WriteFile(filepath.Join(bsdir, "accounts"), []byte(account+"\n"), 0o600)
	cmd := exec.Command(bin, "-f", bsdir)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); status(t, httpAddr).Registered[ext] == 0; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(out.String(), "Address already in use") {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, "", true
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register:\n%s", out.String())
		}
	}
	return &out, ctlAddr, false
}

// baresipCommand sends one command ("hangup") to baresip's ctrl_tcp.
func baresipCommand(t *testing.T, ctlAddr, command string) {
	conn, err := net.DialTimeout("tcp", ctlAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := `{"command":"` + command + `","token":"t"}`
	fmt.Fprintf(conn, "%d:%s,", len(msg), msg)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 512)
	conn.Read(buf) // the response, if any
}

// TestBaresipTakesABridgedCall: baresip registers as agent 1002 with the
// password the box wrote to credentials.txt, answers automatically and
// plays DTMF tones; agent 1001 (a SIP caller who is not a trunk proves its
// extension to ring a phone) rings 1002 through the box and hears, relayed
// through the box's bridge, the digits baresip plays.
func TestBaresipTakesABridgedCall(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startBox(t, dir)
	out := startBaresip(t, dir, sipAddr, httpAddr, "1002")

	call := dial(t, sipAddr, "1002", "1001", password(t, dir, "1001"))
	listen(t, call).hearDigits("2580", out)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call.Dialog.Bye(ctx)
	for deadline := time.Now().Add(3 * time.Second); status(t, httpAddr).Calls != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls left after the caller hung up", status(t, httpAddr).Calls)
		}
	}
	// Both legs are on record once the box has stopped.
	stop()
	db := openStore(t, dir)
	cdrs, _ := db.CDRs(0, 10)
	if len(cdrs) != 2 {
		t.Fatalf("call records: %+v", cdrs)
	}
	for _, c := range cdrs {
		if c.Disposition != "answered" || c.Answer.IsZero() || c.End.Before(c.Answer) || (c.Direction == "in") == (c.Direction == "out") {
			t.Errorf("record %+v", c)
		}
	}
}
