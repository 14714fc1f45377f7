package sip

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/testenv"
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
