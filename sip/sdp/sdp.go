// Package sdp reads and writes the session descriptions (RFC 8866) of the
// box's calls and does offer/answer (RFC 3264) for G.711 audio with
// telephone-event (RFC 4733): what a PBX's SIP side needs, strictly parsed,
// every error saying which line.
//
// Layer: signalling; imports only the standard library.
package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrMalformed wraps every parse error (answer 400); ErrNoCodec means no
// common codec (answer 488).
var (
	ErrMalformed = errors.New("sdp: malformed")
	ErrNoCodec   = errors.New("sdp: no common codec")
)

// Direction of a media stream (RFC 3264 §5.1).
type Direction string

const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Format is one payload format of a media line with its rtpmap and fmtp.
type Format struct {
	PT       uint8
	Name     string // "PCMA", "PCMU", "telephone-event"
	RateHz   int
	Channels int
	Fmtp     string
}

// Media is one m= section.
type Media struct {
	Type      string // "audio"
	Port      int
	Proto     string // "RTP/AVP"
	Formats   []Format
	RawFmts   []string   // the format tokens of a non-RTP stream, as written
	Addr      netip.Addr // from the media-level c= line, else the session's
	Direction Direction
	PtimeMs   int
	Other     []string // attributes kept as they are ("rtcp:...", ...)
}

// Session is a session description.
type Session struct {
	OriginUser   string
	SessionID    uint64
	SessionVer   uint64
	OriginFamily string // "IP4" or "IP6"
	OriginAddr   string // an address or a host name, kept as written
	Name         string
	Addr         netip.Addr // session-level c=
	Direction    Direction  // session-level direction attribute, if any
	Media        []Media
}

// static payload types (RFC 3551) that may appear without rtpmap.
var static = map[uint8]Format{0: {PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1}, 8: {PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1}}

// Parse reads a session description.
func Parse(b []byte) (*Session, error) {
	s := &Session{}
	var cur *Media
	seen := map[byte]bool{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if len(lines) == 0 || lines[0] != "v=0" {
		return nil, fmt.Errorf("%w: line 1: want v=0", ErrMalformed)
	}
	for i, line := range lines {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: line %d %q: %s", ErrMalformed, i+1, trunc(line), fmt.Sprintf(format, args...))
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, bad("want type=value")
		}
		typ, val := line[0], line[2:]
		if cur == nil {
			if typ != 'a' && typ != 'b' && typ != 't' && typ != 'r' && typ != 'm' && seen[typ] {
				return nil, bad("%c= given twice", typ)
			}
			seen[typ] = true
		}
		switch typ {
		case 'o':
			f := strings.Fields(val)
			if len(f) != 6 || f[3] != "IN" {
				return nil, bad("want o=USER ID VERSION IN IP4 ADDR")
			}
			var err1, err2 error
			s.OriginUser = f[0]
			s.SessionID, err1 = strconv.ParseUint(f[1], 10, 64)
			s.SessionVer, err2 = strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				return nil, bad("session id and version must be numbers")
			}
			if f[4] != "IP4" && f[4] != "IP6" {
				return nil, bad("address type %q", f[4])
			}
			s.OriginFamily, s.OriginAddr = f[4], f[5]
		case 's':
			s.Name = val
		case 'c':
			f := strings.Fields(val)
			if len(f) != 3 || f[0] != "IN" {
				return nil, bad("want c=IN IP4 ADDR")
			}
			a, err := parseAddr(f[1], f[2])
			if err != nil {
				return nil, bad("%v", err)
			}
			if cur != nil {
				cur.Addr = a
			} else {
				s.Addr = a
			}
		case 'm':
			f := strings.Fields(val)
			if len(f) < 4 {
				return nil, bad("want m=TYPE PORT PROTO FORMAT...")
			}
			port, err := strconv.Atoi(strings.Split(f[1], "/")[0])
			if err != nil || port < 0 || port > 65535 {
				return nil, bad("port %q", f[1])
			}
			m := Media{Type: f[0], Port: port, Proto: f[2]}
			for _, pt := range f[3:] {
				if !strings.HasPrefix(m.Proto, "RTP/") {
					m.RawFmts = append(m.RawFmts, pt) // not payload types
					continue
				}
				n, err := strconv.Atoi(pt)
				if err != nil || n < 0 || n > 127 {
					return nil, bad("payload type %q", pt)
				}
				fm := static[uint8(n)]
				fm.PT = uint8(n)
				m.Formats = append(m.Formats, fm)
			}
			s.Media = append(s.Media, m)
			cur = &s.Media[len(s.Media)-1]
		case 'a':
			if cur == nil {
				if d := Direction(val); d == SendOnly || d == RecvOnly || d == Inactive || d == SendRecv {
					s.Direction = d
				}
				continue
			}
			if err := cur.attr(val); err != nil {
				return nil, bad("%v", err)
			}
		}
	}
	if !seen['o'] || !seen['s'] {
		return nil, fmt.Errorf("%w: o= and s= lines are required", ErrMalformed)
	}
	for i := range s.Media {
		m := &s.Media[i]
		if !m.Addr.IsValid() {
			m.Addr = s.Addr
		}
		if m.Direction == "" {
			m.Direction = s.Direction // RFC 3264 §5.1: session level applies
		}
		if m.Direction == "" {
			m.Direction = SendRecv
		}
		if m.Port != 0 && !m.Addr.IsValid() {
			return nil, fmt.Errorf("%w: m=%s has no connection address", ErrMalformed, m.Type)
		}
	}
	return s, nil
}

