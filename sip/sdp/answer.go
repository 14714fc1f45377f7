package sdp

import (
	"fmt"
	"net/netip"
	"strings"
)

// Local is what the box offers on its side of a call.
type Local struct {
	Addr    netip.Addr
	Port    int      // RTP port; RTCP on Port+1
	Codecs  []string // in order of preference, e.g. "PCMA", "PCMU"
	Session uint64   // o= session id and version
	// SRTP is the call's media encryption by SDES (RFC 4568): "" none,
	// "optional" (taken when the peer offers or accepts it), "required"
	// (an offer or answer without it fails). Key is the box's master key
	// and salt for the call, Suites the crypto suites it speaks, most
	// preferred first.
	SRTP   string
	Key    []byte
	Suites []string
}

// Choice is what offer/answer settled for the call's audio.
type Choice struct {
	Remote    netip.AddrPort // where to send RTP (0 port: stream refused)
	Codec     Format
	Event     Format    // telephone-event; PT 0 and Name "" when not agreed
	Direction Direction // the box's direction: what it may do
	PtimeMs   int
	Crypto    *Crypto // the peer's SDES key and suite; nil: plain RTP
}

// Answer builds the answer to an offer: the first offered audio stream is
// accepted with the first of our codecs that the offer holds, and
// telephone-event at 8 kHz if offered; other streams are refused (port 0).
// The direction mirrors the offer's (sendonly is answered recvonly: hold).
func Answer(offer *Session, local Local) (*Session, Choice, error) {
	ans := local.session()
	var ch Choice
	found, srtpRefused := false, false
	for _, m := range offer.Media {
		// A refused stream keeps one format so that its m= line is valid.
		out := Media{Type: m.Type, Proto: m.Proto, Formats: m.Formats[:min(1, len(m.Formats))], RawFmts: m.RawFmts[:min(1, len(m.RawFmts))]}
		if found || m.Type != "audio" || m.Port == 0 || (!strings.HasPrefix(m.Proto, "RTP/AVP") && m.Proto != "RTP/SAVP") {
			ans.Media = append(ans.Media, out) // refused: port 0
			continue
		}
		crypto, ok := local.secure(&m)
		if !ok {
			srtpRefused = true
			ans.Media = append(ans.Media, out)
			continue
		}
		codec, ok := pick(m.Formats, local.Codecs)
		if !ok {
			ans.Media = append(ans.Media, out)
			continue
		}
		found = true
		if crypto != nil {
			ch.Crypto = crypto
			out.Other = []string{Crypto{Tag: crypto.Tag, Suite: crypto.Suite, Key: local.Key}.String()}
		}
		ch.Codec = codec
		formats := []Format{codec}
		for _, f := range m.Formats {
			if strings.EqualFold(f.Name, "telephone-event") && f.RateHz == 8000 {
				ch.Event = f
				formats = append(formats, Format{PT: f.PT, Name: "telephone-event", RateHz: 8000, Channels: 1, Fmtp: "0-15"})
				break
			}
		}
		ch.Remote = netip.AddrPortFrom(m.Addr, uint16(m.Port))
		ch.Direction = mirror(m.Direction)
		ch.PtimeMs = 20
		out.Port, out.Formats, out.Direction, out.PtimeMs = local.Port, formats, ch.Direction, 20
		ans.Media = append(ans.Media, out)
	}
	if !found && srtpRefused {
		return nil, Choice{}, fmt.Errorf("%w: offer's audio is not encrypted as the box needs (SRTP %q, over SDES in %s)", ErrNoCodec, local.SRTP, strings.Join(local.Suites, " or "))
	}
	if !found {
		return nil, Choice{}, fmt.Errorf("%w: offer has no audio in %s", ErrNoCodec, strings.Join(local.Codecs, " or "))
	}
	return ans, ch, nil
}

// secure is the SDES key to take from an offered stream (nil for plain
// RTP), or false when the stream cannot be taken: RTP/SAVP the box does
// not speak or has no key it can use, or plain RTP where SRTP is
// required. With SRTP on, a crypto attribute on RTP/AVP (best-effort
// SRTP, as baresip's mediaenc=srtp offers) is taken too.
func (l Local) secure(m *Media) (*Crypto, bool) {
	if l.SRTP == "" {
		return nil, m.Proto != "RTP/SAVP"
	}
	offered := m.Cryptos(l.Suites)
	for _, suite := range l.Suites {
		for i := range offered {
			if offered[i].Suite == suite {
				return &offered[i], true
			}
		}
	}
	return nil, m.Proto != "RTP/SAVP" && l.SRTP != "required"
}

