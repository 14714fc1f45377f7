package route

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"jinyin/acd"
	"jinyin/analog"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/media/tone"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
)

// Registrar tells which extensions have a SIP phone registered now.
type Registrar interface {
	Has(ext string) bool
}

// SIP places calls over SIP.
type SIP interface {
	// Phone calls an extension's newest registered phone.
	Phone(ctx context.Context, ext, from string) (media.Channel, error)
	// Trunk calls number through a [[trunk]] of the config.
	Trunk(ctx context.Context, trunk, number, from string) (media.Channel, error)
}

// Span is one span of a PRI span group.
type Span interface {
	LinkUp() bool // the D-channel is up
	Dial(ctx context.Context, called, calling string) (media.Channel, error)
}

// Line is one FXO line of a line group.
type Line interface {
	Dial(ctx context.Context, number string) (media.Channel, error)
}

// Phones are the analog phones on FXS ports, by extension.
type Phones interface {
	Has(ext string) bool
	Ring(ctx context.Context, ext, from string) (media.Channel, error)
}

// IVR runs flows; *ivr.Engine is one. Run returns what the caller keyed
// (unused here: campaigns keep it).
type IVR interface {
	Run(ch media.Channel, flow string, info ivr.CallInfo) map[string]string
}

// Queues is the ACD as calls reach it; *acd.ACD is one.
type Queues interface {
	IsAgent(ext string) bool
	Wait(ch media.Channel, queue string, c acd.Caller) error
}

// Agents is the ACD as agents' and supervisors' feature codes reach it;
// *acd.ACD is one.
type Agents interface {
	Login(ext string) error
	Logout(ext string) error
	Pause(ext, reason string) error
	Unpause(ext string) error
	IsSupervisor(ext string) bool
	Monitor(sup media.Channel, supervisor, agent, mode string) error
}

// Prompts are the replies feature codes play; *prompt.Set is one.
type Prompts interface {
	Player(lang string, ids ...string) (*prompt.Player, error)
}

// ringTimeout is how long phones ring before the caller is told no one
// answers.
const ringTimeout = 30 * time.Second

var errNoOne = errors.New("no one to take the call: no phone of the target is registered")

// Transfer hands an IVR call to a person or a number (the IVR's
// Transfer): it returns once the call is over, or an error at once when
// no one can take it.
func (p *Plan) Transfer(ch media.Channel, t ivr.Target) error {
	d, err := p.Resolve(t)
	if err != nil {
		return err
	}
	switch d.Kind {
	case Queue:
		return p.Queues.Wait(ch, d.Queue, acd.Caller{Call: ch.ID(), Number: t.Caller, Tier: t.Tier, Lang: t.Lang, Agent: d.Number})
	case Ring:
		return p.ring(ch, d.Number, t.Caller, nil)
	}
	if t.Outside {
		// A caller from outside sent back out (DISA, tromboning): only
		// to the classes [security] relay_classes names.
		if c := Classify(d.Number, p.isExt); !p.toll.relay[c] {
			err := &ErrDialDenied{Number: d.Number, Class: c, Why: fmt.Sprintf("a caller from outside is not sent back out to %s numbers ([security] relay_classes)", c)}
			p.deny(t.Caller, fmt.Sprintf("%s (%s) through %s: %s", d.Number, c, strings.Join(d.Trunks, ", "), err.Why))
			return err
		}
	}
	return p.connect(ch, nil, func(ctx context.Context) (media.Channel, error) { return p.out(ctx, "", d.Trunks, d.Number, t.Caller) })
}

// answer runs a call that has been answered at d; outside is a caller
// from outside the box (see ivr.CallInfo).
func (p *Plan) answer(ch media.Channel, d Dest, from string, outside bool) {
	switch d.Kind {
	case Flow:
		p.Log.Info("call answered by the IVR", "call", ch.ID(), "to", d.Number, "from", from, "flow", d.Flow)
		p.IVR.Run(ch, d.Flow, ivr.CallInfo{Caller: from, Dialled: d.Number, Outside: outside})
	case Ring:
		p.ringExt(ch, d.Number, from, nil)
	case Feature:
		p.feature(ch, d, from)
	case Trunk:
		p.callOut(ch, d, from)
	case Monitor:
		if !p.Agents.IsSupervisor(from) {
			p.Log.Warn("monitoring refused: not a supervisor", "from", from, "agent", d.Arg)
			return
		}
		if err := p.Agents.Monitor(ch, from, d.Arg, d.Mode); err != nil {
			p.Log.Info("monitoring", "supervisor", from, "agent", d.Arg, "err", err)
		}
	}
}

