package sip

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"

	gosip "github.com/emiago/sipgo/sip"

	"jinyin/security"
)

// readFilter sees every UDP datagram before sipgo parses it. It answers
// two kinds of request statelessly and drops them. A new INVITE (no To
// tag) beyond max_calls_per_second gets 503 and Retry-After, so a flood
// costs neither a parse nor a server transaction: a bare sipgo UAS keeps
// each INVITE's transaction for Timer J and grows past 1 GiB under 5,000
// INVITEs/s. A malformed request gets the answer RFC 4475 expects, where
// sipgo would drop it silently; that check parses each request once more,
// a cost on signalling only, never on media.
//
// The concurrent-call cap stays in onInvite, where a call's end releases it.
// A retransmission of an INVITE admitted a moment before can meet an empty
// bucket and be refused; the caller then sees 503 and retries after the
// interval, which is the overload answer anyway.
func (s *Server) readFilter(info gosip.TransportReadProps, data []byte) ([]byte, error) {
	if !s.screen(info.RemoteAddr, data) {
		if info.Transport != "UDP" {
			return nil, errBanned // sipgo closes the connection
		}
		return nil, nil // dropped unanswered
	}
	if info.Transport != "UDP" {
		// A TCP read is any part of the stream, not one message: the
		// checks below are for datagrams (admit applies the rate over
		// TCP).
		return data, nil
	}
	if bytes.HasPrefix(data, []byte("INVITE ")) && !hasToTag(data) && !s.rate.allow() {
		s.Rejected.Add(1)
		s.reply(info.RemoteAddr, statelessResponse(data, 503, "Service Unavailable", "Retry-After: 2"))
		return nil, nil
	}
	if bytes.HasPrefix(data, []byte("SIP/")) || len(bytes.TrimSpace(data)) == 0 {
		return data, nil // a response, or a keep-alive
	}
	// sipgo drops a request it cannot parse without a word; answer it
	// (RFC 3261 §8.2.2, RFC 4475) so the sender learns what is wrong.
	if code, reason := checkRequest(data); code != 0 {
		s.event(security.RequestBadFormat, addrPort(info.RemoteAddr), "", reason)
		s.reply(info.RemoteAddr, statelessResponse(data, code, reason, ""))
		return nil, nil
	}
	return data, nil
}

func (s *Server) reply(to net.Addr, res []byte) {
	if res != nil && s.udp != nil {
		s.udp.WriteTo(res, to)
	}
}

// checkRequest parses a raw request and says what to answer if it is not
// one to process: 505 for another SIP version, 416 for a Request-URI
// scheme the box does not serve, 400 for anything malformed, with the
// parser's reason.
func checkRequest(data []byte) (int, string) {
	line, _, _ := bytes.Cut(data, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) == 3 && strings.HasPrefix(f[2], "SIP/") && f[2] != "SIP/2.0" {
		return 505, "Version Not Supported"
	}
	if len(f) == 3 {
		if scheme, _, ok := strings.Cut(f[1], ":"); ok && !slices.Contains([]string{"sip", "sips", "tel"}, strings.ToLower(scheme)) && !strings.ContainsAny(scheme, "<>\" ") {
			return 416, "Unsupported URI Scheme"
		}
	}
	if _, err := gosip.ParseMessage(data); err != nil {
		return 400, "Bad Request (" + firstLine(err.Error()) + ")"
	}
	// CSeq names the request's method (RFC 3261 §8.1.1.5); compared as
	// written, since a method is any token and is case-sensitive.
	if cseq := strings.Fields(string(header(data, "CSeq", "CSeq"))); len(f) == 3 && len(cseq) == 2 && cseq[1] != f[0] && f[0] != "ACK" && f[0] != "CANCEL" {
		return 400, "Bad Request (CSeq method does not match the request)"
	}
	// Headers that hold one value (RFC 3261 §7.3.1) given twice.
	for _, h := range [][2]string{{"Content-Length", "l"}, {"Call-ID", "i"}, {"CSeq", "CSeq"}, {"From", "f"}, {"To", "t"}, {"Max-Forwards", "Max-Forwards"}} {
		if len(headerValues(data, h[0], h[1])) > 1 {
			return 400, "Bad Request (more than one " + h[0] + ")"
		}
	}
	// A UAS must refuse a request that requires an extension it does not
	// support (RFC 3261 §8.2.2.3); it ignores Proxy-Require.
	for _, tag := range strings.Split(string(header(data, "Require", "Require")), ",") {
		if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(supported, tag) {
			return 420, "Bad Extension\r\nUnsupported: " + tag
		}
	}
	return 0, ""
}

// supported lists the option tags the box supports (RFC 4028 timer).
var supported = []string{"timer"}

// headerValues returns the values of the header lines named name or its
// compact form in a raw message, in order.
func headerValues(msg []byte, name, compact string) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(msg, []byte("\r\n"))[1:] {
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		k = bytes.TrimSpace(k)
		if ok && (bytes.EqualFold(k, []byte(name)) || bytes.EqualFold(k, []byte(compact))) {
			out = append(out, bytes.TrimSpace(v))
		}
	}
	return out
}

// header returns the value of the first header line named name, or nil.
func header(msg []byte, name, compact string) []byte {
	if vs := headerValues(msg, name, compact); len(vs) > 0 {
		return vs[0]
	}
	return nil
}

func hasToTag(msg []byte) bool {
	return bytes.Contains(header(msg, "To", "t"), []byte(";tag="))
}

// statelessResponse builds a response for a raw request from its Via,
// From, To, Call-ID and CSeq lines (RFC 3261 §8.2.6), or nil when the
// request lacks them (it is then dropped).
func statelessResponse(req []byte, code int, reason, extra string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	found := map[string]bool{}
	for _, line := range bytes.Split(req, []byte("\r\n"))[1:] {
		if len(line) == 0 {
			break
		}
		k, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch name := string(bytes.ToLower(bytes.TrimSpace(k))); name {
		case "via", "v":
			b.Write(line)
			b.WriteString("\r\n")
			found["v"] = true
		case "from", "f", "call-id", "i", "cseq":
			key := name[:1]
			if name == "cseq" {
				key = "s"
			}
			if !found[key] { // the first of a header that holds one value
				b.Write(line)
				b.WriteString("\r\n")
			}
			found[key] = true
		case "to", "t":
			if found["t"] {
				continue
			}
			b.Write(line)
			if !bytes.Contains(line, []byte(";tag=")) {
				b.WriteString(";tag=stateless")
			}
			b.WriteString("\r\n")
			found["t"] = true
		}
	}
	if !found["v"] || !found["f"] || !found["t"] || !found["c"] || !found["s"] {
		return nil
	}
	if extra != "" {
		b.WriteString(extra + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}
