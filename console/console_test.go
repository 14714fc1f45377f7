package console

import (
	"strings"
	"testing"
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
		{"s", "", "", "incomplete command"},
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
	w, partial := nextWords("sh r")
	if partial != "r" || len(w) != 1 || w["registrations"] == "" {
		t.Errorf("sh r: %v %q", w, partial)
	}
	w, _ = nextWords("show ")
	if len(w) != 7 {
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
