package box_test

import (
	"bytes"
	"fmt"
	"jinyin/pri/libpritest"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestMemoryOverloadRefusesNewCalls: the overload gate on the box's real
// heap (no stub). With [box] memory_limit_mb a little above what the
// process holds, a call is up in the IVR; then the heap grows past 85 %
// of the limit (a ballast the test holds: the box runs in this process):
// a new INVITE gets 503 with Retry-After and a SETUP from libpri on the
// PRI span is released with cause 42 (switching equipment congestion)
// while the call up goes on hearing every frame, and both refusals are
// on record; with the ballast gone, calls are taken again.
func TestMemoryOverloadRefusesNewCalls(t *testing.T) {
	heap := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC()
	limitMB := int(heap()>>20) + 100
	dir := t.TempDir()
	peer := libpritest.Start(t, "net")
	sipAddr, _, stop := startConfig(t, dir, bytes.Replace(priConfig(t, peer, "pri-cpe", ""), []byte("memory_limit_mb = 200 "), fmt.Appendf(nil, "memory_limit_mb = %d ", limitMB), 1))
	peer.Expect("UP")
	call := dial(t, sipAddr, "100", "13800000001", "")
	listen(t, call).hear("zh", "welcome")

	// Past 85 % of the limit, and held.
	ballast := make([]byte, int(0.85*float64(limitMB<<20))-int(heap())+(16<<20))
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	time.Sleep(500 * time.Millisecond) // the gate looks every 250 ms
	before := len(call.Heard())
	start := time.Now()
	if got := rawInvite(t, sipAddr, "127.0.0.96"); !strings.HasPrefix(got, "SIP/2.0 503") || !strings.Contains(got, "\r\nRetry-After:") {
		t.Errorf("a new call with the heap past 85%% of %d MiB: %q", limitMB, firstLineOf(got))
	}
	peer.Send("call 100 1")
	if got := peer.Expect("HANGUP"); !strings.Contains(got, "cause=42") {
		t.Errorf("a PRI call with the heap past 85%% of the limit: %q, want cause 42", got)
	}
	time.Sleep(2 * time.Second)
	// The call up heard every frame meanwhile: 8,000 A-law bytes a second,
	// within a few frames of jitter.
	if got, want := len(call.Heard())-before, int(time.Since(start).Seconds()*8000); got < want-800 {
		t.Errorf("the call up heard %d bytes in %v of overload, want about %d", got, time.Since(start).Round(time.Millisecond), want)
	}
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
	if got := rawInvite(t, sipAddr, "127.0.0.97"); strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("after the heap shrank: %q", firstLineOf(got))
	}
	peer.Send("call 100 2")
	peer.Expect("ANSWER ch=2")
	peer.Send("hangup 16")
	peer.Expect("HANGUP")
	stop()
	cdrs, err := openStore(t, dir).CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cdrs {
		seen[c.Trunk+" "+c.To+" "+c.Disposition+" "+c.Cause] = true
	}
	for _, want := range []string{" 100 refused SIP 503 Service Unavailable", "span1 100 refused Q.850 42 (switching equipment congestion)"} {
		if !seen[want] {
			t.Errorf("no call record %q in %v", want, seen)
		}
	}
}

// rawInvite sends an INVITE from src to the box and returns its first
// final answer (or a 180/183 the box sends first).
func rawInvite(t *testing.T, sipAddr, src string) string {
	t.Helper()
	dst, err := net.ResolveUDPAddr("udp", sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sdp := "v=0\r\no=- 1 1 IN IP4 " + src + "\r\ns=-\r\nc=IN IP4 " + src + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
	fmt.Fprintf(conn, "INVITE sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ovl-%s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:13800000002@%s>;tag=o1\r\nTo: <sip:100@%s>\r\nCall-ID: ovl-%s\r\nCSeq: 1 INVITE\r\nContact: <sip:13800000002@%s>\r\n"+
		"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		sipAddr, conn.LocalAddr(), src, src, sipAddr, src, conn.LocalAddr(), len(sdp), sdp)
	buf := make([]byte, 8192)
	for {
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			return ""
		}
		if msg := string(buf[:n]); !strings.HasPrefix(msg, "SIP/2.0 100") {
			return msg // a 200 is left unacknowledged: the box ends that call itself
		}
	}
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
