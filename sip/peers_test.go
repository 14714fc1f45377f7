package sip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/testenv"
)

// startServer runs a Server on a free loopback port for the test.
func startServer(t *testing.T, opts ...func(*Options)) (*Server, string) {
	t.Helper()
	for try := 0; try < 20; try++ {
		addr := testenv.FreeAddr(t)
		o := Options{
			Config:      config.SIP{Listen: addr, Transports: []string{"udp", "tcp"}, Realm: "test", Digest: []string{"MD5"}, RTPPorts: "32000-33999", Guests: true},
			Name:        "jinyin-test",
			Log:         testLogger(),
			Password:    func(u string) (string, bool) { p, ok := passwords[u]; return p, ok },
			MaxContacts: func(string) int { return 2 },
		}
		for _, f := range opts {
			f(&o)
		}
		s, err := Listen(o)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue // the UDP half was taken: try another port
		}
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Serve(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return s, addr
	}
	t.Fatal("no free port")
	return nil, ""
}

// testLogger logs the box's side of a test to stderr with -v.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func sipp(t *testing.T, addr, scenario string, args ...string) error {
	t.Helper()
	bin := testenv.LookPath(t, "sipp", "sip-tester")
	base := []string{addr, "-sf", filepath.Join("testdata", "sipp", scenario), "-m", "1", "-i", "127.0.0.1", "-p", "0",
		"-nostdin", "-timeout", "15s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log")}
	cmd := exec.Command(bin, append(base, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("sipp %s: %v\n%s", scenario, err, out)
	}
	return err
}

// TestSIPpRegister: SIPp registers with MD5 digest over UDP and TCP,
// then removes its binding.
func TestSIPpRegister(t *testing.T) {
	s, addr := startServer(t)
	for _, transport := range []string{"u1", "t1"} {
		if err := sipp(t, addr, "register.xml", "-t", transport, "-s", "1001", "-au", "1001", "-ap", passwords["1001"]); err != nil {
			t.Errorf("transport %s: SIPp scenario failed", transport)
		}
	}
	if n := len(s.Registrar.Contacts("1001")); n != 0 {
		t.Errorf("binding left after Expires: 0: %d", n)
	}
}

func TestSIPpWrongPassword(t *testing.T) {
	s, addr := startServer(t)
	if err := sipp(t, addr, "register-wrong-password.xml", "-s", "1001", "-au", "1001", "-ap", "not-the-password"); err != nil {
		t.Error("a wrong password was not refused with 401")
	}
	if len(s.Registrar.Contacts("1001")) != 0 {
		t.Error("a wrong password registered")
	}
}

// TestBaresipRegisters runs baresip as the softphone a technician would use.
func TestBaresipRegisters(t *testing.T) {
	bin := testenv.LookPath(t, "baresip", "baresip")
	s, addr := startServer(t)
	dir := t.TempDir()
	mods := "/usr/lib/baresip/modules"
	if _, err := os.Stat(mods); err != nil {
		testenv.Missing(t, "baresip modules in "+mods)
	}
	port := freeUDPPort(t)
	cfg := "sip_listen 127.0.0.1:" + strconv.Itoa(port) + "\naudio_player aufile\naudio_source aufile\nmodule_path " + mods +
		"\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\nsip_trans_def udp\n"
	os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600)
	os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:1002@"+addr+";transport=udp>;auth_pass="+passwords["1002"]+";regint=600\n"), 0o600)
	cmd := exec.Command(bin, "-f", dir)
	out, _ := os.Create(filepath.Join(dir, "out.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cs := s.Registrar.Contacts("1002"); len(cs) == 1 && cs[0].Contact.Port == port {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "out.log"))
	t.Fatalf("baresip did not register within 10 s:\n%s", log)
}

func freeUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
