// Package sip is the box's SIP signalling on github.com/emiago/sipgo: the
// listeners on UDP and TCP and the request handlers the box serves.
//
// Layer: signalling, beside ivr and media; it imports config, store and the
// standard library, never the IVR (which sees channels, not SIP).
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/clock"
)

// Methods the box answers; anything else gets 501 Not Implemented.
var allowed = []string{"OPTIONS", "REGISTER"}

// Options configure a Server.
type Options struct {
	Config      config.SIP
	Name        string // User-Agent and default realm
	Log         *slog.Logger
	Clock       clock.Clock
	Password    func(ext string) (string, bool) // digest secret of an extension
	MaxContacts func(ext string) int
}

// Server is the box's SIP endpoint.
type Server struct {
	log       *slog.Logger
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	udp       net.PacketConn
	tcp       net.Listener
	once      sync.Once
	Registrar *Registrar
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
	s := &Server{log: log}
	for _, t := range cfg.Transports {
		var err error
		switch t {
		case "udp":
			s.udp, err = net.ListenPacket("udp", cfg.Listen)
		case "tcp":
			s.tcp, err = net.Listen("tcp", cfg.Listen)
		default:
			err = fmt.Errorf("transport %q not supported", t)
		}
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("sip: listen %s %s: %w", t, cfg.Listen, err)
		}
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name))
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
	s.ua, s.srv = ua, srv
	s.Registrar = NewRegistrar(NewAuthenticator(realm, cfg.Digest, o.Clock, o.Password), o.Clock, log, o.MaxContacts)
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
	return out
}

// Serve handles requests until ctx ends, then closes the endpoint.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 2)
	n := 0
	if s.udp != nil {
		n++
		go func() { errc <- s.srv.ServeUDP(s.udp) }()
	}
	if s.tcp != nil {
		n++
		go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		n--
	}
	s.Close()
	for ; n > 0; n-- {
		<-errc
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("sip: serve: %w", err)
	}
	return nil
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
}

func (s *Server) onOptions(req *gosip.Request, tx gosip.ServerTransaction) {
	res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
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
