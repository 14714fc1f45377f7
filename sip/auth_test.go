package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"jinyin/internal/clock"
)

// digestHash is the hash an RFC 7616 algorithm token names.
func digestHash(t testing.TB, alg string) func() hash.Hash {
	switch strings.ToUpper(alg) {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	t.Fatalf("no hash for algorithm %q", alg)
	return nil
}

// digestResponse is the request-digest of RFC 7616 §3.4.1, written out
// here so the tests do not check the server with the library it verifies
// with: H(A1) = H(user:realm:password), H(A2) = H(method:uri), and the
// response KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or with no qop RFC 2069's
// H(H(A1):nonce:H(A2)) (RFC 2617 §3.2.2.1).
func digestResponse(h func() hash.Hash, user, realm, password, method, uri, nonce, nc, cnonce, qop string) string {
	H := func(s string) string {
		x := h()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1, ha2 := H(user+":"+realm+":"+password), H(method+":"+uri)
	if qop == "" {
		return H(ha1 + ":" + nonce + ":" + ha2)
	}
	return H(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
}

// rfc7616 is the example of RFC 7616 §3.9.1, shared by both algorithms.
var rfc7616 = struct {
	user, password, realm, nonce, cnonce, opaque, qop, nc, method, uri string
}{
	user: "Mufasa", password: "Circle of Life", realm: "http-auth@example.org",
	nonce:  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
	cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
	opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
	qop:    "auth", nc: "00000001", method: "GET", uri: "/dir/index.html",
}

// TestDigestRFC7616Vectors checks the responses of RFC 7616 §3.9.1 two
// ways: the formula above (so the other tests can trust it), and the
// digest library called exactly as Authenticator.Check calls it (a
// Challenge of realm, nonce, algorithm, opaque and qop; Options of method,
// URI, user, password, cnonce and count), so an upgrade of the library
// that changed its arithmetic fails here and not in the field.
func TestDigestRFC7616Vectors(t *testing.T) {
	v := rfc7616
	for _, c := range []struct{ alg, want string }{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		t.Run(c.alg, func(t *testing.T) {
			if got := digestResponse(digestHash(t, c.alg), v.user, v.realm, v.password, v.method, v.uri, v.nonce, v.nc, v.cnonce, v.qop); got != c.want {
				t.Errorf("RFC 7616 formula: %s, want %s", got, c.want)
			}
			chal := &digest.Challenge{Realm: v.realm, Nonce: v.nonce, Algorithm: c.alg, Opaque: v.opaque, QOP: []string{v.qop}}
			cred, err := digest.Digest(chal, digest.Options{Method: v.method, URI: v.uri, Username: v.user, Password: v.password, Cnonce: v.cnonce, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			if cred.Response != c.want {
				t.Errorf("digest library as Check calls it: %s, want %s", cred.Response, c.want)
			}
		})
	}
}

// authHeader is an Authorization header value written by hand, as a phone
// sends it (RFC 3261 §22.4, RFC 7616 §3.4).
func authHeader(user, realm, nonce, uri, alg, response, qop, nc, cnonce string) string {
	s := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"`, user, realm, nonce, uri, response)
	if alg != "" {
		s += ", algorithm=" + alg
	}
	if qop != "" {
		s += fmt.Sprintf(`, qop=%s, nc=%s, cnonce="%s"`, qop, nc, cnonce)
	}
	return s
}

// TestCheckIndependentDigest: Check accepts answers computed by the RFC
// formula above, not by the library it verifies with, for both
// algorithms, with and without qop, and refuses each one altered.
func TestCheckIndependentDigest(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	pw := func(u string) (string, bool) { p, ok := passwords[u]; return p, ok }
	a := NewAuthenticator("test", []string{"SHA-256", "MD5"}, clk, pw)
	const uri = "sip:127.0.0.1"
	user, password := "1001", passwords["1001"]
	// challenge is the nonce of a fresh challenge to a REGISTER.
	challenge := func() string {
		req := registerReq(t, user, 1, "auth")
		res := gosip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		a.Challenge(req, res, "WWW-Authenticate", false)
		hs := res.GetHeaders("WWW-Authenticate")
		if len(hs) != 2 || !strings.Contains(hs[0].Value(), "SHA-256") || !strings.Contains(hs[1].Value(), "MD5") {
			t.Fatalf("challenges %v, want SHA-256 then MD5", hs)
		}
		chal, err := digest.ParseChallenge(hs[0].Value())
		if err != nil {
			t.Fatal(err)
		}
		return chal.Nonce
	}
	check := func(hdr string) AuthResult {
		r, who := a.Check(registerReq(t, user, 2, "auth", "Authorization: "+hdr), "Authorization")
		if r == AuthOK && who != user {
			t.Errorf("authenticated %q, want %q", who, user)
		}
		return r
	}
	for _, c := range []struct {
		name, alg, qop string
	}{
		{"SHA-256 qop=auth", "SHA-256", "auth"},
		{"MD5 qop=auth", "MD5", "auth"},
		{"MD5 without qop", "MD5", ""},
		{"algorithm absent means MD5", "", "auth"},
	} {
		t.Run(c.name, func(t *testing.T) {
			nonce := challenge()
			nc, cnonce := "00000001", "0a4f113b"
			resp := digestResponse(digestHash(t, c.alg), user, "test", password, "REGISTER", uri, nonce, nc, cnonce, c.qop)
			bad := []byte(resp) // the last hex digit changed
			if bad[len(bad)-1] = '0'; resp[len(resp)-1] == '0' {
				bad[len(bad)-1] = '1'
			}
			if r := check(authHeader(user, "test", nonce, uri, c.alg, string(bad), c.qop, nc, cnonce)); r != AuthFailed {
				t.Errorf("one digit off: %v, want failed", r)
			}
			wrongPw := digestResponse(digestHash(t, c.alg), user, "test", password+"x", "REGISTER", uri, nonce, nc, cnonce, c.qop)
			if r := check(authHeader(user, "test", nonce, uri, c.alg, wrongPw, c.qop, nc, cnonce)); r != AuthFailed {
				t.Errorf("wrong password: %v, want failed", r)
			}
			if c.qop != "" {
				otherNc := digestResponse(digestHash(t, c.alg), user, "test", password, "REGISTER", uri, nonce, "00000002", cnonce, c.qop)
				if r := check(authHeader(user, "test", nonce, uri, c.alg, otherNc, c.qop, nc, cnonce)); r != AuthFailed {
					t.Errorf("answer for another nc: %v, want failed", r)
				}
			}
			if r := check(authHeader(user, "test", nonce, uri, c.alg, resp, c.qop, nc, cnonce)); r != AuthOK {
				t.Errorf("right answer: %v", r)
			}
			// The same answer again is a replay (RFC 7616 §3.3, §5.12).
			if r := check(authHeader(user, "test", nonce, uri, c.alg, resp, c.qop, nc, cnonce)); r != AuthReplay {
				t.Errorf("the right answer replayed: %v, want replay", r)
			}
			if c.qop != "" {
				// The next count is the phone reusing its nonce: good,
				// once.
				next := digestResponse(digestHash(t, c.alg), user, "test", password, "REGISTER", uri, nonce, "00000002", cnonce, c.qop)
				if r := check(authHeader(user, "test", nonce, uri, c.alg, next, c.qop, "00000002", cnonce)); r != AuthOK {
					t.Errorf("the next nonce count: %v, want ok", r)
				}
				if r := check(authHeader(user, "test", nonce, uri, c.alg, resp, c.qop, nc, cnonce)); r != AuthReplay {
					t.Errorf("an older nonce count after a newer: %v, want replay", r)
				}
			}
		})
	}

	// A right answer for another Request-URI is not this request's.
	nonce := challenge()
	other := digestResponse(sha256.New, user, "test", password, "REGISTER", "sip:10.0.0.1", nonce, "00000001", "c", "auth")
	if r := check(authHeader(user, "test", nonce, "sip:10.0.0.1", "SHA-256", other, "auth", "00000001", "c")); r != AuthReplay {
		t.Errorf("an answer for another URI: %v, want replay", r)
	}
	// A right answer for another method (an INVITE's) fails the digest.
	inv := digestResponse(sha256.New, user, "test", password, "INVITE", uri, nonce, "00000001", "c", "auth")
	if r := check(authHeader(user, "test", nonce, uri, "SHA-256", inv, "auth", "00000001", "c")); r != AuthFailed {
		t.Errorf("an INVITE's answer on a REGISTER: %v, want failed", r)
	}
	// An unknown user is told apart in the result only.
	ghost := digestResponse(sha256.New, "9999", "test", "x", "REGISTER", uri, nonce, "00000001", "c", "auth")
	if r, _ := a.Check(registerReq(t, "9999", 2, "auth", "Authorization: "+authHeader("9999", "test", nonce, uri, "SHA-256", ghost, "auth", "00000001", "c")), "Authorization"); r != AuthUnknown || !r.Refused() {
		t.Errorf("unknown user: %v, want unknown (refused)", r)
	}

	// A nonce answered from another address was not given to it.
	resp := digestResponse(sha256.New, user, "test", password, "REGISTER", uri, nonce, "00000001", "c", "auth")
	moved := registerReq(t, user, 2, "auth", "Authorization: "+authHeader(user, "test", nonce, uri, "SHA-256", resp, "auth", "00000001", "c"))
	moved.SetSource("127.0.0.99:5070")
	if r, _ := a.Check(moved, "Authorization"); r != AuthMissing {
		t.Errorf("a nonce from another address: %v, want missing (challenge again)", r)
	}

	// Answers to challenges the box did not issue are not refusals but a
	// reason to challenge: the RFC 7616 example's nonce is not ours.
	v := rfc7616
	resp = digestResponse(sha256.New, user, "test", password, "REGISTER", uri, v.nonce, v.nc, v.cnonce, v.qop)
	if r := check(authHeader(user, "test", v.nonce, uri, "SHA-256", resp, v.qop, v.nc, v.cnonce)); r != AuthMissing {
		t.Errorf("foreign nonce: %v, want missing", r)
	}
	resp = digestResponse(sha256.New, user, "elsewhere", password, "REGISTER", uri, nonce, "00000001", "c", "auth")
	if r := check(authHeader(user, "elsewhere", nonce, uri, "SHA-256", resp, "auth", "00000001", "c")); r != AuthMissing {
		t.Errorf("other realm: %v, want missing", r)
	}
	clk.Advance(NonceLifetime + time.Second)
	resp = digestResponse(sha256.New, user, "test", password, "REGISTER", uri, nonce, "00000001", "c", "auth")
	if r := check(authHeader(user, "test", nonce, uri, "SHA-256", resp, "auth", "00000001", "c")); r != AuthStale {
		t.Errorf("old nonce, right answer: %v, want stale", r)
	}
	wrong := digestResponse(sha256.New, user, "test", password+"x", "REGISTER", uri, nonce, "00000001", "c", "auth")
	if r := check(authHeader(user, "test", nonce, uri, "SHA-256", wrong, "auth", "00000001", "c")); r != AuthFailed {
		t.Errorf("old nonce, wrong answer: %v, want failed (stale=true only for a right one)", r)
	}
}
