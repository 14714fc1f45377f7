package box_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/board"
	"jinyin/box"
	"jinyin/config"
	"jinyin/internal/ptytest"
	"jinyin/internal/testenv"
	"jinyin/store"
	"jinyin/update"

	bolt "go.etcd.io/bbolt"
)

// abBoard is the sim board with boot slots in a directory: the
// emulated boot loader, whose firmware the test plays (powerOn), and a
// reboot that only records itself.
type abBoard struct {
	t                     *testing.T
	dir, root, boot, data string
	priv                  ed25519.PrivateKey
	reboots               chan string
}

func init() {
	sim, err := board.Lookup("sim")
	if err != nil {
		panic(err)
	}
	p := *sim
	p.Name, p.Doc = "sim-ab", "the sim board with A/B boot slots (box tests)"
	p.Update = &update.Slots{Loader: "emulated", Parts: [2]int{2, 3}}
	board.Register(&p)
}

func newABBoard(t *testing.T) *abBoard {
	dir := t.TempDir()
	b := &abBoard{t: t, dir: dir, root: filepath.Join(dir, "root"), boot: filepath.Join(dir, "boot"), data: filepath.Join(dir, "data"), reboots: make(chan string, 4)}
	for _, d := range []string{filepath.Join(b.root, "proc"), filepath.Join(b.root, "etc"), b.boot, b.data} {
		os.MkdirAll(d, 0o755)
	}
	for _, p := range []int{2, 3} {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d", p)), make([]byte, 1<<20), 0o644)
	}
	os.WriteFile(filepath.Join(b.boot, "autoboot.txt"), []byte(update.Autoboot{Part: 2, Try: 3}.String()), 0o644)
	pub, priv, _ := ed25519.GenerateKey(nil)
	b.priv = priv
	os.WriteFile(filepath.Join(b.root, "etc/update.pub"), []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644)
	prof, _ := board.Lookup("sim-ab")
	*prof.Update = update.Slots{Loader: "emulated", Parts: [2]int{2, 3}, Device: filepath.Join(dir, "p%d"), BootDir: b.boot,
		KeyFile: filepath.Join(b.root, "etc/update.pub"), Root: b.root,
		Reboot: func(arg string) error { b.powerOn(); b.reboots <- arg; return nil }}
	b.powerOn()
	return b
}

// powerOn plays the firmware: [tryboot]'s partition once if asked, else
// autoboot.txt's.
func (b *abBoard) powerOn() {
	text, _ := os.ReadFile(filepath.Join(b.boot, "autoboot.txt"))
	a, err := update.ParseAutoboot(text)
	if err != nil {
		b.t.Error(err)
		return
	}
	cmd := fmt.Sprintf("jinyin.boot=%d", a.Part)
	if os.Remove(filepath.Join(b.boot, "tryboot")) == nil {
		cmd = fmt.Sprintf("jinyin.boot=%d jinyin.tryboot=1", a.Try)
	}
	os.WriteFile(filepath.Join(b.root, "proc/cmdline"), []byte(cmd+"\n"), 0o644)
}

func (b *abBoard) bundle(priv ed25519.PrivateKey, version string) []byte {
	var out bytes.Buffer
	if err := update.Sign(&out, priv, update.Manifest{Version: version, Board: "sim-ab"}, bytes.NewReader([]byte("slot image of "+version))); err != nil {
		b.t.Fatal(err)
	}
	return out.Bytes()
}

func (b *abBoard) start() (string, func()) {
	toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
	if !bytes.Contains(toml, []byte(`board = "sim-ab"`)) {
		b.t.Fatal("no board line in the default config")
	}
	_, httpAddr, stop := startConfig(b.t, b.data, toml)
	return httpAddr, stop
}

func updateStatus(t *testing.T, httpAddr string) update.Status {
	t.Helper()
	st := status(t, httpAddr)
	if st.Update == nil {
		t.Fatal("no update in /status")
	}
	return *st.Update
}

