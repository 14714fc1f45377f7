// Package board turns a board profile into hardware: each profile is data
// (its buses, chip selects and pins) plus the span drivers it provides, and
// the profile named in the config decides which drivers exist at all.
//
// Layer: above hal and config; below box and cmd. Profiles live in
// subpackages (board/sim, ...) and register themselves with Register.
package board

import (
	"fmt"
	"sort"
	"sync"

	"jinyin/config"
	"jinyin/hal"
	"jinyin/update"
)

// SpanDriver opens one configured span. A driver reports a card that is not
// fitted as absent (ok false, nil error), distinct from a card that failed.
type SpanDriver func(s config.Span) (span hal.Span, ok bool, err error)

// PortDriver opens one configured analog port: a hal.FXS or hal.FXO as
// the port's kind says, set up for the box's country (box.country: a
// DAA's line impedance and DC termination). Absent and failed are told
// apart as for spans.
type PortDriver func(p config.Port, country string) (port hal.Port, ok bool, err error)

// Profile describes one board.
type Profile struct {
	Name  string
	Doc   string                // one line for `jinyin config` users
	Spans map[string]SpanDriver // driver name -> driver
	Ports map[string]PortDriver // analog port driver name -> driver
	// Watchdog is the hardware watchdog device, "" for none.
	Watchdog string
	// AlarmLED is the LED that lights while span id has an alarm; nil
	// or a nil LED for none.
	AlarmLED func(span int) LED
	// Update is the board's A/B boot slots for firmware updates; nil for
	// a board that takes none (it runs from a developer's checkout).
	Update *update.Slots
}

var (
	mu       sync.Mutex
	profiles = map[string]*Profile{}
)

// Register makes a profile available by name. It panics on a duplicate, as
// that is a build mistake.
func Register(p *Profile) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := profiles[p.Name]; dup {
		panic("board: profile " + p.Name + " registered twice")
	}
	profiles[p.Name] = p
}

// Lookup returns the profile of that name.
func Lookup(name string) (*Profile, error) {
	mu.Lock()
	defer mu.Unlock()
	p, ok := profiles[name]
	if !ok {
		return nil, fmt.Errorf("board: no profile %q", name)
	}
	return p, nil
}

// Env tells config validation which profiles and span drivers exist.
func Env() config.Env {
	mu.Lock()
	defer mu.Unlock()
	env := config.Env{Boards: map[string][]string{}, Ports: map[string][]string{}}
	for name, p := range profiles {
		env.Boards[name] = keys(p.Spans)
		env.Ports[name] = keys(p.Ports)
	}
	return env
}

func keys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Port is a configured analog port that is open.
type Port struct {
	Config config.Port
	hal.Port
}

// OpenPorts opens every analog port of the config on profile p for the
// box's country, as OpenSpans does spans; a driver must give the kind of
// port configured.
func OpenPorts(p *Profile, ports []config.Port, country string) ([]Port, []int, error) {
	return openEach(p, "port", ports, func(pc config.Port) int { return pc.ID }, func(pc config.Port) (Port, bool, error) {
		drv, ok := p.Ports[pc.Driver]
		if !ok {
			return Port{}, false, fmt.Errorf("no driver %q", pc.Driver)
		}
		hp, present, err := drv(pc, country)
		if err != nil || !present {
			return Port{}, present, err
		}
		_, fxs := hp.(hal.FXS)
		_, fxo := hp.(hal.FXO)
		if (pc.Kind == "fxs" && !fxs) || (pc.Kind == "fxo" && !fxo) {
			hp.Close()
			return Port{}, false, fmt.Errorf("not an %s port on this card", pc.Kind)
		}
		return Port{Config: pc, Port: hp}, true, nil
	})
}

// openEach opens each configured item: the ones whose card is absent are
// named in absent; a failure closes what was opened.
func openEach[C any, T interface{ Close() error }](p *Profile, what string, items []C, id func(C) int, open func(C) (T, bool, error)) (opened []T, absent []int, err error) {
	for _, c := range items {
		t, present, err := open(c)
		if err != nil {
			for _, o := range opened {
				o.Close()
			}
			return nil, nil, fmt.Errorf("board %s: %s %d: %w", p.Name, what, id(c), err)
		}
		if !present {
			absent = append(absent, id(c))
			continue
		}
		opened = append(opened, t)
	}
	return opened, absent, nil
}

// Span is a configured span that is open.
type Span struct {
	Config config.Span
	hal.Span
}

// OpenSpans opens and configures every span of cfg on profile p. Spans whose
// card is absent are left out and named in absent; a failure closes what was
// opened.
func OpenSpans(p *Profile, spans []config.Span) ([]Span, []int, error) {
	return openEach(p, "span", spans, func(sc config.Span) int { return sc.ID }, func(sc config.Span) (Span, bool, error) {
		drv, ok := p.Spans[sc.Driver]
		if !ok {
			return Span{}, false, fmt.Errorf("no driver %q", sc.Driver)
		}
		s, present, err := drv(sc)
		if err != nil || !present {
			return Span{}, present, err
		}
		if err := s.Configure(hal.SpanConfig{Type: sc.Type, Framing: sc.Framing, Coding: sc.Coding, Clock: sc.Clock}); err != nil {
			s.Close()
			return Span{}, false, fmt.Errorf("configure: %w", err)
		}
		return Span{Config: sc, Span: s}, true, nil
	})
}
