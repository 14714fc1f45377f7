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
	"jinyin/pri"
	"jinyin/store"
)

// openAnalog starts the board's analog ports: FXS ports ring and are
// dialled from as their extension; FXO ports take exchange calls to their
// destination and dial out for their group.
func (b *Box) openAnalog(prof *board.Profile) error {
	ports, absent, err := board.OpenPorts(prof, b.cfg.Ports)
	if err != nil {
		return err
	}
	for _, id := range absent {
		b.log.Warn("analog port absent; left out", "port", id)
	}
	b.ports = ports
	b.fxs, b.fxo = map[string]*analog.FXS{}, map[int]*analog.FXO{}
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
				Number: b.analogNumber,
				Originate: func(ch *analog.Channel, number string) {
					// The phone on the port is its extension: the wire is its identity.
					start := b.clock.Now()
					taken := b.inbound(ch, number, ext, true, nil, func(uint8) { ch.Hangup() })
					b.recordPort(ch.ID(), pc.ID, "in", ext, number, start, disposition(taken))
				}})
		case "fxo":
			dest := pc.Destination
			b.fxo[pc.ID] = analog.NewFXO(analog.FXOConfig{ID: pc.ID, Port: p.Port.(hal.FXO), Clock: b.clock, Log: b.log,
				Codec: media.PCMA, CallerID: pc.CallerID, Rings: pc.Rings, Busy: lookup("busy"),
				Incoming: func(ch *analog.Channel, cid string) {
					start := b.clock.Now()
					taken := b.inbound(ch, dest, cid, false, nil, func(uint8) { ch.Hangup() })
					b.recordPort(ch.ID(), pc.ID, "in", cid, dest, start, disposition(taken))
				}})
		}
	}
	return nil
}

// analogNumber is how far a number dialled on an FXS phone routes: as a
// PRI called number does.
func (b *Box) analogNumber(digits string) analog.Match {
	switch b.priNumber(digits) {
	case pri.Complete:
		return analog.Complete
	case pri.MoreDigits:
		return analog.MoreDigits
	}
	return analog.NoMatch
}

// dialFXO seizes a free FXO port of the group and dials number.
func (b *Box) dialFXO(ctx context.Context, group, number string) (media.Channel, error) {
	for _, p := range b.ports {
		if p.Config.Kind != "fxo" || p.Config.Group != group {
			continue
		}
		start := b.clock.Now()
		ch, err := b.fxo[p.Config.ID].Dial(ctx, number)
		switch {
		case err == nil:
			b.recordEnd(ch, p.Config.ID, "out", "", number, start)
			return ch, nil
		case ctx.Err() != nil: // the caller gave up while the line was dialled
			b.recordPort(fmt.Sprintf("fxo%d", p.Config.ID), p.Config.ID, "out", "", number, start, "cancelled")
			return nil, err
		}
	}
	return nil, fmt.Errorf("no line of group %q is free", group)
}

// recordPort writes the record of a call on an analog port that has
// ended; disposition is answered, refused or cancelled.
func (b *Box) recordPort(id string, port int, dir, from, to string, start time.Time, disposition string) {
	b.recordTo(b.cdrs, id, port, dir, from, to, start, disposition)
}

// recordEnd records an answered call when its channel ends. It takes the
// recorder now: the box lets go of it when it closes.
func (b *Box) recordEnd(ch *analog.Channel, port int, dir, from, to string, start time.Time) {
	cdrs := b.cdrs
	b.portCalls.Add(1)
	go func() {
		defer b.portCalls.Done()
		<-ch.Done()
		b.recordTo(cdrs, ch.ID(), port, dir, from, to, start, "answered")
	}()
}

func (b *Box) recordTo(cdrs *store.Recorder[store.CDR], id string, port int, dir, from, to string, start time.Time, disposition string) {
	r := store.CDR{Call: id, Direction: dir, From: from, To: to, Trunk: fmt.Sprintf("port%d", port),
		Start: start, End: b.clock.Now(), Disposition: disposition}
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
