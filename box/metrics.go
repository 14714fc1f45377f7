package box

import (
	"jinyin/analog"
	"jinyin/hal"
	"jinyin/media"
	"jinyin/metrics"
	"jinyin/store"
)

// newMetrics builds the box's Prometheus registry (GET /metrics) on the
// readers GET /status, GET /queues and the console already use. It is
// made before the services it reads: each source reaches them through b
// when scraped, once the box runs.
func (b *Box) newMetrics() *metrics.Metrics {
	var queues []string
	for _, q := range b.cfg.Queues {
		queues = append(queues, q.Name)
	}
	return metrics.New(metrics.Sources{
		Version: Version, Start: b.start, QueueNames: queues,
		Calls:         b.callsByTransport,
		Rejected:      func() uint64 { return b.sip.Rejected.Load() },
		Registrations: b.registrations,
		Registered:    func() int { return len(b.sip.Registrar.Registered()) },
		Trunks:        b.metricTrunks,
		Spans:         b.metricSpans,
		Queues:        b.metricQueues,
		RTP: func() metrics.RTP {
			r := b.sip.RTP()
			return metrics.RTP{Received: r.Received, Lost: r.Lost, Jitter: r.Jitter}
		},
		Digits:     func() (uint64, uint64) { return media.Digits.Signalled.Load(), media.Digits.InBand.Load() },
		Bans:       func() int { return len(b.guard.Bans()) },
		BansIssued: func() uint64 { return b.guard.BansIssued() },
		Breakers:   func() int { return len(b.plan.Breakers()) },
		MediaLoad:  func() float64 { return b.sip.MediaLoad() },
		Dropped: func() map[string]uint64 {
			return map[string]uint64{"cdr": uint64(b.cdrs.Dropped()), "queue_events": uint64(b.qevents.Dropped())}
		},
	})
}

// queueEvent gives the metrics a queue event as the queue records it.
func (b *Box) queueEvent(e store.QueueEvent) {
	b.metrics.QueueEvent(string(e.Kind), e.Queue, e.Wait, e.Talk)
}

// callsByTransport counts the calls up or being set up by what carries
// them: each SIP transport of the config, the PRI spans' B-channels in a
// call, the analog ports in a call (an FXS phone dialling or left off
// hook after its call is not in one).
func (b *Box) callsByTransport() map[string]int {
	n := map[string]int{}
	for _, t := range b.cfg.SIP.Transports {
		n[t] = 0
	}
	for _, c := range b.sip.Calls() {
		n[c.Transport]++
	}
	if len(b.pris) > 0 {
		n["pri"] = 0
	}
	for _, st := range b.pris {
		for _, ch := range st.Channels() {
			if ch.State != "idle" {
				n["pri"]++
			}
		}
	}
	if len(b.ports) > 0 {
		n["analog"] = 0
	}
	for _, f := range b.fxs {
		switch f.State() {
		case analog.FXSRinging, analog.FXSCalling, analog.FXSTalking, analog.FXSFlash:
			n["analog"]++
		}
	}
	for _, o := range b.fxo {
		if o.State() != analog.FXOIdle {
			n["analog"]++
		}
	}
	return n
}

// registrations counts the live contacts by transport, every SIP
// transport of the config shown.
func (b *Box) registrations() map[string]int {
	n := b.sip.Registrar.ByTransport()
	for _, t := range b.cfg.SIP.Transports {
		n[t] += 0
	}
	return n
}

func (b *Box) metricTrunks() []metrics.Trunk {
	var out []metrics.Trunk
	for _, t := range b.sip.Trunks() {
		out = append(out, metrics.Trunk{Name: t.Name, Up: !t.Down, State: string(t.State), Calls: t.Calls, Channels: t.Channels})
	}
	return out
}

// metricSpans reads each span's alarms, D-channel and error counters, as
// GET /status and show spans do.
func (b *Box) metricSpans() []metrics.Span {
	var out []metrics.Span
	for _, s := range b.spans {
		a := s.Alarms()
		sp := metrics.Span{ID: s.Config.ID, LOS: a&hal.AlarmLOS != 0, LOF: a&hal.AlarmLOF != 0, AIS: a&hal.AlarmAIS != 0, RAI: a&hal.AlarmRAI != 0}
		if st := b.pris[s.Config.ID]; st != nil {
			sp.PRI, sp.DChannelUp = true, st.LinkUp()
		}
		if cs, ok := s.Span.(hal.Counterer); ok {
			c := cs.Counters()
			sp.Counted, sp.CRC, sp.BPV, sp.Slips, sp.ErroredSeconds = true, c.CRC, c.BPV, c.Slips, c.ErroredSeconds
		}
		out = append(out, sp)
	}
	return out
}

// metricQueues is GET /queues' queues.
func (b *Box) metricQueues() []metrics.Queue {
	var out []metrics.Queue
	for _, q := range b.acd.Status().Queues {
		out = append(out, metrics.Queue{Name: q.Name, Waiting: q.Waiting, Callbacks: q.Callbacks, LongestWait: q.LongestWait,
			Agents: metrics.Agents{Available: q.Available, Busy: q.Busy, Paused: q.Paused, LoggedOut: q.LoggedOut, NoPhone: q.NoPhone}})
	}
	return out
}
