package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sippOffer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n"

var local = Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 10000, Codecs: []string{"PCMA", "PCMU"}, Session: 7}

func TestAnswer(t *testing.T) {
	for _, c := range []struct {
		name   string
		offer  string
		codec  string
		event  uint8
		dir    Direction
		remote string
	}{
		{"SIPp offer: PCMA preferred although PCMU first", sippOffer, "PCMA", 101, SendRecv, "127.0.0.1:6000"},
		{"static PT without rtpmap", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "PCMU", 0, SendRecv, "10.0.0.2:4000"},
		{"hold: sendonly answered recvonly", strings.Replace(sippOffer, "a=fmtp:101 0-11,16\r\n", "a=fmtp:101 0-11,16\r\na=sendonly\r\n", 1), "PCMA", 101, RecvOnly, "127.0.0.1:6000"},
		{"hold: inactive at session level", strings.Replace(sippOffer, "t=0 0\r\n", "t=0 0\r\na=inactive\r\n", 1), "PCMA", 101, Inactive, "127.0.0.1:6000"},
		{"media-level c= wins", strings.Replace(sippOffer, "a=rtpmap:0", "c=IN IP4 10.1.1.1\r\na=rtpmap:0", 1), "PCMA", 101, SendRecv, "10.1.1.1:6000"},
		{"video refused, audio second", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 4000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n", "PCMA", 96, SendRecv, "10.0.0.2:4000"},
	} {
		off, err := Parse([]byte(c.offer))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ans, ch, err := Answer(off, local)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ch.Codec.Name != c.codec || ch.Event.PT != c.event || ch.Direction != c.dir || ch.Remote.String() != c.remote {
			t.Errorf("%s: got %+v", c.name, ch)
		}
		// The answer has as many m= lines as the offer and parses again.
		again, err := Parse(ans.Marshal())
		if err != nil || len(again.Media) != len(off.Media) {
			t.Errorf("%s: answer %q: %v", c.name, ans.Marshal(), err)
		}
	}
}

func TestAnswerNoCodec(t *testing.T) {
	off, err := Parse([]byte(strings.NewReplacer("0 8 101", "18 101", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:18 G729/8000\r\n").Replace(sippOffer)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Answer(off, local); !errors.Is(err, ErrNoCodec) {
		t.Fatalf("got %v, want ErrNoCodec", err)
	}
}

// TestMalformed runs the invalid/ corpus: each must fail with ErrMalformed.
func TestMalformed(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.sdp")
	if len(files) < 8 {
		t.Fatalf("only %d invalid samples", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if _, err := Parse(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", f, err)
		}
	}
	valid, _ := filepath.Glob("testdata/valid/*.sdp")
	for _, f := range valid {
		data, _ := os.ReadFile(f)
		if _, err := Parse(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob("testdata/" + dir + "/*.sdp")
		for _, name := range files {
			data, _ := os.ReadFile(name)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		// What parses, marshals to something that parses to the same media.
		again, err := Parse(s.Marshal())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", s.Marshal(), err)
		}
		if len(again.Media) != len(s.Media) {
			t.Fatalf("media lost in %q", s.Marshal())
		}
		Answer(s, local)
	})
}

// TestOriginVersions: RFC 3264 §8's rules for the o= line of the
// descriptions the box sends in one session.
func TestOriginVersions(t *testing.T) {
	o := Origin{ID: 7, Version: 7}
	offer := func(port int, dir Direction) *Session {
		l := local
		l.Port = port
		return Offer(l, 101, dir)
	}
	for i, step := range []struct {
		name    string
		s       *Session
		version uint64
	}{
		{"the first description keeps the starting version", offer(10000, SendRecv), 7},
		{"the same description again (a refresh) keeps it", offer(10000, SendRecv), 7},
		{"a change of direction is a new version", offer(10000, SendOnly), 8},
		{"a new port is a new version", offer(10002, SendOnly), 9},
		{"repeated unchanged: the same version", offer(10002, SendOnly), 9},
	} {
		got, err := Parse(o.Marshal(step.s))
		if err != nil {
			t.Fatal(err)
		}
		if got.SessionID != 7 || got.SessionVer != step.version {
			t.Errorf("step %d (%s): o= id %d version %d, want 7 %d", i, step.name, got.SessionID, got.SessionVer, step.version)
		}
	}
}

// TestReoffer: the box's offer later in a session keeps the m= lines it
// sent before (RFC 3264 §8), offering every codec again on the audio one.
func TestReoffer(t *testing.T) {
	off, err := Parse([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 4000 RTP/AVP 8\r\na=sendonly\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	ans, _, err := Answer(off, local)
	if err != nil {
		t.Fatal(err)
	}
	re, err := Parse(Reoffer(ans, local, 101).Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if len(re.Media) != 2 || re.Media[0].Type != "video" || re.Media[0].Port != 0 {
		t.Fatalf("m= lines %+v: want the refused video first, still refused", re.Media)
	}
	a := re.Media[1]
	var names []string
	for _, f := range a.Formats {
		names = append(names, f.Name)
	}
	if a.Port != local.Port || a.Direction != SendRecv || strings.Join(names, " ") != "PCMA PCMU telephone-event" {
		t.Errorf("audio offered as %+v (formats %v), want port %d, sendrecv, PCMA PCMU telephone-event", a, names, local.Port)
	}
	if got := Reoffer(nil, local, 101); len(got.Media) != 1 || got.Media[0].Port != local.Port {
		t.Errorf("with nothing sent before: %+v", got.Media)
	}
}
