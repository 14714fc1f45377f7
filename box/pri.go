package box

import (
	"fmt"
	"strings"

	"jinyin/config"
	"jinyin/console"
	"jinyin/hal"
	"jinyin/media"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/route"
	"jinyin/store"
)

// openPRI starts the PRI stack of every span whose signalling is PRI and
// whose driver offers a D-channel. Inbound calls route by their called
// number like SIP calls; outbound calls go out through a span group.
func (b *Box) openPRI() error {
	b.pris = map[int]*pri.Stack{}
	b.plan.Spans = map[string][]route.Span{}
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
			Clock: b.clock, Log: b.log, D: d, B: p.BChannel, Number: b.plan.PRINumber, Overloaded: b.load.Overloaded,
			T309: config.DurationOr(c.T309, 0),
			Incoming: func(call *pri.Call) {
				b.plan.Inbound(call, call.Called, call.Calling, false, call.Answer, call.HangupCause)
			},
			OnEnd: func(call *pri.Call) {
				dir, disp := "in", "refused"
				if !call.Incoming {
					dir = "out"
				}
				if !call.Answered.IsZero() {
					disp = "answered"
				}
				r := store.CDR{Call: call.ID(), Direction: dir, From: call.Calling, To: call.Called,
					Trunk: fmt.Sprintf("span%d", c.ID), Start: call.Started, Answer: call.Answered, End: call.Ended, Disposition: disp}
				if v := call.Cause(); v != 0 {
					r.Cause = "Q.850 " + q931.Cause{Value: v}.String()
				}
				b.cdrs.Record(r)
			}})
		b.plan.Spans[c.Group] = append(b.plan.Spans[c.Group], route.PRIStack{Stack: st})
		st.Start()
		b.pris[c.ID] = st
	}
	return nil
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
