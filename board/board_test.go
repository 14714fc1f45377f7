package board_test

import (
	"errors"
	"testing"

	"jinyin/board"
	_ "jinyin/board/sim"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/hal/osmoe1d/e1dtest"
	halsim "jinyin/hal/sim"
)

// The sim profile's osmo-e1d driver opens the line the span names at the
// daemon's socket; a daemon that is not there, or a line it does not have,
// fails the span rather than leaving it absent.
func TestOsmoE1DDriver(t *testing.T) {
	d := e1dtest.Start(t)
	p, err := board.Lookup("sim")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Span{ID: 1, Type: "e1", Driver: "osmo-e1d", E1D: "1/0", E1DSocket: d.Path, Framing: "no-crc4", Coding: "hdb3", Clock: "line"}
	spans, absent, err := board.OpenSpans(p, []config.Span{c})
	if err != nil || len(spans) != 1 || len(absent) != 0 {
		t.Fatalf("open: %v %v %v", spans, absent, err)
	}
	if _, err := spans[0].Span.(hal.PRI).DChannel(); err != nil {
		t.Errorf("D-channel: %v", err)
	}
	spans[0].Span.Close()
	for _, bad := range []config.Span{
		{ID: 2, Type: "e1", Driver: "osmo-e1d", E1D: "7/0", E1DSocket: d.Path},
		{ID: 3, Type: "e1", Driver: "osmo-e1d", E1DSocket: d.Path + ".gone"},
	} {
		if _, _, err := board.OpenSpans(p, []config.Span{bad}); err == nil {
			t.Errorf("span %d opened", bad.ID)
		}
	}
}

func TestSimProfileOpensSpans(t *testing.T) {
	p, err := board.Lookup("sim")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.DefaultName, config.Default(), nil, board.Env())
	if err != nil {
		t.Fatal(err)
	}
	spans, absent, err := board.OpenSpans(p, cfg.Spans)
	if err != nil || len(spans) != len(cfg.Spans) || len(absent) != 0 {
		t.Fatalf("open: %v %v %v", spans, absent, err)
	}
	if got := spans[0].Span.(*halsim.Span).Config(); got.Framing != "crc4" || got.Clock != "line" {
		t.Errorf("span not configured from config: %+v", got)
	}
}

func TestOpenSpansAbsentAndFailed(t *testing.T) {
	closed := 0
	p := &board.Profile{Name: "t", Spans: map[string]board.SpanDriver{
		"absent": func(config.Span) (hal.Span, bool, error) { return nil, false, nil },
		"ok":     func(config.Span) (hal.Span, bool, error) { return &countClose{halsim.NewSpan(), &closed}, true, nil },
		"broken": func(config.Span) (hal.Span, bool, error) { return nil, false, errors.New("SPI timeout") },
	}}
	e1 := config.Span{Type: "e1", Framing: "crc4", Coding: "hdb3", Clock: "line"}
	a, b, c := e1, e1, e1
	a.ID, a.Driver = 1, "ok"
	b.ID, b.Driver = 2, "absent"
	c.ID, c.Driver = 3, "broken"
	spans, absent, err := board.OpenSpans(p, []config.Span{a, b})
	if err != nil || len(spans) != 1 || len(absent) != 1 || absent[0] != 2 {
		t.Fatalf("got %v %v %v", spans, absent, err)
	}
	if _, _, err := board.OpenSpans(p, []config.Span{a, c}); err == nil || closed != 1 {
		t.Fatalf("failed card: err %v, closed %d (want the opened span closed)", err, closed)
	}
}

type countClose struct {
	*halsim.Span
	n *int
}

func (c *countClose) Close() error { *c.n++; return c.Span.Close() }
