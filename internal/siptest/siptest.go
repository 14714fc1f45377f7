// Package siptest places calls for tests and benchmarks: a plain SIP
// caller on sipgo with an RTP socket of its own, offering PCMA.
package siptest

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call is an outgoing test call: its dialog and the socket its RTP
// arrives on.
type Call struct {
	Dialog *sipgo.DialogClientSession
	RTP    *net.UDPConn
	ua     *sipgo.UserAgent
}

// Invite sends an INVITE for ext to the box at addr (host:port) and
// returns without waiting for the answer.
func Invite(ctx context.Context, addr, ext string) (*Call, error) {
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("jinyin-test-caller"))
	if err != nil {
		rtpConn.Close()
		return nil, err
	}
	c := &Call{RTP: rtpConn, ua: ua}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		c.Close()
		return nil, err
	}
	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1"}})
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
		rtpConn.LocalAddr().(*net.UDPAddr).Port)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	p, _ := strconv.Atoi(port)
	c.Dialog, err = dc.Invite(ctx, sip.Uri{Scheme: "sip", User: ext, Host: host, Port: p}, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("invite: %w", err)
	}
	return c, nil
}

// Answered waits for the answer and acknowledges it.
func (c *Call) Answered(ctx context.Context) error {
	if err := c.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return c.Dialog.Ack(ctx)
}

// Close releases the socket and the user agent (it does not hang up).
func (c *Call) Close() {
	c.RTP.Close()
	c.ua.Close()
}
