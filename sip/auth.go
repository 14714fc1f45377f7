package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"jinyin/internal/clock"
)

// Authenticator does SIP digest authentication (RFC 3261 §22, with the
// SHA-256 algorithm of RFC 8760 offered first and MD5 for older phones).
//
// Nonces carry their time, a random part and an HMAC of them, the realm
// and the address they were given to, under a key made at start: a flood of
// unauthenticated requests costs no memory, and a nonce answered from
// another address is not ours. A nonce is good for NonceLifetime; an
// older one with the right password gets a fresh challenge with
// stale=true, so the phone retries without asking its user. An answer
// proven right is remembered until its nonce expires, so replaying it (the
// same nonce count, or a nonce without qop a second time) is refused, and
// its digest-uri must be the request's (RFC 2617 §3.2.2.5), so it cannot
// be moved to another request.
//
// Unknown users get exactly the challenge and the refusal a known user with
// a wrong password gets, after the same work, so the box does not reveal
// which extensions exist.
type Authenticator struct {
	Realm      string
	Algorithms []string // challenged in this order: "MD5", "SHA-256"
	Clock      clock.Clock
	Password   func(user string) (string, bool)
	key        [32]byte

	mu        sync.Mutex
	used      map[string]uint32 // nonce -> the highest nonce count proven with it
	lastSweep time.Time
}

// NonceLifetime is how long a challenge's nonce is accepted.
const NonceLifetime = 5 * time.Minute

// NewAuthenticator returns an authenticator for realm that challenges with
// algorithms, most preferred first.
func NewAuthenticator(realm string, algorithms []string, clk clock.Clock, password func(string) (string, bool)) *Authenticator {
	a := &Authenticator{Realm: realm, Algorithms: algorithms, Clock: clk, Password: password, used: map[string]uint32{}}
	rand.Read(a.key[:])
	return a
}

// sourceIP is the address a request came from, without its port (a phone
// behind NAT may answer from another port).
func sourceIP(req *gosip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

// A nonce is 8 octets of time, 8 random (two challenges in one instant
// differ) and 16 of HMAC over them, the realm and the address it was given
// to, in hex.
const nonceLen = 32

func (a *Authenticator) mac(head []byte, source string) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(head)
	m.Write([]byte(a.Realm))
	m.Write([]byte{0})
	m.Write([]byte(source))
	return m.Sum(nil)[:16]
}

func (a *Authenticator) nonce(source string) string {
	head := binary.BigEndian.AppendUint64(make([]byte, 0, nonceLen), uint64(a.Clock.Now().UnixNano()))
	head = append(head, make([]byte, 8)...)
	rand.Read(head[8:16])
	return hex.EncodeToString(append(head, a.mac(head, source)...))
}

// checkNonce says whether the nonce is one given to source, and whether it
// is still fresh.
func (a *Authenticator) checkNonce(n, source string) (ours, fresh bool) {
	raw, err := hex.DecodeString(n)
	if err != nil || len(raw) != nonceLen {
		return false, false
	}
	if !hmac.Equal(a.mac(raw[:16], source), raw[16:]) {
		return false, false
	}
	age := a.Clock.Now().Sub(nonceTime(raw))
	return true, age >= 0 && age <= NonceLifetime
}

func nonceTime(raw []byte) time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))) }

// Challenge adds the WWW-Authenticate (or Proxy-Authenticate) headers of a
// 401/407 to res, the answer to req (challengeHeaders).
func (a *Authenticator) Challenge(req *gosip.Request, res *gosip.Response, header string, stale bool) {
	for _, h := range a.challengeHeaders(req, header, stale) {
		res.AppendHeader(h)
	}
}

