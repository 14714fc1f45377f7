package box

import (
	"fmt"
	"sort"
	"time"

	"jinyin/kpi"
	"jinyin/web"
)

// webSide builds the wallboard and the API's guard over the box's state.
func (b *Box) webSide() *web.Server {
	return web.New(web.Options{Clock: b.clock, Log: b.log, DB: b.db, Guard: b.guard, Name: b.cfg.Box.Name, Location: b.cfg.Location(),
		Queues: b.acd.Status, KPI: b.kpi, Targets: kpi.OptionsFor(b.cfg).Targets, Alarms: b.alarms})
}

// alarms are the faults a supervisor must see: spans with a line alarm,
// SIP trunks not answering, toll-fraud breakers open.
func (b *Box) alarms() []string {
	var out []string
	if a := b.diskAlarm(); a != "" {
		out = append(out, "data disk: "+a)
	}
	for _, s := range b.spans {
		if a := s.Alarms(); a != 0 {
			out = append(out, fmt.Sprintf("span %d: %s", s.Config.ID, a))
		}
	}
	if b.fleet != nil {
		if a := b.fleet.Alarm(); a != "" {
			out = append(out, a)
		}
	}
	for _, t := range b.sip.Trunks() {
		if t.Down {
			out = append(out, "trunk "+t.Name+": down")
		}
	}
	var names []string
	br := b.plan.Breakers()
	for n := range br {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, fmt.Sprintf("calls out of %s stopped until %s", n, br[n].In(b.cfg.Location()).Format(time.TimeOnly)))
	}
	return out
}

// putPrompt replaces a prompt from an uploaded WAV (PUT /prompts).
func (b *Box) putPrompt(lang, id string, data []byte) error {
	a, err := decodePrompt(data)
	if err != nil {
		return err
	}
	return b.savePrompt(lang, id, a.Samples)
}

// setWebPassword is the console's `web passwd`.
func (b *Box) setWebPassword(user, role, password string) error {
	if b.web != nil {
		return b.web.SetPassword(user, role, password) // and its sessions end
	}
	return web.SetPassword(b.db, user, role, password)
}

// kpi computes the call centre's figures over a range with the config's
// rules, from the records committed so far.
func (b *Box) kpi(from, to time.Time, interval time.Duration) (*kpi.Report, error) {
	if err := b.ivr.Stats.Flush(b.db); err != nil { // the IVR ranking as of now
		b.log.Error("ivr counters", "err", err)
	}
	o := kpi.OptionsFor(b.cfg)
	o.From, o.To, o.Interval = from, to, interval
	return kpi.FromStore(b.db, o)
}
