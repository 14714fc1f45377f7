package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/rtp"
	"jinyin/security"
	"jinyin/sip/sdp"
)

// App runs a call the box answers itself (the IVR). It returns when it is
// done with the call; the call is hung up then if it is still up.
type App func(ch media.Channel)

// Route is where an inbound call goes.
type Route struct {
	App App
	// Early runs App before the call is answered, the caller hearing
	// what it plays as early media (183 Session Progress with SDP; 180
	// Ringing and nothing heard after a delayed offer). App answers the
	// call with Call.Answer when it is ready (the extension it rang
	// picked up); a call it leaves unanswered is refused with the status
	// given to Call.Refuse, else Status (480 when 0), and that refusal is
	// the call's record: ringing an extension that may be busy, or an
	// announcement that must not start the caller's billing ("all lines
	// are busy", the night message).
	Early  bool
	Status int
	// Auth admits only callers who prove by digest (407 Proxy-Authenticate,
	// RFC 3261 §22.3) that they are the extension in their From header:
	// feature codes such as listening to voicemail.
	Auth bool
	// Open lets callers who are neither a trunk nor authenticated reach
	// the route when the config lets guests in ([sip] guests): an IVR
	// extension where the public lands. Every other
	// route, and every refusal, asks such a caller for a digest first, so
	// the answers tell no one which numbers exist.
	Open bool
}

// Router picks the Route for a dialled number, or refuses the call with
// ErrNotFound (404) or ErrUnavailable (480).
type Router func(to, from string) (Route, error)

// Routing refusals.
var (
	ErrNotFound    = errors.New("sip: no such number")
	ErrUnavailable = errors.New("sip: destination not reachable now")
)

// CallRecord describes a call leg that has ended, for the call records.
type CallRecord struct {
	ID          string
	Direction   string // "in" or "out"
	From, To    string
	Trunk       string
	Transport   string // what its signalling went over: "udp", "tcp" or "tls"
	Start       time.Time
	Answer      time.Time // zero when never answered
	End         time.Time
	Disposition string // answered, cancelled, refused
	Cause       string // a refusal's status: "SIP 404 Not Found"
}

// dialog is what a call needs of its SIP dialog, whichever side began it.
type dialog interface {
	Bye(ctx context.Context) error
	Context() context.Context
	Close() error
}

// codecs the box answers with, in order of preference (PCMA: China, E1).
var codecs = []string{"PCMA", "PCMU"}

// Call is one SIP call leg the box answered, as a media.Channel.
type Call struct {
	id     string
	srv    *Server
	dlg    dialog
	sess   *rtp.Session
	local  sdp.Local
	events chan media.Event
	trunk  *Trunk // the trunk it came in on, if any
	// outside is a caller from outside the box: through a trunk, or
	// not authenticated as one of its extensions.
	outside bool
	// Offer/answer state, under mu: what was agreed, the o= line of what
	// the box sends, and the 2xx waiting for its ACK (with the answer to
	// the box's offer, when the INVITE had none).
	choice  sdp.Choice
	origin  sdp.Origin
	ackWait *ackWait
	// answered is set once the call is up (200 sent or received). Until
	// then only the goroutine handling the INVITE touches the dialog, and
	// Hangup only ends the media: that goroutine sends the final answer.
	answered atomic.Bool
	// An Early route's call, until answered: the INVITE Answer answers
	// (nil once it has, or was never asked to), and the status Refuse
	// set. Both are the INVITE goroutine's, which runs the App.
	pending *invite
	refusal int
	rec     CallRecord // filled as the call goes; reported at its end
	mu      sync.Mutex
	ended   bool
	refresh clock.Timer // session timer (RFC 4028)
}

var _ media.Channel = (*Call)(nil)

// Outside reports whether the call came from outside the box: through a
// trunk, or from a caller that did not prove an extension.
func (c *Call) Outside() bool { return c.outside }

func (c *Call) ID() string { return c.id }

// SendDigit sends a DTMF digit to the far end: as RFC 4733 events when
// the far end agreed telephone-event, else in-band, as the digit's tone
// pair in place of the call's audio (rtp.Session.SendDigit). It fails
// only for a character that is not a DTMF digit.
func (c *Call) SendDigit(d byte) error { return c.sess.SendDigit(d) }

// Listen is the far end's audio, for a bridge or a recording.
func (c *Call) Listen() media.Source { return c.sess.Listen() }

func (c *Call) Play(src media.Source) media.PlayID { return c.sess.Play(src) }
func (c *Call) Events() <-chan media.Event         { return c.events }

// Hangup sends BYE and ends the call; a call not yet answered is ended
// and refused by the goroutine answering it.
func (c *Call) Hangup() error {
	if c.isEnded() {
		return nil
	}
	if !c.answered.Load() {
		c.end(false)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // real time: a SIP transaction on the network
	defer cancel()
	err := c.dlg.Bye(ctx)
	c.end(false)
	return err
}

func (c *Call) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// deliver passes a media event to the app without ever blocking the media
// path: a full queue drops the event.
func (c *Call) deliver(e media.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	select {
	case c.events <- e:
	default:
		c.srv.log.Warn("sip: call event queue full; event dropped", "call", c.id, "kind", e.Kind)
	}
}

// end releases the call's media and tells the app, once.
func (c *Call) end(remote bool) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	if c.refresh != nil {
		c.refresh.Stop()
	}
	if remote {
		select {
		case c.events <- media.Event{Kind: media.EventHangup}:
		default:
		}
	}
	close(c.events)
	rec := c.rec
	c.mu.Unlock()
	rec.End = c.srv.clock.Now()
	switch {
	case !rec.Answer.IsZero():
		rec.Disposition = "answered"
	case remote:
		rec.Disposition = "cancelled"
	default:
		rec.Disposition = "refused"
	}
	if c.srv.onCallEnd != nil {
		c.srv.onCallEnd(rec)
	}
	c.sess.Close()
	c.srv.calls.Delete(c.id)
	// Out of the calls up, then into the ended: a reading of RTP between
	// the two misses the call for a moment rather than counting it twice.
	received, lost := c.sess.Totals()
	c.srv.rtpReceived.Add(received)
	c.srv.rtpLost.Add(lost)
	c.srv.release(c.trunk)
	c.dlg.Close()
}

