package box

import (
	"fmt"
	"net/http"
	"net/netip"

	"jinyin/fleet"
	"jinyin/kpi"
	"jinyin/security"
	"jinyin/web"
)

// openFleet wires the link to headquarters ([fleet]): the store's logs,
// the box's alarms and the day's KPIs go out through it, and
// headquarters' commands come in to api.
func (b *Box) openFleet(api http.Handler) error {
	if !b.cfg.Fleet.Enabled {
		return nil
	}
	var err error
	b.fleet, err = fleet.New(fleet.Options{Config: b.cfg.Fleet, DB: b.db, Log: b.log, Clock: b.clock,
		Alarms: b.alarms, Commands: web.Trusted(api, "hq"),
		OnCommand: func(method, path string, status int) {
			b.guard.Event(security.RemoteCommand, "NATS", netip.AddrPort{}, "hq", fmt.Sprintf("%s %s: %d", method, path, status))
		},
		KPI: func() (any, error) {
			from, to := kpi.Today(b.clock.Now(), b.cfg.Location())
			return b.kpi(from, to, 0)
		}})
	return err
}

// fleetStatus is the link's part of /status, nil when it is off.
func (b *Box) fleetStatus() *fleet.Status {
	if b.fleet == nil {
		return nil
	}
	s := b.fleet.Status()
	return &s
}
