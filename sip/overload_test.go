package sip

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/media"
)

func rawInvite(to, callID string, local net.Addr) []byte {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n"
	return []byte("INVITE sip:" + to + "@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local.String() + ";branch=z9hG4bK" + callID + "\r\n" +
		"From: <sip:flood@127.0.0.1>;tag=" + callID + "\r\nTo: <sip:" + to + "@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 INVITE\r\nContact: <sip:flood@" + local.String() + ">\r\n" +
		"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body)
}

// TestFloodGets503: beyond max_calls_per_second, new INVITEs get a
// stateless 503 with Retry-After; those within the rate are handled (here
// 407: a caller who is neither a trunk nor authenticated is asked for a
// digest before it learns whether the number exists).
func TestFloodGets503(t *testing.T) {
	s, addr := startServer(t, func(o *Options) { o.Config.MaxCallsPerSecond = 5 })
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp", addr)
	const n = 20
	for i := 0; i < n; i++ {
		c.WriteTo(rawInvite("999", fmt.Sprintf("flood%d", i), c.LocalAddr()), dst)
	}
	codes := map[string]int{}
	retryAfter := 0
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for got := 0; got < n; {
		m, _, err := c.ReadFrom(buf)
		if err != nil {
			break
		}
		status := strings.SplitN(string(buf[:m]), "\r\n", 2)[0]
		if strings.Contains(status, " 100 ") {
			continue
		}
		got++
		codes[status]++
		if strings.Contains(string(buf[:m]), "Retry-After: 2") {
			retryAfter++
		}
	}
	if codes["SIP/2.0 503 Service Unavailable"] != n-5 || codes["SIP/2.0 407 Proxy Authentication Required"] != 5 || retryAfter != n-5 {
		t.Fatalf("answers %v (%d with Retry-After); want 5 x 407 and %d x 503 with Retry-After", codes, retryAfter, n-5)
	}
	if s.Rejected.Load() != n-5 {
		t.Errorf("Rejected counter %d", s.Rejected.Load())
	}
}

func TestStateless503(t *testing.T) {
	req := rawInvite("100", "abc", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070})
	res := string(statelessResponse(req, 503, "Service Unavailable", "Retry-After: 2"))
	for _, want := range []string{"SIP/2.0 503 Service Unavailable\r\n", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n", "To: <sip:100@127.0.0.1>;tag=stateless\r\n", "Call-ID: abc\r\n", "CSeq: 1 INVITE\r\n", "Retry-After: 2\r\n"} {
		if !strings.Contains(res, want) {
			t.Errorf("503 lacks %q:\n%s", want, res)
		}
	}
	if statelessResponse([]byte("INVITE sip:x SIP/2.0\r\nTo: <sip:x>\r\n\r\n"), 400, "Bad Request", "") != nil {
		t.Error("a request without Via, From and Call-ID got a response")
	}
	if !hasToTag([]byte("INVITE sip:x SIP/2.0\r\nt: <sip:x>;tag=1\r\n\r\n")) || hasToTag(req) {
		t.Error("To tag detection wrong")
	}
}

// TestMalformedSDP: an INVITE whose SDP is broken gets 400 naming the
// line; one offering only a codec the box lacks gets 488.
func TestMalformedSDP(t *testing.T) {
	_, addr := startServer(t, func(o *Options) {
		o.Router = func(string, string) (Route, error) { return Route{Open: true, App: func(media.Channel) {}}, nil }
	})
	to, _ := net.ResolveUDPAddr("udp", addr)
	for _, c := range []struct{ body, want string }{
		{"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 999.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n", "SIP/2.0 400 Bad Request (sdp: malformed: line 4"},
		{"v=0\r\nthis is not SDP\r\n", "SIP/2.0 400 Bad Request (sdp: malformed: line 2"},
		{"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", "SIP/2.0 488 Not Acceptable Here"},
	} {
		conn, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		msg := strings.Replace(string(rawInvite("100", fmt.Sprint(time.Now().UnixNano()), conn.LocalAddr())), "Content-Length: ", "X-Old-Length: ", 1)
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		msg = head + "\r\nContent-Length: " + fmt.Sprint(len(c.body)) + "\r\n\r\n" + c.body
		got := sendRaw(t, conn, to, []byte(msg), 2*time.Second)
		conn.Close()
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("got %q, want %q...", got, c.want)
		}
	}
}

// FuzzRawRequest: the checks on raw datagrams never panic, and a response
// they build is a well-formed status line and header block.
func FuzzRawRequest(f *testing.F) {
	for _, set := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "rfc4475", set, "*.dat"))
		for _, name := range files {
			data, _ := os.ReadFile(name)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		code, reason := checkRequest(data)
		if code == 0 {
			code, reason = 503, "Service Unavailable"
		}
		res := statelessResponse(data, code, reason, "")
		if res != nil && (!strings.HasPrefix(string(res), fmt.Sprintf("SIP/2.0 %d ", code)) || !strings.HasSuffix(string(res), "\r\n\r\n")) {
			t.Fatalf("malformed response %q", res)
		}
		hasToTag(data)
	})
}

// TestStrayCancel: a CANCEL for no pending INVITE gets 481 (RFC 3261 §9.2).
func TestStrayCancel(t *testing.T) {
	_, addr := startServer(t)
	c, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c.Close()
	to, _ := net.ResolveUDPAddr("udp", addr)
	msg := "CANCEL sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKstray\r\n" +
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: stray\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if got := sendRaw(t, c, to, []byte(msg), 2*time.Second); got != "SIP/2.0 481 Call/Transaction Does Not Exist" {
		t.Fatalf("stray CANCEL: %q", got)
	}
}