func (s *Server) respond(tx gosip.ServerTransaction, req *gosip.Request, code int, reason string, hdrs ...gosip.Header) {
	res := gosip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond", "code", code, "err", err)
		s.sendLarge(res, err)
	}
}

// sendLarge sends a UDP response that sipgo refused for exceeding the MTU
// (a request with many Via headers is answered with all of them). RFC
// 3261's size limit (§18.1.1) is for requests a client sends; a response
// goes back over the request's transport whatever its size.
func (s *Server) sendLarge(res *gosip.Response, err error) {
	if s.udp == nil || !strings.Contains(err.Error(), "MTU") {
		return
	}
	if to, rerr := net.ResolveUDPAddr("udp", res.Destination()); rerr == nil {
		s.udp.WriteTo([]byte(res.String()), to)
	}
}

// minSE is the smallest session interval accepted (RFC 4028 §4: 90 s).
const minSE = 90

// invite is an initial INVITE on its way through onInvite's steps.
type invite struct {
	req     *gosip.Request
	tx      gosip.ServerTransaction
	se      int          // the session interval asked for (RFC 4028), 0 for none
	delayed bool         // no SDP: the box offers in its 200 (RFC 3261 §13.2.1)
	offer   *sdp.Session // the caller's offer, unless delayed
	from    string       // the caller's user part
	trunk   *Trunk       // the trunk it came in on, one of whose channels it holds
	authed  bool         // the caller proved its extension by digest
	route   Route
	dlg     *sipgo.DialogServerSession
	body    []byte // the box's answer, or its offer when delayed
}

// onInvite runs an initial INVITE: admitted, read, routed, accepted as
// a Call, then early media, or ringing, the 200 and the app.
func (s *Server) onInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	inv := &invite{req: req, tx: tx}
	if ok, capped := s.admit(req.Transport()); !ok {
		if capped { // a drain or an overload is the box's state, not the caller's doing
			s.event(security.SessionLimit, requestSource(req), fromUser(req), "the box's call limits")
		}
		s.refuse(inv, 503, "Service Unavailable", gosip.NewHeader("Retry-After", "2"))
		return
	}
	var c *Call
	defer func() {
		if c == nil { // refused before it was a call (a call gives them back as it ends)
			s.release(inv.trunk)
		}
	}()
	if !s.readInvite(inv) || !s.routeInvite(inv) {
		return
	}
	if c = s.acceptInvite(inv); c == nil {
		return
	}
	if inv.route.Early {
		s.early(c, inv)
		return
	}
	if !s.ring(c, inv) || !s.answer(c, inv) {
		return
	}
	inv.route.App(c)
	c.Hangup()
}

// refusedPerSecond bounds the records of refused calls: a flood of
// INVITEs beyond the box's limits is counted (Server.Unrecorded), not
// written call by call.
const refusedPerSecond = 20

// refuse answers an initial INVITE with a final refusal and leaves its
// record (Disposition "refused", the status as its Cause), so that what
// was turned away can be counted, up to refusedPerSecond. Challenges
// (401, 407) and failed authentications (403) are not calls refused but
// security events.
func (s *Server) refuse(inv *invite, code int, reason string, hdrs ...gosip.Header) {
	s.respond(inv.tx, inv.req, code, reason, hdrs...)
	if s.onCallEnd == nil {
		return
	}
	if !s.refusals.allow() {
		s.Unrecorded.Add(1)
		return
	}
	req := inv.req
	now := s.clock.Now()
	phrase, _, _ := strings.Cut(reason, " (")
	r := CallRecord{Direction: "in", From: fromUser(req), To: req.Recipient.User, Start: now, End: now, Disposition: "refused",
		Cause: fmt.Sprintf("SIP %d %s", code, phrase)}
	if c := req.CallID(); c != nil {
		r.ID = c.Value()
	}
	if inv.trunk != nil {
		r.Trunk = inv.trunk.cfg.Name
	}
	s.onCallEnd(r)
}

// readInvite reads the session interval and the offer, answering 400 or
// 422 when they will not do.
func (s *Server) readInvite(inv *invite) bool {
	req := inv.req
	se, err := sessionExpires(req)
	if err != nil {
		s.refuse(inv, 400, "Bad Request ("+err.Error()+")")
		return false
	}
	if se > 0 && se < minSE {
		s.refuse(inv, 422, "Session Interval Too Small", gosip.NewHeader("Min-SE", strconv.Itoa(minSE)))
		return false
	}
	inv.se = se
	// An INVITE without a body is a delayed offer (RFC 3261 §13.2.1): the
	// box makes the offer in its 200 and the caller answers in the ACK.
	if inv.delayed = len(req.Body()) == 0; !inv.delayed {
		if inv.offer, err = sdp.Parse(req.Body()); err != nil {
			s.refuse(inv, 400, "Bad Request ("+firstLine(err.Error())+")")
			return false
		}
	}
	return true
}

