package sip

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/security"
)

// TestNoEnumerationOracle: 1,000 extensions the box has and 1,000 users
// it does not get one answer, byte for byte apart from what each request
// echoes (Via, From, To, Call-ID, CSeq) and the nonce, from the same
// address, for REGISTER, INVITE, OPTIONS, SUBSCRIBE and MESSAGE, in each
// way a guesser can ask: no credentials, a wrong password, a wrong realm,
// an expired nonce, a nonce used twice, a malformed Authorization, and (the
// leak Asterisk's PJSIP has, 403 against 401) a known user with the right
// password from a network its ACL refuses. A response time that told them
// apart would be an oracle too: the medians are compared.
func TestNoEnumerationOracle(t *testing.T) {
	t.Parallel()
	const n = 1000
	rng := rand.New(rand.NewPCG(4, 7))
	real := map[string]string{}
	var known, unknown []string
	for i := range n {
		u := fmt.Sprint(60000 + i)
		real[u] = fmt.Sprintf("pw-%d-%d", i, rng.Uint32())
		known = append(known, u)
	}
	for len(unknown) < n {
		u := fmt.Sprint(rng.IntN(100000))
		if i := rng.IntN(3); i == 1 {
			u = fmt.Sprintf("user%d", rng.IntN(1000000))
		}
		if _, ok := real[u]; !ok && !slices.Contains(unknown, u) {
			unknown = append(unknown, u)
		}
	}
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	prober := netip.MustParseAddr("127.0.0.77")
	guard, err := security.New(security.Options{Config: config.Security{Allow: []string{"127.0.0.77"}}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, func(o *Options) {
		o.Clock = clk
		o.Password = func(u string) (string, bool) { p, ok := real[u]; return p, ok }
		o.Guard = guard
		// Every known user's ACL refuses the prober's address.
		o.ACL = func(ext string, src netip.Addr) bool { return src != prober }
	})
	dst, _ := net.ResolveUDPAddr("udp", addr)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: prober.AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := &probe{t: t, conn: conn, dst: dst}

	cases := []struct {
		name string
		// auth is the Authorization to send for user, or "" for none; it
		// may ask the box for a challenge first (p.nonce).
		auth func(m, user string) string
	}{
		{"no credentials", func(string, string) string { return "" }},
		{"wrong password", func(m, user string) string {
			return p.answer(m, user, "wrong-"+user, "test", p.nonce(user))
		}},
		{"wrong realm", func(m, user string) string {
			return p.answer(m, user, "wrong-"+user, "elsewhere", p.nonce(user))
		}},
		{"expired nonce", func(m, user string) string {
			nonce := p.nonce(user)
			clk.Advance(NonceLifetime + time.Second)
			defer clk.Advance(-(NonceLifetime + time.Second))
			return p.answer(m, user, "wrong-"+user, "test", nonce)
		}},
		{"nonce used twice", func(m, user string) string {
			a := p.answer(m, user, "wrong-"+user, "test", p.nonce(user))
			p.send(m, user, a) // the first use
			return a
		}},
		{"malformed Authorization", func(string, string) string { return `Digest username="x", nonce=, realm` }},
		{"known user failing its ACL", func(m, user string) string {
			pw, ok := real[user]
			if !ok {
				pw = fmt.Sprint(rng.Uint64())
			}
			return p.answer(m, user, pw, "test", p.nonce(user))
		}},
	}
	report := []string{}
	for _, m := range []string{"REGISTER", "INVITE", "OPTIONS", "SUBSCRIBE", "MESSAGE"} {
		for _, c := range cases {
			prints := map[string]int{}
			var times [2][]time.Duration
			for i := range n {
				for k, user := range []string{known[i], unknown[i]} {
					a := c.auth(m, user)
					start := time.Now()
					res, from := p.send(m, user, a)
					times[k] = append(times[k], time.Since(start))
					prints[fingerprint(res, from)]++
				}
			}
			if len(prints) != 1 {
				var ps []string
				for f, k := range prints {
					ps = append(ps, fmt.Sprintf("%d x\n%s", k, f))
				}
				t.Errorf("%s, %s: %d different answers:\n%s", m, c.name, len(prints), strings.Join(ps, "\n"))
				continue
			}
			for f := range prints {
				status, _, _ := strings.Cut(f, "\n")
				mk, mu := median(times[0]), median(times[1])
				report = append(report, fmt.Sprintf("%-9s %-27s %-45s known %v, unknown %v", m, c.name, status, mk, mu))
				// Generous, since a loaded machine is noisy: a real
				// oracle (a password hash for one and none for the
				// other, a lookup that fails fast) shows up as a steady
				// ratio well above this.
				if slow, fast := max(mk, mu), min(mk, mu); slow > 3*fast && slow-fast > 200*time.Microsecond {
					t.Errorf("%s, %s: median answer known %v, unknown %v", m, c.name, mk, mu)
				}
			}
		}
	}
	t.Logf("one answer each (%d known and %d unknown users):\n%s", n, n, strings.Join(report, "\n"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

var (
	nonceParam = regexp.MustCompile(`nonce="[^"]*"`)
	echoed     = map[string]bool{"via": true, "v": true, "from": true, "f": true, "to": true, "t": true, "call-id": true, "i": true, "cseq": true}
)

// fingerprint is a response with what it echoes of its request and its
// nonce blanked, and the address it came from.
func fingerprint(res []byte, from string) string {
	head, body, _ := strings.Cut(string(res), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	out := []string{lines[0], "from " + from}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		switch name := strings.ToLower(strings.TrimSpace(k)); {
		case echoed[name]:
			tag := ""
			if strings.Contains(v, ";tag=") {
				tag = ";tag=*"
			}
			out = append(out, k+": (echo)"+tag)
		default:
			out = append(out, k+":"+nonceParam.ReplaceAllString(v, `nonce="*"`))
		}
	}
	return strings.Join(out, "\n") + "\n\n" + body
}

// probe sends requests as a guesser does, from one address.
type probe struct {
	t    *testing.T
	conn *net.UDPConn
	dst  *net.UDPAddr
	seq  int
}

// nonce asks the box for a REGISTER challenge for user and returns its
// nonce.
func (p *probe) nonce(user string) string {
	res, _ := p.send("REGISTER", user, "")
	for _, l := range strings.Split(string(res), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "WWW-Authenticate") {
			c, err := digest.ParseChallenge(strings.TrimSpace(v))
			if err != nil {
				p.t.Fatal(err)
			}
			return c.Nonce
		}
	}
	p.t.Fatalf("no challenge for %s:\n%s", user, res)
	return ""
}

func (p *probe) uri(m, user string) string {
	if m == "REGISTER" {
		return "sip:" + p.dst.String()
	}
	return "sip:2000@" + p.dst.String() // a number a stranger may not learn about
}

// answer is an Authorization for m as user with password, computed by
// RFC 2617's formula (MD5, qop=auth).
func (p *probe) answer(m, user, password, realm, nonce string) string {
	H := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
	uri := p.uri(m, user)
	resp := H(H(user+":"+realm+":"+password) + ":" + nonce + ":00000001:c0ffee:auth:" + H(m+":"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`, user, realm, nonce, uri, resp)
}

// send sends m for user with the Authorization auth (none when "") and
// returns the final response and where it came from; an INVITE's is
// acknowledged.
func (p *probe) send(m, user, auth string) ([]byte, string) {
	p.seq++
	callID := fmt.Sprintf("probe-%d", p.seq)
	branch := fmt.Sprintf("z9hG4bKprobe%d", p.seq)
	uri := p.uri(m, user)
	local := p.conn.LocalAddr().String()
	hdr := "Authorization"
	if m == "INVITE" {
		hdr = "Proxy-Authorization"
	}
	to := "<sip:" + user + "@" + p.dst.String() + ">"
	if m != "REGISTER" {
		to = "<" + uri + ">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\n", m, uri, local, branch)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=f%d\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n", user, p.dst.IP, p.seq, to, callID, m)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nMax-Forwards: 70\r\n", user, local)
	if m == "SUBSCRIBE" {
		b.WriteString("Event: presence\r\n")
	}
	if auth != "" {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr, auth)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := p.conn.WriteToUDP([]byte(b.String()), p.dst); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 65535)
	for deadline := time.Now().Add(5 * time.Second); ; {
		p.conn.SetReadDeadline(deadline)
		k, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("%s for %s: no answer: %v", m, user, err)
		}
		res := buf[:k]
		line, _, _ := strings.Cut(string(res), "\r\n")
		if string(header(res, "Call-ID", "i")) != callID || strings.Contains(line, " 100 ") {
			continue // a retransmission of an earlier answer, or Trying
		}
		if m == "INVITE" {
			ack := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nFrom: <sip:%s@%s>;tag=f%d\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
				uri, local, branch, user, p.dst.IP, p.seq, header(res, "To", "t"), callID)
			p.conn.WriteToUDP([]byte(ack), p.dst)
		}
		return slices.Clone(res), from.String()
	}
}
