// Package siptest places calls for tests and benchmarks: a plain SIP
// caller on sipgo with an RTP socket of its own, offering PCMA and
// telephone-event (or, with InviteWithoutSDP, leaving the offer to the
// box and answering in the ACK). With StartMedia it sends 20 ms frames
// like a phone, DTMF as RFC 4733 events or as tones in the audio, and
// keeps what it hears.
package siptest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"jinyin/media"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/rtp"
	"jinyin/media/tone"
	"jinyin/sip/sdp"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call is an outgoing test call: its dialog and the socket its RTP
// arrives on.
type Call struct {
	Dialog *sipgo.DialogClientSession
	RTP    *net.UDPConn
	ua     *sipgo.UserAgent

	// Username and Password answer a 407 challenge (feature codes).
	Username, Password string

	mu      sync.Mutex
	heard   []byte  // PCMA payloads received, in order
	queue   []int16 // audio to send (in-band digits), then silence
	events  []byte  // digits to send as RFC 4733 events
	stop    chan struct{}
	stopped chan struct{}
}

// Invite sends an INVITE for ext to the box at addr (host:port) and
// returns without waiting for the answer.
func Invite(ctx context.Context, addr, ext string) (*Call, error) {
	return InviteFrom(ctx, addr, ext, "caller")
}

// InviteFrom is Invite with the caller's user part in From.
func InviteFrom(ctx context.Context, addr, ext, from string) (*Call, error) {
	return invite(ctx, addr, ext, from, true)
}

// InviteWithoutSDP sends an INVITE with no body (a delayed offer, RFC
// 3261 §13.2.1): the box's 200 carries its offer, to be answered in the
// ACK with AnsweredWith.
func InviteWithoutSDP(ctx context.Context, addr, ext string) (*Call, error) {
	return invite(ctx, addr, ext, "caller", false)
}

func invite(ctx context.Context, addr, ext, from string, withOffer bool) (*Call, error) {
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
	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}})
	// The box's BYE ends the dialog (its Context is done).
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		c.Close()
		return nil, err
	}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	p, _ := strconv.Atoi(port)
	fromHdr := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}}
	fromHdr.Params.Add("tag", sip.GenerateTagN(16))
	to := sip.Uri{Scheme: "sip", User: ext, Host: host, Port: p}
	if withOffer {
		c.Dialog, err = dc.Invite(ctx, to, c.SDP(), sip.NewHeader("Content-Type", "application/sdp"), fromHdr)
	} else {
		c.Dialog, err = dc.Invite(ctx, to, nil, fromHdr)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("invite: %w", err)
	}
	return c, nil
}

// Answered waits for the answer and acknowledges it.
func (c *Call) Answered(ctx context.Context) error {
	if err := c.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{Username: c.Username, Password: c.Password}); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return c.Dialog.Ack(ctx)
}

// SDP describes the caller's side: PCMA and telephone-event 101 on its
// RTP socket. It is the offer in Invite's INVITE and an answer to the
// box's offer that accepts PCMA.
func (c *Call) SDP() []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
		c.RTP.LocalAddr().(*net.UDPAddr).Port)
}

// AnsweredWith waits for the answer to an INVITE without SDP and
// acknowledges it with body, the answer to the box's offer in the 200
// (nil: an ACK without one).
func (c *Call) AnsweredWith(ctx context.Context, body []byte) error {
	if err := c.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{Username: c.Username, Password: c.Password}); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return c.Ack(ctx, body)
}

// Ack sends the ACK of the dialog's last INVITE (the first one, or the
// last Reinvite) with body, if any, as its SDP.
func (c *Call) Ack(ctx context.Context, body []byte) error {
	return c.Dialog.WriteAck(ctx, c.inDialog(sip.ACK, body))
}

// inDialog is a request in the call's dialog, to the box's Contact, with
// body, if any, as its SDP.
func (c *Call) inDialog(method sip.RequestMethod, body []byte) *sip.Request {
	target := c.Dialog.InviteRequest.Recipient
	if ct := c.Dialog.InviteResponse.Contact(); ct != nil {
		target = ct.Address
	}
	req := sip.NewRequest(method, target)
	if len(body) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	return req
}

