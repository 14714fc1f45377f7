package sip

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"jinyin/internal/clock"
)

var passwords = map[string]string{"1001": "s3cret-1001", "1002": "s3cret-1002"}

func newTestRegistrar(algs ...string) (*Registrar, *clock.Fake) {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	pw := func(u string) (string, bool) { p, ok := passwords[u]; return p, ok }
	auth := NewAuthenticator("test", algs, clk, pw)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return NewRegistrar(auth, clk, log, func(string) int { return 2 }), clk
}

// registerReq builds a REGISTER for ext with the given contacts and headers.
func registerReq(t *testing.T, ext string, cseq int, callID string, extra ...string) *gosip.Request {
	t.Helper()
	raw := "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + fmt.Sprint(cseq) + callID + "\r\n" +
		"From: <sip:" + ext + "@127.0.0.1>;tag=abc\r\nTo: <sip:" + ext + "@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: " + fmt.Sprint(cseq) + " REGISTER\r\nMax-Forwards: 70\r\n" +
		strings.Join(extra, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
	msg, err := gosip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	return msg.(*gosip.Request)
}

// authorize answers the first challenge of res the way a phone would.
func authorize(t *testing.T, res *gosip.Response, user, password string) string {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatalf("no challenge in %s", res.StartLine())
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	// The answer by the RFC 7616 formula of auth_test.go, not by the
	// library the Authenticator verifies with.
	const uri, nc, cnonce = "sip:127.0.0.1", "00000001", "4f1b2c9e"
	qop := ""
	if chal.SupportsQOP("auth") {
		qop = "auth"
	}
	resp := digestResponse(digestHash(t, chal.Algorithm), user, chal.Realm, password, "REGISTER", uri, chal.Nonce, nc, cnonce, qop)
	return "Authorization: " + authHeader(user, chal.Realm, chal.Nonce, uri, chal.Algorithm, resp, qop, nc, cnonce)
}

// roundTrip registers ext: first unauthenticated, then answering the challenge.
func roundTrip(t *testing.T, r *Registrar, ext, password string, cseq int, callID string, extra ...string) *gosip.Response {
	t.Helper()
	res := r.register(registerReq(t, ext, cseq, callID, extra...))
	if res.StatusCode != 401 {
		t.Fatalf("unauthenticated REGISTER got %d", res.StatusCode)
	}
	return r.register(registerReq(t, ext, cseq+1, callID, append(extra, authorize(t, res, ext, password))...))
}

func TestRegisterMD5AndSHA256(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		r, _ := newTestRegistrar(alg)
		res := roundTrip(t, r, "1001", passwords["1001"], 1, "c1", "Contact: <sip:1001@10.0.0.5:5062>", "Expires: 600")
		if res.StatusCode != 200 {
			t.Fatalf("%s: got %d", alg, res.StatusCode)
		}
		cs := r.Contacts("1001")
		if len(cs) != 1 || cs[0].Contact.Host != "10.0.0.5" || cs[0].Contact.Port != 5062 {
			t.Fatalf("%s: contacts %+v", alg, cs)
		}
		if c := res.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "expires=600") {
			t.Errorf("%s: 200 lists %v", alg, c)
		}
	}
}

// TestNoUserEnumeration: a wrong password for a real extension and any
// password for one that does not exist get the same answers.
func TestNoUserEnumeration(t *testing.T) {
	r, _ := newTestRegistrar("MD5", "SHA-256")
	shape := func(res *gosip.Response) string {
		var hs []string
		for _, h := range res.GetHeaders("WWW-Authenticate") {
			c, _ := digest.ParseChallenge(h.Value())
			hs = append(hs, fmt.Sprintf("%s/%s/%v/%d", c.Algorithm, c.Realm, c.QOP, len(c.Nonce)))
		}
		return fmt.Sprintf("%d %s %v", res.StatusCode, res.Reason, hs)
	}
	first := map[string]string{}
	second := map[string]string{}
	for _, ext := range []string{"1001", "9999"} {
		res := r.register(registerReq(t, ext, 1, "c-"+ext, "Contact: <sip:x@10.0.0.5>"))
		first[ext] = shape(res)
		res2 := r.register(registerReq(t, ext, 2, "c-"+ext, "Contact: <sip:x@10.0.0.5>", authorize(t, res, ext, "guess")))
		second[ext] = shape(res2)
	}
	if first["1001"] != first["9999"] || second["1001"] != second["9999"] || !strings.HasPrefix(second["9999"], "401") {
		t.Errorf("answers differ:\n%v\n%v", first, second)
	}
	if len(r.Contacts("1001")) != 0 {
		t.Error("wrong password registered")
	}
}

func TestStaleNonce(t *testing.T) {
	r, clk := newTestRegistrar("MD5")
	res := r.register(registerReq(t, "1001", 1, "c1", "Contact: <sip:1001@10.0.0.5>"))
	clk.Advance(NonceLifetime + time.Second)
	res = r.register(registerReq(t, "1001", 2, "c1", "Contact: <sip:1001@10.0.0.5>", authorize(t, res, "1001", passwords["1001"])))
	c, _ := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if res.StatusCode != 401 || !c.Stale {
		t.Fatalf("old nonce: got %d stale=%v", res.StatusCode, c.Stale)
	}
}

