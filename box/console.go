package box

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"jinyin/board"
	"jinyin/config"
	"jinyin/console"
	"jinyin/hal"
	"jinyin/internal/fsutil"
	"jinyin/sip"
	"jinyin/store"
)

// openConsole opens the serial console of the config, if any.
func (b *Box) openConsole() error {
	if b.cfg.Console.Device == "" {
		return nil
	}
	port, err := console.Open(b.cfg.Console.Device, b.cfg.Console.Baud)
	if err != nil {
		return err
	}
	b.consolePort = port
	var updates console.Updates
	if b.updater != nil {
		updates = consoleUpdates{b}
	}
	b.console = console.New(port, console.Options{Updates: updates, Clock: b.clock, Log: b.log, DB: b.db, ACD: b.acd, Guard: b.guard, Name: b.cfg.Box.Name,
		Breakers: b.plan.Breakers, LiftBreaker: b.plan.LiftBreaker,
		Spans: b.consoleSpans, Ports: b.portRows, Calls: b.consoleCalls, Regs: b.consoleRegs, Config: func() string { return config.Text(b.cfg) },
		Loopback: b.loopback, ConfigFile: b.configFile, Sets: b.sets, Env: Env(board.Env()), Restart: b.Restart, FactoryReset: b.factoryReset,
		SIPTrace: sip.Trace, PRITrace: b.priTrace, Restore: b.restore, KPI: b.kpi, Location: b.cfg.Location(),
		SetWebPassword: b.setWebPassword, DiskAlarm: b.diskAlarm})
	return nil
}

func (b *Box) consoleSpans() []console.SpanRow {
	var rows []console.SpanRow
	for _, s := range b.spans {
		c := s.Config
		rows = append(rows, console.SpanRow{ID: c.ID, Type: c.Type, Framing: c.Framing, Coding: c.Coding, Clock: c.Clock, Group: c.Group,
			Signalling: c.Signalling, Channels: c.Channels, Alarms: s.Alarms().String(), Loopback: "not supported"})
		if l, ok := s.Span.(hal.Looper); ok {
			rows[len(rows)-1].Loopback = l.Loopback()
		}
		b.priRows(c.ID, &rows[len(rows)-1])
		if cs, ok := s.Span.(hal.Counterer); ok {
			now := cs.Counters()
			rows[len(rows)-1].Counted = true
			rows[len(rows)-1].Errors = now
			rows[len(rows)-1].Errors24h = now.Sub(b.counterHistory(c.ID).dayAgo(b.clock.Now()))
		}
	}
	return rows
}

// restore checks a backup (the config validates, the database opens at a
// schema this firmware reads) and has it put in place once the box has
// stopped; then the box restarts on it.
func (b *Box) restore(cfgText, db []byte) error {
	if _, err := config.Load("backup", cfgText, b.sets, Env(board.Env())); err != nil {
		return fmt.Errorf("the backup's configuration has problems:\n%v", err)
	}
	if b.configFile == "" && !bytes.Equal(cfgText, config.Default()) {
		return fmt.Errorf("the box runs on the embedded default: start it with --config FILE to restore a configuration")
	}
	tmp := filepath.Join(b.data, ".restore.db")
	if err := fsutil.WriteFileAtomic(tmp, db, 0o600); err != nil {
		return err
	}
	s, err := store.Open(tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("the backup's database does not open: %w", err)
	}
	s.Close()
	b.restoreDB, b.restoreCfg = tmp, cfgText
	b.Restart("restore from a backup")
	return nil
}

// counters keeps hourly readings of a span's error counters, a day and an
// hour of them, so the console can say what the last 24 hours added.
type counters struct {
	mu       sync.Mutex
	readings []reading
}

type reading struct {
	at time.Time
	c  hal.Counters
}

func (b *Box) counterHistory(id int) *counters {
	b.histMu.Lock()
	defer b.histMu.Unlock()
	if b.hist == nil {
		b.hist = map[int]*counters{}
	}
	h := b.hist[id]
	if h == nil {
		h = &counters{readings: []reading{{at: b.start}}}
		b.hist[id] = h
	}
	return h
}

// sampleCounters records each span's counters now; housekeeping calls it
// every hour.
func (b *Box) sampleCounters() {
	for _, s := range b.spans {
		if cs, ok := s.Span.(hal.Counterer); ok {
			h := b.counterHistory(s.Config.ID)
			h.mu.Lock()
			h.readings = append(h.readings, reading{b.clock.Now(), cs.Counters()})
			if len(h.readings) > 26 {
				h.readings = h.readings[1:]
			}
			h.mu.Unlock()
		}
	}
}

// dayAgo is the oldest reading of the last 24 hours (the counts when the
// box started, if that is more recent).
func (h *counters) dayAgo(now time.Time) hal.Counters {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.readings {
		if !r.at.Before(now.Add(-24 * time.Hour)) {
			return r.c
		}
	}
	return h.readings[len(h.readings)-1].c
}

// loopback sets a span's loopback, where its driver can.
func (b *Box) loopback(id int, mode string) error {
	var ids []string
	for _, s := range b.spans {
		if s.Config.ID == id {
			l, ok := s.Span.(hal.Looper)
			if !ok {
				return fmt.Errorf("span %d's driver (%s) has no loopback", id, s.Config.Driver)
			}
			return l.SetLoopback(mode)
		}
		ids = append(ids, strconv.Itoa(s.Config.ID))
	}
	return fmt.Errorf("no span %d; the spans are %s", id, strings.Join(ids, ", "))
}

func (b *Box) consoleCalls() []console.CallRow {
	var rows []console.CallRow
	for _, c := range b.sip.Calls() {
		rows = append(rows, console.CallRow{ID: c.ID, Direction: c.Direction, From: c.From, To: c.To, Trunk: c.Trunk, Since: c.Start})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Since.Before(rows[j].Since) })
	return rows
}

func (b *Box) consoleRegs() []console.RegRow {
	var rows []console.RegRow
	regs := b.sip.Registrar.Registered()
	var exts []string
	for e := range regs {
		exts = append(exts, e)
	}
	sort.Strings(exts)
	for _, e := range exts {
		rows = append(rows, console.RegRow{Kind: "phone", Name: e, State: strconv.Itoa(regs[e]) + " contact(s)"})
	}
	for _, t := range b.sip.Trunks() {
		rows = append(rows, console.RegRow{Kind: "trunk", Name: t.Name, State: fmt.Sprint(t.State)})
	}
	return rows
}

// watchSpans looks at each span's alarms every second until stop: it
// lights the span's alarm LED, where the board has one, while the span
// has an alarm, and tells a PRI span's stack when the span loses its
// signal (LOS, LOF or AIS: the D-channel cannot work) and gets it back.
// RAI alone is the far end's fault report: the line still carries.
func (b *Box) watchSpans(stop <-chan struct{}) {
	b.every(stop, time.Second, func() {
		for _, s := range b.spans {
			a := s.Alarms()
			if b.prof.AlarmLED != nil {
				if led := b.prof.AlarmLED(s.Config.ID); led != nil {
					led.Set(a != 0)
				}
			}
			if st := b.pris[s.Config.ID]; st != nil {
				st.Layer1(a&(hal.AlarmLOS|hal.AlarmLOF|hal.AlarmAIS) == 0)
			}
		}
	})
}
