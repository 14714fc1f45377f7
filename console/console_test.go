package console

import (
	"strings"
	"testing"
	"time"

	"jinyin/internal/clock"
	"jinyin/kpi"
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

// show kpi asks the KPI room for today (from the box's midnight) or the
// last hour, and shows its text.
func TestShowKPI(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, cst)
	var from, to time.Time
	c := &Console{o: Options{Clock: clock.NewFake(now), Location: cst,
		KPI: func(f, t time.Time, _ time.Duration) (*kpi.Report, error) {
			from, to = f, t
			cl := kpi.NewCalc(kpi.Options{From: f, To: t, Loc: cst})
			cl.Event(store.QueueEvent{Time: f, Kind: store.QueueEnter, Queue: "general", Call: "a"})
			return cl.Report(), nil
		}}}
	out, err := c.showKPI(nil)
	if err != nil || !from.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, cst)) || !to.Equal(now) ||
		!strings.Contains(out, "Queues, today") || !strings.Contains(out, "general") {
		t.Errorf("today %v..%v %v:\n%s", from, to, err, out)
	}
	if out, err = c.showKPI([]string{"h"}); err != nil || !from.Equal(now.Add(-time.Hour)) || !strings.Contains(out, "the last hour") {
		t.Errorf("hour %v %v:\n%s", from, err, out)
	}
	if _, err = c.showKPI([]string{"week"}); err == nil {
		t.Error("show kpi week taken")
	}
}
