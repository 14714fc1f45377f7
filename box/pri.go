package box

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"jinyin/config"
	"jinyin/console"
	"jinyin/hal"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/store"
)

// openPRI starts the PRI stack of every span whose signalling is PRI and
// whose driver offers a D-channel. Inbound calls route by their called
// number like SIP calls; outbound calls go out through a span group.
func (b *Box) openPRI() error {
	b.pris = map[int]*pri.Stack{}
	for _, s := range b.spans {
		c := s.Config
		p, ok := s.Span.(hal.PRI)
		if !strings.HasPrefix(c.Signalling, "pri-") {
			continue
		}
		if !ok {
			b.log.Warn("span's driver offers no D-channel: no PRI signalling on it", "span", c.ID, "driver", c.Driver)
			continue
		}
		if c.SwitchType != "euroisdn" {
			return fmt.Errorf("span %d: switchtype %q is not implemented in this firmware; use \"euroisdn\" (ETSI EN 300 102)", c.ID, c.SwitchType)
		}
		d, err := p.DChannel()
		if err != nil {
			return fmt.Errorf("span %d: D-channel: %w", c.ID, err)
		}
		chans, err := config.ParseChannels(c.Channels)
		if err != nil {
			return fmt.Errorf("span %d: %w", c.ID, err)
		}
		codec := media.PCMA
		if c.Type == "t1" {
			codec = media.PCMU
		}
		st := pri.New(pri.Config{Span: c.ID, Network: c.Signalling == "pri-net", Channels: chans, Codec: codec,
			Clock: b.clock, Log: b.log, D: d, B: p.BChannel, Number: b.priNumber,
			Incoming: b.priIncoming,
			OnEnd: func(call *pri.Call) {
				dir, disp := "in", "refused"
				if !call.Incoming {
					dir = "out"
				}
				if !call.Answered.IsZero() {
					disp = "answered"
				}
				b.cdrs.Record(store.CDR{Call: call.ID(), Direction: dir, From: call.Calling, To: call.Called,
					Trunk: fmt.Sprintf("span%d", c.ID), Start: call.Started, Answer: call.Answered, End: call.Ended, Disposition: disp})
			}})
		st.Start()
		b.pris[c.ID] = st
	}
	return nil
}

// priNumber says how far a called number routes: the box's extensions,
// matched whole; a prefix of one waits for more digits.
func (b *Box) priNumber(digits string) pri.Match {
	if _, ok := b.exts[digits]; ok {
		return pri.Complete
	}
	for n := range b.exts {
		if strings.HasPrefix(n, digits) {
			return pri.MoreDigits
		}
	}
	return pri.NoMatch
}

// priIncoming runs an inbound PRI call (the stack writes its record).
func (b *Box) priIncoming(c *pri.Call) {
	b.inbound(c, c.Called, c.Calling, false, c.Answer, c.HangupCause)
}

// inbound routes a call that arrived on a line card to the number dialled:
// IVR extensions answer and run their flow; agents and phones ring. A
// trusted line (an FXS port: the wire is the caller's identity) may reach
// feature codes that need a password; a trunk may not. answer (nil when
// the line is up already) connects the call; refuse turns it away with a
// Q.850 cause where the line has them. It reports whether the call was
// taken.
func (b *Box) inbound(ch media.Channel, to, from string, trusted bool, answer func() error, refuse func(cause uint8)) bool {
	if answer == nil {
		answer = func() error { return nil }
	}
	e, ok := b.exts[to]
	switch {
	case !ok:
		refuse(q931.CauseUnallocated)
		return false
	case e.Auth && !trusted:
		// An ISDN or exchange caller has no digest to give.
		refuse(q931.CauseRejected)
		return false
	case e.Kind == "ivr":
		if err := answer(); err != nil {
			b.log.Info("answer", "call", ch.ID(), "err", err)
			return false
		}
		b.log.Info("line call answered by the IVR", "call", ch.ID(), "to", to, "from", from, "flow", e.Flow)
		b.ivr.Run(ch, e.Flow, ivr.CallInfo{Caller: from, Dialled: to})
	case !b.reachable(to):
		refuse(q931.CauseAbsent)
		return false
	default:
		if err := answer(); err != nil {
			return false
		}
		if err := b.ring(ch, to, from); err != nil {
			b.log.Info("extension did not answer", "ext", to, "err", err)
		}
	}
	ch.Hangup()
	return true
}

// reachable reports whether an extension has a phone to ring: registered
// over SIP, or on an FXS port.
func (b *Box) reachable(ext string) bool {
	return b.fxs[ext] != nil || b.sip.Registrar.Has(ext)
}

// hasGroup reports whether a span group of that name runs PRI.
func (b *Box) hasGroup(group string) bool {
	for _, s := range b.spans {
		if s.Config.Group == group && b.pris[s.Config.ID] != nil {
			return true
		}
	}
	return false
}

// hasLines reports whether FXO ports dial out for that group.
func (b *Box) hasLines(group string) bool {
	for _, p := range b.ports {
		if p.Config.Kind == "fxo" && p.Config.Group == group {
			return true
		}
	}
	return false
}

// dialGroup calls number through a span group: the first span whose link
// is up and has a B-channel free.
func (b *Box) dialGroup(ctx context.Context, group, number, from string) (media.Channel, error) {
	err := fmt.Errorf("span group %q has no span with its D-channel up", group)
	for _, s := range b.spans {
		st := b.pris[s.Config.ID]
		if s.Config.Group != group || st == nil || !st.LinkUp() {
			continue
		}
		c, derr := st.Dial(ctx, number, from)
		if derr == nil {
			return c, nil
		}
		err = derr
		var ce *pri.CauseError
		if !errors.As(derr, &ce) || ce.Cause != q931.CauseNoCircuit {
			break // the number's own answer; another span would give the same
		}
	}
	return nil, err
}

// priTrace turns a span's decoded D-channel trace on or off (span 0, off:
// all of them).
func (b *Box) priTrace(span int, f func(string)) error {
	if span == 0 && f == nil {
		for _, st := range b.pris {
			st.SetTrace(nil)
		}
		return nil
	}
	st := b.pris[span]
	if st == nil {
		return fmt.Errorf("span %d runs no PRI stack (its signalling is not pri-cpe or pri-net, or there is no such span)", span)
	}
	st.SetTrace(f)
	return nil
}

// priRows adds the D-channel and B-channel states to a span's console row.
func (b *Box) priRows(id int, row *console.SpanRow) {
	st := b.pris[id]
	if st == nil {
		return
	}
	row.DChannel = "down (establishing)"
	if st.LinkUp() {
		row.DChannel = "up"
	}
	row.BChannels = []console.BChannelRow{}
	for _, c := range st.Channels() {
		row.BChannels = append(row.BChannels, console.BChannelRow{N: c.Channel, State: c.State, Call: c.Call})
	}
}
