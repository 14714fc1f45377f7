package route

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"jinyin/media"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/security"
	"jinyin/sip"
)

// DialOut calls number through a trunk group (a PRI span group, FXO
// lines, or a SIP trunk, by that name) for a call that is no extension's:
// an IVR transfer, a callback. See out.
func (p *Plan) DialOut(ctx context.Context, trunk, number, from string) (media.Channel, error) {
	return p.out(ctx, "", []string{trunk}, number, from)
}

// out calls number for extension ext ("" for a call that is no
// extension's) through the first of trunks that takes it; from is the
// calling number.
//
// Every way out comes here, and here the toll-fraud rules apply (toll):
// a number of a class the caller may not dial now, or beyond the caps or
// a breaker, is refused (DialDenied) before any line is seized. The call
// counts against the caps and its spend runs until ctx ends: ctx must
// last as long as the call. A trunk that fails hands on to the next,
// unless the callee itself refused (busy, no such number).
func (p *Plan) out(ctx context.Context, ext string, trunks []string, number, from string) (media.Channel, error) {
	who := ext
	if who == "" {
		who = from
	}
	now := p.Clock.Now()
	c := Classify(number, p.isExt)
	if err := p.toll.allows(now, ext, c); err != nil {
		p.deny(who, fmt.Sprintf("%s (%s) through %s: %v", number, c, strings.Join(trunks, ", "), err))
		return nil, &ErrDialDenied{Number: number, Class: c, Why: err.Error()}
	}
	err := fmt.Errorf("no trunk to dial %s through", number)
	for _, trunk := range trunks {
		call, opened, aerr := p.toll.admit(now, ext, trunk, number, c)
		if aerr != nil {
			if opened != "" {
				p.alarm(opened, aerr)
			}
			p.deny(who, fmt.Sprintf("%s through %s: %v", number, trunk, aerr))
			err = aerr
			continue
		}
		ch, derr := p.dialTrunk(ctx, trunk, number, from)
		if derr != nil {
			p.toll.ended(p.Clock.Now(), call, false)
			err = derr
			if ctx.Err() != nil || refusedByCallee(derr) {
				break
			}
			continue
		}
		p.toll.dialled(call, func() { ch.Hangup() })
		context.AfterFunc(ctx, func() { p.toll.ended(p.Clock.Now(), call, true) })
		return ch, nil
	}
	return nil, err
}

// isExt reports whether number is one of the box's extensions.
func (p *Plan) isExt(number string) bool {
	_, ok := p.exts[number]
	return ok
}

// dialTrunk dials number through one trunk group, by its signalling.
func (p *Plan) dialTrunk(ctx context.Context, trunk, number, from string) (media.Channel, error) {
	switch p.via(trunk) {
	case ViaPRI:
		return dialSpans(ctx, trunk, p.Spans[trunk], number, from)
	case ViaFXO:
		return dialLines(ctx, trunk, p.Lines[trunk], number)
	}
	return p.SIP.Trunk(ctx, trunk, number, from)
}

// refusedByCallee reports whether a dial failed with the callee's own
// answer, which another trunk would give too.
func refusedByCallee(err error) bool {
	var ce *pri.CauseError
	if errors.As(err, &ce) {
		switch ce.Cause {
		case q931.CauseUnallocated, q931.CauseBusy, q931.CauseRejected:
			return true
		}
	}
	return sip.Refused(err)
}

// deny reports a call out refused.
func (p *Plan) deny(who, detail string) {
	p.Log.Warn("call out refused", "caller", who, "detail", detail)
	if p.Event != nil {
		p.Event(security.DialDenied, "route", netip.AddrPort{}, who, detail)
	}
}

// alarm reports a toll-fraud breaker opened: calls out through it stop.
func (p *Plan) alarm(who string, err error) {
	p.Log.Error("toll-fraud circuit breaker opened: calls out are stopped", "stopped", who, "err", err)
	if p.Event != nil {
		p.Event(security.BreakerOpened, "route", netip.AddrPort{}, who, err.Error())
	}
}

// Spend stops the extensions and trunk groups whose spend in the last
// hour crossed their limit, hanging up their calls; the box runs it every
// few seconds.
func (p *Plan) Spend() {
	for _, who := range p.toll.spend(p.Clock.Now()) {
		p.alarm(who, fmt.Errorf("%s spent over its limit in the last hour ([security] rates)", who))
	}
}