// routeInvite finds the call's route, for a trunk's call within the
// trunk's channels, with the caller authenticated where the route asks;
// it answers the refusals (503, 404, 480, 407/403, an early-media
// route's status for a delayed offer).
func (s *Server) routeInvite(inv *invite) bool {
	req, tx := inv.req, inv.tx
	if f := req.From(); f != nil {
		inv.from = f.Address.User
	}
	dest := req.Recipient.User
	if trunk := s.trunkFor(req); trunk != nil {
		// A carrier's call lands on the trunk's destination whatever it
		// dialled (the DID), up to the trunk's channels.
		if !trunk.seize() {
			s.event(security.SessionLimit, requestSource(req), trunk.cfg.Name, "all trunk channels busy")
			s.refuse(inv, 503, "Service Unavailable (all trunk channels busy)")
			return false
		}
		inv.trunk = trunk
		switch {
		case trunk.cfg.Destination != "":
			dest = trunk.cfg.Destination
		case s.isExt == nil || !s.isExt(dest):
			// A trunk from another box reaches this box's extensions by
			// number, and nothing else: no number out through here (trunk
			// to trunk is how toll fraud goes), no feature code.
			s.refuse(inv, 404, "Not Found")
			return false
		}
	}
	route, err := s.router(dest, inv.from)
	if (inv.trunk == nil && (err != nil || !route.Open || !s.cfg.Guests)) || route.Auth {
		if !s.authenticated(req, tx, inv.from) {
			return false
		}
		inv.authed = true
	}
	switch {
	case errors.Is(err, ErrUnavailable):
		s.refuse(inv, 480, "Temporarily Unavailable")
		return false
	case err != nil:
		s.refuse(inv, 404, "Not Found")
		return false
	}
	inv.route = route
	return true
}

// acceptInvite opens the call's media and dialog, with the box's answer
// (or, delayed, its offer) in inv.body, and makes it a Call counted in
// the box's calls; nil after answering 503, 488 or 400.
func (s *Server) acceptInvite(inv *invite) *Call {
	req, tx := inv.req, inv.tx
	sess, err := s.ports.Open()
	if err != nil {
		s.log.Error("sip: no RTP port for a call", "err", err)
		s.refuse(inv, 503, "Service Unavailable (no media ports)", gosip.NewHeader("Retry-After", "5"))
		return nil
	}
	mode, err := s.srtpMode(inv.from, inv.trunk, req.Transport())
	if err != nil {
		sess.Close()
		s.refuse(inv, 488, "Not Acceptable Here ("+err.Error()+")")
		return nil
	}
	local, origin := s.localSDP(sess, mode)
	var choice sdp.Choice
	if inv.delayed {
		inv.body = origin.Marshal(sdp.Offer(local, eventPT, sdp.SendRecv))
	} else {
		answer, ch, err := sdp.Answer(inv.offer, local)
		if err == nil {
			err = protect(sess, local, ch)
		}
		if err != nil {
			sess.Close()
			reason := "Not Acceptable Here (no common codec: the box speaks PCMA and PCMU)"
			if mode != "" {
				reason = "Not Acceptable Here (no common codec, or no SRTP the box accepts: PCMA or PCMU, SDES " + strings.Join(rtp.Suites, " or ") + ")"
			}
			s.refuse(inv, 488, reason)
			return nil
		}
		inv.body, choice = origin.Marshal(answer), ch
	}
	if inv.dlg, err = s.dialogs.ReadInvite(req, tx); err != nil {
		sess.Close()
		s.refuse(inv, 400, "Bad Request ("+err.Error()+")")
		return nil
	}
	c := &Call{id: inv.dlg.ID, srv: s, dlg: inv.dlg, sess: sess, local: local, choice: choice, origin: origin, events: make(chan media.Event, 64), trunk: inv.trunk,
		outside: inv.trunk != nil || !inv.authed}
	c.rec = CallRecord{ID: c.id, Direction: "in", From: inv.from, To: req.Recipient.User, Transport: strings.ToLower(req.Transport()), Start: s.clock.Now()}
	if inv.trunk != nil {
		c.rec.Trunk = inv.trunk.cfg.Name
	}
	s.calls.Store(c.id, c)
	if inv.delayed {
		// Nothing is sent until the ACK's answer says where and how
		// (RFC 3264 §5.1: the offerer only has to be ready to receive).
		sess.Start(rtp.Params{Codec: media.PCMA, CodecPT: 8}, c.deliver)
	} else {
		sess.Start(params(choice), c.deliver)
	}
	s.pacer.Add(sess)
	return c
}

// localSDP is what the box's descriptions say of a session: its address
// and codecs, its SRTP setting with a fresh key, and the o= line they
// share (RFC 3264 §8).
func (s *Server) localSDP(sess *rtp.Session, srtp string) (sdp.Local, sdp.Origin) {
	local := sdp.Local{Addr: s.mediaAddr, Port: int(sess.Local().Port()), Codecs: codecs, Session: rand.Uint64() >> 1, SRTP: srtp}
	if srtp != "" {
		local.Key, local.Suites = rtp.NewKey(), rtp.Suites
	}
	return local, sdp.Origin{ID: local.Session, Version: local.Session}
}

