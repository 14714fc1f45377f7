package box

import (
	"jinyin/fleet"
	"jinyin/kpi"
)

// openFleet wires the link to headquarters ([fleet]): the store's logs,
// the box's alarms and the day's KPIs go out through it.
func (b *Box) openFleet() error {
	if !b.cfg.Fleet.Enabled {
		return nil
	}
	var err error
	b.fleet, err = fleet.New(fleet.Options{Config: b.cfg.Fleet, DB: b.db, Log: b.log, Clock: b.clock,
		Alarms: b.alarms,
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
