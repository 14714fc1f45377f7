package route

import (
	"context"

	"jinyin/media"
	"jinyin/pri"
	"jinyin/sip"
)

// Router is the plan as SIP routes calls coming in (sip.Options.Router):
// the App runs the call once answered, except a call to an extension,
// which rings it unanswered (sip.Route.Early, the caller hearing
// ring-back) and is answered only when the extension answers: an
// extension that is busy or does not answer refuses the caller with 486
// or 480 on its record, instead of a call answered and hung up.
func (p *Plan) Router(to, from string) (sip.Route, error) {
	d := p.Lookup(to, FromSIP)
	if d.Kind == Refused {
		return sip.Route{}, d.Refusal.SIPError()
	}
	if d.Kind == Ring {
		return sip.Route{Early: true, App: func(ch media.Channel) {
			var late *pending
			if c, ok := ch.(interface {
				Answer() error
				Refuse(status int)
			}); ok {
				late = &pending{answer: c.Answer, refuse: func(r Refusal) { c.Refuse(r.SIPStatus()) }}
			}
			p.ringExt(ch, d.Number, from, late)
		}}, nil
	}
	return sip.Route{Auth: d.Auth, Open: d.Kind == Flow && !d.Auth, App: func(ch media.Channel) { p.answer(ch, d, from, outside(ch)) }}, nil
}

// outside reports whether a SIP call came from outside the box (a trunk,
// a caller that did not authenticate); a channel that cannot say is.
func outside(ch media.Channel) bool {
	o, ok := ch.(interface{ Outside() bool })
	return !ok || o.Outside()
}

// SIPServer dials and tells registrations through a SIP server: the
// plan's Registrar and SIP.
type SIPServer struct{ *sip.Server }

var (
	_ Registrar = SIPServer{}
	_ SIP       = SIPServer{}
)

// Has reports whether ext has a phone registered.
func (s SIPServer) Has(ext string) bool { return s.Registrar.Has(ext) }

// Phone calls ext's newest registered phone.
func (s SIPServer) Phone(ctx context.Context, ext, from string) (media.Channel, error) {
	contacts := s.Registrar.Contacts(ext)
	if len(contacts) == 0 {
		return nil, errNoOne
	}
	return channel(s.DialPhone(ctx, ext, contacts[0].Contact, from))
}

// Trunk calls number through a SIP trunk.
func (s SIPServer) Trunk(ctx context.Context, trunk, number, from string) (media.Channel, error) {
	return channel(s.DialTrunk(ctx, trunk, number, from))
}

// PRIStack is a span of a PRI span group.
type PRIStack struct{ *pri.Stack }

var _ Span = PRIStack{}

// Dial calls number on a free B-channel of the span.
func (s PRIStack) Dial(ctx context.Context, called, calling string) (media.Channel, error) {
	return channel(s.Stack.Dial(ctx, called, calling))
}

// channel keeps a failed call from becoming a non-nil Channel holding a
// nil pointer.
func channel[C media.Channel](c C, err error) (media.Channel, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}
