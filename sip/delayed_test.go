package sip

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"jinyin/internal/siptest"
	"jinyin/media"
	"jinyin/media/rtp"
	"jinyin/media/tone"
	"jinyin/sip/sdp"
)

// toneApp is a test App: it plays a 1 kHz tone for 5 s and records the
// digits it hears until the call ends.
type toneApp struct {
	recorder
	runs atomic.Int32
}

func (a *toneApp) app(ch media.Channel) {
	a.runs.Add(1)
	ch.Play(&pcmSource{pcm: tone.Sine(1000, -10, 5*media.RateHz)})
	a.recorder.app(ch)
}

type pcmSource struct{ pcm []int16 }

func (p *pcmSource) Fill(dst []int16) int {
	n := copy(dst, p.pcm)
	p.pcm = p.pcm[n:]
	return n
}

// startToneServer runs a box whose number 100 answers with a toneApp, and
// which reports each call record on records.
func startToneServer(t *testing.T) (*Server, string, *toneApp, chan CallRecord) {
	t.Helper()
	a := &toneApp{recorder: recorder{done: make(chan struct{})}}
	records := make(chan CallRecord, 4)
	s, addr := startServer(t, func(o *Options) {
		o.Router = func(to, from string) (Route, error) {
			if to != "100" {
				return Route{}, ErrNotFound
			}
			return Route{App: a.app, Open: true}, nil
		}
		o.OnCallEnd = func(r CallRecord) { records <- r }
	})
	return s, addr, a, records
}

// packets counts the RTP packets of payload type pt arriving on conn and
// the loudest sample in them, until conn is closed.
type packets struct {
	mu   sync.Mutex
	n    int
	peak int16
}

func countRTP(conn *net.UDPConn, pt uint8) *packets {
	p := &packets{}
	go func() {
		buf := make([]byte, 1500)
		pcm := make([]int16, 1500)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			h, payload, err := rtp.Parse(buf[:n])
			if err != nil || h.PayloadType != pt {
				continue
			}
			media.PCMA.Decode(pcm, payload)
			p.mu.Lock()
			p.n++
			for _, v := range pcm[:len(payload)] {
				p.peak = max(p.peak, v)
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *packets) get() (int, int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.peak
}

// waitPackets waits up to 3 s for at least n packets.
func (p *packets) wait(t *testing.T, n int, what string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, _ := p.get(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := p.get()
			t.Fatalf("%s: %d RTP packets within 3 s, want at least %d", what, got, n)
		}
	}
}

func formatNames(m sdp.Media) string {
	var names []string
	for _, f := range m.Formats {
		names = append(names, f.Name)
	}
	return strings.Join(names, " ")
}

// TestDelayedOffer: an INVITE without SDP is answered with the box's offer
// (RFC 3261 §13.2.1); nothing is sent until the ACK brings the answer;
// then audio flows both ways (the box's tone reaches the caller, the
// caller's DTMF tones reach the app).
func TestDelayedOffer(t *testing.T) {
	s, addr, a, records := startToneServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := siptest.InviteWithoutSDP(ctx, addr, "100")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	if err := call.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("INVITE without SDP: %v (the box must offer in its 200, not refuse)", err)
	}
	offer, err := sdp.Parse(call.Dialog.InviteResponse.Body())
	if err != nil || len(offer.Media) != 1 {
		t.Fatalf("the 200's offer %q: %v", call.Dialog.InviteResponse.Body(), err)
	}
	m := offer.Media[0]
	if formatNames(m) != "PCMA PCMU telephone-event" || m.Port == 0 || m.Addr.String() != "127.0.0.1" || m.Direction != sdp.SendRecv {
		t.Fatalf("offer m= %+v, want PCMA PCMU telephone-event, sendrecv, on 127.0.0.1", m)
	}
	heard := countRTP(call.RTP, 8)
	time.Sleep(300 * time.Millisecond)
	if n, _ := heard.get(); n != 0 {
		t.Fatalf("%d RTP packets before the ACK's answer: the box must wait for it", n)
	}
	if err := call.Ack(ctx, call.SDP()); err != nil {
		t.Fatal(err)
	}
	heard.wait(t, 25, "after the ACK's answer")
	if _, peak := heard.get(); peak < 5000 {
		t.Errorf("loudest sample heard %d: want the box's -10 dBm0 tone (about 7200)", peak)
	}
	// The caller's tones, as the answer agreed (PCMA), reach the app.
	call.StartMedia()
	if err := call.SendTones("159"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a.mu.Lock()
		d := a.digits
		a.mu.Unlock()
		if d == "159" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app heard %q, want 159", d)
		}
	}
	if err := call.Dialog.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	a.wait(t)
	waitIdle(t, s)
	if r := <-records; r.Disposition != "answered" {
		t.Errorf("call record %+v, want answered", r)
	}
}

