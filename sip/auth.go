package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"jinyin/internal/clock"
)

// Authenticator does SIP digest authentication (RFC 3261 §22, with the
// SHA-256 algorithm of RFC 8760 offered first and MD5 for older phones).
//
// Nonces are stateless: a timestamp and an HMAC of it under a key made at
// start, so a flood of unauthenticated requests costs no memory. A nonce is
// good for NonceLifetime; an older one gets a fresh challenge with
// stale=true, so the phone retries without asking its user.
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
}

// NonceLifetime is how long a challenge's nonce is accepted.
const NonceLifetime = 5 * time.Minute

// NewAuthenticator returns an authenticator for realm that challenges with
// algorithms, most preferred first.
func NewAuthenticator(realm string, algorithms []string, clk clock.Clock, password func(string) (string, bool)) *Authenticator {
	a := &Authenticator{Realm: realm, Algorithms: algorithms, Clock: clk, Password: password}
	rand.Read(a.key[:])
	return a
}

func (a *Authenticator) nonce() string {
	ts := binary.BigEndian.AppendUint64(nil, uint64(a.Clock.Now().UnixNano()))
	m := hmac.New(sha256.New, a.key[:])
	m.Write(ts)
	m.Write([]byte(a.Realm))
	return hex.EncodeToString(ts) + hex.EncodeToString(m.Sum(nil)[:16])
}

// checkNonce says whether the nonce is ours and whether it is still fresh.
func (a *Authenticator) checkNonce(n string) (ours, fresh bool) {
	raw, err := hex.DecodeString(n)
	if err != nil || len(raw) != 24 {
		return false, false
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(raw[:8])
	m.Write([]byte(a.Realm))
	if !hmac.Equal(m.Sum(nil)[:16], raw[8:]) {
		return false, false
	}
	age := a.Clock.Now().Sub(time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))))
	return true, age >= 0 && age <= NonceLifetime
}

// Challenge adds the WWW-Authenticate (or Proxy-Authenticate) headers of a
// 401/407 to res, one per algorithm in order of preference.
func (a *Authenticator) Challenge(res *gosip.Response, header string, stale bool) {
	n := a.nonce()
	for _, alg := range a.Algorithms {
		c := digest.Challenge{Realm: a.Realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		res.AppendHeader(gosip.NewHeader(header, c.String()))
	}
}

// AuthResult is the outcome of checking a request's credentials.
type AuthResult int

const (
	AuthMissing AuthResult = iota // no usable credentials: challenge
	AuthStale                     // right password, old nonce: challenge with stale=true
	AuthFailed                    // wrong user, password or realm: refuse
	AuthOK
)

// Check verifies the credentials in the header (Authorization or
// Proxy-Authorization) of req and returns the user they prove.
func (a *Authenticator) Check(req *gosip.Request, header string) (AuthResult, string) {
	h := req.GetHeader(header)
	if h == nil {
		return AuthMissing, ""
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username == "" || cred.Nonce == "" || cred.Response == "" {
		return AuthMissing, ""
	}
	ours, fresh := a.checkNonce(cred.Nonce)
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
	if err != nil {
		return AuthFailed, ""
	}
	if subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1 || !known {
		return AuthFailed, ""
	}
	if !fresh {
		return AuthStale, cred.Username
	}
	return AuthOK, cred.Username
}

func (r AuthResult) String() string {
	return [...]string{"missing", "stale", "failed", "ok"}[r]
}
