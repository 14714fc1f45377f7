// Package sip is the box's SIP signalling on github.com/emiago/sipgo: the
// listeners on UDP and TCP and the request handlers the box serves.
//
// Layer: signalling, beside pri and analog, above media; it imports sipgo,
// icholy/digest (the digest challenge), config, internal/clock, media,
// media/rtp, sip/sdp and the standard library, never the IVR (which sees
// channels, not SIP) or the store (call records go out through OnCallEnd).
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media/rtp"
	"jinyin/security"
)

// Methods the box answers; anything else gets 501 Not Implemented.
var allowed = []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "UPDATE"}

// Options configure a Server.
type Options struct {
	Config      config.SIP
	Name        string // User-Agent and default realm
	Log         *slog.Logger
	Clock       clock.Clock
	Password    func(ext string) (string, bool) // digest secret of an extension
	MaxContacts func(ext string) int
	Router      Router // where inbound calls go
	// IsExtension reports whether a number is one of the box's
	// extensions: what a trunk without a destination (another box of the
	// fleet) may dial here; nil lets it dial none.
	IsExtension func(number string) bool
	Trunks      []config.Trunk
	OnCallEnd   func(CallRecord) // each ended call leg, for the records; must not block
	// Guard bans and counts (package security); nil admits everything.
	Guard *security.Guard
	// ACL reports whether ext may register and call from src; nil allows
	// every source.
	ACL func(ext string, src netip.Addr) bool
	// Bindings, when set, is told an extension's registrations each time
	// they change (Registrar.Restore puts them back); it must not block.
	Bindings func(ext string, bs []Binding)
	// TLS serves the "tls" transport (its certificate); TLSClient is how
	// the box connects to phones and carriers over TLS.
	TLS, TLSClient *tls.Config
	// SRTP is an extension's media encryption setting ("", "optional",
	// "required"); nil is none for every extension.
	SRTP func(ext string) string
	// Overloaded, when it reports true, refuses new calls with 503 and
	// Retry-After (the box is short of CPU or memory); calls up go on.
	Overloaded func() bool
}

// Server is the box's SIP endpoint.
type Server struct {
	log       *slog.Logger
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	udp       net.PacketConn
	tcp       net.Listener
	tls       net.Listener
	once      sync.Once
	Registrar *Registrar

	cfg           config.SIP
	router        Router
	isExt         func(string) bool
	dialogs       *sipgo.DialogServerCache
	clientDialogs *sipgo.DialogClientCache
	contact       gosip.ContactHeader
	contactTLS    gosip.ContactHeader // for dialogs over TLS
	ports         *rtp.PortPool
	pacer         *rtp.Pacer
	mediaAddr     netip.Addr
	calls         sync.Map // dialog ID -> *Call
	active        atomic.Int64
	rate          tokenBucket

	Rejected atomic.Uint64 // INVITEs answered 503 for overload
	// Unrecorded counts refused calls beyond refusedPerSecond, left
	// without a record so that a flood cannot fill the disk with them.
	Unrecorded atomic.Uint64
	refusals   tokenBucket
	// rtpReceived and rtpLost add up the RTP of the calls ended (RTP).
	rtpReceived, rtpLost atomic.Uint64

	clock      clock.Clock
	guard      *security.Guard
	acl        func(string, netip.Addr) bool
	srtp       func(string) string
	overloaded func() bool
	onCallEnd  func(CallRecord)
	client     *sipgo.Client
	port       int // SIP port, for Contact headers
	trunks     []*Trunk
}

