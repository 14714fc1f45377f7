package sip

import (
	"bytes"

	gosip "github.com/emiago/sipgo/sip"
)

// floodFilter sees every UDP datagram before sipgo parses it. A new
// INVITE (no To tag) beyond max_calls_per_second is answered here with a
// stateless 503 and Retry-After and dropped, so a flood costs neither a
// parse nor a server transaction: a bare sipgo UAS keeps each INVITE's
// transaction for Timer J and grows past 1 GiB under 5,000 INVITEs/s.
//
// The concurrent-call cap stays in onInvite, where a call's end releases it.
// A retransmission of an INVITE admitted a moment before can meet an empty
// bucket and be refused; the caller then sees 503 and retries after the
// interval, which is the overload answer anyway.
func (s *Server) floodFilter(info gosip.TransportReadProps, data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte("INVITE ")) || hasToTag(data) || s.rate.allow() {
		return data, nil
	}
	s.Rejected.Add(1)
	if res := stateless503(data); res != nil && s.udp != nil {
		s.udp.WriteTo(res, info.RemoteAddr)
	}
	return nil, nil
}

// header returns the value of the first header line named name or its
// compact form in a raw message, or nil.
func header(msg []byte, name, compact string) []byte {
	for _, line := range bytes.Split(msg, []byte("\r\n"))[1:] {
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		k = bytes.TrimSpace(k)
		if ok && (bytes.EqualFold(k, []byte(name)) || bytes.EqualFold(k, []byte(compact))) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

func hasToTag(msg []byte) bool {
	return bytes.Contains(header(msg, "To", "t"), []byte(";tag="))
}

// stateless503 builds "503 Service Unavailable" for a raw request, from
// its Via, From, To, Call-ID and CSeq lines (RFC 3261 §8.2.6), or nil when
// the request lacks them.
func stateless503(req []byte) []byte {
	var b bytes.Buffer
	b.WriteString("SIP/2.0 503 Service Unavailable\r\n")
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
		case "via", "v", "from", "f", "call-id", "i", "cseq":
			b.Write(line)
			b.WriteString("\r\n")
			found[name[:1]] = true
		case "to", "t":
			b.Write(line)
			b.WriteString(";tag=overload\r\n")
			found["t"] = true
		}
	}
	if !found["v"] || !found["f"] || !found["t"] || !found["c"] {
		return nil
	}
	b.WriteString("Retry-After: 2\r\nContent-Length: 0\r\n\r\n")
	return b.Bytes()
}