// Breakers lists the toll-fraud breakers open now ("trunk group pstn",
// "extension 1001"), and until when.
func (p *Plan) Breakers() map[string]time.Time { return p.toll.open(p.Clock.Now()) }

// LiftBreaker closes a breaker before its time; it reports whether it was
// open.
func (p *Plan) LiftBreaker(who string) bool {
	ok := p.toll.lift(p.Clock.Now(), who)
	if ok && p.Event != nil {
		p.Event(security.BreakerLifted, "route", netip.AddrPort{}, who, "lifted by hand")
	}
	return ok
}

// callOut puts a phone's call out through its [[outbound]] route, after
// its PIN where the number's class asks for one; a refusal is told to the
// caller before the call ends.
func (p *Plan) callOut(ch media.Channel, d Dest, ext string) {
	c := Classify(d.Number, p.isExt)
	if need, pin := p.toll.needsPIN(ext, c); need {
		if err := p.keyPIN(ch, ext, pin); err != nil {
			p.deny(ext, fmt.Sprintf("%s (%s): %v", d.Number, c, err))
			p.say(ch, "call-not-allowed")
			return
		}
	}
	err := p.connect(ch, nil, func(ctx context.Context) (media.Channel, error) { return p.out(ctx, ext, d.Trunks, d.Number, ext) })
	if err != nil {
		p.Log.Info("call out failed", "ext", ext, "number", d.Number, "err", err)
		var denied *ErrDialDenied
		var limit *errLimit
		if errors.As(err, &denied) || errors.As(err, &limit) {
			p.say(ch, "call-not-allowed")
		} else {
			p.say(ch, "agent-unavailable")
		}
	}
}

// pinDigitTimeout is how long the box waits for each digit of a PIN.
const pinDigitTimeout = 10 * time.Second

// keyPIN asks the caller for ext's PIN, ended by # (or its 12th digit),
// and checks it; an extension with none cannot pass. Too many wrong PINs
// stop the extension's calls out (toll.wrongPIN).
func (p *Plan) keyPIN(ch media.Channel, ext, pin string) error {
	if pin == "" {
		return errors.New("the class needs a PIN and the extension has none (extension pin)")
	}
	var played media.PlayID
	if pl, err := p.Prompts.Player(p.Lang, "enter-pin"); err == nil {
		played = ch.Play(pl)
	}
	var keyed []byte
	// The digit timer: each arm replaces the one before, and a stale
	// firing (one Stop came too late for) carries an old generation.
	expired := make(chan int, 8)
	gen := 0
	timer := p.Clock.AfterFunc(pinDigitTimeout, func() { expired <- 0 })
	arm := func() {
		timer.Stop()
		gen++
		g := gen
		timer = p.Clock.AfterFunc(pinDigitTimeout, func() {
			select {
			case expired <- g:
			default:
			}
		})
	}
	defer func() { timer.Stop() }()
	for done := false; !done; {
		select {
		case e, ok := <-ch.Events():
			switch {
			case !ok || e.Kind == media.EventHangup:
				return errors.New("the caller hung up during the PIN")
			case e.Kind == media.EventPlayDone && e.Play == played:
				arm() // the time to key begins when the prompt ends
			case e.Kind == media.EventDigit && e.Digit == '#':
				done = true
			case e.Kind == media.EventDigit:
				arm()
				keyed = append(keyed, e.Digit)
				done = len(keyed) >= 12
				if len(keyed) == 1 {
					ch.Play(nil) // the first digit stops the prompt
				}
			}
		case g := <-expired:
			done = g == gen
		}
	}
	if subtle.ConstantTimeCompare(keyed, []byte(pin)) == 1 {
		return nil
	}
	if opened, err := p.toll.wrongPIN(p.Clock.Now(), ext); opened != "" {
		p.alarm(opened, err)
	}
	return errors.New("a wrong PIN")
}

// say plays one prompt to its end, or until the caller hangs up.
func (p *Plan) say(ch media.Channel, id string) {
	pl, err := p.Prompts.Player(p.Lang, id)
	if err != nil {
		return
	}
	played := ch.Play(pl)
	for e := range ch.Events() {
		if (e.Kind == media.EventPlayDone && e.Play == played) || e.Kind == media.EventHangup {
			return
		}
	}
}