// Reinvite sends a re-INVITE with body as its SDP (nil: none, asking the
// box for an offer) and returns the final response, unacknowledged: a
// 2xx needs Ack.
func (c *Call) Reinvite(ctx context.Context, body []byte) (*sip.Response, error) {
	return c.Dialog.Do(ctx, c.inDialog(sip.INVITE, body))
}

// Close releases the socket and the user agent (it does not hang up).
func (c *Call) Close() {
	if c.stop != nil {
		close(c.stop)
		<-c.stopped
		c.stop = nil
	}
	c.RTP.Close()
	c.ua.Close()
}

// StartMedia starts sending 20 ms PCMA frames to the address in the
// answer, and keeping what arrives (Heard). Call it after Answered.
func (c *Call) StartMedia() error {
	ans, err := sdp.Parse(c.Dialog.InviteResponse.Body())
	if err != nil || len(ans.Media) == 0 {
		return fmt.Errorf("answer SDP: %v", err)
	}
	m := ans.Media[0]
	to := &net.UDPAddr{IP: net.IP(m.Addr.AsSlice()), Port: m.Port}
	c.stop, c.stopped = make(chan struct{}), make(chan struct{})
	go c.receive()
	go c.send(to)
	return nil
}

func (c *Call) receive() {
	buf := make([]byte, 1500)
	for {
		n, _, err := c.RTP.ReadFromUDP(buf)
		if err != nil {
			return
		}
		h, payload, err := rtp.Parse(buf[:n])
		if err != nil || h.PayloadType != 8 {
			continue
		}
		c.mu.Lock()
		c.heard = append(c.heard, payload...)
		c.mu.Unlock()
	}
}

func (c *Call) send(to *net.UDPAddr) {
	defer close(c.stopped)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ssrc := rand.Uint32()
	var seq uint16
	var ts uint32
	pcm := make([]int16, media.FrameSamples)
	var ev rtp.EventSender
	sending := false
	var evTS uint32
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		n := copy(pcm, c.queue)
		c.queue = c.queue[n:]
		clear(pcm[n:])
		if !sending && len(c.events) > 0 {
			code, _ := rtp.Code(c.events[0])
			c.events = c.events[1:]
			ev.Start(code, 800, media.FrameSamples) // 100 ms
			sending, evTS = true, ts
		}
		c.mu.Unlock()
		seq++
		ts += media.FrameSamples
		if sending {
			e, marker, ok := ev.Next()
			if !ok {
				sending = false
			} else {
				pkt := make([]byte, 16)
				rtp.Header{PayloadType: 101, Marker: marker, Seq: seq, Timestamp: evTS, SSRC: ssrc}.Put(pkt)
				e.Put(pkt[12:])
				c.RTP.WriteToUDP(pkt, to)
				continue
			}
		}
		pkt := make([]byte, 12+media.FrameSamples)
		rtp.Header{PayloadType: 8, Seq: seq, Timestamp: ts, SSRC: ssrc}.Put(pkt)
		media.PCMA.Encode(pkt[12:], pcm)
		c.RTP.WriteToUDP(pkt, to)
	}
}

// SendDigits sends digits as RFC 4733 events, 100 ms each with a gap.
func (c *Call) SendDigits(digits string) {
	c.mu.Lock()
	c.events = append(c.events, digits...)
	c.mu.Unlock()
}

// SendTones sends digits as DTMF tones in the audio (100 ms tone, 100 ms
// gap, -6/-4 dBm0).
func (c *Call) SendTones(digits string) error {
	var ts []dtmftest.Tone
	for _, d := range []byte(digits) {
		if _, _, err := tone.DTMFFreqs(d); err != nil {
			return err
		}
		ts = append(ts, dtmftest.Tone{Digit: d, RowDBm0: -6, ColDBm0: -4, DurationMs: 100, GapMs: 100})
	}
	c.Send(dtmftest.Signal(0, ts, 0, 0))
	return nil
}

// Send queues audio to send.
func (c *Call) Send(pcm []int16) {
	c.mu.Lock()
	c.queue = append(c.queue, pcm...)
	c.mu.Unlock()
}

// Heard returns a copy of the PCMA received so far.
func (c *Call) Heard() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.heard...)
}
