package rtp

import (
	"crypto/rand"
	"fmt"
	"net/netip"

	prtcp "github.com/pion/rtcp"
	prtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP (RFC 3711) protects a session's RTP and RTCP once its keys are
// agreed (SDES, RFC 4568, in the call's SDP). The cryptography is
// pion/srtp's; this file holds only the session's use of it: a context
// for what the box sends (its own master key) and one for what it
// receives (the peer's), with replay protection, and buffers owned by the
// session so that the packet path allocates nothing.

// The SDES crypto suites the box speaks (RFC 4568 §6.2), most preferred
// first: AES-128 in counter mode with an 80- or 32-bit HMAC-SHA1 tag.
const (
	SuiteAES80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAES32 = "AES_CM_128_HMAC_SHA1_32"
)

// Suites lists them, most preferred first.
var Suites = []string{SuiteAES80, SuiteAES32}

// KeyLen is a master key and salt together, as SDES carries them: 16
// octets of key and 14 of salt.
const KeyLen = 30

// NewKey is a fresh master key and salt for one session.
func NewKey() []byte {
	k := make([]byte, KeyLen)
	rand.Read(k)
	return k
}

// Keys are a session's agreed SRTP: its suite, the box's master key and
// salt (for what it sends) and the peer's (for what it receives).
type Keys struct {
	Suite         string
	Local, Remote []byte
}

func profile(suite string) (srtp.ProtectionProfile, error) {
	switch suite {
	case SuiteAES80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case SuiteAES32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("rtp: SRTP suite %q not supported", suite)
}

// srtpState is a session's SRTP: used on the pacer's goroutine and under
// fdMu, like the sockets.
type srtpState struct {
	tx, rx   *srtp.Context
	txh, rxh prtp.Header
	rtcph    prtcp.Header
	out      [HeaderLen + 4 + 172 + 16]byte // an RTP packet and its tag (an event or a G.711 frame)
	in       [512]byte                      // a received packet, decrypted
	ctl      [256 + 4 + 10]byte             // an RTCP packet, its SRTCP index and tag
}

// SetSRTP protects the session with keys from now on; call it before the
// session starts sending (before Start).
func (s *Session) SetSRTP(k Keys) error {
	p, err := profile(k.Suite)
	if err != nil {
		return err
	}
	if len(k.Local) != KeyLen || len(k.Remote) != KeyLen {
		return fmt.Errorf("rtp: SRTP master key and salt are %d octets, not %d and %d", KeyLen, len(k.Local), len(k.Remote))
	}
	st := &srtpState{}
	if st.tx, err = srtp.CreateContext(k.Local[:16], k.Local[16:], p); err != nil {
		return fmt.Errorf("rtp: SRTP: %w", err)
	}
	if st.rx, err = srtp.CreateContext(k.Remote[:16], k.Remote[16:], p, srtp.SRTPReplayProtection(64), srtp.SRTCPReplayProtection(64)); err != nil {
		return fmt.Errorf("rtp: SRTP: %w", err)
	}
	s.fdMu.Lock()
	s.srtp = st
	s.fdMu.Unlock()
	return nil
}

// sendRTP sends an RTP packet, protected when the session has SRTP.
func (s *Session) sendRTP(pkt []byte, to netip.AddrPort) error {
	if st := s.srtp; st != nil {
		out, err := st.tx.EncryptRTP(st.out[:0], pkt, &st.txh)
		if err != nil {
			return err
		}
		pkt = out
	}
	return sendTo(s.fd, pkt, to)
}

// sendRTCP sends an RTCP compound packet, as SRTCP when the session has
// SRTP (RFC 3711 §3.4: SRTCP is not optional).
func (s *Session) sendRTCP(pkt []byte, to netip.AddrPort) error {
	if st := s.srtp; st != nil {
		out, err := st.tx.EncryptRTCP(st.ctl[:0], pkt, &st.rtcph)
		if err != nil {
			return err
		}
		pkt = out
	}
	return sendTo(s.rtcpFD, pkt, to)
}

// openRTP is a received packet in the clear, or false for one that fails
// authentication or replays an earlier one (dropped, and counted).
func (s *Session) openRTP(pkt []byte) ([]byte, bool) {
	st := s.srtp
	if st == nil {
		return pkt, true
	}
	out, err := st.rx.DecryptRTP(st.in[:0], pkt, &st.rxh)
	if err != nil || len(out) > len(st.in) {
		s.Unauthentic.Add(1)
		return nil, false
	}
	return out, true
}

// openRTCP is openRTP for RTCP.
func (s *Session) openRTCP(pkt []byte) ([]byte, bool) {
	st := s.srtp
	if st == nil {
		return pkt, true
	}
	out, err := st.rx.DecryptRTCP(st.in[:0], pkt, &st.rtcph)
	if err != nil || len(out) > len(st.in) {
		s.Unauthentic.Add(1)
		return nil, false
	}
	return out, true
}
