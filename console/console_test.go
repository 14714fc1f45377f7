package console

import (
	"strings"
	"testing"
	"time"

	"jinyin/store"
)

func TestMatchPrefixes(t *testing.T) {
	for _, c := range []struct {
		line, want, args, err string
	}{
		{"sh sp", "show spans", "", ""},
		{"show spans", "show spans", "", ""},
		{"sh sp 1", "show span", "1", ""},
		{"sh span 2", "show span", "2", ""},
		{"sh q", "show queues", "", ""},
		{"ag 1001 pause lunch", "agent", "1001 pause lunch", ""},
		{"s", "", "", `"s" is ambiguous: show, sip, span`},
		{"sh", "", "", "incomplete command"},
		{"sh x", "", "", `no command "sh x"`},
		{"sh a", "", "", `"a" is ambiguous: agents, alarms`},
		{"frobnicate", "", "", `no command "frobnicate"`},
		{"he show", "help", "show", ""},
	} {
		cmd, args, err := match(c.line)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want error %q", c.line, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.line, err)
		case strings.Join(cmd.words, " ") != c.want || strings.Join(args, " ") != c.args:
			t.Errorf("%q: %v %v, want %q %q", c.line, cmd.words, args, c.want, c.args)
		}
	}
}

func TestNextWords(t *testing.T) {
	w, partial := nextWords("sh reg")
	if partial != "reg" || len(w) != 1 || w["registrations"] == "" {
		t.Errorf("sh reg: %v %q", w, partial)
	}
	w, _ = nextWords("show ")
	if len(w) != 13 {
		t.Errorf("show: %v", w)
	}
}

func TestEditor(t *testing.T) {
	e := &editor{}
	feed := func(s string) keyResult {
		var r keyResult
		for _, b := range []byte(s) {
			r = e.key(b)
		}
		return r
	}
	feed("show spnas")
	feed("\x1b[D\x1b[D\x7f\x1b[Cn") // left 2, erase the n, right 1, n: the typo fixed
	if got := e.line(); got != "show spans" {
		t.Errorf("edited line %q", got)
	}
	e.take()
	feed("one")
	if feed("\r") != keyEnter || e.take() != "one" {
		t.Fatal("enter")
	}
	feed("two\r")
	e.take()
	feed("\x1b[A")
	if e.line() != "two" {
		t.Errorf("up once: %q", e.line())
	}
	feed("\x1b[A")
	if e.line() != "one" {
		t.Errorf("up twice: %q", e.line())
	}
	feed("\x1b[B\x1b[B")
	if e.line() != "" {
		t.Errorf("down past the end: %q", e.line())
	}
	feed("abc\x15")
	if e.line() != "" {
		t.Errorf("Ctrl-U: %q", e.line())
	}
	if feed("x\x03") != keyCancel {
		t.Error("Ctrl-C")
	}
	e.take()
	e.flush()
	h := &editor{hidden: true}
	for _, b := range []byte("secret?\t") {
		h.key(b)
	}
	if h.line() != "secret?" || h.flush() != "" {
		t.Errorf("hidden line %q echoed", h.line())
	}
}

func TestKPIs(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	evs := []store.QueueEvent{
		{Time: t0.Add(-time.Hour), Kind: "enter", Queue: "general"}, // before the period
		{Time: t0, Kind: "enter", Queue: "general"},
		{Time: t0, Kind: "connect", Queue: "general", Wait: 10 * time.Second},
		{Time: t0, Kind: "complete", Queue: "general", Talk: 3 * time.Minute},
		{Time: t0, Kind: "enter", Queue: "general"},
		{Time: t0, Kind: "connect", Queue: "general", Wait: 40 * time.Second},
		{Time: t0, Kind: "complete", Queue: "general", Talk: time.Minute},
		{Time: t0, Kind: "enter", Queue: "complaints"},
		{Time: t0, Kind: "abandon", Queue: "complaints", Wait: time.Minute},
		{Time: t0, Kind: "callback-requested", Queue: "general"},
		{Time: t0, Kind: "callback-answered", Queue: "general", Value: 1},
		{Time: t0, Kind: "survey", Queue: "general", Value: 4},
		{Time: t0, Kind: "login", Agent: "1001"},
	}
	k := kpis(evs, t0)
	all, g := k[""], k["general"]
	if all.offered != 3 || all.answered != 2 || all.abandoned != 1 || all.inTarget != 1 || g.offered != 2 {
		t.Errorf("counts: all %+v general %+v", all, g)
	}
	if pct(all.inTarget, all.answered+all.abandoned) != "33%" || avg(g.talk, g.completes) != "2m0s" || avg(g.wait, g.answered) != "25s" {
		t.Errorf("figures: SL %s AHT %s ASA %s", pct(all.inTarget, all.answered+all.abandoned), avg(g.talk, g.completes), avg(g.wait, g.answered))
	}
	if all.cbOnTime != 1 || all.surveys != 1 || all.scoreSum != 4 {
		t.Errorf("callbacks and survey %+v", all)
	}
}
