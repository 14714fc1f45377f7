package sip

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"jinyin/internal/clock"
)

// Binding is one registered contact of an extension.
type Binding struct {
	Contact   gosip.Uri
	Source    string // address the REGISTER came from, for NAT
	Transport string
	CallID    string
	CSeq      uint32
	Expires   time.Time
	Since     time.Time
}

// Registration limits (RFC 3261 §10.2.1.1, §10.3).
const (
	DefaultExpires = 3600 * time.Second
	MinExpires     = 60 * time.Second
	MaxExpires     = 7200 * time.Second
)

// Registrar keeps the contacts of the box's own extensions (agents and
// phones) after digest authentication. An extension has at most its
// configured number of contacts; a new contact beyond that replaces the
// oldest, so a phone that reboots with a new Call-ID is never locked out.
type Registrar struct {
	auth        *Authenticator
	clock       clock.Clock
	log         *slog.Logger
	maxContacts func(ext string) int
	// outcome, when set, sees each checked authentication and may refuse
	// it (the server's events and ACLs).
	outcome func(req *gosip.Request, result AuthResult, user string) AuthResult
	// onChange, when set, is told an extension's bindings each time a
	// REGISTER changes them (none: all removed), under the registrar's
	// lock: it must not block. The box keeps them across a restart.
	onChange func(ext string, bs []Binding)

	mu       sync.Mutex
	bindings map[string][]Binding
}

// NewRegistrar returns a registrar that authenticates with auth and allows
// maxContacts(ext) contacts per extension (0 means 1).
func NewRegistrar(auth *Authenticator, clk clock.Clock, log *slog.Logger, maxContacts func(string) int) *Registrar {
	return &Registrar{auth: auth, clock: clk, log: log, maxContacts: maxContacts, bindings: map[string][]Binding{}}
}

// Contacts returns the live contacts of ext, newest first.
func (r *Registrar) Contacts(ext string) []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(ext)
	out := slices.Clone(r.bindings[ext])
	slices.Reverse(out)
	return out
}

// Has reports whether ext has a live contact, without copying them: the
// queue asks it of every agent at every decision.
func (r *Registrar) Has(ext string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(ext)
	return len(r.bindings[ext]) > 0
}

// Registered lists the extensions with at least one live contact.
func (r *Registrar) Registered() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for ext := range r.bindings {
		r.expire(ext)
		if n := len(r.bindings[ext]); n > 0 {
			out[ext] = n
		}
	}
	return out
}

// ByTransport counts the live contacts of every extension by the
// transport they registered over ("udp", "tcp", "tls").
func (r *Registrar) ByTransport() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for ext := range r.bindings {
		r.expire(ext)
		for _, b := range r.bindings[ext] {
			out[strings.ToLower(b.Transport)]++
		}
	}
	return out
}

func (r *Registrar) expire(ext string) {
	now := r.clock.Now()
	bs := slices.DeleteFunc(r.bindings[ext], func(b Binding) bool { return !b.Expires.After(now) })
	if len(bs) == 0 {
		delete(r.bindings, ext)
	} else {
		r.bindings[ext] = bs
	}
}

// OnRegister handles a REGISTER request.
func (r *Registrar) OnRegister(req *gosip.Request, tx gosip.ServerTransaction) {
	res := r.register(req)
	if err := tx.Respond(res); err != nil {
		r.log.Debug("sip: respond to REGISTER", "err", err)
	}
}

