package siptest

import (
	"crypto/md5"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// Guess is a password guesser: perSecond times a second from source (a
// loopback address) for d, it sends a REGISTER for ext, answers the
// challenge with a wrong password, until five in a row go unanswered (it
// is banned). It returns how many guesses were answered and when the
// first and last were.
func Guess(source, sipAddr, ext string, perSecond int, d time.Duration) (answered int, first, last time.Time, err error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(source)})
	if err != nil {
		return 0, first, last, err
	}
	defer c.Close()
	dst, err := net.ResolveUDPAddr("udp", sipAddr)
	if err != nil {
		return 0, first, last, err
	}
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for i, silent := 0, 0; i < int(d.Seconds()*float64(perSecond)) && silent < 5; i++ {
		<-tick.C
		res, err := RegisterUDP(c, dst, ext, "guess"+fmt.Sprint(i), "guess"+fmt.Sprint(i))
		switch {
		case err != nil:
			return answered, first, last, err
		case res == "":
			silent++ // no challenge: banned
		case strings.HasPrefix(res, "SIP/2.0 401"):
			if answered++; answered == 1 {
				first = time.Now()
			}
			last = time.Now()
		}
	}
	return answered, first, last, nil
}

// RegisterUDP registers ext from c with password, answering the box's
// digest challenge (MD5, qop auth); id makes its Call-IDs its own. It
// returns the answer to the second REGISTER, or "" when the first went
// unanswered (a banned source).
func RegisterUDP(c *net.UDPConn, dst *net.UDPAddr, ext, password, id string) (string, error) {
	chal := challengeRE.FindStringSubmatch(register(c, dst, ext, id, ""))
	if chal == nil {
		return "", nil
	}
	ch, err := digest.ParseChallenge(chal[1])
	if err != nil {
		return "", err
	}
	uri := "sip:" + dst.String()
	H := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
	resp := H(H(ext+":"+ch.Realm+":"+password) + ":" + ch.Nonce + ":00000001:abc:auth:" + H("REGISTER:"+uri))
	auth := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"`, ext, ch.Realm, ch.Nonce, uri, resp)
	return register(c, dst, ext, id+"a", auth), nil
}

var challengeRE = regexp.MustCompile(`WWW-Authenticate: (.*)\r\n`)

// register sends one REGISTER and returns the answer ("" after 200 ms of
// silence).
func register(c *net.UDPConn, dst *net.UDPAddr, ext, id, auth string) string {
	msg := "REGISTER sip:" + dst.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKguess" + id + ";rport\r\n" +
		"From: <sip:" + ext + "@" + dst.IP.String() + ">;tag=g" + id + "\r\nTo: <sip:" + ext + "@" + dst.IP.String() + ">\r\n" +
		"Call-ID: guess-" + id + "\r\nCSeq: 1 REGISTER\r\nContact: <sip:" + ext + "@" + c.LocalAddr().String() + ">\r\nMax-Forwards: 70\r\n"
	if auth != "" {
		msg += "Authorization: " + auth + "\r\n"
	}
	c.WriteToUDP([]byte(msg+"Content-Length: 0\r\n\r\n"), dst)
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		if strings.Contains(string(buf[:n]), "Call-ID: guess-"+id+"\r\n") {
			return string(buf[:n])
		}
	}
}
