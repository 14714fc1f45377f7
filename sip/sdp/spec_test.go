package sdp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// desc joins lines into a description with CRLF line ends (RFC 4566 §5).
func desc(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// head is the session part every description below starts with: v=, o=,
// s=, a session c= and t=, in the order RFC 4566 §5 gives.
var head = []string{"v=0", "o=alice 2890844526 2890842807 IN IP4 10.47.16.5", "s=call", "c=IN IP4 192.0.2.10", "t=0 0"}

func withHead(lines ...string) string {
	return desc(append(append([]string(nil), head...), lines...)...)
}

// TestParseFields: what RFC 4566 says each line carries is read into the
// Session and its Media.
func TestParseFields(t *testing.T) {
	type want struct {
		user, family, originAddr, name string
		id, ver                        uint64
		addr                           string // session c=, "" none
		dir                            Direction
	}
	for _, c := range []struct {
		name string
		sdp  string
		want want
	}{
		{"RFC 4566 §5 example origin", withHead("m=audio 49170 RTP/AVP 0"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", ""}},
		{"IPv6 origin and connection (§5.2, §5.7)", desc("v=0", "o=- 1 2 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::2", "t=0 0"),
			want{"-", "IP6", "2001:db8::1", "-", 1, 2, "2001:db8::2", ""}},
		{"origin address may be a host name, kept as written", desc("v=0", "o=bob 0 18446744073709551615 IN IP4 pbx.example.com", "s= ", "t=0 0"),
			want{"bob", "IP4", "pbx.example.com", " ", 0, 18446744073709551615, "", ""}},
		{"multicast c= with TTL (§5.7): the address without /127", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 224.2.36.42/127", "t=0 0"),
			want{"-", "IP4", "10.0.0.1", "-", 1, 1, "224.2.36.42", ""}},
		{"session-level direction (RFC 3264 §5.1)", withHead("a=recvonly"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", RecvOnly}},
		{"session-level sendonly", withHead("a=sendonly"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", SendOnly}},
		{"session-level sendrecv", withHead("a=sendrecv"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", SendRecv}},
		{"session-level attribute other than a direction is no direction", withHead("a=tool:x", "a=recvonlyx"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", ""}},
		{"LF alone ends lines too (§5: parsers SHOULD accept it)", strings.ReplaceAll(withHead("a=inactive"), "\r\n", "\n"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", Inactive}},
		{"no line end after the last line", strings.TrimSuffix(withHead("a=inactive"), "\r\n"),
			want{"alice", "IP4", "10.47.16.5", "call", 2890844526, 2890842807, "192.0.2.10", Inactive}},
		{"lines the box does not use: i= u= e= p= b= z= k= and repeated t= r=", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "i=info", "u=http://x", "e=a@b", "p=+1 555", "c=IN IP4 10.0.0.2", "b=CT:64", "b=AS:64", "t=0 0", "r=7d 1h 0 25h", "t=1 2", "r=1 2 3", "z=2882844526 -1h", "k=prompt"),
			want{"-", "IP4", "10.0.0.1", "-", 1, 1, "10.0.0.2", ""}},
	} {
		s, err := Parse([]byte(c.sdp))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := want{s.OriginUser, s.OriginFamily, s.OriginAddr, s.Name, s.SessionID, s.SessionVer, "", s.Direction}
		if s.Addr.IsValid() {
			got.addr = s.Addr.String()
		}
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// TestParseMedia: m=, c=, rtpmap, fmtp, ptime and directions of a media
// section (RFC 4566 §5.14, §6; RFC 3264 §5.1; RFC 3551 static types).
func TestParseMedia(t *testing.T) {
	pcmu := Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}
	pcma := Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}
	for _, c := range []struct {
		name    string
		media   []string // after head
		port    int
		proto   string
		formats []Format
		raw     []string
		addr    string
		dir     Direction
		ptime   int
		other   []string
	}{
		{"static types without rtpmap (RFC 3551 table 4)", []string{"m=audio 49170 RTP/AVP 0 8"},
			49170, "RTP/AVP", []Format{pcmu, pcma}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"port/count (§5.14): the first port", []string{"m=audio 49170/2 RTP/AVP 8"},
			49170, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"highest port and highest payload type", []string{"m=audio 65535 RTP/AVP 127", "a=rtpmap:127 telephone-event/8000"},
			65535, "RTP/AVP", []Format{{PT: 127, Name: "telephone-event", RateHz: 8000, Channels: 1}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"dynamic type without rtpmap has no name", []string{"m=audio 4000 RTP/AVP 96"},
			4000, "RTP/AVP", []Format{{PT: 96}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"rtpmap with channels (§6: <encoding name>/<clock rate>/<encoding parameters>)", []string{"m=audio 4000 RTP/AVP 97", "a=rtpmap:97 L16/16000/2"},
			4000, "RTP/AVP", []Format{{PT: 97, Name: "L16", RateHz: 16000, Channels: 2}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"rtpmap with one channel given", []string{"m=audio 4000 RTP/AVP 96", "a=rtpmap:96 opus/48000/1"},
			4000, "RTP/AVP", []Format{{PT: 96, Name: "opus", RateHz: 48000, Channels: 1}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"rtpmap renames a static type", []string{"m=audio 4000 RTP/AVP 0", "a=rtpmap:0 pcmu/8000"},
			4000, "RTP/AVP", []Format{{PT: 0, Name: "pcmu", RateHz: 8000, Channels: 1}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"rtpmap and fmtp for a type not on the m= line are ignored", []string{"m=audio 4000 RTP/AVP 8", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"unreadable rtpmaps leave the format as it was", []string{"m=audio 4000 RTP/AVP 8 0 96", "a=rtpmap:8 PCMA", "a=rtpmap:0 X/0", "a=rtpmap:96 X/eight", "a=rtpmap:96 X/8000/0", "a=rtpmap:96 X/8000/two", "a=rtpmap:x Y/8000", "a=rtpmap:96"},
			4000, "RTP/AVP", []Format{pcma, pcmu, {PT: 96}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"negative rate and channels are unreadable", []string{"m=audio 4000 RTP/AVP 96 97", "a=rtpmap:96 X/-8000", "a=rtpmap:97 Y/8000/-1"},
			4000, "RTP/AVP", []Format{{PT: 96}, {PT: 97}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"telephone-event with its fmtp (RFC 4733 §7.1.1)", []string{"m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"},
			4000, "RTP/AVP", []Format{pcma, {PT: 101, Name: "telephone-event", RateHz: 8000, Channels: 1, Fmtp: "0-15"}}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"fmtp without parameters", []string{"m=audio 4000 RTP/AVP 8", "a=fmtp:8"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 0, nil},
		{"media c= (§5.7) wins over the session's", []string{"m=audio 4000 RTP/AVP 8", "c=IN IP6 ::1"},
			4000, "RTP/AVP", []Format{pcma}, nil, "::1", SendRecv, 0, nil},
		{"media direction (RFC 3264 §5.1)", []string{"m=audio 4000 RTP/AVP 8", "a=sendonly"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendOnly, 0, nil},
		{"recvonly", []string{"m=audio 4000 RTP/AVP 8", "a=recvonly"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", RecvOnly, 0, nil},
		{"inactive", []string{"m=audio 4000 RTP/AVP 8", "a=inactive"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", Inactive, 0, nil},
		{"ptime (§6) from 1 to 1000 ms", []string{"m=audio 4000 RTP/AVP 8", "a=ptime:1"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 1, nil},
		{"ptime 1000", []string{"m=audio 4000 RTP/AVP 8", "a=ptime:1000"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 1000, nil},
		{"other attributes kept in order, as written", []string{"m=audio 4000 RTP/AVP 8", "a=rtcp:4001", "a=label:1", "a=maxptime:40"},
			4000, "RTP/AVP", []Format{pcma}, nil, "192.0.2.10", SendRecv, 0, []string{"rtcp:4001", "label:1", "maxptime:40"}},
		{"non-RTP formats are kept as tokens (§5.14 fmt for other protocols)", []string{"m=image 4002 udptl t38"},
			4002, "udptl", nil, []string{"t38"}, "192.0.2.10", SendRecv, 0, nil},
		{"refused stream (RFC 3264 §6) needs no address", []string{"m=video 0 RTP/AVP 31"},
			0, "RTP/AVP", []Format{{PT: 31}}, nil, "192.0.2.10", SendRecv, 0, nil},
	} {
		s, err := Parse([]byte(withHead(c.media...)))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(s.Media) != 1 {
			t.Errorf("%s: %d media", c.name, len(s.Media))
			continue
		}
		m := s.Media[0]
		if m.Port != c.port || m.Proto != c.proto || !slices.Equal(m.Formats, c.formats) || strings.Join(m.RawFmts, " ") != strings.Join(c.raw, " ") ||
			m.Addr.String() != c.addr || m.Direction != c.dir || m.PtimeMs != c.ptime || strings.Join(m.Other, "|") != strings.Join(c.other, "|") {
			t.Errorf("%s:\n got %+v\nwant port %d proto %s formats %+v raw %v addr %s dir %s ptime %d other %v",
				c.name, m, c.port, c.proto, c.formats, c.raw, c.addr, c.dir, c.ptime, c.other)
		}
	}
}

// TestParseSessionDefaults: session-level c= and direction apply to every
// media section that does not give its own (RFC 4566 §5.7, RFC 3264 §5.1);
// with neither, a stream is sendrecv.
func TestParseSessionDefaults(t *testing.T) {
	s, err := Parse([]byte(desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "t=0 0", "a=sendonly",
		"m=audio 4000 RTP/AVP 8",
		"m=audio 4002 RTP/AVP 8", "c=IN IP4 10.0.0.3", "a=inactive",
		"m=audio 4004 RTP/AVP 8")))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []struct {
		addr string
		dir  Direction
	}{{"10.0.0.2", SendOnly}, {"10.0.0.3", Inactive}, {"10.0.0.2", SendOnly}} {
		if m := s.Media[i]; m.Addr.String() != w.addr || m.Direction != w.dir {
			t.Errorf("m= %d: %s %s, want %s %s", i, m.Addr, m.Direction, w.addr, w.dir)
		}
	}
	s, err = Parse([]byte(desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 8", "c=IN IP4 10.0.0.3")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr.IsValid() || s.Media[0].Addr.String() != "10.0.0.3" || s.Media[0].Direction != SendRecv {
		t.Errorf("media-only c=: session %v, media %+v", s.Addr, s.Media[0])
	}
}

// TestParseRejects: each line that breaks RFC 4566's grammar, or a rule of
// this strict parser, fails with ErrMalformed naming its line.
func TestParseRejects(t *testing.T) {
	h := func(lines ...string) string { return withHead(lines...) }
	long60 := "m=audio 4000 RTP/AVP 8 " + strings.Repeat("9", 60-23)
	long61 := long60 + "9"
	for _, c := range []struct {
		name, sdp, want string
	}{
		{"empty", "", "line 1: want v=0"},
		{"v= not first", desc("o=- 1 1 IN IP4 10.0.0.1", "v=0"), "line 1: want v=0"},
		{"version other than 0 (§5.1)", desc("v=1", "o=- 1 1 IN IP4 10.0.0.1", "s=-"), "line 1: want v=0"},
		{"a line of one character", h("x"), "line 6 \"x\": want type=value"},
		{"an empty line", desc("v=0", "", "o=- 1 1 IN IP4 10.0.0.1", "s=-"), "line 2 \"\": want type=value"},
		{"no = after the type", h("a:rtcp"), "line 6 \"a:rtcp\": want type=value"},
		{"upper-case type (§5: a single lower-case character)", h("A=rtcp"), "line 6"},
		{"type below a", h("`=x"), "line 6"},
		{"type past z", h("{=x"), "line 6"},
		{"v= twice", desc("v=0", "v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-"), "line 2 \"v=0\": v= given twice"},
		{"o= twice", h("o=- 1 1 IN IP4 10.0.0.1"), "line 6 \"o=- 1 1 IN IP4 10.0.0.1\": o= given twice"},
		{"s= twice", h("s=again"), "s= given twice"},
		{"session c= twice", h("c=IN IP4 10.0.0.1"), "c= given twice"},
		{"i= twice", h("i=a", "i=b"), "line 7 \"i=b\": i= given twice"},
		{"o= with five fields", desc("v=0", "o=- 1 1 IN IP4", "s=-"), "line 2"},
		{"o= with seven fields", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1 x", "s=-"), "line 2"},
		{"o= network type not IN", desc("v=0", "o=- 1 1 ON IP4 10.0.0.1", "s=-"), "want o=USER ID VERSION IN IP4 ADDR"},
		{"o= session id not a number", desc("v=0", "o=- x 1 IN IP4 10.0.0.1", "s=-"), "session id and version must be numbers"},
		{"o= version not a number", desc("v=0", "o=- 1 -1 IN IP4 10.0.0.1", "s=-"), "session id and version must be numbers"},
		{"o= address type", desc("v=0", "o=- 1 1 IN IP5 10.0.0.1", "s=-"), `address type "IP5"`},
		{"c= without address", h("m=audio 4000 RTP/AVP 8", "c=IN IP4"), "line 7"},
		{"c= with four fields", h("m=audio 4000 RTP/AVP 8", "c=IN IP4 10.0.0.1 x"), "line 7"},
		{"c= network type", h("m=audio 4000 RTP/AVP 8", "c=ON IP4 10.0.0.1"), "want c=IN IP4 ADDR"},
		{"c= IP4 with an IPv6 address", h("m=audio 4000 RTP/AVP 8", "c=IN IP4 ::1"), `address "::1" is not IP4`},
		{"c= IP6 with an IPv4 address", h("m=audio 4000 RTP/AVP 8", "c=IN IP6 10.0.0.1"), `address "10.0.0.1" is not IP6`},
		{"c= unknown address type with an IPv6 address", h("m=audio 4000 RTP/AVP 8", "c=IN IP5 ::1"), `address "::1" is not IP5`},
		{"c= not an address", h("m=audio 4000 RTP/AVP 8", "c=IN IP4 ten"), `address "ten" is not IP4`},
		{"m= with three fields", h("m=audio 4000 RTP/AVP"), "line 6"},
		{"m= port not a number", h("m=audio x RTP/AVP 8"), `port "x"`},
		{"m= port negative", h("m=audio -1 RTP/AVP 8"), `port "-1"`},
		{"m= port past 65535", h("m=audio 65536 RTP/AVP 8"), `port "65536"`},
		{"m= payload type not a number", h("m=audio 4000 RTP/AVP 8 PCMA"), `payload type "PCMA"`},
		{"m= payload type negative", h("m=audio 4000 RTP/AVP -1"), `payload type "-1"`},
		{"m= payload type past 127 (RFC 3550: 7 bits)", h("m=audio 4000 RTP/AVP 128"), `payload type "128"`},
		{"ptime 0", h("m=audio 4000 RTP/AVP 8", "a=ptime:0"), `line 7 "a=ptime:0": ptime "0"`},
		{"ptime negative", h("m=audio 4000 RTP/AVP 8", "a=ptime:-20"), `ptime "-20"`},
		{"ptime past 1000 ms", h("m=audio 4000 RTP/AVP 8", "a=ptime:1001"), `ptime "1001"`},
		{"ptime not a number", h("m=audio 4000 RTP/AVP 8", "a=ptime:20ms"), `ptime "20ms"`},
		{"fmtp payload type not a number", h("m=audio 4000 RTP/AVP 8", "a=fmtp:x 0-15"), `fmtp payload type "x"`},
		{"no o=", desc("v=0", "s=-", "t=0 0"), "o= and s= lines are required"},
		{"no s=", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "t=0 0"), "o= and s= lines are required"},
		{"a stream with a port and no address (§5.7)", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 8"), "m=audio has no connection address"},
		{"a line past 60 characters is cut to 57 and ...", h(long61), `line 6 "` + long61[:57] + `...": payload type`},
		{"a line of 60 characters is quoted whole", h(long60), `line 6 "` + long60 + `": payload type`},
	} {
		_, err := Parse([]byte(c.sdp))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrMalformed with %q", c.name, err, c.want)
		}
	}
}

// TestParseRepeats: lines that may repeat at session level (a=, b=, t=,
// r=, RFC 4566 §5), and every line inside media sections, do not count as
// given twice.
func TestParseRepeats(t *testing.T) {
	for _, c := range []struct {
		name string
		sdp  string
	}{
		{"a= b= t= r= repeated", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "b=CT:1", "b=AS:2", "t=0 0", "r=1 2 3", "t=1 2", "r=1 2 3", "a=x", "a=y")},
		{"i= c= b= in each media section", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "i=s", "c=IN IP4 10.0.0.2", "t=0 0",
			"m=audio 4000 RTP/AVP 8", "i=a", "c=IN IP4 10.0.0.3", "b=AS:1",
			"m=audio 4002 RTP/AVP 8", "i=b", "c=IN IP4 10.0.0.4", "b=AS:1")},
		{"z= (time zones, §5.11) is a line type", desc("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "t=0 0", "z=2882844526 -1h 2898848070 0")},
	} {
		if _, err := Parse([]byte(c.sdp)); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestMarshal: the lines written for a session, in RFC 4566 §5's order,
// CRLF-terminated.
func TestMarshal(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for _, c := range []struct {
		name string
		s    Session
		want string
	}{
		{"empty user and name are written -", Session{SessionID: 1, SessionVer: 2, OriginFamily: "IP4", OriginAddr: "192.0.2.1"},
			desc("v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "t=0 0")},
		{"everything of an audio stream", Session{OriginUser: "jinyin", SessionID: 3, SessionVer: 4, OriginFamily: "IP4", OriginAddr: "192.0.2.1", Name: "call", Addr: v4,
			Media: []Media{{Type: "audio", Port: 10000, Proto: "RTP/AVP", Formats: []Format{
				{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1},
				{PT: 0},
				{PT: 97, Name: "L16", RateHz: 16000, Channels: 2},
				{PT: 101, Name: "telephone-event", RateHz: 8000, Channels: 1, Fmtp: "0-15"},
			}, Addr: v4, Direction: SendOnly, PtimeMs: 30, Other: []string{"rtcp:10001"}}}},
			desc("v=0", "o=jinyin 3 4 IN IP4 192.0.2.1", "s=call", "c=IN IP4 192.0.2.1", "t=0 0",
				"m=audio 10000 RTP/AVP 8 0 97 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:97 L16/16000/2",
				"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:30", "a=rtcp:10001", "a=sendonly")},
		{"media c= only where it differs; IP6", Session{SessionID: 1, SessionVer: 1, OriginFamily: "IP6", OriginAddr: "2001:db8::1", Addr: v4,
			Media: []Media{{Type: "audio", Port: 4000, Proto: "RTP/AVP", Formats: []Format{{PT: 8}}, Addr: v6},
				{Type: "image", Port: 0, Proto: "udptl", RawFmts: []string{"t38"}}}},
			desc("v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
				"m=audio 4000 RTP/AVP 8", "c=IN IP6 2001:db8::1", "m=image 0 udptl t38")},
	} {
		if got := string(c.s.Marshal()); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

var (
	v4Local = Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 10000, Codecs: []string{"PCMA", "PCMU"}, Session: 42}
	v6Local = Local{Addr: netip.MustParseAddr("2001:db8::1"), Port: 20000, Codecs: []string{"PCMU"}, Session: 43}
)

// TestAnswerLines: the whole answer to an offer (RFC 3264 §6, §6.1):
// one m= line for each offered, in order; refused ones with port 0 and
// one of their formats; the accepted one with our codec, telephone-event
// at the offer's payload type (RFC 4733 §7.1.1 events 0-15), ptime 20
// and the mirrored direction.
func TestAnswerLines(t *testing.T) {
	o := func(lines ...string) string {
		return desc(append([]string{"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "t=0 0"}, lines...)...)
	}
	ans := func(lines ...string) string {
		return desc(append([]string{"v=0", "o=jinyin 42 42 IN IP4 192.0.2.1", "s=jinyin", "c=IN IP4 192.0.2.1", "t=0 0"}, lines...)...)
	}
	accepted := func(codec string, dir Direction) []string {
		return []string{"m=audio 10000 RTP/AVP " + codec, "a=rtpmap:" + map[string]string{"8": "8 PCMA", "0": "0 PCMU"}[codec] + "/8000", "a=ptime:20", "a=" + string(dir)}
	}
	withEvent := func(codec, pt string, dir Direction) []string {
		l := accepted(codec, dir)
		return append([]string{l[0] + " " + pt, l[1], "a=rtpmap:" + pt + " telephone-event/8000", "a=fmtp:" + pt + " 0-15"}, l[2:]...)
	}
	for _, c := range []struct {
		name, offer string
		local       Local
		answer      string
		ch          Choice
	}{
		{"our first codec the offer holds; events at its PT",
			o("m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-11,16"), v4Local,
			ans(withEvent("8", "101", SendRecv)...),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1},
				Event: Format{PT: 101, Name: "telephone-event", RateHz: 8000, Channels: 1, Fmtp: "0-11,16"}, Direction: SendRecv, PtimeMs: 20}},
		{"encoding names are case-insensitive; ours is used",
			o("m=audio 4000 RTP/AVP 96 97", "a=rtpmap:96 pcmu/8000", "a=rtpmap:97 Telephone-Event/8000"), v4Local,
			ans("m=audio 10000 RTP/AVP 96 97", "a=rtpmap:96 PCMU/8000", "a=rtpmap:97 telephone-event/8000", "a=fmtp:97 0-15", "a=ptime:20", "a=sendrecv"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 96, Name: "PCMU", RateHz: 8000, Channels: 1},
				Event: Format{PT: 97, Name: "Telephone-Event", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
		{"telephone-event at another clock rate is not agreed; the first at 8000 is",
			o("m=audio 4000 RTP/AVP 8 100 101 102", "a=rtpmap:100 telephone-event/16000", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:102 telephone-event/8000"), v4Local,
			ans(withEvent("8", "101", SendRecv)...),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1},
				Event: Format{PT: 101, Name: "telephone-event", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
		{"G.711 at 16 kHz or in stereo is not G.711 at 8 kHz",
			o("m=audio 4000 RTP/AVP 96 97 0", "a=rtpmap:96 PCMA/16000", "a=rtpmap:97 PCMA/8000/2"), v4Local,
			ans(accepted("0", SendRecv)...),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
		{"recvonly is answered sendonly (RFC 3264 §6.1)",
			o("m=audio 4000 RTP/AVP 8", "a=recvonly"), v4Local,
			ans(accepted("8", SendOnly)...),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}, Direction: SendOnly, PtimeMs: 20}},
		{"inactive is answered inactive",
			o("m=audio 4000 RTP/AVP 8", "a=inactive"), v4Local,
			ans(accepted("8", Inactive)...),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}, Direction: Inactive, PtimeMs: 20}},
		{"refused: video, audio offered with port 0, audio over SRTP, a second audio, T.38",
			o("m=video 5000 RTP/AVP 31 34", "m=audio 0 RTP/AVP 8", "m=audio 4000 RTP/SAVP 8", "m=audio 4002 RTP/AVP 0 8", "m=audio 4004 RTP/AVP 8", "m=image 4006 udptl t38 t38b"), v4Local,
			ans("m=video 0 RTP/AVP 31", "m=audio 0 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "m=audio 0 RTP/SAVP 8", "a=rtpmap:8 PCMA/8000",
				"m=audio 10000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "a=ptime:20", "a=sendrecv", "m=audio 0 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "m=image 0 udptl t38"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4002"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
		{"an audio stream without a common codec is refused, the next accepted",
			o("m=audio 4000 RTP/AVP 18", "m=audio 4002 RTP/AVP 0"), v4Local,
			ans("m=audio 0 RTP/AVP 18", "m=audio 10000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4002"), Codec: Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
		{"IPv6 box: o= and c= IP6",
			desc("v=0", "o=- 1 1 IN IP6 2001:db8::9", "s=-", "c=IN IP6 2001:db8::9", "t=0 0", "m=audio 4000 RTP/AVP 0"), v6Local,
			desc("v=0", "o=jinyin 43 43 IN IP6 2001:db8::1", "s=jinyin", "c=IN IP6 2001:db8::1", "t=0 0", "m=audio 20000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv"),
			Choice{Remote: netip.MustParseAddrPort("[2001:db8::9]:4000"), Codec: Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}},
	} {
		off, err := Parse([]byte(c.offer))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a, ch, err := Answer(off, c.local)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := string(a.Marshal()); got != c.answer {
			t.Errorf("%s: answer\n got %q\nwant %q", c.name, got, c.answer)
		}
		if ch != c.ch {
			t.Errorf("%s: choice\n got %+v\nwant %+v", c.name, ch, c.ch)
		}
	}
}

// TestAnswerNothingInCommon: an offer the box can take no stream of is
// answered 488 (ErrNoCodec), saying what it wanted.
func TestAnswerNothingInCommon(t *testing.T) {
	for _, c := range []struct{ name, media string }{
		{"G.729 only", "m=audio 4000 RTP/AVP 18"},
		{"video only", "m=video 4000 RTP/AVP 31"},
		{"audio refused by the offerer", "m=audio 0 RTP/AVP 8"},
		{"no media", ""},
	} {
		lines := []string{"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "t=0 0"}
		if c.media != "" {
			lines = append(lines, c.media)
		}
		off, err := Parse([]byte(desc(lines...)))
		if err != nil {
			t.Fatal(err)
		}
		a, ch, err := Answer(off, v4Local)
		if !errors.Is(err, ErrNoCodec) || !strings.Contains(err.Error(), "PCMA or PCMU") || a != nil || ch != (Choice{}) {
			t.Errorf("%s: got %v, %+v, %v; want ErrNoCodec naming PCMA or PCMU", c.name, a, ch, err)
		}
	}
}

// TestOffer: the box's offer (RFC 3264 §5): its codecs in its order with
// their static types (RFC 3551), telephone-event 0-15 at the given type
// (RFC 4733 §7.1.1), 20 ms, the direction asked for.
func TestOffer(t *testing.T) {
	for _, c := range []struct {
		name  string
		local Local
		pt    uint8
		dir   Direction
		want  string
	}{
		{"PCMA then PCMU", v4Local, 101, SendRecv,
			desc("v=0", "o=jinyin 42 42 IN IP4 192.0.2.1", "s=jinyin", "c=IN IP4 192.0.2.1", "t=0 0",
				"m=audio 10000 RTP/AVP 8 0 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv")},
		{"codecs it cannot offer are left out; hold", Local{Addr: v6Local.Addr, Port: 20000, Codecs: []string{"G722", "PCMU", "pcma"}, Session: 5}, 96, SendOnly,
			desc("v=0", "o=jinyin 5 5 IN IP6 2001:db8::1", "s=jinyin", "c=IN IP6 2001:db8::1", "t=0 0",
				"m=audio 20000 RTP/AVP 0 96", "a=rtpmap:0 PCMU/8000", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-15", "a=ptime:20", "a=sendonly")},
	} {
		if got := string(Offer(c.local, c.pt, c.dir).Marshal()); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// TestAccepted: reading the answer to the box's own offer (RFC 3264 §7):
// the first audio stream the answerer kept, the codec of ours it chose,
// telephone-event if it kept it, the direction mirrored.
func TestAccepted(t *testing.T) {
	a := func(lines ...string) string {
		return desc(append([]string{"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "t=0 0"}, lines...)...)
	}
	for _, c := range []struct {
		name, answer string
		ch           Choice
		err          string // "" accepted
	}{
		{"PCMU chosen, events kept, hold from the far end",
			a("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1},
				Event: Format{PT: 101, Name: "telephone-event", RateHz: 8000, Channels: 1}, Direction: RecvOnly, PtimeMs: 20}, ""},
		{"a refused video and a refused audio before the accepted one; events at 16 kHz not agreed",
			a("m=video 5000 RTP/AVP 31", "m=audio 0 RTP/AVP 8", "m=audio 4002 RTP/AVP 8 100", "a=rtpmap:100 TELEPHONE-EVENT/16000", "a=recvonly"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4002"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}, Direction: SendOnly, PtimeMs: 20}, ""},
		{"events named in any case", a("m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 Telephone-Event/8000"),
			Choice{Remote: netip.MustParseAddrPort("10.0.0.2:4000"), Codec: Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1},
				Event: Format{PT: 101, Name: "Telephone-Event", RateHz: 8000, Channels: 1}, Direction: SendRecv, PtimeMs: 20}, ""},
		{"a codec we did not offer", a("m=audio 4000 RTP/AVP 18"), Choice{}, "answer chose none of PCMA, PCMU"},
		{"every stream refused", a("m=audio 0 RTP/AVP 8", "m=video 5000 RTP/AVP 31"), Choice{}, "answer accepts no audio stream"},
	} {
		ans, err := Parse([]byte(c.answer))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ch, err := Accepted(ans, v4Local)
		if c.err != "" {
			if !errors.Is(err, ErrNoCodec) || !strings.Contains(err.Error(), c.err) || ch != (Choice{}) {
				t.Errorf("%s: got %+v, %v; want ErrNoCodec: %s", c.name, ch, err, c.err)
			}
			continue
		}
		if err != nil || ch != c.ch {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", c.name, ch, err, c.ch)
		}
	}
}

// TestReofferKeepsLines: RFC 3264 §8.1 — a later offer keeps every m=
// line of the last in order; only the first audio stream in use is
// offered afresh; with no audio stream in use the offer is a new one.
func TestReofferKeepsLines(t *testing.T) {
	video := Media{Type: "video", Port: 0, Proto: "RTP/AVP", Formats: []Format{{PT: 31}}}
	deadAudio := Media{Type: "audio", Port: 0, Proto: "RTP/AVP", Formats: []Format{{PT: 8}}}
	oldAudio := Media{Type: "audio", Port: 10002, Proto: "RTP/AVP", Formats: []Format{{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}}, Direction: SendOnly}
	fresh := Offer(v4Local, 101, SendRecv).Media[0]
	for _, c := range []struct {
		name string
		last []Media
		want []Media
	}{
		{"refused streams kept; the first audio in use offered afresh; a second kept as it was",
			[]Media{video, deadAudio, oldAudio, oldAudio}, []Media{video, deadAudio, fresh, oldAudio}},
		{"only refused streams: a new offer", []Media{deadAudio, video}, []Media{fresh}},
		{"no streams: a new offer", nil, []Media{fresh}},
	} {
		last := v4Local.session()
		last.Media = c.last
		got := Reoffer(last, v4Local, 101)
		if string(got.Marshal()) != string((&Session{OriginUser: "jinyin", SessionID: 42, SessionVer: 42, OriginFamily: "IP4", OriginAddr: "192.0.2.1", Name: "jinyin", Addr: v4Local.Addr, Media: c.want}).Marshal()) {
			t.Errorf("%s: got %q", c.name, got.Marshal())
		}
	}
}

// TestOriginLast: Last is nil before anything is sent, then the last
// description sent, stamped with the session's id and version.
func TestOriginLast(t *testing.T) {
	o := Origin{ID: 9, Version: 100}
	if o.Last() != nil {
		t.Fatal("Last before the first Marshal is not nil")
	}
	first := Offer(v4Local, 101, SendRecv)
	o.Marshal(first)
	if o.Last() != first || first.SessionID != 9 || first.SessionVer != 100 {
		t.Errorf("after the first: Last %p (want %p), o= %d %d", o.Last(), first, first.SessionID, first.SessionVer)
	}
	second := Offer(v4Local, 101, Inactive)
	b := o.Marshal(second)
	if o.Last() != second || second.SessionVer != 101 || !strings.Contains(string(b), "o=jinyin 9 101 IN IP4 192.0.2.1\r\n") {
		t.Errorf("after a change: Last %p (want %p), wrote %q", o.Last(), second, b)
	}
}