// srtpMode is the SRTP setting of a call with an extension (its user
// part) or a trunk, over a transport. SDES keys travel in the SDP, so
// SRTP is only had over TLS: optional goes plain elsewhere, required is
// refused.
func (s *Server) srtpMode(ext string, trunk *Trunk, transport string) (string, error) {
	var mode string
	switch {
	case trunk != nil:
		mode = trunk.cfg.SRTP
	case s.srtp != nil:
		mode = s.srtp(ext)
	}
	if mode != "" && !strings.EqualFold(transport, "TLS") {
		if mode == "required" {
			return "", fmt.Errorf("SRTP is required, and only offered over TLS")
		}
		mode = ""
	}
	return mode, nil
}

// protect applies a choice's SRTP keys to a session: the box's own for
// what it sends, the peer's for what it receives.
func protect(sess *rtp.Session, local sdp.Local, ch sdp.Choice) error {
	if ch.Crypto == nil {
		return nil
	}
	return sess.SetSRTP(rtp.Keys{Suite: ch.Crypto.Suite, Local: local.Key, Remote: ch.Crypto.Key})
}

// ring sends 180 Ringing and waits the configured answer delay, if there
// is one; false, the call ended, when the caller cancels first.
func (s *Server) ring(c *Call, inv *invite) bool {
	d := time.Duration(s.cfg.AnswerDelayMs) * time.Millisecond
	if d <= 0 {
		return true
	}
	if err := inv.dlg.Respond(180, "Ringing", nil); err != nil {
		c.end(true)
		return false
	}
	if !clock.Wait(s.clock, d, inv.tx.Done()) { // CANCEL: sipgo has answered it and sent 487
		s.log.Info("sip: call cancelled before answer", "call", c.id)
		c.end(true)
		return false
	}
	return true
}