// Listen binds every configured transport at cfg.Listen, so that a port
// already taken is reported here, before the box claims to be up.
func Listen(o Options) (*Server, error) {
	cfg, name, log := o.Config, o.Name, o.Log
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	realm := cfg.Realm
	if realm == "" {
		realm = name
	}
	s := &Server{log: log, cfg: cfg, router: o.Router, clock: o.Clock, onCallEnd: o.OnCallEnd, guard: o.Guard, acl: o.ACL, srtp: o.SRTP, overloaded: o.Overloaded, isExt: o.IsExtension}
	if s.router == nil {
		s.router = func(string, string) (Route, error) { return Route{}, ErrNotFound }
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen %q: %w", cfg.Listen, err)
	}
	if s.mediaAddr, err = mediaAddress(host); err != nil {
		return nil, err
	}
	lo, hi, err := config.ParsePortRange(cfg.RTPPorts)
	if err != nil {
		return nil, err
	}
	s.ports = rtp.NewPortPool(s.mediaAddr, lo, hi)
	s.pacer = rtp.NewPacer(runtime.GOMAXPROCS(0))
	s.rate = tokenBucket{perSecond: float64(cfg.MaxCallsPerSecond), clock: o.Clock}
	s.refusals = tokenBucket{perSecond: refusedPerSecond, clock: o.Clock}
	p, _ := strconv.Atoi(port)
	s.port = p
	if err := s.openTrunks(o.Trunks); err != nil {
		return nil, err
	}
	for _, t := range cfg.Transports {
		var err error
		switch t {
		case "udp":
			s.udp, err = net.ListenPacket("udp", cfg.Listen)
		case "tcp":
			s.tcp, err = net.Listen("tcp", cfg.Listen)
		case "tls":
			if o.TLS == nil {
				err = errors.New("no certificate")
				break
			}
			s.tls, err = tls.Listen("tcp", tlsListen(cfg), o.TLS)
		default:
			err = fmt.Errorf("transport %q not supported", t)
		}
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("sip: listen %s %s: %w", t, cfg.Listen, err)
		}
	}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransportLayerOptions(gosip.WithTransportLayerReadFilter(s.readFilter))}
	if o.TLSClient != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(o.TLSClient))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		s.closeListeners()
		return nil, fmt.Errorf("sip: %w", err)
	}
	// Via names the box's address (not 0.0.0.0) and asks for rport, so a
	// carrier answers where the request came from (RFC 3581).
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(s.mediaAddr.String()), sipgo.WithClientNAT())
	if err != nil {
		ua.Close()
		s.closeListeners()
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.ua, s.srv = ua, srv
	s.client = client
	s.dialogs = sipgo.NewDialogServerCache(client, gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "jinyin", Host: s.mediaAddr.String(), Port: p}})
	s.contact = gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "jinyin", Host: s.mediaAddr.String(), Port: p}}
	s.clientDialogs = sipgo.NewDialogClientCache(client, s.contact)
	if s.tls != nil {
		tp := s.tls.Addr().(*net.TCPAddr).Port
		s.contactTLS = gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "jinyin", Host: s.mediaAddr.String(), Port: tp, UriParams: gosip.NewParams()}}
		s.contactTLS.Address.UriParams.Add("transport", "tls")
	}
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnUpdate(s.onUpdate)
	// sipgo answers a CANCEL that matches a pending INVITE itself; one that
	// matches nothing reaches here (RFC 3261 §9.2: 481).
	srv.OnCancel(func(req *gosip.Request, tx gosip.ServerTransaction) {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	s.Registrar = NewRegistrar(NewAuthenticator(realm, cfg.Digest, o.Clock, o.Password), o.Clock, log, o.MaxContacts)
	s.Registrar.outcome, s.Registrar.onChange = s.authOutcome, o.Bindings
	srv.OnRegister(s.Registrar.OnRegister)
	srv.OnOptions(s.onOptions)
	srv.OnNoRoute(s.onUnknown)
	return s, nil
}

// Addrs returns the bound addresses, e.g. "udp 127.0.0.1:5060".
func (s *Server) Addrs() []string {
	var out []string
	if s.udp != nil {
		out = append(out, "udp "+s.udp.LocalAddr().String())
	}
	if s.tcp != nil {
		out = append(out, "tcp "+s.tcp.Addr().String())
	}
	if s.tls != nil {
		out = append(out, "tls "+s.tls.Addr().String())
	}
	return out
}

// MediaLoad is the share of its 20 ms the media pacer's busiest shard
// spends sending and receiving (see rtp.Pacer.Load).
func (s *Server) MediaLoad() float64 { return s.pacer.Load() }

// tlsListen is where the "tls" transport listens: sip.tls_listen, or the
// port above sip.listen's (5061 for 5060).
func tlsListen(cfg config.SIP) string {
	if cfg.TLSListen != "" {
		return cfg.TLSListen
	}
	host, port, _ := net.SplitHostPort(cfg.Listen)
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(p+1))
}

// contactFor is the box's Contact for a dialog over transport: its TLS
// listener for TLS, else its UDP/TCP port.
func (s *Server) contactFor(transport string) *gosip.ContactHeader {
	if strings.EqualFold(transport, "TLS") && s.tls != nil {
		return &s.contactTLS
	}
	return &s.contact
}

// Serve handles requests until ctx ends, then closes the endpoint.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 3)
	n := 0
	if s.udp != nil {
		n++
		go func() { errc <- s.srv.ServeUDP(s.udp) }()
	}
	if s.tcp != nil {
		n++
		go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	}
	if s.tls != nil {
		n++
		go func() { errc <- s.srv.ServeTLS(s.tls) }()
	}
	for _, t := range s.trunks {
		if t.reg != nil {
			t.reg.start()
			defer t.reg.stop()
		}
	}
	stopQualify := make(chan struct{})
	defer close(stopQualify)
	s.qualifyAll(stopQualify)
	pctx, stopPacer := context.WithCancel(ctx)
	pacerDone := make(chan struct{})
	go func() { s.pacer.Run(pctx); close(pacerDone) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		n--
	}
	s.hangupAll()
	stopPacer()
	<-pacerDone
	s.Close()
	for ; n > 0; n-- {
		<-errc
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("sip: serve: %w", err)
	}
	return nil
}

