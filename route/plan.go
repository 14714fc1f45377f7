package route

import (
	"fmt"
	"jinyin/internal/clock"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"jinyin/acd"
	"jinyin/analog"
	"jinyin/config"
	"jinyin/ivr"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
)

// Plan is the dial plan of one box. New fills it from the config; the box
// sets the interfaces as it opens what they stand for, before the first
// call.
type Plan struct {
	Name    string // the box's name: the calling party of callbacks to its phones
	Country string // call-progress tones: the caller's ring-back
	Lang    string // the prompts' language of feature codes' replies
	Log     *slog.Logger
	Clock   clock.Clock // times the ringing of outbound calls

	Registrar Registrar
	SIP       SIP
	Phones    Phones            // FXS phones
	Spans     map[string][]Span // PRI span group -> its spans, in the order tried
	Lines     map[string][]Line // FXO line group -> its lines, in the order tried
	IVR       IVR
	Queues    Queues
	Agents    Agents
	Prompts   Prompts

	// Event reports a security event (security.Guard.Event); nil drops it.
	Event func(name, service string, src netip.AddrPort, account, detail string)

	exts     map[string]config.Extension
	outbound []config.Outbound
	toll     *toll
}

// New is the plan of a validated config.
func New(cfg *config.Config) *Plan {
	p := &Plan{Name: cfg.Box.Name, Country: cfg.Box.Country, Lang: cfg.Box.Language, Log: slog.Default(),
		Clock: clock.Real{}, exts: map[string]config.Extension{}, outbound: cfg.Outbound, toll: newToll(cfg)}
	for _, e := range cfg.Extensions {
		p.exts[e.Number] = e
	}
	return p
}

// Extension is the extension of the config with that number.
func (p *Plan) Extension(number string) (config.Extension, bool) {
	e, ok := p.exts[number]
	return e, ok
}

// Kind is what a Dest is.
type Kind uint8

const (
	Refused Kind = iota // turned away: Dest.Refusal says why
	Flow                // an IVR extension: Dest.Flow answers
	Ring                // an extension's phone (Dest.Number) rings, bridged through the box
	Queue               // the queue Dest.Queue, or with Dest.Number the agent's own line
	Feature             // an agent's feature code Dest.Code (*13's reason in Dest.Arg)
	Monitor             // a supervisor's code Dest.Code for agent Dest.Arg, in Dest.Mode
	Trunk               // Dest.Number out through the first of Dest.Trunks that takes it
)

func (k Kind) String() string {
	return [...]string{"Refused", "Flow", "Ring", "Queue", "Feature", "Monitor", "Trunk"}[k]
}

// Refusal is why a call is turned away.
type Refusal uint8

const (
	NotRefused   Refusal = iota
	NoSuchNumber         // SIP 404 Not Found; Q.850 cause 1, unallocated number
	NeedsAuth            // a line has no digest to give a destination that asks for one: Q.850 cause 21, call rejected
	Unreachable          // no phone of the extension to ring now: SIP 480; Q.850 cause 20, subscriber absent
	Busy                 // the extension rang was busy: SIP 486 Busy Here; Q.850 cause 17, user busy
	NoAnswer             // the extension rang did not answer in time: SIP 480; Q.850 cause 19, no answer from user
)

func (r Refusal) String() string {
	return [...]string{"NotRefused", "NoSuchNumber", "NeedsAuth", "Unreachable", "Busy", "NoAnswer"}[r]
}

// Cause is the Q.850 cause a line refuses with.
func (r Refusal) Cause() uint8 {
	switch r {
	case NeedsAuth:
		return q931.CauseRejected
	case Unreachable:
		return q931.CauseAbsent
	case Busy:
		return q931.CauseBusy
	case NoAnswer:
		return q931.CauseNoAnswer
	}
	return q931.CauseUnallocated
}

// SIPStatus is the status a SIP call is refused with.
func (r Refusal) SIPStatus() int {
	switch r {
	case NoSuchNumber:
		return 404
	case Busy:
		return 486
	}
	return 480
}

// SIPError is what a sip.Router refuses with (404 or 480).
func (r Refusal) SIPError() error {
	if r == Unreachable {
		return sip.ErrUnavailable
	}
	return sip.ErrNotFound
}

// Via is the signalling a trunk group dials out by.
type Via uint8

const (
	ViaSIP Via = iota // a [[trunk]] of the config
	ViaPRI            // a span group running PRI
	ViaFXO            // a group of FXO lines
)

func (v Via) String() string { return [...]string{"SIP", "PRI", "FXO"}[v] }

// Dest is where a number goes.
type Dest struct {
	Kind    Kind
	Refusal Refusal  // Refused
	Number  string   // as dialled; Queue: the agent, "" for a queue; Trunk: the number out
	Flow    string   // Flow
	Auth    bool     // SIP callers must prove by digest that they are their From's extension
	Queue   string   // Queue
	Code    string   // Feature, Monitor: "*11"...
	Arg     string   // Feature *13: the pause reason; Monitor: the agent
	Mode    string   // Monitor: acd.Listen, acd.Whisper or acd.Barge
	Trunks  []string // Trunk: trunk groups or SIP trunks, tried in order
}

func refused(r Refusal) Dest { return Dest{Kind: Refused, Refusal: r} }

// Origin is where a call comes in, which decides what it may reach.
type Origin uint8

const (
	FromSIP  Origin = iota // a SIP phone or trunk: feature codes too; a destination with auth asks for a digest
	FromLine               // an exchange line (PRI, FXO) or a call handed on: no digest to give
	FromFXS                // an analog phone on an FXS port: the wire is its identity
)

