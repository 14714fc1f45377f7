package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/config"
	"jinyin/internal/clock"
)

// Trunk is a SIP trunk: a carrier the box registers to, or a peer it
// trusts by address. Calls from its address land on its destination,
// whatever number they dialled, up to its channel limit.
type Trunk struct {
	cfg    config.Trunk
	peer   netip.AddrPort
	acl    []netip.Prefix // further networks its calls come from
	active atomic.Int64
	reg    *regFSM
	callID string
	cseq   atomic.Uint32

	qualify clock.Ticker // an OPTIONS each tick; nil: none
	down    atomic.Bool  // two OPTIONS in a row went unanswered
	misses  int          // unanswered in a row, the qualifier's goroutine only
}

// ErrTrunkDown is a dial through a trunk that does not answer OPTIONS.
var ErrTrunkDown = errors.New("sip: trunk down (no answer to OPTIONS)")

// qualifyMisses unanswered OPTIONS mark a trunk down; qualifyWait is how
// long each waits for its answer.
const qualifyMisses = 2

var qualifyWait = 5 * time.Second

// qualifyAll sends each qualified trunk an OPTIONS every interval, on the
// box's clock, until stop.
// (The tickers start with the server, in openTrunks, so that the first
// interval runs from Listen.)
func (s *Server) qualifyAll(stop <-chan struct{}) {
	for _, t := range s.trunks {
		if t.qualify != nil {
			go s.qualifyLoop(t, stop)
		}
	}
}

func (s *Server) qualifyLoop(t *Trunk, stop <-chan struct{}) {
	defer t.qualify.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.qualify.C():
			s.qualifyOnce(t)
		}
	}
}

// qualifyOnce sends one OPTIONS and marks the trunk up or down by its
// answer: any response is an answer (a carrier may refuse OPTIONS with
// 405 and still be there).
func (s *Server) qualifyOnce(t *Trunk) {
	ctx, cancel := context.WithTimeout(context.Background(), qualifyWait) // real time: a SIP transaction on the network
	defer cancel()
	host := t.peer.Addr().String()
	req := gosip.NewRequest(gosip.OPTIONS, gosip.Uri{Scheme: "sip", Host: host, Port: int(t.peer.Port())})
	from := &gosip.FromHeader{Address: gosip.Uri{Scheme: "sip", User: "jinyin", Host: s.mediaAddr.String()}}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: gosip.Uri{Scheme: "sip", Host: host}})
	_, err := s.client.Do(ctx, req)
	if err == nil {
		t.misses = 0
		if t.down.Swap(false) {
			s.log.Info("sip: trunk up again: it answers OPTIONS", "trunk", t.cfg.Name)
		}
		return
	}
	if t.misses++; t.misses >= qualifyMisses && !t.down.Swap(true) {
		s.log.Error("sip: trunk down: OPTIONS unanswered; its calls go to the next trunk of their route", "trunk", t.cfg.Name, "misses", t.misses, "err", err)
	}
}

// seize takes one of the trunk's channels for a call; false when all
// are busy. Channels 0 is no limit.
func (t *Trunk) seize() bool {
	if n := t.active.Add(1); t.cfg.Channels > 0 && n > int64(t.cfg.Channels) {
		t.active.Add(-1)
		return false
	}
	return true
}

// release gives a channel back.
func (t *Trunk) release() { t.active.Add(-1) }

// TrunkStatus is a trunk as the console and the API show it.
type TrunkStatus struct {
	Name     string     `json:"name"`
	Peer     string     `json:"peer"`
	State    TrunkState `json:"state"`
	Detail   string     `json:"detail,omitempty"`
	Calls    int        `json:"calls"`
	Channels int        `json:"channels"` // 0: no limit
	NextTry  time.Time  `json:"next_try,omitzero"`
	Down     bool       `json:"down,omitempty"` // OPTIONS unanswered (qualify)
}

// openTrunks resolves each trunk's peer. A host name is looked up once,
// at start; a trunk whose host does not resolve is an error.
func (s *Server) openTrunks(trunks []config.Trunk) error {
	for _, tc := range trunks {
		ua, err := net.ResolveUDPAddr("udp", tc.Host)
		if err != nil {
			return fmt.Errorf("sip: trunk %s: %w", tc.Name, err)
		}
		acl, err := config.ParseNetworks(tc.ACL)
		if err != nil {
			return fmt.Errorf("sip: trunk %s: acl: %w", tc.Name, err)
		}
		ap := ua.AddrPort()
		t := &Trunk{cfg: tc, peer: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), acl: acl, callID: gosip.GenerateTagN(24) + "@jinyin"}
		if d := config.DurationOr(tc.Qualify, 0); d > 0 {
			t.qualify = s.clock.NewTicker(d)
		}
		if tc.Register {
			t.reg = &regFSM{clock: s.clock, register: func() (time.Duration, error) { return s.registerTrunk(t) }}
		}
		s.trunks = append(s.trunks, t)
	}
	return nil
}

// trunkFor returns the trunk a request came from, by its source address:
// the trunk's host, or a network of its acl.
func (s *Server) trunkFor(req *gosip.Request) *Trunk {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	a = a.Unmap()
	for _, t := range s.trunks {
		if t.peer.Addr() == a || slices.ContainsFunc(t.acl, func(p netip.Prefix) bool { return p.Contains(a) }) {
			return t
		}
	}
	return nil
}

// Trunks reports every trunk's state.
func (s *Server) Trunks() []TrunkStatus {
	var out []TrunkStatus
	for _, t := range s.trunks {
		st := TrunkStatus{Name: t.cfg.Name, Peer: t.peer.String(), State: TrunkIPAuth, Calls: int(t.active.Load()), Channels: t.cfg.Channels, Down: t.down.Load()}
		if t.reg != nil {
			st.State, st.Detail, st.NextTry = t.reg.status()
		}
		out = append(out, st)
	}
	return out
}

// registerTrunk sends one REGISTER to the carrier, answering its digest
// challenge, and returns the expiry it granted. The Call-ID stays the same
// for the trunk's life and CSeq grows, so refreshes update one binding.
func (s *Server) registerTrunk(t *Trunk) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // real time: a SIP transaction on the network
	defer cancel()
	host := t.peer.Addr().String()
	req := gosip.NewRequest(gosip.REGISTER, gosip.Uri{Scheme: "sip", Host: host, Port: int(t.peer.Port())})
	aor := gosip.Uri{Scheme: "sip", User: t.cfg.Username, Host: host}
	from := &gosip.FromHeader{Address: aor}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: aor})
	callID := gosip.CallIDHeader(t.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: t.cseq.Add(1), MethodName: gosip.REGISTER})
	req.AppendHeader(&gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: t.cfg.Username, Host: s.mediaAddr.String(), Port: s.port}})
	req.AppendHeader(gosip.NewHeader("Expires", "3600"))
	res, err := s.client.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: t.cfg.Username, Password: t.cfg.Password})
		if res != nil && res.CSeq() != nil {
			t.cseq.Store(res.CSeq().SeqNo)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("REGISTER to %s: %w", t.peer, err)
	}
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("REGISTER to %s: %d %s", t.peer, res.StatusCode, res.Reason)
	}
	exp := 3600 * time.Second
	if c := res.Contact(); c != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				exp = time.Duration(n) * time.Second
			}
		}
	} else if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			exp = time.Duration(n) * time.Second
		}
	}
	if exp < 10*time.Second {
		exp = 10 * time.Second
	}
	return exp, nil
}