// Inbound runs a call that arrived on a line card to the number dialled
// (see Lookup; a trusted line is an FXS port). answer (nil when the line
// is up already) connects the call; refuse turns it away with a Q.850
// cause where the line has them. It reports whether the call was taken.
func (p *Plan) Inbound(ch media.Channel, to, from string, trusted bool, answer func() error, refuse func(cause uint8)) bool {
	o := FromLine
	if trusted {
		o = FromFXS
	}
	d := p.Lookup(to, o)
	if d.Kind == Refused {
		refuse(d.Refusal.Cause())
		return false
	}
	if d.Kind == Ring && answer != nil {
		// Answered only once the extension answers (see Router), the
		// line told it is ringing meanwhile.
		if a, ok := ch.(interface{ Alert() }); ok {
			a.Alert()
		}
		late := &pending{answer: answer, refuse: func(r Refusal) { refuse(r.Cause()) }}
		p.ringExt(ch, d.Number, from, late)
		if late.answered {
			ch.Hangup()
		}
		return late.answered
	}
	if answer != nil {
		if err := answer(); err != nil {
			p.Log.Info("answer", "call", ch.ID(), "err", err)
			return false
		}
	}
	p.answer(ch, d, from, !trusted)
	ch.Hangup()
	return true
}

// pending is a caller not answered yet while the extension it called
// rings: connect answers it once the extension answers, or refuses it
// with why the extension did not (busy, no answer), so that the caller
// is billed only for a call that connected and its record says why not.
type pending struct {
	answer func() error
	refuse func(Refusal)
	// tried: connect called answer (the caller is refused no more);
	// answered: and it succeeded.
	tried, answered bool
}

// ringExt is a call to an extension: rung, and on record when it is not
// answered.
func (p *Plan) ringExt(ch media.Channel, ext, from string, late *pending) {
	if err := p.ring(ch, ext, from, late); err != nil {
		p.Log.Info("extension did not answer", "ext", ext, "err", err)
		if late != nil && !late.tried {
			late.refuse(calleeRefusal(err))
		}
	}
}

// errNoAnswer ends a call to a phone that rang for ringTimeout.
var errNoAnswer = errors.New("no answer")

// calleeRefusal is why a phone that was rung did not take the call: busy
// (a SIP phone's 486 or 600, an analog phone off hook, a PRI's cause
// 17), no answer while it rang, or unreachable.
func calleeRefusal(err error) Refusal {
	var ce *pri.CauseError
	switch st := sip.DialStatus(err); {
	case st == 486 || st == 600, errors.Is(err, analog.ErrBusy), errors.As(err, &ce) && ce.Cause == q931.CauseBusy:
		return Busy
	case errors.Is(err, errNoAnswer):
		return NoAnswer
	}
	return Unreachable
}

// ring rings an extension's phone (on its FXS port, else its newest
// registered one) and bridges the caller to it when it answers; a late
// caller is answered then.
func (p *Plan) ring(ch media.Channel, ext, from string, late *pending) error {
	if p.Phones.Has(ext) {
		return p.connect(ch, late, func(ctx context.Context) (media.Channel, error) { return p.Phones.Ring(ctx, ext, from) })
	}
	if !p.Registrar.Has(ext) {
		return errNoOne
	}
	return p.connect(ch, late, func(ctx context.Context) (media.Channel, error) { return p.SIP.Phone(ctx, ext, from) })
}

// dialSpans calls number through the first span of a group whose link is
// up and has a B-channel free: a span with none (cause 34) hands on to the
// next; any other answer is the number's own, which another span would
// give too.
func dialSpans(ctx context.Context, group string, spans []Span, number, from string) (media.Channel, error) {
	if strings.Trim(from, "0123456789*#") != "" {
		// A calling party number is digits (Q.931 4.5.10): a name (the
		// box's, for a campaign without caller_id) is left out rather than
		// sent for the network to reject the SETUP.
		from = ""
	}
	err := fmt.Errorf("span group %q has no span with its D-channel up", group)
	for _, s := range spans {
		if !s.LinkUp() {
			continue
		}
		c, derr := s.Dial(ctx, number, from)
		if derr == nil {
			return c, nil
		}
		err = derr
		var ce *pri.CauseError
		if !errors.As(derr, &ce) || ce.Cause != q931.CauseNoCircuit {
			break
		}
	}
	return nil, err
}

// dialLines seizes the first free line of a group and dials number; a
// caller who gives up while a line is dialled ends the search.
func dialLines(ctx context.Context, group string, lines []Line, number string) (media.Channel, error) {
	for _, l := range lines {
		c, err := l.Dial(ctx, number)
		switch {
		case err == nil:
			return c, nil
		case ctx.Err() != nil:
			return nil, err
		}
	}
	return nil, fmt.Errorf("no line of group %q is free", group)
}