func (m *Media) attr(val string) error {
	name, rest, _ := strings.Cut(val, ":")
	switch name {
	case "sendrecv", "sendonly", "recvonly", "inactive":
		m.Direction = Direction(name)
	case "ptime":
		n, err := strconv.Atoi(rest)
		if err != nil || n <= 0 || n > 1000 {
			return fmt.Errorf("ptime %q", rest)
		}
		m.PtimeMs = n
	case "rtpmap":
		// An rtpmap the box cannot read (RFC 4475's "a=rtpmap:31 LPC" has
		// no clock rate) names a format it will not choose anyway: it is
		// left out rather than failing the whole description.
		ptS, enc, ok := strings.Cut(rest, " ")
		pt, err := strconv.Atoi(ptS)
		parts := strings.Split(enc, "/")
		if !ok || err != nil || len(parts) < 2 {
			return nil
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 {
			return nil
		}
		ch := 1
		if len(parts) > 2 {
			if ch, err = strconv.Atoi(parts[2]); err != nil || ch < 1 {
				return nil
			}
		}
		for i := range m.Formats {
			if int(m.Formats[i].PT) == pt {
				m.Formats[i].Name, m.Formats[i].RateHz, m.Formats[i].Channels = parts[0], rate, ch
			}
		}
	case "fmtp":
		ptS, params, _ := strings.Cut(rest, " ")
		pt, err := strconv.Atoi(ptS)
		if err != nil {
			return fmt.Errorf("fmtp payload type %q", ptS)
		}
		for i := range m.Formats {
			if int(m.Formats[i].PT) == pt {
				m.Formats[i].Fmtp = params
			}
		}
	default:
		m.Other = append(m.Other, val)
	}
	return nil
}

func parseAddr(family, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.Split(s, "/")[0])
	if err != nil || (family == "IP4") != a.Is4() || (family != "IP4" && family != "IP6") {
		return netip.Addr{}, fmt.Errorf("address %q is not %s", s, family)
	}
	return a, nil
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// Marshal writes the session description.
func (s *Session) Marshal() []byte {
	var b bytes.Buffer
	fam := func(a netip.Addr) string {
		if a.Is4() {
			return "IP4"
		}
		return "IP6"
	}
	b.WriteString("v=0\r\n")
	fmt.Fprintf(&b, "o=%s %d %d IN %s %s\r\n", orDash(s.OriginUser), s.SessionID, s.SessionVer, s.OriginFamily, s.OriginAddr)
	fmt.Fprintf(&b, "s=%s\r\n", orDash(s.Name))
	if s.Addr.IsValid() {
		fmt.Fprintf(&b, "c=IN %s %s\r\n", fam(s.Addr), s.Addr)
	}
	b.WriteString("t=0 0\r\n")
	for _, m := range s.Media {
		fmt.Fprintf(&b, "m=%s %d %s", m.Type, m.Port, m.Proto)
		for _, f := range m.Formats {
			fmt.Fprintf(&b, " %d", f.PT)
		}
		for _, f := range m.RawFmts {
			b.WriteString(" " + f)
		}
		b.WriteString("\r\n")
		if m.Addr.IsValid() && m.Addr != s.Addr {
			fmt.Fprintf(&b, "c=IN %s %s\r\n", fam(m.Addr), m.Addr)
		}
		for _, f := range m.Formats {
			if f.Name == "" {
				continue
			}
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d", f.PT, f.Name, f.RateHz)
			if f.Channels > 1 {
				fmt.Fprintf(&b, "/%d", f.Channels)
			}
			b.WriteString("\r\n")
			if f.Fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", f.PT, f.Fmtp)
			}
		}
		if m.PtimeMs > 0 {
			fmt.Fprintf(&b, "a=ptime:%d\r\n", m.PtimeMs)
		}
		for _, o := range m.Other {
			fmt.Fprintf(&b, "a=%s\r\n", o)
		}
		if m.Direction != "" {
			fmt.Fprintf(&b, "a=%s\r\n", m.Direction)
		}
	}
	return b.Bytes()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
