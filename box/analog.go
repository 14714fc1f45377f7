package box

import (
	"context"
	"fmt"
	"time"

	"jinyin/analog"
	"jinyin/board"
	"jinyin/console"
	"jinyin/hal"
	"jinyin/media"
	"jinyin/media/tone"
	"jinyin/pri/q931"
	"jinyin/route"
	"jinyin/store"
)

// openAnalog starts the board's analog ports: FXS ports ring and are
// dialled from as their extension; FXO ports take exchange calls to their
// destination and dial out for their group.
func (b *Box) openAnalog(prof *board.Profile) error {
	ports, absent, err := board.OpenPorts(prof, b.cfg.Ports, b.cfg.Box.Country)
	if err != nil {
		return err
	}
	for _, id := range absent {
		b.log.Warn("analog port absent; left out", "port", id)
	}
	b.ports = ports
	b.fxs, b.fxo = map[string]*analog.FXS{}, map[int]*analog.FXO{}
	lines := map[string][]route.Line{}
	lookup := func(name string) tone.Cadence {
		c, _ := tone.Lookup(b.cfg.Box.Country, name)
		return c
	}
	for _, p := range ports {
		pc := p.Config
		switch pc.Kind {
		case "fxs":
			ext := pc.Extension
			b.fxs[ext] = analog.NewFXS(analog.FXSConfig{ID: pc.ID, Ext: ext, Port: p.Port.(hal.FXS), Clock: b.clock, Log: b.log, Codec: media.PCMA,
				// China rings the bell in the cadence of its ring-back tone.
				Dial: lookup("dial"), Busy: lookup("busy"), Ring: lookup("ringback"), CallerID: pc.CallerID,
				Number: b.plan.AnalogNumber,
				Originate: func(ch *analog.Channel, number string) {
					// The phone on the port is its extension: the wire is its identity.
					start := b.clock.Now()
					var cause uint8
					taken := b.plan.Inbound(ch, number, ext, true, nil, func(c uint8) { cause = c; ch.Hangup() })
					b.recordPort(ch.ID(), pc.ID, "in", ext, number, start, disposition(taken), cause)
				},
				Refused: func(number string) {
					b.recordPort(fmt.Sprintf("fxs%d-%d", pc.ID, b.clock.Now().UnixNano()), pc.ID, "in", ext, number, b.clock.Now(), "refused", q931.CauseUnallocated)
				}})
		case "fxo":
			dest := pc.Destination
			b.fxo[pc.ID] = analog.NewFXO(analog.FXOConfig{ID: pc.ID, Port: p.Port.(hal.FXO), Clock: b.clock, Log: b.log,
				Codec: media.PCMA, CallerID: pc.CallerID, Rings: pc.Rings, Busy: lookup("busy"),
				Incoming: func(ch *analog.Channel, cid string) {
					start := b.clock.Now()
					var cause uint8
					taken := b.plan.Inbound(ch, dest, cid, false, nil, func(c uint8) { cause = c; ch.Hangup() })
					b.recordPort(ch.ID(), pc.ID, "in", cid, dest, start, disposition(taken), cause)
				}})
			lines[pc.Group] = append(lines[pc.Group], fxoLine{b, pc.ID})
		}
	}
	b.plan.Lines = lines
	return nil
}

// phones rings the analog phones on FXS ports for the dial plan, and
// records their calls.
type phones struct{ b *Box }

func (p phones) Has(ext string) bool { return p.b.fxs[ext] != nil }

func (p phones) Ring(ctx context.Context, ext, from string) (media.Channel, error) {
	start := p.b.clock.Now()
	c, err := p.b.fxs[ext].Ring(ctx, from)
	if err != nil {
		return nil, err
	}
	p.b.recordEnd(c, p.b.fxsPort(ext), "out", from, ext, start)
	return c, nil
}

// fxoLine is an FXO port as a line of its group for the dial plan; it
// records its calls.
type fxoLine struct {
	b    *Box
	port int
}

func (l fxoLine) Dial(ctx context.Context, number string) (media.Channel, error) {
	start := l.b.clock.Now()
	ch, err := l.b.fxo[l.port].Dial(ctx, number)
	switch {
	case err == nil:
		l.b.recordEnd(ch, l.port, "out", "", number, start)
		return ch, nil
	case ctx.Err() != nil: // the caller gave up while the line was dialled
		l.b.recordPort(fmt.Sprintf("fxo%d", l.port), l.port, "out", "", number, start, "cancelled", 0)
	}
	return nil, err
}

var (
	_ route.Phones = phones{}
	_ route.Line   = fxoLine{}
)

// recordPort writes the record of a call on an analog port that has
// ended; disposition is answered, refused or cancelled, cause the Q.850
// cause the dial plan refused it with (0: none), as on a PRI span.
func (b *Box) recordPort(id string, port int, dir, from, to string, start time.Time, disposition string, cause uint8) {
	b.recordTo(b.cdrs, id, port, dir, from, to, start, disposition, cause)
}

// recordEnd records an answered call when its channel ends. It takes the
// recorder now: the box lets go of it when it closes.
func (b *Box) recordEnd(ch *analog.Channel, port int, dir, from, to string, start time.Time) {
	cdrs := b.cdrs
	b.portCalls.Add(1)
	go func() {
		defer b.portCalls.Done()
		<-ch.Done()
		b.recordTo(cdrs, ch.ID(), port, dir, from, to, start, "answered", 0)
	}()
}

func (b *Box) recordTo(cdrs *store.Recorder[store.CDR], id string, port int, dir, from, to string, start time.Time, disposition string, cause uint8) {
	r := store.CDR{Call: id, Direction: dir, From: from, To: to, Trunk: fmt.Sprintf("port%d", port),
		Start: start, End: b.clock.Now(), Disposition: disposition}
	if cause != 0 {
		r.Cause = "Q.850 " + q931.Cause{Value: cause}.String()
	}
	if disposition == "answered" {
		r.Answer = start
	}
	cdrs.Record(r)
}

// closeAnalog stops the ports.
func (b *Box) closeAnalog() {
	for _, f := range b.fxs {
		f.Close()
	}
	for _, o := range b.fxo {
		o.Close()
	}
	for _, p := range b.ports {
		p.Close()
	}
	b.ports = nil
}

// portRows lists the analog ports for show channels.
func (b *Box) portRows() []console.PortRow {
	var rows []console.PortRow
	for _, p := range b.ports {
		r := console.PortRow{ID: p.Config.ID, Kind: p.Config.Kind}
		if f := b.fxs[p.Config.Extension]; p.Config.Kind == "fxs" && f != nil {
			r.Line, r.State = "ext "+p.Config.Extension, f.State().String()
		} else if o := b.fxo[p.Config.ID]; o != nil {
			r.Line, r.State = "to "+p.Config.Destination, o.State().String()
		}
		rows = append(rows, r)
	}
	return rows
}

func disposition(taken bool) string {
	if taken {
		return "answered"
	}
	return "refused"
}

// fxsPort is the id of the FXS port an extension's phone is on.
func (b *Box) fxsPort(ext string) int {
	for _, p := range b.ports {
		if p.Config.Kind == "fxs" && p.Config.Extension == ext {
			return p.Config.ID
		}
	}
	return 0
}