// answer sends the 200 and waits for its ACK (sipgo resends the 200
// until the ACK, or 64·T1); after a delayed offer the ACK must carry an
// acceptable answer, or the call is ended with BYE. It reports whether
// the call is up.
func (s *Server) answer(c *Call, inv *invite) bool {
	dlg := inv.dlg
	res := gosip.NewSDPResponseFromRequest(dlg.InviteRequest, inv.body)
	res.AppendHeader(s.contactFor(inv.req.Transport()))
	c.acceptSessionTimer(res, inv.se, true)
	if c.isEnded() { // hung up while it rang (the box is stopping)
		dlg.Respond(480, "Temporarily Unavailable", nil)
		return false
	}
	w := newAckWait(inv.req, inv.delayed, true)
	c.mu.Lock()
	c.ackWait = w
	c.mu.Unlock()
	// onAck takes the answer before sipgo lets WriteResponse return.
	err := dlg.WriteResponse(res)
	c.mu.Lock()
	c.ackWait = nil
	acked, answerErr := w.acked, w.err
	c.mu.Unlock()
	if err != nil {
		// CANCEL before the answer (sipgo has sent 487), or no ACK.
		s.log.Info("sip: call not established", "call", c.id, "err", err)
		c.end(true)
		return false
	}
	if inv.delayed && (!acked || answerErr != nil) {
		// No answer to the box's offer: the call has no media. A 488
		// cannot answer an ACK; the call is ended with BYE (RFC 3261
		// §13.3.1.4 for the missing ACK; RFC 3264 §5.1 gives no other
		// way out of an offer that was not answered).
		if answerErr == nil {
			answerErr = errors.New("no ACK")
		}
		s.log.Warn("sip: no acceptable answer to the box's offer in the ACK; hanging up", "call", c.id, "err", answerErr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // real time: a SIP transaction on the network
		dlg.Bye(ctx)
		cancel()
		c.end(false)
		return false
	}
	c.mu.Lock()
	c.rec.Answer = s.clock.Now()
	c.mu.Unlock()
	c.answered.Store(true)
	c.endWithDialog()
	return true
}

// endWithDialog ends the call when its dialog ends: BYE from the far
// end, or the dialog ended otherwise. context.AfterFunc waits without a
// goroutine: a goroutine parked on each call's dialog was a stack of 8 KB
// a call, a fifth of the memory of a call in the IVR.
func (c *Call) endWithDialog() {
	context.AfterFunc(c.dlg.Context(), func() { c.end(true) })
}

var _ media.Listener = (*Call)(nil)

// authenticated checks an INVITE's Proxy-Authorization against the
// extension in From, answering 407 (challenge) or 403 when it fails.
func (s *Server) authenticated(req *gosip.Request, tx gosip.ServerTransaction, from string) bool {
	auth := s.Registrar.auth
	result, user := auth.Check(req, "Proxy-Authorization")
	result = s.authOutcome(req, result, user)
	switch {
	case result == AuthOK && user == from:
		return true
	case result.Refused() || result == AuthOK:
		s.respond(tx, req, 403, "Forbidden")
		return false
	}
	s.respond(tx, req, 407, "Proxy Authentication Required", auth.challengeHeaders(req, "Proxy-Authenticate", result == AuthStale)...)
	return false
}

// early runs an Early route's App before the call is answered: after
// 183 Session Progress with the box's answer, so the caller hears what
// App plays, or, after a delayed offer, 180 Ringing (the box's offer
// would be in an unreliable provisional response, which RFC 3261
// §13.2.1 does not allow and RFC 3262 the box does not do). App may
// answer the call (Call.Answer); one it leaves unanswered is refused,
// with its status as the record's cause. A CANCEL ends the call, and
// App with it.
func (s *Server) early(c *Call, inv *invite) {
	var err error
	if inv.delayed {
		err = inv.dlg.Respond(180, "Ringing", nil)
	} else {
		err = inv.dlg.Respond(183, "Session Progress", inv.body, gosip.NewHeader("Content-Type", "application/sdp"))
	}
	// sipgo answers a CANCEL with 487 itself; OnCancel is false when it
	// came before the callback could be set.
	if err != nil || !inv.tx.OnCancel(func(*gosip.Request) { go c.end(true) }) {
		c.end(true)
		return
	}
	c.pending = inv
	inv.route.App(c)
	if c.answered.Load() {
		c.Hangup()
		return
	}
	c.pending = nil
	status := c.refusal
	if status == 0 {
		status = inv.route.refusal()
	}
	select {
	case <-inv.tx.Done(): // cancelled
	default:
		// On record before the caller hears it: a box stopping as it
		// does hangs the call up, and its record is the one kept.
		reason := statusReason(status)
		c.mu.Lock()
		c.rec.Cause = fmt.Sprintf("SIP %d %s", status, reason)
		c.mu.Unlock()
		inv.dlg.Respond(status, reason, nil)
	}
	c.end(false)
}

// Answer answers a call its Early route's App runs: the 200, and its
// ACK waited for. Answering a call that is up already does nothing; one
// that ended first (the caller cancelled) is an error. Only the App may
// call it.
func (c *Call) Answer() error {
	if c.answered.Load() {
		return nil
	}
	inv := c.pending
	if inv == nil || c.isEnded() {
		return errors.New("sip: the call ended before it was answered")
	}
	c.pending = nil
	if !c.srv.answer(c, inv) {
		return errors.New("sip: the call ended as it was answered")
	}
	return nil
}

// Refuse sets the status (486 Busy Here, 480...) an Early route's call
// is refused with when its App returns without answering it. Only the
// App may call it; a call that is up ignores it.
func (c *Call) Refuse(status int) { c.refusal = status }

// refusal is the status an Early route's call is refused with when its
// App set none.
func (r Route) refusal() int {
	if r.Status == 0 {
		return 480
	}
	return r.Status
}

func statusReason(code int) string {
	switch code {
	case 486:
		return "Busy Here"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Temporarily Unavailable"
}

// armSessionTimer hangs up a call whose refresher has not refreshed the
// session within its interval (RFC 4028 §10: BYE at the interval's end
// less a third, at most 32 s).
func (c *Call) armSessionTimer(seconds int) {
	d := time.Duration(seconds)*time.Second - min(32*time.Second, time.Duration(seconds)*time.Second/3)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refresh != nil {
		c.refresh.Stop()
	}
	c.refresh = c.srv.clock.AfterFunc(d, func() {
		c.srv.log.Info("sip: session timer expired without refresh; hanging up", "call", c.id)
		c.Hangup()
	})
}

// acceptSessionTimer takes the session interval se a request asked for
// (RFC 4028 §9), the caller refreshing: res says so (with Require: timer
// when require is set), and the call is hung up if no refresh comes in
// time. Nothing for se 0.
func (c *Call) acceptSessionTimer(res *gosip.Response, se int, require bool) {
	if se <= 0 {
		return
	}
	res.AppendHeader(gosip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", se)))
	if require {
		res.AppendHeader(gosip.NewHeader("Require", "timer"))
	}
	c.armSessionTimer(se)
}

func params(ch sdp.Choice) rtp.Params {
	p := rtp.Params{Remote: ch.Remote, CodecPT: ch.Codec.PT, Codec: media.PCMA, Send: ch.Direction == sdp.SendRecv || ch.Direction == sdp.SendOnly}
	if ch.Codec.Name == "PCMU" {
		p.Codec = media.PCMU
	}
	if ch.Event.Name != "" {
		p.EventPT = ch.Event.PT
	}
	return p
}

// eventPT is the telephone-event payload type the box offers.
const eventPT = 101

// ackWait is a 2xx to an INVITE waiting for its ACK (RFC 3261
// §13.3.1.4). When the INVITE had no SDP, the 2xx carried the box's offer
// and the ACK must carry the answer (RFC 3261 §13.2.1).
type ackWait struct {
	cseq    uint32
	offer   bool
	initial bool          // the call's first INVITE, whose goroutine waits for the outcome
	acked   bool          // the ACK has come
	done    chan struct{} // closed then
	err     error         // what was wrong with the answer in it
	retx    clock.Timer   // the next retransmission of a re-INVITE's 2xx
}

func newAckWait(req *gosip.Request, offer, initial bool) *ackWait {
	return &ackWait{cseq: req.CSeq().SeqNo, offer: offer, initial: initial, done: make(chan struct{})}
}

// settled (under mu) marks w acknowledged and stops its retransmission.
func (w *ackWait) settled() {
	w.acked = true
	close(w.done)
	if w.retx != nil {
		w.retx.Stop()
	}
}

// offerAnswered reports whether the box's last offer has its answer (or there
// is none outstanding), waiting up to T1 for an ACK on its way: sipgo
// hands requests to their handlers concurrently, so a re-INVITE sent just
// after an ACK may be seen first. A 2xx that carried an answer needs its
// ACK for nothing more than to stop its retransmission: a new INVITE in
// the dialog stops it too.
func (c *Call) offerAnswered() bool {
	c.mu.Lock()
	w := c.ackWait
	switch {
	case w == nil || w.acked:
		c.mu.Unlock()
		return true
	case !w.offer:
		w.settled()
		c.mu.Unlock()
		return true
	}
	c.mu.Unlock()
	return !clock.Wait(c.srv.clock, gosip.T1, w.done)
}

// ack takes the ACK of the call's 2xx waiting for one, and the answer in
// it when the 2xx carried the box's offer: applied to the media, or the
// call is ended with BYE when it is missing or unacceptable (the first
// INVITE's goroutine does that for the first 2xx). An ACK resent for a
// resent 2xx, or for a 2xx already acknowledged, changes nothing.
func (c *Call) ack(req *gosip.Request) {
	c.mu.Lock()
	w := c.ackWait
	if w == nil || w.acked || req.CSeq() == nil || req.CSeq().SeqNo != w.cseq {
		c.mu.Unlock()
		return
	}
	w.settled()
	var ch sdp.Choice
	if w.offer {
		if ch, w.err = c.answerIn(req.Body()); w.err == nil {
			w.err = c.rekey(ch)
		}
		if w.err == nil {
			c.choice = ch
		}
	}
	c.mu.Unlock()
	switch {
	case !w.offer:
	case w.err == nil:
		c.sess.Update(params(ch))
	case !w.initial:
		c.srv.log.Warn("sip: no acceptable answer to the box's offer in the ACK of a re-INVITE; hanging up", "call", c.id, "err", w.err)
		go c.Hangup()
	}
}

// answerIn reads the answer to the box's offer from an ACK's body. Called
// with mu held.
func (c *Call) answerIn(body []byte) (sdp.Choice, error) {
	if len(body) == 0 {
		return sdp.Choice{}, errors.New("sip: the ACK has no SDP")
	}
	ans, err := sdp.Parse(body)
	if err != nil {
		return sdp.Choice{}, err
	}
	return sdp.Accepted(ans, c.local)
}

// resend retransmits a re-INVITE's 2xx until its ACK comes, at T1 and
// doubling up to T2, for 64·T1 (RFC 3261 §13.3.1.4; sipgo does this only
// for a dialog's first 2xx). A 2xx with the box's offer that is never
// acknowledged leaves the offer unanswered: the call is ended with BYE.
func (c *Call) resend(tx gosip.ServerTransaction, res *gosip.Response, w *ackWait, wait, waited time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.acked || c.ended {
		return
	}
	w.retx = c.srv.clock.AfterFunc(wait, func() {
		c.mu.Lock()
		done := w.acked || c.ended
		giveUp := !done && waited+wait >= 64*gosip.T1
		if giveUp && c.ackWait == w {
			c.ackWait = nil
		}
		c.mu.Unlock()
		switch {
		case done:
		case giveUp:
			if w.offer {
				c.srv.log.Warn("sip: no ACK for the 200 with the box's offer to a re-INVITE; hanging up", "call", c.id)
				c.Hangup()
			}
		default:
			tx.Respond(res)
			c.resend(tx, res, w, min(2*wait, gosip.T2), waited+wait)
		}
	})
}

// onReInvite handles a re-INVITE (hold, resume, session refresh) within
// a call the box answered.
func (s *Server) onReInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	c, ok := s.matchCall(req)
	if !ok {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if !c.offerAnswered() {
		// The box's offer in the last 2xx is still waiting for the ACK
		// with its answer: RFC 3261 §14.2's 500, with a Retry-After of up
		// to 10 s, for an INVITE that overlaps an unfinished one.
		s.respond(tx, req, 500, "Server Internal Error (the last INVITE is not acknowledged yet)", gosip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(11))))
		return
	}
	body, offered, code, reason := c.renegotiate(req)
	if code != 200 {
		s.respond(tx, req, code, reason)
		return
	}
	res := gosip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(s.contactFor(req.Transport()))
	se, _ := sessionExpires(req)
	c.acceptSessionTimer(res, se, true)
	w := newAckWait(req, offered, false)
	c.mu.Lock()
	c.ackWait = w
	c.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond to re-INVITE", "err", err)
	}
	c.resend(tx, res, w, gosip.T1, 0)
}

