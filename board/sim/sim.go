// Package sim is the simulated board profile, the default: every span is a
// hal/sim span, so the whole box runs on a laptop or in CI.
package sim

import (
	"sync"

	"jinyin/board"
	"jinyin/config"
	"jinyin/hal"
	halsim "jinyin/hal/sim"
	"jinyin/hal/socket"
)

func init() {
	board.Register(&board.Profile{
		Name: "sim",
		Doc:  "simulated line cards (no hardware); the default",
		Spans: map[string]board.SpanDriver{
			"sim": func(c config.Span) (hal.Span, bool, error) {
				s := halsim.NewSpan()
				mu.Lock()
				opened[c.ID] = s
				mu.Unlock()
				return s, true, nil
			},
			// A span whose D-channel (and B-channel audio) is a Unix
			// socket: the PRI stack against libpri or any other peer.
			"socket": func(c config.Span) (hal.Span, bool, error) {
				return socket.Open(c.DChannel, c.BChannels), true, nil
			},
			// An E1 line of an osmo-e1d daemon (its virtual pair on a
			// laptop, an icE1usb).
			"osmo-e1d": board.OsmoE1D,
		},
		AlarmLED: func(span int) board.LED {
			mu.Lock()
			defer mu.Unlock()
			if leds[span] == nil {
				leds[span] = &board.SimLED{}
			}
			return leds[span]
		},
		Ports: map[string]board.PortDriver{
			"sim": func(c config.Port, _ string) (hal.Port, bool, error) {
				var p hal.Port
				if c.Kind == "fxs" {
					p = halsim.NewFXS()
				} else {
					p = halsim.NewFXO()
				}
				mu.Lock()
				ports[c.ID] = p
				mu.Unlock()
				return p, true, nil
			},
			// A port whose phone or exchange line is a program at the
			// other end of a Unix socket (the soak drives them so).
			"socket": func(c config.Port, _ string) (hal.Port, bool, error) {
				if c.Kind == "fxs" {
					return socket.OpenFXS(c.Line), true, nil
				}
				return socket.OpenFXO(c.Line), true, nil
			},
		},
	})
}

var (
	mu     sync.Mutex
	opened = map[int]*halsim.Span{}
	ports  = map[int]hal.Port{}
	leds   = map[int]*board.SimLED{}
)

// AlarmLED is span id's simulated alarm LED.
func AlarmLED(id int) *board.SimLED {
	mu.Lock()
	defer mu.Unlock()
	if leds[id] == nil {
		leds[id] = &board.SimLED{}
	}
	return leds[id]
}

// OpenedPort is the simulated analog port last opened for a port id (a
// *halsim.FXSPort or *halsim.FXOPort): where a test lifts the phone or
// rings the line.
func OpenedPort(id int) hal.Port {
	mu.Lock()
	defer mu.Unlock()
	return ports[id]
}

// Opened is the simulated span last opened for a span id: where a test or
// a demo injects alarms and faults into a running box.
func Opened(id int) *halsim.Span {
	mu.Lock()
	defer mu.Unlock()
	return opened[id]
}