func (r *Registrar) register(req *gosip.Request) *gosip.Response {
	result, user := r.auth.Check(req, "Authorization")
	if r.outcome != nil {
		result = r.outcome(req, result, user)
	}
	switch {
	case result == AuthMissing || result == AuthStale:
		res := gosip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		r.auth.Challenge(req, res, "WWW-Authenticate", result == AuthStale)
		return res
	case result.Refused():
		// A fresh challenge, as for no credentials: a guesser learns
		// nothing from the answer, whether the user exists or not.
		res := gosip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		r.auth.Challenge(req, res, "WWW-Authenticate", false)
		return res
	}
	ext := toUser(req)
	if ext != user {
		return gosip.NewResponseFromRequest(req, 403, "Forbidden (credentials are not for this address)", nil)
	}
	callID, cseq := "", uint32(0)
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	defExpires := DefaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(h.Value(), 10, 32)
		if err != nil {
			return gosip.NewResponseFromRequest(req, 400, "Bad Request (Expires)", nil)
		}
		defExpires = time.Duration(n) * time.Second
	}
	now := r.clock.Now()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(ext)
	bs := r.bindings[ext]
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*gosip.ContactHeader)
		if !ok {
			return gosip.NewResponseFromRequest(req, 400, "Bad Request (Contact)", nil)
		}
		exp := defExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return gosip.NewResponseFromRequest(req, 400, "Bad Request (Contact expires)", nil)
			}
			exp = time.Duration(n) * time.Second
		}
		if c.Address.Wildcard {
			// "Contact: *" with Expires: 0 removes every binding (§10.3 step 6).
			if exp != 0 || len(req.GetHeaders("Contact")) != 1 {
				return gosip.NewResponseFromRequest(req, 400, "Bad Request (Contact: * needs Expires: 0 alone)", nil)
			}
			bs = nil
			break
		}
		i := slices.IndexFunc(bs, func(b Binding) bool { return sameContact(b.Contact, c.Address) })
		if i >= 0 && bs[i].CallID == callID && cseq <= bs[i].CSeq {
			return gosip.NewResponseFromRequest(req, 500, "Server Internal Error (CSeq out of order)", nil)
		}
		if exp == 0 {
			if i >= 0 {
				bs = slices.Delete(bs, i, i+1)
			}
			continue
		}
		if exp < MinExpires {
			res := gosip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(gosip.NewHeader("Min-Expires", strconv.Itoa(int(MinExpires/time.Second))))
			return res
		}
		exp = min(exp, MaxExpires)
		b := Binding{Contact: *c.Address.Clone(), Source: req.Source(), Transport: req.Transport(), CallID: callID, CSeq: cseq, Expires: now.Add(exp), Since: now}
		if i >= 0 {
			b.Since = bs[i].Since
			bs[i] = b
			continue
		}
		limit := max(r.maxContacts(ext), 1)
		if len(bs) >= limit {
			slices.SortFunc(bs, func(a, b Binding) int { return a.Since.Compare(b.Since) })
			r.log.Info("sip: contact limit reached; replacing the oldest", "ext", ext, "limit", limit, "replaced", bs[0].Contact.String())
			bs = bs[len(bs)-limit+1:]
		}
		bs = append(bs, b)
	}
	if len(bs) == 0 {
		delete(r.bindings, ext)
	} else {
		r.bindings[ext] = bs
	}
	if r.onChange != nil {
		r.onChange(ext, slices.Clone(bs))
	}
	res := gosip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range bs {
		c := &gosip.ContactHeader{Address: *b.Contact.Clone()}
		c.Params.Add("expires", strconv.Itoa(int(b.Expires.Sub(now)/time.Second)))
		res.AppendHeader(c)
	}
	res.AppendHeader(gosip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	return res
}

// Restore puts back the bindings kept from before a restart, so phones
// are reachable at once instead of after their next REGISTER; expired
// ones are left out.
func (r *Registrar) Restore(all map[string][]Binding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ext, bs := range all {
		r.bindings[ext] = slices.Clone(bs)
		r.expire(ext)
	}
}

func toUser(req *gosip.Request) string {
	if to := req.To(); to != nil {
		return to.Address.User
	}
	return ""
}

// sameContact compares contact URIs as RFC 3261 §19.1.4 would for a
// binding: user, host and port.
func sameContact(a, b gosip.Uri) bool {
	return a.User == b.User && a.Host == b.Host && a.Port == b.Port && a.Scheme == b.Scheme
}
