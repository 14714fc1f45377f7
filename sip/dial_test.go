package sip

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/media"
)

// TestDialSIPpUAS: the box calls SIPp's built-in UAS (-sn uas: 180, 200,
// then it waits for BYE): the call is answered, listed while up with its
// record, shows the far end's audio as a source, and the box's hang-up
// sends the BYE SIPp's scenario needs to pass. The SIP trace sees both
// directions.
func TestDialSIPpUAS(t *testing.T) {
	bin := testenv.LookPath(t, "sipp", "sip-tester")
	s, addr := startServer(t)
	if got := s.Addrs(); len(got) != 2 || got[0] != "udp "+addr || got[1] != "tcp "+addr {
		t.Errorf("Addrs %v, want udp and tcp on %s", got, addr)
	}
	port := testenv.FreeAddr(t)
	host, p, _ := net.SplitHostPort(port)
	uas := exec.Command(bin, "-sn", "uas", "-i", host, "-p", p, "-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error")
	var out strings.Builder
	uas.Stdout, uas.Stderr = &out, &out
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	var uasErr error
	exited := make(chan struct{})
	go func() { uasErr = uas.Wait(); close(exited) }()
	t.Cleanup(func() { uas.Process.Kill(); <-exited })
	time.Sleep(300 * time.Millisecond) // SIPp binds its port

	var mu sync.Mutex
	var trace strings.Builder
	Trace(func(s string) { mu.Lock(); trace.WriteString(s); mu.Unlock() })
	defer Trace(nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var to gosip.Uri
	if err := gosip.ParseUri("sip:service@"+port, &to); err != nil {
		t.Fatal(err)
	}
	c, err := s.Dial(ctx, to, "100")
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, out.String())
	}
	if c.ID() == "" {
		t.Error("the call has no id")
	}
	calls := s.Calls()
	if len(calls) != 1 || calls[0].Direction != "out" || calls[0].To != "service" || calls[0].Answer.IsZero() {
		t.Errorf("calls up: %+v", calls)
	}
	buf := make([]int16, media.FrameSamples)
	if n := c.Listen().Fill(buf); n != media.FrameSamples {
		t.Errorf("Listen: %d samples", n)
	}
	c.Hangup()
	select {
	case <-exited:
		if uasErr != nil {
			t.Errorf("SIPp's UAS scenario failed (no BYE?): %v\n%s", uasErr, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIPp's UAS did not end")
	}
	waitIdle(t, s)
	mu.Lock()
	tr := trace.String()
	mu.Unlock()
	for _, want := range []string{"---> UDP", "INVITE sip:service@", "<--- UDP", "SIP/2.0 200 OK", "BYE sip:"} {
		if !strings.Contains(tr, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
}

// TestDialTrunkRefusals: a trunk that does not exist, a number that is
// not digits, and a trunk whose channels are all taken are refused before
// anything is sent.
func TestDialTrunkRefusals(t *testing.T) {
	s, _ := startServer(t, func(o *Options) {
		o.Trunks = []config.Trunk{{Name: "carrier", Host: "127.0.0.2:5060", Channels: 1, Destination: "100"}}
	})
	ctx := context.Background()
	if _, err := s.DialTrunk(ctx, "nowhere", "4008", ""); err == nil || !strings.Contains(err.Error(), `no trunk "nowhere"`) {
		t.Errorf("unknown trunk: %v", err)
	}
	for _, n := range []string{"", "40a8", "4008;user=phone"} {
		if _, err := s.DialTrunk(ctx, "carrier", n, ""); err == nil || !strings.Contains(err.Error(), "is not a number") {
			t.Errorf("number %q: %v", n, err)
		}
	}
	s.trunks[0].seize()
	if _, err := s.DialTrunk(ctx, "carrier", "4008", ""); err == nil || !strings.Contains(err.Error(), "all channels of trunk carrier busy") {
		t.Errorf("trunk full: %v", err)
	}
	if s.ActiveCalls() != 0 {
		t.Errorf("%d calls counted after refusals", s.ActiveCalls())
	}
}

// TestDialEscapesTheCaller: a calling number an outside caller chose goes
// into the box's INVITE escaped (RFC 3261 §25.1), so it cannot add a
// parameter, a header or a URI of its own: the phone parses From back to
// the caller's exact string.
func TestDialEscapesTheCaller(t *testing.T) {
	s, _ := startServer(t)
	phone, err := net.ListenPacket("udp", testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	var to gosip.Uri
	if err := gosip.ParseUri("sip:2001@"+phone.LocalAddr().String(), &to); err != nil {
		t.Fatal(err)
	}
	const caller = `1001"x;lr?Route=<sip:evil>\` + "\x01"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go s.Dial(ctx, to, caller)
	phone.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := phone.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := gosip.ParseMessage(buf[:n])
	if err != nil {
		t.Fatalf("the INVITE does not parse: %v\n%s", err, buf[:n])
	}
	req := msg.(*gosip.Request)
	from := req.From()
	var line string
	for _, l := range strings.Split(string(buf[:n]), "\r\n") {
		if strings.HasPrefix(l, "From:") {
			line = l
		}
	}
	if want := `From: "1001\"x;lr?Route=<sip:evil>\\" <sip:1001%22x%3Blr%3FRoute=%3Csip%3Aevil%3E%5C%01@`; !strings.HasPrefix(line, want) {
		t.Errorf("%s\nwant it to begin %s", line, want)
	}
	if from.Params.Length() != 1 || from.Address.UriParams.Length() != 0 || from.Address.Headers.Length() != 0 {
		t.Errorf("the caller's string added parameters or headers: %s", line)
	}
	if len(req.GetHeaders("Route")) != 0 {
		t.Errorf("the INVITE carries a Route: %s", buf[:n])
	}
}

// TestURIUser: what RFC 3261's user part allows goes as it is, an escape
// the caller's URI had already stays one, and everything else is escaped.
func TestURIUser(t *testing.T) {
	for in, want := range map[string]string{
		"+8613800138000": "+8613800138000",
		"%2B86":          "%2B86",
		"%zz1":           "%25zz1",
		"a b;c?d/e":      "a%20b%3Bc%3Fd%2Fe",
		"x%4":            "x%254",
		"anonymous":      "anonymous",
	} {
		if got := uriUser(in); got != want {
			t.Errorf("uriUser(%q) = %q, want %q", in, got, want)
		}
	}
}
