// Package sim is the simulated board profile, the default: every span is a
// hal/sim span, so the whole box runs on a laptop or in CI.
package sim

import (
	"jinyin/board"
	"jinyin/config"
	"jinyin/hal"
	halsim "jinyin/hal/sim"
)

func init() {
	board.Register(&board.Profile{
		Name: "sim",
		Doc:  "simulated line cards (no hardware); the default",
		Spans: map[string]board.SpanDriver{
			"sim": func(config.Span) (hal.Span, bool, error) { return halsim.NewSpan(), true, nil },
		},
	})
}