// onUpdate handles UPDATE (RFC 3311): a session refresh, with or without
// a new offer.
func (s *Server) onUpdate(req *gosip.Request, tx gosip.ServerTransaction) {
	c, ok := s.matchCall(req)
	if !ok {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	var res *gosip.Response
	if len(req.Body()) > 0 {
		body, _, code, reason := c.renegotiate(req)
		if code != 200 {
			s.respond(tx, req, code, reason)
			return
		}
		res = gosip.NewSDPResponseFromRequest(req, body)
	} else {
		res = gosip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	se, _ := sessionExpires(req)
	c.acceptSessionTimer(res, se, false) // without Require, as the box has always answered UPDATE
	res.AppendHeader(s.contactFor(req.Transport()))
	tx.Respond(res)
}

// renegotiate answers a new offer on an established call: hold
// (sendonly/inactive from the far end stops the box sending), resume, or
// a new address. A request without SDP gets the box's offer (offered),
// whose answer comes in the ACK. Each description's o= line follows RFC
// 3264 §8 (c.origin).
func (c *Call) renegotiate(req *gosip.Request) (body []byte, offered bool, code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(req.Body()) == 0 {
		// The payload type numbers stay those of the session (RFC 3264
		// §8.3.2).
		pt := c.choice.Event.PT
		if c.choice.Event.Name == "" {
			pt = eventPT
		}
		return c.origin.Marshal(sdp.Reoffer(c.origin.Last(), c.local, pt)), true, 200, "OK"
	}
	offer, err := sdp.Parse(req.Body())
	if err != nil {
		return nil, false, 400, "Bad Request (" + firstLine(err.Error()) + ")"
	}
	answer, choice, err := sdp.Answer(offer, c.local)
	if err == nil {
		err = c.rekey(choice)
	}
	if err != nil {
		return nil, false, 488, "Not Acceptable Here"
	}
	c.choice = choice
	c.sess.Update(params(choice))
	return c.origin.Marshal(answer), false, 200, "OK"
}

// rekey applies the SRTP of a new choice: the peer's new key, if it
// changed; a call that was encrypted does not go plain. Called with mu
// held.
func (c *Call) rekey(ch sdp.Choice) error {
	old := c.choice.Crypto
	switch {
	case ch.Crypto == nil && old != nil:
		return errors.New("sip: an SRTP call cannot go plain")
	case ch.Crypto == nil || (old != nil && old.Suite == ch.Crypto.Suite && bytes.Equal(old.Key, ch.Crypto.Key)):
		return nil
	}
	return protect(c.sess, c.local, ch)
}

func (s *Server) matchCall(req *gosip.Request) (*Call, bool) {
	id, err := gosip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil, false
	}
	v, ok := s.calls.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*Call), true
}

