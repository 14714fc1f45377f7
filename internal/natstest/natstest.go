// Package natstest runs a real nats-server (Debian's nats-server) with
// JetStream for tests, on a loopback port, with a way to take it down and
// bring it back on its same port and store, as a WAN outage would.
package natstest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jinyin/internal/testenv"
)

// Server is one nats-server.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string // 127.0.0.1:PORT
	conf string // a config file, "" for none
	cmd  *exec.Cmd
}

// Start runs a nats-server with JetStream; it is stopped at cleanup.
func Start(t testing.TB) *Server { return StartWith(t, "") }

// StartWith runs a nats-server on a config file's text (accounts,
// permissions), JetStream on, the address and store the test's.
func StartWith(t testing.TB, conf string) *Server {
	s := &Server{t: t, bin: testenv.LookPath(t, "nats-server", "nats-server"), dir: t.TempDir(), Addr: testenv.FreeAddr(t)}
	if conf != "" {
		s.conf = filepath.Join(s.dir, "nats.conf")
		if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.Up()
	t.Cleanup(s.Down)
	return s
}

// URL is the server's nats:// URL.
func (s *Server) URL() string { return "nats://" + s.Addr }

// Up starts the server (again) and waits until it takes connections.
func (s *Server) Up() {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"-js", "-sd", filepath.Join(s.dir, "js"), "-a", host, "-p", port, "-l", filepath.Join(s.dir, "log")}
	if s.conf != "" {
		args = append(args, "-c", s.conf)
	}
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server did not listen on %s", s.Addr)
		}
	}
}

// Down kills the server, as a link cut would take it away.
func (s *Server) Down() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Msg is one message as headquarters finds it in a stream.
type Msg struct {
	Subject, ID string // ID: the Jinyin-Id header
	Data        []byte
}

// Messages reads the whole of stream, in its order; none when the stream
// is not there (yet). opts log in, on a server with accounts.
func (s *Server) Messages(t testing.TB, stream string, opts ...nats.Option) []Msg {
	t.Helper()
	nc, err := nats.Connect(s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []Msg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		out = append(out, Msg{m.Subject, m.Header.Get("Jinyin-Id"), m.Data})
	}
	return out
}