func postUpdate(t *testing.T, c *http.Client, httpAddr, query string, body []byte) int {
	t.Helper()
	res, err := c.Post("http://"+httpAddr+"/update"+query, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Over HTTP: a bundle signed with another key and one posted without a
// login are refused; a good one is staged, the box drains and reboots
// into it as a trial, the trial passes its health check and is kept.
func TestUpdateOverHTTP(t *testing.T) {
	b := newABBoard(t)
	httpAddr, stop := b.start()
	if s := updateStatus(t, httpAddr); s.Part != 2 || s.Trial || !s.Confirmed {
		t.Fatalf("factory %+v", s)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if code := postUpdate(t, supervisor, httpAddr, "", b.bundle(other, "6.6.6")); code != http.StatusUnprocessableEntity {
		t.Errorf("badly signed: %d", code)
	}
	if code := postUpdate(t, http.DefaultClient, httpAddr, "?reboot=drain", b.bundle(b.priv, "1.1.0")); code != http.StatusUnauthorized {
		t.Errorf("no login: %d", code)
	}
	if s := updateStatus(t, httpAddr); s.Staged != nil {
		t.Fatalf("staged by a refused request: %+v", s.Staged)
	}
	if code := postUpdate(t, supervisor, httpAddr, "?reboot=drain&max_wait=10s", b.bundle(b.priv, "1.1.0")); code != http.StatusAccepted {
		t.Fatalf("good bundle: %d", code)
	}
	select {
	case arg := <-b.reboots:
		if arg != "" {
			t.Errorf("reboot argument %q", arg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no reboot after the drain")
	}
	stop()
	if img, _ := os.ReadFile(filepath.Join(b.dir, "p3")); !bytes.HasPrefix(img, []byte("slot image of 1.1.0")) {
		t.Errorf("slot 3: %q", img[:24])
	}

	httpAddr, _ = b.start()
	waitFor(t, "the trial confirmed", func() bool { s := updateStatus(t, httpAddr); return s.Part == 3 && s.Trial && s.Confirmed })
	text, _ := os.ReadFile(filepath.Join(b.boot, "autoboot.txt"))
	if a, _ := update.ParseAutoboot(text); a != (update.Autoboot{Part: 3, Try: 2}) {
		t.Errorf("autoboot after the confirmation %+v", a)
	}
	res, err := http.Get("http://" + httpAddr + "/update")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ History []update.Event }
	json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	var whats []string
	for _, e := range got.History {
		whats = append(whats, e.What)
	}
	if strings.Join(whats, ",") != "refused,staged,trial,confirmed" {
		t.Errorf("history %v", whats)
	}
}

// A trial that does not bring back a span that was up before reboots
// into the old slot, which the boot loader then boots.
func TestUpdateFailsHealthCheck(t *testing.T) {
	b := newABBoard(t)
	httpAddr, stop := b.start()
	if code := postUpdate(t, supervisor, httpAddr, "?reboot=drain&max_wait=10s", b.bundle(b.priv, "1.1.0")); code != http.StatusAccepted {
		t.Fatalf("good bundle: %d", code)
	}
	<-b.reboots
	stop()
	// The trial expects a span 7 that was up before it (the new version
	// lost its driver, say).
	logPath := filepath.Join(b.data, "updates.log")
	text, _ := os.ReadFile(logPath)
	if !bytes.Contains(text, []byte(`"spans":[1]`)) {
		t.Fatalf("the trial does not record span 1 up:\n%s", text)
	}
	os.WriteFile(logPath, bytes.Replace(text, []byte(`"spans":[1]`), []byte(`"spans":[1,7]`), 1), 0o640)

	toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
	_, _, stop = startConfig(t, b.data, toml, box.WithHealthWait(2*time.Second))
	select {
	case arg := <-b.reboots:
		if arg != "" {
			t.Errorf("fallback reboot argument %q", arg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a failed trial did not reboot")
	}
	stop()
	httpAddr, _ = b.start()
	if s := updateStatus(t, httpAddr); s.Part != 2 || s.Trial || !s.Confirmed {
		t.Errorf("after the fallback %+v", s)
	}
	text, _ = os.ReadFile(logPath)
	if !strings.Contains(string(text), `"what":"failed"`) || !strings.Contains(string(text), `"what":"rolled back"`) || !strings.Contains(string(text), "[7]") {
		t.Errorf("history:\n%s", text)
	}
}

// A trial of a firmware with a newer store schema runs on a migrated
// copy: failed, the old version finds the file as it left it; passed,
// the copy becomes the file.
func TestUpdateTrialOnStoreCopy(t *testing.T) {
	for _, pass := range []bool{true, false} {
		b := newABBoard(t)
		_, stop := b.start()
		stop()
		dbPath := filepath.Join(b.data, "jinyin.db")
		older := store.SchemaVersion() - 1
		db, err := bolt.Open(dbPath, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, uint32(older)))
		})
		db.Close()
		// The box asked for a trial of slot 3 with span 1 up (or, to
		// fail, spans 1 and 7).
		spans := "[1]"
		if !pass {
			spans = "[1,7]"
		}
		os.WriteFile(filepath.Join(b.data, "updates.log"), []byte(`{"time":"2026-12-03T02:00:00Z","what":"staged","version":"1.1.0","part":3}`+"\n"+
			`{"time":"2026-12-03T02:00:01Z","what":"trial","version":"1.1.0","part":3,"spans":`+spans+`}`+"\n"), 0o640)
		os.WriteFile(filepath.Join(b.boot, "tryboot"), []byte("1\n"), 0o644)
		b.powerOn()
		toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
		stop = startAsIs(t, b.data, toml, box.WithHealthWait(time.Second))
		if !pass { // (a trial that passes at once has the promoted file open)
			if v, err := store.FileVersion(dbPath); err != nil || v != older {
				t.Errorf("the file during the trial is at %d (%v), want %d", v, err, older)
			}
		}
		if pass {
			waitFor(t, "the copy promoted", func() bool {
				_, err := os.Stat(dbPath + ".trial")
				return os.IsNotExist(err)
			})
		} else {
			select {
			case <-b.reboots:
			case <-time.After(20 * time.Second):
				t.Fatal("a failed trial did not reboot")
			}
		}
		stop()
		want := store.SchemaVersion()
		if !pass {
			want = older
		}
		if v, err := store.FileVersion(dbPath); err != nil || v != want {
			t.Errorf("pass %v: after the trial the file is at %d (%v), want %d", pass, v, err, want)
		}
		if !pass {
			_, stop = b.start() // the old slot: the copy is left behind, and removed
			stop()
			if _, err := os.Stat(dbPath + ".trial"); !os.IsNotExist(err) {
				t.Errorf("the failed trial's copy is still there: %v", err)
			}
		}
	}
}

// startAsIs runs a box on its data as it is (startConfig would open, so
// migrate, the store to add the test supervisor).
func startAsIs(t *testing.T, dir string, toml []byte, opts ...box.Option) (stop func()) {
	cfg, err := config.Load("test.toml", toml, []string{"sip.listen=" + testenv.FreeAddr(t), "http.listen=" + testenv.FreeAddr(t), "sip.rtp_ports=36000-36999"}, box.Env(board.Env()))
	if err != nil {
		t.Fatal(err)
	}
	bx, err := box.New(cfg, dir, slog.New(slog.NewTextHandler(io.Discard, nil)), append([]box.Option{box.WithoutMediaGate()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { bx.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// Pasted on the serial console, for a box with no network or USB stick
// in reach: a badly signed bundle is refused and what follows it is not
// taken for commands; a good one, 64 KiB through the pty in 76-column
// base64 lines, is written to the other slot and staged.
func TestUpdatePastedOnTheConsole(t *testing.T) {
	b := newABBoard(t)
	dev, term := ptytest.Pair(t, b.dir)
	toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
	toml = bytes.Replace(toml, []byte(`device = ""`), []byte(`device = "`+dev+`"`), 1)
	_, httpAddr, _ := startConfig(t, b.data, toml)
	term.Expect("New password: ")
	term.Type("s3cret-pass\rs3cret-pass\r")
	term.Expect("login: ")
	term.Type("admin\rs3cret-pass\r")
	term.Expect(demoPrompt)

	paste := func(bundle []byte) string {
		enc := base64.StdEncoding.EncodeToString(bundle)
		var sb strings.Builder
		sb.WriteString("-----BEGIN JINYIN UPDATE-----\r")
		for ; len(enc) > 76; enc = enc[76:] {
			sb.WriteString(enc[:76] + "\r")
		}
		sb.WriteString(enc + "\r-----END JINYIN UPDATE-----\r")
		return sb.String()
	}
	payload := make([]byte, 64<<10)
	for i := range payload {
		payload[i] = byte(i * 7 / 3)
	}
	sign := func(priv ed25519.PrivateKey) []byte {
		var out bytes.Buffer
		if err := update.Sign(&out, priv, update.Manifest{Version: "1.2.0", Board: "sim-ab"}, bytes.NewReader(payload)); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}

	_, other, _ := ed25519.GenerateKey(nil)
	term.Type("update receive\r")
	term.Expect("END line")
	term.Type(paste(sign(other)) + "show spans\r")
	if out := term.Expect(demoPrompt); !strings.Contains(out, "% ") || !strings.Contains(out, "signature") {
		t.Errorf("badly signed:\n%s", out)
	}
	if out := term.Expect(demoPrompt); !strings.Contains(out, "SPAN") {
		t.Errorf("the command after the refused paste:\n%s", out)
	}
	if s := updateStatus(t, httpAddr); s.Staged != nil {
		t.Fatalf("staged from a badly signed paste: %+v", s.Staged)
	}

	term.Type("update receive\r")
	term.Expect("END line")
	term.Type(paste(sign(b.priv)))
	if out := term.Expect(demoPrompt); !strings.Contains(out, "jinyin 1.2.0 for sim-ab written to slot 3") {
		t.Errorf("good paste:\n%s", out)
	}
	if s := updateStatus(t, httpAddr); s.Staged == nil || s.Staged.Version != "1.2.0" || s.Staged.Part != 3 {
		t.Errorf("staged %+v", s.Staged)
	}
	if img, _ := os.ReadFile(filepath.Join(b.dir, "p3")); !bytes.HasPrefix(img, payload) {
		t.Error("slot 3 does not hold the pasted image")
	}
}

// The drain waits for the calls up: with a call in the IVR, the update
// posted with reboot=drain is accepted, new calls get 503 with
// Retry-After while the call up keeps its audio, and the box reboots
// only once that caller hangs up, well before max_wait.
func TestUpdateDrainWaitsForTheCallsUp(t *testing.T) {
	b := newABBoard(t)
	toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
	sipAddr, httpAddr, stop := startConfig(t, b.data, toml)
	call, err := invite(sipAddr, "100", "13800000001", "")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	listen(t, call).hear("zh", "welcome")

	if code := postUpdate(t, supervisor, httpAddr, "?reboot=drain&max_wait=60s", b.bundle(b.priv, "1.1.0")); code != http.StatusAccepted {
		t.Fatalf("good bundle: %d", code)
	}
	waitFor(t, "the drain", func() bool {
		return strings.HasPrefix(rawInvite(t, sipAddr, "127.0.0.98"), "SIP/2.0 503")
	})
	if got := rawInvite(t, sipAddr, "127.0.0.99"); !strings.Contains(got, "\r\nRetry-After:") {
		t.Errorf("a new call while draining: %q", got)
	}
	before := len(call.Heard())
	select {
	case <-b.reboots:
		t.Fatal("rebooted with a call up")
	case <-time.After(2 * time.Second):
	}
	if got := len(call.Heard()) - before; got < 8000 {
		t.Errorf("the call up heard %d bytes in 2 s of the drain", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := call.Dialog.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	hungUp := time.Now()
	select {
	case <-b.reboots:
		if d := time.Since(hungUp); d > 5*time.Second {
			t.Errorf("rebooted %v after the last call ended", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no reboot after the last call ended")
	}
	stop()
	// A drain is the box's own state: the calls it turned away are not
	// security events (fail2ban and the supervisor read those).
	evs, err := openStore(t, b.data).SecurityEvents(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Name == "SessionLimit" {
			t.Errorf("a call refused by the drain is a security event: %+v", e)
		}
	}
}