// TestDelayedOfferBadAck: an ACK with no answer to the box's offer, or an
// unacceptable one, cannot be refused (there is no response to an ACK):
// the box hangs up with BYE, and the app never runs.
func TestDelayedOfferBadAck(t *testing.T) {
	for _, c := range []struct {
		name string
		body func(call *siptest.Call) []byte
	}{
		{"no SDP", func(*siptest.Call) []byte { return nil }},
		{"only G.729", func(call *siptest.Call) []byte {
			return []byte(strings.NewReplacer("RTP/AVP 8 101", "RTP/AVP 18", "a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000").Replace(string(call.SDP())))
		}},
		{"audio refused", func(call *siptest.Call) []byte {
			return []byte(strings.Replace(string(call.SDP()), "m=audio "+strings.Fields(strings.SplitN(string(call.SDP()), "m=audio ", 2)[1])[0], "m=audio 0", 1))
		}},
		{"malformed", func(*siptest.Call) []byte { return []byte("v=0\r\nthis is not SDP\r\n") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, addr, a, records := startToneServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			call, err := siptest.InviteWithoutSDP(ctx, addr, "100")
			if err != nil {
				t.Fatal(err)
			}
			defer call.Close()
			if err := call.AnsweredWith(ctx, c.body(call)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-call.Dialog.Context().Done(): // the box's BYE
			case <-time.After(5 * time.Second):
				t.Fatal("no BYE within 5 s of an ACK without an acceptable answer")
			}
			waitIdle(t, s)
			if n := a.runs.Load(); n != 0 {
				t.Errorf("the app ran %d times on a call without media", n)
			}
			if r := <-records; r.Disposition != "refused" || !r.Answer.IsZero() {
				t.Errorf("call record %+v, want refused, never answered", r)
			}
		})
	}
}

// TestReInviteWithoutSDP: a re-INVITE without SDP gets the box's offer in
// the 200, with every codec again, the same o= session id and the version
// one up only when the description changed (RFC 3264 §8); the answer in
// the ACK moves the box's audio to a new port; an ACK without an answer
// ends the call with BYE.
func TestReInviteWithoutSDP(t *testing.T) {
	s, addr, a, _ := startToneServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, addr, "100")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	if err := call.Answered(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := sdp.Parse(call.Dialog.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}
	moved, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	heard := countRTP(moved, 8)
	answer := strings.Replace(string(call.SDP()), "m=audio "+strings.Fields(strings.SplitN(string(call.SDP()), "m=audio ", 2)[1])[0],
		"m=audio "+strings.TrimPrefix(moved.LocalAddr().String(), "127.0.0.1:"), 1)

	for i, step := range []struct {
		version uint64
		why     string
	}{
		{first.SessionVer + 1, "the offer adds PCMU to the answer sent before: one version up"},
		{first.SessionVer + 1, "the same offer again: the same version"},
	} {
		res, err := call.Reinvite(ctx, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE %d without SDP: %v %v", i+1, res, err)
		}
		off, err := sdp.Parse(res.Body())
		if err != nil || len(off.Media) != 1 {
			t.Fatalf("re-INVITE %d: the 200's offer %q: %v", i+1, res.Body(), err)
		}
		if off.SessionID != first.SessionID || off.SessionVer != step.version {
			t.Errorf("re-INVITE %d: o= %d %d, want %d %d (%s)", i+1, off.SessionID, off.SessionVer, first.SessionID, step.version, step.why)
		}
		if m := off.Media[0]; formatNames(m) != "PCMA PCMU telephone-event" || m.Port != first.Media[0].Port || m.Direction != sdp.SendRecv {
			t.Errorf("re-INVITE %d: offer m= %+v, want every codec, sendrecv, on port %d", i+1, m, first.Media[0].Port)
		}
		if err := call.Ack(ctx, []byte(answer)); err != nil {
			t.Fatal(err)
		}
	}
	heard.wait(t, 10, "at the port in the re-INVITE's ACK")

	res, err := call.Reinvite(ctx, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("third re-INVITE without SDP: %v %v", res, err)
	}
	if err := call.Ack(ctx, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Dialog.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE within 5 s of a re-INVITE's ACK without an answer")
	}
	a.wait(t)
	waitIdle(t, s)
}

// TestSIPpDelayedOffer: SIPp calls without SDP, checks the box's offer in
// the 200 and answers in the ACK. Media flows both ways once the answer
// is applied: SIPp's RFC 4733 digit 1 reaches the app (telephone-event is
// agreed only by that answer), and the box's own in-band digit 5, sent to
// the port in the answer, comes back through SIPp's RTP echo and is heard.
func TestSIPpDelayedOffer(t *testing.T) {
	rec := newRecorder()
	s, addr := startServer(t, func(o *Options) {
		o.Router = func(to, from string) (Route, error) {
			return Route{Open: true, App: func(ch media.Channel) {
				five, _ := tone.DTMF("5", 100, -10)
				ch.Play(&pcmSource{pcm: five})
				rec.app(ch)
			}}, nil
		}
	})
	if err := sipp(t, addr, "call-delayed-offer.xml", "-s", "100", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)), "-rtp_echo"); err != nil {
		t.Fatal("SIPp scenario failed: an INVITE without SDP must be answered 200 with the box's offer")
	}
	rec.wait(t)
	if !strings.Contains(rec.digits, "1") || !strings.Contains(rec.digits, "5") || !rec.remoteHangup {
		t.Errorf("digits %q (want 1 from SIPp's events and 5, the box's own tone echoed by SIPp), remote hang-up %v", rec.digits, rec.remoteHangup)
	}
	waitIdle(t, s)
}
