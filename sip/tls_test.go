package sip

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/siptest"
	"jinyin/internal/testenv"
	"jinyin/media"
	"jinyin/security"
)

// TestSRTPMode: an extension's or a trunk's SRTP, by the transport of
// the call: SDES keys travel only over TLS, so optional goes plain and
// required is refused elsewhere.
func TestSRTPMode(t *testing.T) {
	s := &Server{srtp: func(ext string) string { return map[string]string{"1001": "optional", "1002": "required"}[ext] }}
	trunk := &Trunk{cfg: config.Trunk{Name: "carrier", SRTP: "required"}}
	for _, c := range []struct {
		ext       string
		trunk     *Trunk
		transport string
		want, err string
	}{
		{"1001", nil, "TLS", "optional", ""},
		{"1001", nil, "tls", "optional", ""},
		{"1001", nil, "UDP", "", ""},
		{"1002", nil, "TLS", "required", ""},
		{"1002", nil, "UDP", "", "only offered over TLS"},
		{"1002", nil, "TCP", "", "only offered over TLS"},
		{"1003", nil, "TLS", "", ""},
		{"1001", trunk, "TLS", "required", ""}, // a trunk's call is the trunk's
		{"", trunk, "", "", "only offered over TLS"},
	} {
		got, err := s.srtpMode(c.ext, c.trunk, c.transport)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("srtpMode(%q, trunk %v, %q) = %q, %v; want %q, %q", c.ext, c.trunk != nil, c.transport, got, err, c.want, c.err)
		}
	}
	if got, err := (&Server{}).srtpMode("1002", nil, "TLS"); got != "" || err != nil {
		t.Errorf("no SRTP settings: %q, %v", got, err)
	}
}

// TestTLSListen: TLS listens where sip.tls_listen says, else on the port
// above sip.listen's.
func TestTLSListen(t *testing.T) {
	for _, c := range []struct{ listen, tls, want string }{
		{"127.0.0.1:5060", "", "127.0.0.1:5061"},
		{"0.0.0.0:5080", "", "0.0.0.0:5081"},
		{"[::1]:5060", "", "[::1]:5061"},
		{"127.0.0.1:5060", "127.0.0.1:5071", "127.0.0.1:5071"},
	} {
		if got := tlsListen(config.SIP{Listen: c.listen, TLSListen: c.tls}); got != c.want {
			t.Errorf("tlsListen(%q, %q) = %q, want %q", c.listen, c.tls, got, c.want)
		}
	}
}

// TestServesTLS: with "tls" among the transports the box answers SIP
// over TLS with its certificate (an OPTIONS here, from a client that
// checks the certificate against itself as the CA), and lists it; without
// a certificate it refuses to start.
func TestServesTLS(t *testing.T) {
	cert, err := security.Certificate("", "", t.TempDir(), "jinyin-test", []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := testenv.FreeAddr(t)
	s, addr := startServer(t, func(o *Options) {
		o.Config.Transports = []string{"udp", "tls"}
		o.Config.TLSListen = tlsAddr
		o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	if got := strings.Join(s.Addrs(), ", "); got != "udp "+addr+", tls "+tlsAddr {
		t.Errorf("Addrs() = %s", got)
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	fmt.Fprintf(conn, "OPTIONS sip:%s;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bK-tls1\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: tls-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", tlsAddr, local, tlsAddr)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "SIP/2.0 200 OK\r\n" {
		t.Errorf("OPTIONS over TLS: %q, %v", line, err)
	}

	_, err = Listen(Options{Config: config.SIP{Listen: testenv.FreeAddr(t), Transports: []string{"tls"}, RTPPorts: "32000-33999"}, Log: testLogger()})
	if err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("TLS without a certificate: %v", err)
	}
}

// TestOutside: a call from a caller that did not authenticate (a guest)
// is from outside the box; one whose caller proved its extension by
// digest is not (the dial plan sends outside callers back out only as
// [security] relay_classes allow).
func TestOutside(t *testing.T) {
	got := make(chan bool, 2)
	_, addr := startServer(t, func(o *Options) {
		o.Router = func(to, from string) (Route, error) {
			return Route{Auth: to == "200", Open: to == "100", App: func(ch media.Channel) { got <- ch.(*Call).Outside() }}, nil
		}
	})
	for _, c := range []struct {
		to, from, password string
		outside            bool
	}{{"100", "guest", "", true}, {"200", "1001", passwords["1001"], false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		call, err := siptest.InviteFrom(ctx, addr, c.to, c.from)
		if err != nil {
			t.Fatal(err)
		}
		call.Username, call.Password = c.from, c.password
		if err := call.Answered(ctx); err != nil {
			t.Fatalf("%s calls %s: %v", c.from, c.to, err)
		}
		select {
		case o := <-got:
			if o != c.outside {
				t.Errorf("%s calls %s: Outside() = %v", c.from, c.to, o)
			}
		case <-ctx.Done():
			t.Fatal("the app did not run")
		}
		call.Close()
		cancel()
	}
}