// Lookup is where a call to number from origin goes: feature codes (from
// SIP only), then the config's extensions; an IVR extension answers, an
// agent or phone rings if it has a phone to ring now. A phone's number
// with an [[outbound]] prefix goes out (a SIP phone proves its extension
// by digest first); exchange lines never reach a way out.
func (p *Plan) Lookup(number string, o Origin) Dest {
	if o == FromSIP {
		if d, ok := featureCode(number); ok {
			return d
		}
	}
	if r, ok := p.outboundOf(number); ok {
		if o == FromLine {
			return refused(NoSuchNumber)
		}
		return Dest{Kind: Trunk, Number: number[len(r.Prefix):], Trunks: r.Trunks, Auth: o == FromSIP}
	}
	e, ok := p.exts[number]
	switch {
	case !ok:
		return refused(NoSuchNumber)
	case e.Auth && o == FromLine:
		return refused(NeedsAuth)
	case e.Kind == "ivr":
		return Dest{Kind: Flow, Number: number, Flow: e.Flow, Auth: e.Auth && o == FromSIP}
	case !p.reachable(number):
		return refused(Unreachable)
	}
	return Dest{Kind: Ring, Number: number}
}

// Resolve is where an IVR transfer goes: a queue; an agent, through the
// queue (waiting for that agent first); an extension's phone; a number
// out through a trunk group. It fails for a target no one can take.
func (p *Plan) Resolve(t ivr.Target) (Dest, error) {
	switch t.Kind {
	case "queue":
		return Dest{Kind: Queue, Queue: t.What}, nil
	case "agent", "ext":
		if t.Kind == "agent" && p.Queues.IsAgent(t.What) {
			return Dest{Kind: Queue, Number: t.What}, nil
		}
		e, ok := p.exts[t.What]
		if !ok || (t.Kind == "agent" && e.Kind != "agent") || !e.Registers() {
			return Dest{}, fmt.Errorf("no %s %q", t.Kind, t.What)
		}
		return Dest{Kind: Ring, Number: t.What}, nil
	case "trunk":
		return Dest{Kind: Trunk, Trunks: []string{t.What}, Number: t.Number}, nil
	}
	return Dest{}, fmt.Errorf("transfer to %q is not supported", t.Kind)
}

// via is how a trunk group dials: a PRI span group or FXO lines of that
// name, else the SIP trunk.
func (p *Plan) via(trunk string) Via {
	switch {
	case len(p.Spans[trunk]) > 0:
		return ViaPRI
	case len(p.Lines[trunk]) > 0:
		return ViaFXO
	}
	return ViaSIP
}

// reachable reports whether an extension has a phone to ring: on an FXS
// port, or registered over SIP.
func (p *Plan) reachable(ext string) bool {
	return p.Phones.Has(ext) || p.Registrar.Has(ext)
}

// PRINumber says how far a PRI called number routes (overlap
// receiving): see matchAs.
func (p *Plan) PRINumber(digits string) pri.Match {
	return matchAs(p, digits, pri.NoMatch, pri.MoreDigits, pri.NoMatch, pri.Complete) // lines never go out
}

// AnalogNumber says how far digits dialled on an FXS phone route: see
// matchAs.
func (p *Plan) AnalogNumber(digits string) analog.Match {
	return matchAs(p, digits, analog.NoMatch, analog.MoreDigits, analog.Open, analog.Complete)
}

// outboundOf is the [[outbound]] route of a number dialled with its
// prefix and more.
func (p *Plan) outboundOf(number string) (config.Outbound, bool) {
	for _, r := range p.outbound {
		if len(number) > len(r.Prefix) && strings.HasPrefix(number, r.Prefix) {
			return r, true
		}
	}
	return config.Outbound{}, false
}

// matchAs says how far digits dialled on a line route, in the line's
// terms: an extension matched whole is complete; a prefix of one waits
// for more digits; a number out (an [[outbound]] prefix and digits) is
// complete when the dialling pauses (open); anything else matches
// nothing (feature codes are for SIP phones).
func matchAs[M comparable](p *Plan, digits string, none, more, open, complete M) M {
	if _, ok := p.exts[digits]; ok {
		return complete
	}
	out := open != none // a line that may go out at all
	if _, ok := p.outboundOf(digits); ok && out {
		return open
	}
	for n := range p.exts {
		if strings.HasPrefix(n, digits) {
			return more
		}
	}
	for _, r := range p.outbound {
		if out && strings.HasPrefix(r.Prefix, digits) {
			return more
		}
	}
	return none
}

// Agents' feature codes, dialled from their own phones (authenticated):
// *11 log in, *12 log out, *13 pause (*13 and a reason code, e.g. *1302),
// *14 available again.
var agentCodes = []string{"*11", "*12", "*13", "*14"}

// Supervisors' feature codes: *15, *16 or *17 and an agent's number
// listen to, whisper to, or barge in on that agent's queue call; during
// it 4, 5 and 6 switch between the three.
var monitorCodes = map[string]string{"*15": acd.Listen, "*16": acd.Whisper, "*17": acd.Barge}

// featureCode reads a feature code, or reports that number is not one.
func featureCode(number string) (Dest, bool) {
	if len(number) < 3 {
		return Dest{}, false
	}
	code, arg := number[:3], number[3:]
	digits := strings.Trim(arg, "0123456789") == ""
	if mode, ok := monitorCodes[code]; ok && arg != "" && digits {
		return Dest{Kind: Monitor, Number: number, Auth: true, Code: code, Arg: arg, Mode: mode}, true
	}
	if !slices.Contains(agentCodes, code) || (arg != "" && (code != "*13" || !digits)) {
		return Dest{}, false
	}
	if code == "*13" && arg == "" {
		arg = "break"
	}
	return Dest{Kind: Feature, Number: number, Auth: true, Code: code, Arg: arg}, true
}

func or(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
