package sip

import (
	"errors"
	"net"
	"net/netip"

	gosip "github.com/emiago/sipgo/sip"

	"jinyin/security"
)

// The box's defence at the SIP door (package security): every request is
// counted against its source's rate before it is parsed, a banned
// source's datagrams are dropped unanswered and its TCP connections
// closed, and each authentication's outcome is a security event.

var errBanned = errors.New("sip: source banned")

// screen is the read filter's first step: whether to go on with data from
// addr over a transport. Requests count toward the source's rate;
// responses (from carriers) only check the ban.
func (s *Server) screen(addr net.Addr, data []byte) bool {
	if s.guard == nil {
		return true
	}
	src := addrPort(addr).Addr()
	if isResponse(data) || len(data) < 8 {
		return !s.guard.Banned(src)
	}
	return s.guard.Admit(src)
}

func isResponse(data []byte) bool { return len(data) >= 4 && string(data[:4]) == "SIP/" }

// addrPort is the address of a net.Addr (UDP or TCP); the zero AddrPort
// for any other.
func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// requestSource is where a request came from.
func requestSource(req *gosip.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(req.Source())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// event reports a security event of the SIP service.
func (s *Server) event(name string, src netip.AddrPort, account, detail string) {
	if s.guard != nil {
		s.guard.Event(name, "SIP", src, account, detail)
	}
}

// authOutcome reports what a checked authentication came to, and whether
// it stands: a proven user outside its extension's ACL is refused as a
// wrong password would be (FailedACL in the events only).
func (s *Server) authOutcome(req *gosip.Request, result AuthResult, user string) AuthResult {
	src := requestSource(req)
	method := string(req.Method)
	s.log.Debug("sip: authentication", "method", method, "user", user, "result", result, "source", src)
	switch result {
	case AuthUnknown:
		s.event(security.InvalidAccountID, src, user, method)
	case AuthFailed:
		s.event(security.InvalidPassword, src, user, method)
	case AuthReplay:
		s.event(security.ChallengeResponseFailed, src, user, method+": a digest answer used before or for another request")
	case AuthOK:
		if s.acl != nil && !s.acl(user, src.Addr()) {
			s.event(security.FailedACL, src, user, method)
			return AuthFailed
		}
		s.event(security.SuccessfulAuth, src, user, method)
	}
	return result
}

// fromUser is the user part of a request's From.
func fromUser(req *gosip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}
	return ""
}