// challengeHeaders are a challenge to req, one per algorithm in order of
// preference, all with one nonce.
func (a *Authenticator) challengeHeaders(req *gosip.Request, header string, stale bool) []gosip.Header {
	n := a.nonce(sourceIP(req))
	hs := make([]gosip.Header, 0, len(a.Algorithms))
	for _, alg := range a.Algorithms {
		c := digest.Challenge{Realm: a.Realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		hs = append(hs, gosip.NewHeader(header, c.String()))
	}
	return hs
}

// AuthResult is the outcome of checking a request's credentials.
type AuthResult int

const (
	AuthMissing AuthResult = iota // no usable credentials: challenge
	AuthStale                     // right password, old nonce: challenge with stale=true
	AuthFailed                    // a known user, a wrong password: refuse
	AuthUnknown                   // a user the box does not have: refused as AuthFailed
	AuthReplay                    // a right answer used before, or for another request: refused as AuthFailed
	AuthOK
)

// Refused reports whether the credentials are refused: AuthFailed,
// AuthUnknown and AuthReplay, which get one answer on the wire.
func (r AuthResult) Refused() bool { return r == AuthFailed || r == AuthUnknown || r == AuthReplay }

// Check verifies the credentials in the header (Authorization or
// Proxy-Authorization) of req and returns the user they name (proven only
// for AuthOK and AuthStale).
func (a *Authenticator) Check(req *gosip.Request, header string) (AuthResult, string) {
	h := req.GetHeader(header)
	if h == nil {
		return AuthMissing, ""
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username == "" || cred.Nonce == "" || cred.Response == "" {
		return AuthMissing, ""
	}
	ours, fresh := a.checkNonce(cred.Nonce, sourceIP(req))
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = "MD5" // RFC 2617 §3.2.2: absent means MD5
	}
	if !ours || cred.Realm != a.Realm || !slices.Contains(a.Algorithms, alg) {
		return AuthMissing, "" // not an answer to our challenge: issue ours
	}
	password, known := a.Password(cred.Username)
	if !known {
		password = "\x00unknown user" // same work, certain failure
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: cred.URI, Username: cred.Username, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	switch {
	case !known:
		return AuthUnknown, cred.Username
	case err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1:
		return AuthFailed, cred.Username
	case !sameURI(cred.URI, req.Recipient):
		return AuthReplay, cred.Username
	}
	if !fresh {
		return AuthStale, cred.Username
	}
	if !a.firstUse(cred.Nonce, uint32(cred.Nc)) {
		return AuthReplay, cred.Username
	}
	return AuthOK, cred.Username
}

// sameURI reports whether a digest-uri names the Request-URI: scheme,
// host and port, and user unless the digest-uri has none (parameters
// aside, which phones write differently). SIPp 3.6 answers an INVITE's
// challenge with the box's address alone, "sip:host:port"; the answer is
// still single-use (firstUse), so a number cannot be changed under it.
func sameURI(digestURI string, r gosip.Uri) bool {
	var u gosip.Uri
	if err := gosip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	port := func(p int) int {
		if p == 0 {
			return 5060
		}
		return p
	}
	return strings.EqualFold(u.Scheme, r.Scheme) && (u.User == r.User || u.User == "") && strings.EqualFold(u.Host, r.Host) && port(u.Port) == port(r.Port)
}

// firstUse records a right answer's nonce count and reports whether it is
// higher than any proven with that nonce before (RFC 7616 §3.3: the count
// lets the server detect replays). Without qop the count is 0, so such a
// nonce is good once.
func (a *Authenticator) firstUse(nonce string, nc uint32) bool {
	now := a.Clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastSweep) > NonceLifetime {
		a.lastSweep = now
		for n := range a.used {
			if raw, _ := hex.DecodeString(n); now.Sub(nonceTime(raw)) > NonceLifetime {
				delete(a.used, n)
			}
		}
	}
	if last, seen := a.used[nonce]; seen && nc <= last {
		return false
	}
	a.used[nonce] = nc
	return true
}

func (r AuthResult) String() string {
	return [...]string{"missing", "stale", "failed", "unknown user", "replay", "ok"}[r]
}