func (s *Server) onAck(req *gosip.Request, tx gosip.ServerTransaction) {
	if c, ok := s.matchCall(req); ok {
		c.ack(req) // before ReadAck, which lets the first INVITE's goroutine go on
	}
	s.dialogs.ReadAck(req, tx) // an ACK for a re-INVITE matches no wait; ignore
}

func (s *Server) onBye(req *gosip.Request, tx gosip.ServerTransaction) {
	err := s.dialogs.ReadBye(req, tx)
	if errors.Is(err, sipgo.ErrDialogDoesNotExists) {
		err = s.clientDialogs.ReadBye(req, tx) // a call the box placed
	}
	if err != nil {
		if errors.Is(err, sipgo.ErrDialogDoesNotExists) || errors.Is(err, sipgo.ErrDialogOutsideDialog) {
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		s.log.Debug("sip: BYE", "err", err)
	}
}

// Dial places a call to a SIP URI (a registered phone's contact) and
// returns it once answered; cancelling ctx before then cancels the call.
// fromUser is the caller shown to the called phone.
func (s *Server) Dial(ctx context.Context, to gosip.Uri, fromUser string) (*Call, error) {
	return s.dial(ctx, to, fromUser, "", nil)
}

// DialStatus is the final status a call placed by Dial, DialPhone or
// DialTrunk was refused with (486 when the phone was busy), 0 when err
// is no refusal by the far end.
func DialStatus(err error) int {
	var e *sipgo.ErrDialogResponse
	if errors.As(err, &e) && e.Res != nil {
		return e.Res.StatusCode
	}
	return 0
}

// DialPhone is Dial to a contact of extension ext, with its SRTP.
func (s *Server) DialPhone(ctx context.Context, ext string, to gosip.Uri, fromUser string) (*Call, error) {
	return s.dial(ctx, to, fromUser, ext, nil)
}

// DialTrunk calls number through the named trunk, answering the carrier's
// digest challenge with the trunk's credentials, within its channels.
func (s *Server) DialTrunk(ctx context.Context, trunk, number, fromUser string) (*Call, error) {
	var t *Trunk
	for _, x := range s.trunks {
		if x.cfg.Name == trunk {
			t = x
		}
	}
	if t == nil {
		return nil, fmt.Errorf("sip: no trunk %q", trunk)
	}
	if strings.Trim(number, "0123456789+*#") != "" || number == "" {
		return nil, fmt.Errorf("sip: %q is not a number to dial", number)
	}
	if t.down.Load() {
		return nil, fmt.Errorf("sip: dial %s through %s: %w", number, trunk, ErrTrunkDown)
	}
	to := gosip.Uri{Scheme: "sip", User: number, Host: t.peer.Addr().String(), Port: int(t.peer.Port())}
	if tr := t.cfg.Transport; tr != "" && tr != "udp" {
		to.UriParams = gosip.NewParams()
		to.UriParams.Add("transport", tr)
	}
	return s.dial(ctx, to, fromUser, "", t)
}

func (s *Server) dial(ctx context.Context, to gosip.Uri, fromUser, ext string, trunk *Trunk) (*Call, error) {
	if trunk != nil && !trunk.seize() {
		return nil, fmt.Errorf("sip: dial %s: all channels of trunk %s busy", to.String(), trunk.cfg.Name)
	}
	if ok, _ := s.admit(""); !ok {
		if trunk != nil {
			trunk.release()
		}
		return nil, fmt.Errorf("sip: dial %s: over the call limit", to.String())
	}
	admitted := false
	defer func() {
		if !admitted {
			s.release(trunk)
		}
	}()
	sess, err := s.ports.Open()
	if err != nil {
		return nil, err
	}
	transport, _ := to.UriParams.Get("transport")
	mode, err := s.srtpMode(ext, trunk, transport)
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("sip: dial %s: %w", to.String(), err)
	}
	local, origin := s.localSDP(sess, mode)
	offer := origin.Marshal(sdp.Offer(local, eventPT, sdp.SendRecv))
	from := &gosip.FromHeader{DisplayName: quotedText(fromUser), Address: gosip.Uri{Scheme: "sip", User: uriUser(fromUser), Host: s.mediaAddr.String()}}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	dlg, err := s.clientDialogs.Invite(ctx, to, offer, gosip.NewHeader("Content-Type", "application/sdp"), from, s.contactFor(transport))
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("sip: dial %s: %w", to.String(), err)
	}
	var ans sipgo.AnswerOptions
	if trunk != nil {
		ans.Username, ans.Password = trunk.cfg.Username, trunk.cfg.Password
	}
	early := false // the session runs: early media heard
	if tap := media.EarlyTapOf(ctx); tap != nil {
		ans.OnResponse = func(res *gosip.Response) error {
			if early || res.StatusCode <= 100 || res.StatusCode >= 200 || len(res.Body()) == 0 {
				return nil
			}
			answer, err := sdp.Parse(res.Body())
			var choice sdp.Choice
			if err == nil {
				choice, err = sdp.Accepted(answer, local)
			}
			if err != nil || choice.Crypto != nil { // unreadable, or SRTP: its keys are set once, at the answer
				return nil
			}
			early = true
			sess.Start(params(choice), nil)
			sess.Play(&earlyTap{in: sess.Listen(), tap: tap})
			s.pacer.Add(sess)
			return nil
		}
	}
	err = dlg.WaitAnswer(ctx, ans)
	if early {
		sess.Play(nil) // the tap hears no more: answered, or given up
	}
	if err != nil {
		sess.Close()
		dlg.Close()
		return nil, fmt.Errorf("sip: dial %s: %w", to.String(), err)
	}
	answer, err := sdp.Parse(dlg.InviteResponse.Body())
	var choice sdp.Choice
	if err == nil {
		choice, err = sdp.Accepted(answer, local)
	}
	if err == nil {
		err = protect(sess, local, choice)
	}
	if err != nil {
		dlg.Ack(ctx)
		dlg.Bye(ctx)
		sess.Close()
		return nil, fmt.Errorf("sip: dial %s: %w", to.String(), err)
	}
	if err := dlg.Ack(ctx); err != nil {
		sess.Close()
		return nil, fmt.Errorf("sip: dial %s: ACK: %w", to.String(), err)
	}
	c := &Call{id: dlg.ID, srv: s, dlg: dlg, sess: sess, local: local, choice: choice, origin: origin, events: make(chan media.Event, 64), trunk: trunk}
	now := s.clock.Now()
	c.rec = CallRecord{ID: c.id, Direction: "out", From: fromUser, To: to.User, Transport: strings.ToLower(dlg.InviteRequest.Transport()), Start: now, Answer: now}
	if trunk != nil {
		c.rec.Trunk = trunk.cfg.Name
	}
	c.answered.Store(true)
	admitted = true
	s.calls.Store(c.id, c)
	sess.Start(params(choice), c.deliver)
	if !early {
		s.pacer.Add(sess)
	}
	c.endWithDialog()
	return c, nil
}