// connect places a call with dial while the caller hears ring-back, and
// bridges the caller to it once answered, answering a late caller first;
// a caller who hangs up first cancels it. It returns when the call is
// over, or with dial's error (errNoAnswer after ringTimeout).
func (p *Plan) connect(ch media.Channel, late *pending, dial func(context.Context) (media.Channel, error)) error {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	timeout := p.Clock.AfterFunc(ringTimeout, func() { cancel(errNoAnswer) })
	defer timeout.Stop()
	type result struct {
		call media.Channel
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := dial(ctx)
		done <- result{c, err}
	}()
	if cad, err := tone.Lookup(p.Country, "ringback"); err == nil {
		ch.Play(tone.NewPlayer(cad, media.FrameSamples))
	}
	for {
		select {
		case e, ok := <-ch.Events():
			if ok && e.Kind != media.EventHangup {
				continue
			}
			cancel(nil)
			if r := <-done; r.call != nil {
				r.call.Hangup()
			}
			return nil
		case r := <-done:
			if r.err != nil {
				ch.Play(nil)
				if context.Cause(ctx) == errNoAnswer {
					return fmt.Errorf("%w in %v: %w", errNoAnswer, ringTimeout, r.err)
				}
				return r.err
			}
			timeout.Stop() // answered: the call lasts as long as it lasts
			if late != nil {
				late.tried = true
				if err := late.answer(); err != nil {
					r.call.Hangup()
					return err
				}
				late.answered = true
			}
			p.Log.Info("call bridged", "caller", ch.ID(), "callee", r.call.ID())
			if callerLeft, _ := media.BridgeUntil(ch, r.call); !callerLeft {
				// An analog phone that hook-flashed and dialled hands the
				// caller on; otherwise the callee hanging up ends the call.
				if t, ok := r.call.(interface{ TransferTarget() string }); ok && t.TransferTarget() != "" {
					p.Log.Info("hook-flash transfer", "caller", ch.ID(), "to", t.TransferTarget())
					p.Inbound(ch, t.TransferTarget(), "", false, nil, func(uint8) { ch.Hangup() })
					return nil
				}
				ch.Hangup()
			}
			return nil
		}
	}
}

// feature runs an agent's feature code and plays the reply.
func (p *Plan) feature(ch media.Channel, d Dest, from string) {
	var err error
	var reply string
	switch d.Code {
	case "*11":
		err, reply = p.Agents.Login(from), "logged-in"
	case "*12":
		err, reply = p.Agents.Logout(from), "logged-out"
	case "*13":
		err, reply = p.Agents.Pause(from, d.Arg), "paused"
	case "*14":
		err, reply = p.Agents.Unpause(from), "unpaused"
	}
	if err != nil {
		reply = "not-an-agent"
	}
	p.Log.Info("agent feature code", "agent", from, "code", d.Number, "err", err)
	if pl, perr := p.Prompts.Player(p.Lang, reply); perr == nil {
		media.PlayToEnd(ch, pl)
	}
}

// Dialer is how the queue reaches phones: agents by their registration,
// customers called back through a trunk or, for one of the box's
// extensions, its phone.
func (p *Plan) Dialer() acd.Dialer { return dialer{p} }

type dialer struct{ p *Plan }

var _ acd.Dialer = dialer{}

func (d dialer) Ring(ctx context.Context, agent, from string) (media.Channel, error) {
	if e, ok := d.p.exts[agent]; ok && e.Remote != "" {
		// A seat at another box: its number through the trunk to that
		// box, where its phone is registered. The seat is the config's,
		// not a number a caller dialled: the toll rules are not asked.
		return d.p.dialTrunk(ctx, e.Remote, agent, from)
	}
	return d.p.SIP.Phone(ctx, agent, from)
}

func (d dialer) Dial(ctx context.Context, trunk, number string) (media.Channel, error) {
	if d.p.Registrar.Has(number) {
		return d.p.SIP.Phone(ctx, number, d.p.Name)
	}
	if trunk == "" {
		return nil, fmt.Errorf("no trunk to call %s back through (queue callback_trunk)", number)
	}
	return d.p.DialOut(ctx, trunk, number, "")
}

// Registered: a remote seat counts as reachable; whether its phone is
// registered is its own box's to know, and a ring through a trunk that
// is down fails at once (sip.ErrTrunkDown).
func (d dialer) Registered(agent string) bool {
	if e, ok := d.p.exts[agent]; ok && e.Remote != "" {
		return true
	}
	return d.p.Registrar.Has(agent)
}