func TestExpiryCapRemoval(t *testing.T) {
	r, clk := newTestRegistrar("MD5")
	pw := passwords["1001"]
	roundTrip(t, r, "1001", pw, 1, "a", "Contact: <sip:1001@10.0.0.1>", "Expires: 120")
	clk.Advance(time.Second)
	roundTrip(t, r, "1001", pw, 1, "b", "Contact: <sip:1001@10.0.0.2>", "Expires: 3600")
	clk.Advance(time.Second)
	// Cap of 2: the third contact replaces the oldest (10.0.0.1).
	roundTrip(t, r, "1001", pw, 1, "c", "Contact: <sip:1001@10.0.0.3>", "Expires: 3600")
	hosts := func() string {
		var h []string
		for _, b := range r.Contacts("1001") {
			h = append(h, b.Contact.Host)
		}
		return strings.Join(h, ",")
	}
	if got := hosts(); got != "10.0.0.3,10.0.0.2" {
		t.Fatalf("after cap: %s", got)
	}
	// Expiry: a contact of 120 s is gone after 120 s.
	roundTrip(t, r, "1002", passwords["1002"], 1, "d", "Contact: <sip:1002@10.0.0.9>;expires=120")
	if !r.Has("1002") {
		t.Fatal("1002 registered but Has says no")
	}
	clk.Advance(121 * time.Second)
	if len(r.Contacts("1002")) != 0 || r.Has("1002") || r.Registered()["1001"] != 2 {
		t.Fatalf("expiry: %v", r.Registered())
	}
	// Too brief.
	if res := roundTrip(t, r, "1002", passwords["1002"], 10, "e", "Contact: <sip:1002@10.0.0.9>", "Expires: 30"); res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil {
		t.Fatalf("Expires 30: got %d", res.StatusCode)
	}
	// CSeq out of order on the same Call-ID.
	roundTrip(t, r, "1002", passwords["1002"], 20, "f", "Contact: <sip:1002@10.0.0.9>")
	if res := roundTrip(t, r, "1002", passwords["1002"], 5, "f", "Contact: <sip:1002@10.0.0.9>"); res.StatusCode != 500 {
		t.Fatalf("old CSeq: got %d", res.StatusCode)
	}
	// Contact: * with Expires: 0 removes all.
	if res := roundTrip(t, r, "1001", pw, 30, "g", "Contact: *", "Expires: 0"); res.StatusCode != 200 || hosts() != "" {
		t.Fatalf("Contact *: %d %s", res.StatusCode, hosts())
	}
	// Credentials of one extension do not register another.
	res := r.register(registerReq(t, "1002", 40, "h", "Contact: <sip:x@10.0.0.5>"))
	req := registerReq(t, "1002", 41, "h", "Contact: <sip:x@10.0.0.5>", authorize(t, res, "1001", pw))
	if res := r.register(req); res.StatusCode != 403 {
		t.Fatalf("cross-extension credentials: got %d", res.StatusCode)
	}
}

// TestRegistrationsSurviveARestart: each change of an extension's bindings
// is told (removal too), and a new registrar restored from what was told
// has the phones at once, except those that expired meanwhile.
func TestRegistrationsSurviveARestart(t *testing.T) {
	r, clk := newTestRegistrar("MD5")
	kept := map[string][]Binding{}
	r.onChange = func(ext string, bs []Binding) {
		if len(bs) == 0 {
			delete(kept, ext)
			return
		}
		kept[ext] = bs
	}
	roundTrip(t, r, "1001", passwords["1001"], 1, "a", "Contact: <sip:1001@10.0.0.1:5062>", "Expires: 3600")
	roundTrip(t, r, "1002", passwords["1002"], 1, "b", "Contact: <sip:1002@10.0.0.2>", "Expires: 120")
	if len(kept) != 2 || kept["1001"][0].Contact.Port != 5062 {
		t.Fatalf("told %+v", kept)
	}
	roundTrip(t, r, "1002", passwords["1002"], 2, "b", "Contact: <sip:1002@10.0.0.9>", "Expires: 0")
	roundTrip(t, r, "1002", passwords["1002"], 3, "b", "Contact: <sip:1002@10.0.0.2>", "Expires: 0")
	if _, ok := kept["1002"]; ok {
		t.Fatalf("1002 unregistered, still told %+v", kept["1002"])
	}
	roundTrip(t, r, "1002", passwords["1002"], 4, "c", "Contact: <sip:1002@10.0.0.3>", "Expires: 120")

	clk.Advance(2 * time.Minute) // the box is down two minutes
	r2, _ := newTestRegistrar("MD5")
	r2.clock = clk
	r2.Restore(kept)
	if cs := r2.Contacts("1001"); len(cs) != 1 || cs[0].Contact.Host != "10.0.0.1" || cs[0].CallID != "a" {
		t.Errorf("1001 after the restart: %+v", cs)
	}
	if r2.Has("1002") {
		t.Error("1002's 120 s registration outlived two minutes")
	}
	// The phone's next refresh on its Call-ID goes on from its CSeq.
	if res := roundTrip(t, r2, "1001", passwords["1001"], 1, "a", "Contact: <sip:1001@10.0.0.1:5062>"); res.StatusCode != 500 {
		t.Errorf("an old CSeq after the restart: %d", res.StatusCode)
	}
}

// ByTransport counts the live contacts by transport, lower case; an
// expired contact leaves the count.
func TestByTransport(t *testing.T) {
	r, clk := newTestRegistrar("MD5")
	roundTrip(t, r, "1001", passwords["1001"], 1, "a", "Contact: <sip:1001@10.0.0.1>", "Expires: 120")
	roundTrip(t, r, "1001", passwords["1001"], 1, "b", "Contact: <sip:1001@10.0.0.2>", "Expires: 3600")
	roundTrip(t, r, "1002", passwords["1002"], 1, "c", "Contact: <sip:1002@10.0.0.3>", "Expires: 3600")
	if got := r.ByTransport(); len(got) != 1 || got["udp"] != 3 {
		t.Fatalf("by transport: %v, want udp 3", got)
	}
	clk.Advance(121 * time.Second)
	if got := r.ByTransport(); got["udp"] != 2 {
		t.Fatalf("after one expired: %v, want udp 2", got)
	}
}