// earlyTap sends silence during early media and gives each frame heard
// to the dial's media.EarlyTap.
type earlyTap struct {
	in  media.Source
	tap media.EarlyTap
	buf [media.FrameSamples]int16
}

func (e *earlyTap) Fill(dst []int16) int {
	n := min(len(dst), len(e.buf))
	e.in.Fill(e.buf[:n])
	e.tap(e.buf[:n])
	clear(dst)
	return len(dst)
}

// sessionExpires reads Session-Expires (RFC 4028 §4), 0 when absent.
func sessionExpires(req *gosip.Request) (int, error) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x") // the compact form (RFC 4028 §4)
	}
	if h == nil {
		return 0, nil
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("Session-Expires %q", h.Value())
	}
	return n, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// Calls lists the calls up or being set up, as their records so far.
func (s *Server) Calls() []CallRecord {
	var out []CallRecord
	s.calls.Range(func(_, v any) bool {
		c := v.(*Call)
		c.mu.Lock()
		out = append(out, c.rec)
		c.mu.Unlock()
		return true
	})
	return out
}

// RTPStats is what the media of the box's SIP calls have received: the
// packets received and lost on the calls ended and, so far, on the calls
// up, and the highest interarrival jitter among the calls up now.
type RTPStats struct {
	Received, Lost uint64
	Jitter         time.Duration
}

// RTP reads the media statistics of every call, for the box's metrics.
// Loss is net of duplicates (RFC 3550 A.3): a reading may be a little
// below the one before.
func (s *Server) RTP() RTPStats {
	st := RTPStats{Received: s.rtpReceived.Load(), Lost: s.rtpLost.Load()}
	s.calls.Range(func(_, v any) bool {
		sess := v.(*Call).sess
		received, lost := sess.Totals()
		st.Received += received
		st.Lost += lost
		if _, _, ms := sess.Stats(); ms > 0 {
			st.Jitter = max(st.Jitter, time.Duration(ms*float64(time.Millisecond)))
		}
		return true
	})
	return st
}

// Refused reports whether a dial's error is the callee's own answer (busy,
// no such number, declined), which another trunk would give too, rather
// than the trunk's or the network's.
func Refused(err error) bool {
	var r *sipgo.ErrDialogResponse
	if !errors.As(err, &r) || r.Res == nil {
		return false
	}
	switch r.Res.StatusCode {
	case 404, 484, 486, 600, 603, 604:
		return true
	}
	return false
}

// The calling number of a call the box places is often a caller's: a
// From user an outside caller chose, which sipgo writes as it is. So it
// goes out as RFC 3261 allows (§25.1): in the URI, everything but
// alphanumerics and the unreserved and user-unreserved marks is
// %-escaped (';', '?' and '/' too, which are legal there but open
// parameters and headers to a careless peer); in the display name, a
// quoted-string, '"' and '\' are backslash-escaped and control
// characters dropped. A caller cannot add a parameter, a header or a
// second URI to the box's INVITE.
func uriUser(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()&=+$,", c) >= 0 ||
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) { // escaped already, as the caller's URI had it
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func quotedText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