// hangupAll ends every call, as the box stops.
func (s *Server) hangupAll() {
	s.calls.Range(func(_, v any) bool {
		go v.(*Call).Hangup()
		return true
	})
	// Real time: the far ends' BYE transactions run on the network, not
	// on the box's clock, and the box is stopping (a fake clock in a test
	// would never let go).
	for deadline := time.Now().Add(3 * time.Second); s.active.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	// A far end that does not answer the BYE in time: the call ends here,
	// so its record is written before the box stops.
	s.calls.Range(func(_, v any) bool {
		v.(*Call).end(false)
		return true
	})
}

// ActiveCalls is the number of calls up or being set up.
func (s *Server) ActiveCalls() int { return int(s.active.Load()) }

// admit applies the concurrent-call cap to a new call, over TCP the
// calls-per-second rate too (over UDP readFilter applied it before
// parsing), and the overload gate (a drain, CPU or memory short); capped
// says a cap refused it, which is a security event.
func (s *Server) admit(transport string) (ok, capped bool) {
	if n := s.active.Add(1); s.cfg.MaxCalls > 0 && n > int64(s.cfg.MaxCalls) {
		s.active.Add(-1)
		s.Rejected.Add(1)
		return false, true
	}
	capped = transport != "UDP" && !s.rate.allow()
	if capped || (s.overloaded != nil && s.overloaded()) {
		s.active.Add(-1)
		s.Rejected.Add(1)
		return false, capped
	}
	return true, false
}

// release gives back what a call held: its place in the box's calls and
// its trunk channel, if it has one.
func (s *Server) release(trunk *Trunk) {
	s.active.Add(-1)
	if trunk != nil {
		trunk.release()
	}
}

// tokenBucket admits perSecond events a second on average, in bursts of
// at most one second's worth; perSecond 0 admits everything.
type tokenBucket struct {
	mu        sync.Mutex
	perSecond float64
	tokens    float64
	last      time.Time
	clock     clock.Clock
}

func (b *tokenBucket) allow() bool {
	if b.perSecond <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if b.last.IsZero() {
		b.tokens = b.perSecond
	} else {
		b.tokens = min(b.perSecond, b.tokens+now.Sub(b.last).Seconds()*b.perSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// mediaAddress is the address RTP binds and SDP names: the SIP listen
// host, or when that is unspecified (0.0.0.0) the first non-loopback
// address of the box.
func mediaAddress(host string) (netip.Addr, error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sip: listen host %q must be an IP address", host)
	}
	if !a.IsUnspecified() {
		return a, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sip: interface addresses: %w", err)
	}
	for _, ad := range addrs {
		if p, err := netip.ParsePrefix(ad.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
			return p.Addr(), nil
		}
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// Close stops the listeners and the transaction layer.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closeListeners()
		s.ua.Close()
	})
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
	for _, t := range s.trunks {
		if t.qualify != nil {
			t.qualify.Stop()
		}
	}
}

// onOptions answers a probe (a peer's qualify, Kamailio dispatcher's
// keepalive) with the box's state: 503 and Retry-After while it would
// refuse a new call (draining, short of CPU or memory, at max_calls), so
// a dispatcher in front of several boxes leaves it out until it answers
// 200 again; the calls up are not affected.
func (s *Server) onOptions(req *gosip.Request, tx gosip.ServerTransaction) {
	res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
	calls := s.active.Load()
	if (s.overloaded != nil && s.overloaded()) || (s.cfg.MaxCalls > 0 && calls >= int64(s.cfg.MaxCalls)) {
		res = gosip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(gosip.NewHeader("Retry-After", "2"))
	}
	// The load itself, for a dispatcher or a person with sngrep: calls up
	// and the cap (0: none).
	res.AppendHeader(gosip.NewHeader("Jinyin-Load", fmt.Sprintf("calls=%d;max=%d", calls, s.cfg.MaxCalls)))
	res.AppendHeader(gosip.NewHeader("Allow", strings.Join(allowed, ", ")))
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond to OPTIONS", "err", err)
	}
}

func (s *Server) onUnknown(req *gosip.Request, tx gosip.ServerTransaction) {
	code, reason := 501, "Not Implemented"
	if slices.Contains(allowed, string(req.Method)) {
		code, reason = 500, "Server Internal Error"
	}
	res := gosip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(gosip.NewHeader("Allow", strings.Join(allowed, ", ")))
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond", "method", req.Method, "err", err)
	}
}
