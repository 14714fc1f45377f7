package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/media/rtp"
	"jinyin/sip/sdp"
)

// TestRefused: a dial's error is the callee's own answer for the final
// responses that say so of the callee wherever it is reached (RFC 3261
// §21: 404 Not Found, 484 Address Incomplete, 486 Busy Here, 600 Busy
// Everywhere, 603 Decline, 604 Does Not Exist Anywhere); a trunk's or the
// network's trouble (408, 480, 503) and errors that are no response are
// not, so another trunk is tried.
func TestRefused(t *testing.T) {
	res := func(code int) error {
		return &sipgo.ErrDialogResponse{Res: gosip.NewResponse(code, "x")}
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{res(404), true}, {res(484), true}, {res(486), true}, {res(600), true}, {res(603), true}, {res(604), true},
		{res(408), false}, {res(480), false}, {res(503), false}, {res(500), false},
		{fmt.Errorf("sip: dial x: %w", res(486)), true},
		{&sipgo.ErrDialogResponse{}, false},
		{errors.New("no route"), false}, {nil, false},
	} {
		if got := Refused(c.err); got != c.want {
			t.Errorf("Refused(%v) = %v", c.err, got)
		}
	}
}

// TestStatusReason: the reason phrases of RFC 3261 §21 for the refusals
// an early-media route ends with.
func TestStatusReason(t *testing.T) {
	for code, want := range map[int]string{486: "Busy Here", 503: "Service Unavailable", 603: "Decline", 480: "Temporarily Unavailable"} {
		if got := statusReason(code); got != want {
			t.Errorf("statusReason(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestAuthResultNames(t *testing.T) {
	for r, want := range map[AuthResult]string{AuthMissing: "missing", AuthStale: "stale", AuthFailed: "failed", AuthUnknown: "unknown user", AuthReplay: "replay", AuthOK: "ok"} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", r, got, want)
		}
	}
}

// TestRekey: a re-INVITE's answer applies the peer's new SDES key; the
// same key changes nothing (the receiver keeps its replay state), plain
// RTP stays plain, and an encrypted call cannot go plain.
func TestRekey(t *testing.T) {
	sess, err := rtp.NewPortPool(netip.MustParseAddr("127.0.0.1"), 34000, 34099).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	key := func(b byte) *sdp.Crypto {
		return &sdp.Crypto{Tag: 1, Suite: rtp.SuiteAES80, Key: bytes.Repeat([]byte{b}, rtp.KeyLen)}
	}
	c := &Call{sess: sess, local: sdp.Local{Key: bytes.Repeat([]byte{9}, rtp.KeyLen)}}
	if err := c.rekey(sdp.Choice{}); err != nil {
		t.Errorf("plain to plain: %v", err)
	}
	if err := c.rekey(sdp.Choice{Crypto: key(1)}); err != nil {
		t.Fatalf("plain to SRTP: %v", err)
	}
	c.choice.Crypto = key(1)
	if err := c.rekey(sdp.Choice{Crypto: key(1)}); err != nil {
		t.Errorf("the same key: %v", err)
	}
	if err := c.rekey(sdp.Choice{Crypto: &sdp.Crypto{Tag: 1, Suite: "NULL", Key: key(2).Key}}); err == nil {
		t.Error("a new key in a suite the box does not speak was taken")
	}
	if err := c.rekey(sdp.Choice{Crypto: key(2)}); err != nil {
		t.Errorf("a new key: %v", err)
	}
	if err := c.rekey(sdp.Choice{}); err == nil {
		t.Error("an SRTP call went plain")
	}
}