func pick(offered []Format, prefs []string) (Format, bool) {
	for _, p := range prefs {
		for _, f := range offered {
			if strings.EqualFold(f.Name, p) && f.RateHz == 8000 && f.Channels <= 1 {
				f.Name = p
				return f, true
			}
		}
	}
	return Format{}, false
}

// mirror is the answer's direction for an offered direction.
func mirror(d Direction) Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Offer builds the box's own offer (outbound calls, re-INVITEs for hold).
func Offer(local Local, eventPT uint8, dir Direction) *Session {
	var formats []Format
	for _, c := range local.Codecs {
		switch c {
		case "PCMA":
			formats = append(formats, Format{PT: 8, Name: "PCMA", RateHz: 8000, Channels: 1})
		case "PCMU":
			formats = append(formats, Format{PT: 0, Name: "PCMU", RateHz: 8000, Channels: 1})
		}
	}
	formats = append(formats, Format{PT: eventPT, Name: "telephone-event", RateHz: 8000, Channels: 1, Fmtp: "0-15"})
	s := local.session()
	m := Media{Type: "audio", Port: local.Port, Proto: "RTP/AVP", Formats: formats, Direction: dir, PtimeMs: 20}
	if local.SRTP != "" && len(local.Suites) > 0 {
		// Required is RTP/SAVP, which a peer without SRTP refuses;
		// optional is a key offered on RTP/AVP, which it may ignore.
		if local.SRTP == "required" {
			m.Proto = "RTP/SAVP"
		}
		m.Other = []string{Crypto{Tag: 1, Suite: local.Suites[0], Key: local.Key}.String()}
	}
	s.Media = []Media{m}
	return s
}

// Reoffer builds the box's offer in a session where it last sent last
// (nil: none), as RFC 3261 §14.2 asks of the offer in a 200 to an
// SDP-less re-INVITE: "as if the UAS were making a brand new call" (every
// codec of local, telephone-event at eventPT, sendrecv), within RFC 3264
// §8's rules for a later offer: the same m= lines in the same order, the
// audio stream on the same port, a stream refused before still refused
// (port 0).
func Reoffer(last *Session, local Local, eventPT uint8) *Session {
	fresh := Offer(local, eventPT, SendRecv)
	if last == nil {
		return fresh
	}
	s := local.session()
	audio := false
	for _, m := range last.Media {
		if !audio && m.Type == "audio" && m.Port != 0 {
			audio = true
			m = fresh.Media[0]
		}
		s.Media = append(s.Media, m)
	}
	if !audio {
		return fresh
	}
	return s
}

func (l Local) session() *Session {
	fam := "IP4"
	if l.Addr.Is6() {
		fam = "IP6"
	}
	return &Session{OriginUser: "jinyin", SessionID: l.Session, SessionVer: l.Session, OriginFamily: fam, OriginAddr: l.Addr.String(), Name: "jinyin", Addr: l.Addr}
}

// Accepted reads the answer to the box's own offer: the first accepted
// audio stream, the codec the peer chose from those offered, and
// telephone-event if it kept it.
func Accepted(answer *Session, local Local) (Choice, error) {
	for _, m := range answer.Media {
		if m.Type != "audio" || m.Port == 0 {
			continue
		}
		codec, ok := pick(m.Formats, local.Codecs)
		if !ok {
			return Choice{}, fmt.Errorf("%w: answer chose none of %s", ErrNoCodec, strings.Join(local.Codecs, ", "))
		}
		ch := Choice{Codec: codec, Remote: netip.AddrPortFrom(m.Addr, uint16(m.Port)), Direction: mirror(m.Direction), PtimeMs: 20}
		if local.SRTP != "" {
			// The answer takes the offer's one key (tag 1) and suite.
			for _, c := range m.Cryptos(local.Suites[:min(1, len(local.Suites))]) {
				if c.Tag == 1 {
					ch.Crypto = &c
				}
			}
			if ch.Crypto == nil && local.SRTP == "required" {
				return Choice{}, fmt.Errorf("%w: the answer has no SRTP key, which the box requires", ErrNoCodec)
			}
		}
		for _, f := range m.Formats {
			if strings.EqualFold(f.Name, "telephone-event") && f.RateHz == 8000 {
				ch.Event = f
			}
		}
		return ch, nil
	}
	return Choice{}, fmt.Errorf("%w: answer accepts no audio stream", ErrNoCodec)
}
